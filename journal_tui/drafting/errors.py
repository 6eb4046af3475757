"""Errors of ``journal-tui draft``, each with a ``kind`` for the ``error`` event.

Kinds: no_notes, bad_request, prompt_too_long, plus the model/adapter kinds of
:mod:`journal_tui.training.errors` (model_missing, adapter_missing, adapter_mismatch, no_gpu,
oom, internal), which drafting passes through unchanged.
"""

from __future__ import annotations

from journal_tui.errors import JournalError


class DraftError(JournalError):
    """A draft that cannot be made. ``kind`` names it for the UI; ``hint`` says what to do."""


class NoNotesError(DraftError):
    """The day has no non-empty notes (kind other than ``entry``) to draft from."""

    kind = "no_notes"


class BadRequestError(DraftError):
    """A malformed ``draft --serve`` request or an out-of-range setting."""

    kind = "bad_request"


class PromptTooLongError(DraftError):
    """The prompt plus ``max_new_tokens`` does not fit the model's context window."""

    kind = "prompt_too_long"


class TemplateMismatchError(DraftError):
    """The adapter's prompt template version cannot be rendered by this journal-tui."""

    kind = "adapter_mismatch"
