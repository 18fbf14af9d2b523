"""The PySide6 workbench. Thin: panels and widgets over sslstudio.core, workers that turn core events into signals."""
