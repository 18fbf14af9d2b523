"""The Qt-free core: data, pretext tasks, models, training, embeddings, evaluation.

Nothing under this package imports PySide6, pyqtgraph or sslstudio.gui; a test
enforces it. Heavy libraries (torch, sklearn) are imported by the modules that
need them, never here.
"""
