"""Embedding extraction and storage."""
