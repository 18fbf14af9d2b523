"""The training loop, its events, control token, checkpoints and run directory."""
