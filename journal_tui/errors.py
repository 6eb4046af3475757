"""The base of every error that a model command reports as an ``error`` event."""

from __future__ import annotations


class JournalError(Exception):
    """An error the person can act on: ``kind`` names it for the UI (the ``error`` event's
    ``kind``), ``message`` says what went wrong (naming the file or setting) and ``hint`` what
    to do."""

    kind = "internal"

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def to_event(self) -> dict:
        """The fields of the ``error`` event: ``{"kind", "message", "hint"}``."""
        return {"kind": self.kind, "message": self.message, "hint": self.hint}
