"""Self-supervised losses, one module each."""
