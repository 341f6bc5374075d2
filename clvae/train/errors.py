"""The one exception the trainer raises for problems a user can fix."""

from __future__ import annotations


class TrainError(Exception):
    """A bad config, data set, checkpoint or environment; the message says what to change.

    The CLI prints it as ``error: <message>`` without a traceback and exits with status 2.
    """
