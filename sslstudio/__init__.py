"""sslstudio: a workbench for self-supervised learning on images, audio and text."""

__version__ = "0.1.0"
