"""Backbones per modality, the input pipelines that feed them, and the text tokenizer."""
