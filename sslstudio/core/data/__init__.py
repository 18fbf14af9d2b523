"""Folder scanning, per-modality loading, labels and splits."""
