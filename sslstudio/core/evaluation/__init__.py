"""Probes and baselines: what the pretraining bought, measured on a few labels."""
