"""Errors a user can act on. The CLI turns them into exit code 2 and one line."""


class UserError(Exception):
    """Bad input or bad usage: the message says what is wrong and how to fix it."""


class ArgsError(UserError):
    """A task or trainer setting is out of range or of the wrong type."""


class RunError(UserError):
    """A run directory is missing, incomplete or does not match the request."""


class Cancelled(Exception):
    """The user stopped a long job; not an error, nothing to report."""
