"""One panel per workflow step."""
