"""Reusable widgets: thumbnail grid, sample viewer, plots."""
