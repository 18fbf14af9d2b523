"""Pretext tasks: one module each, listed in `registry`."""
