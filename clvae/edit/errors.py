"""The one exception type of the editing API, and the cancellation signal.

Every input problem raises ``EditError``: a human message plus a short machine ``code``
(the daemon maps codes to its typed errors; docs/editing.md lists them all).
"""

from __future__ import annotations


class EditError(ValueError):
    """An input the editing API cannot use. ``code`` names the failure, e.g. "bad_class_id"."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Cancelled(Exception):
    """A job stopped because its ``should_cancel()`` returned True."""
