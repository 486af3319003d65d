"""Errors a user can act on.

Anything raised as :class:`NetfenceError` is bad input or a bad environment, not a bug: the CLI
prints its message and exits with status 2, and the Ansible plugins fail the task with it. A bug
still surfaces as a traceback, which is what a bug should do.
"""


class NetfenceError(Exception):
    """A problem the user can fix; the message says what and where."""

    exit_code = 2
