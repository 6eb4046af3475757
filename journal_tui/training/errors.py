"""Errors of the model commands (train, draft), each with a ``kind`` for the ``error`` event.

Every error carries ``message`` (what went wrong, naming the file or setting) and ``hint`` (what
to do). ``journal-tui train --events jsonl`` turns them into
``{"event": "error", "kind": ..., "message": ..., "hint": ...}`` and a non-zero exit status.
Kinds: model_missing, no_gpu, oom, nan, bad_dataset, bad_targets, adapter_missing,
adapter_mismatch, cancelled, bad_setting, internal.
"""

from __future__ import annotations

from journal_tui.errors import JournalError


class TrainingError(JournalError):
    """Base class: ``kind`` names the error for the UI, ``hint`` says what to do."""


class ModelMissingError(TrainingError):
    """The base model cannot be found locally (and downloads are not allowed)."""

    kind = "model_missing"


class NoGpuError(TrainingError):
    """``--quant nf4`` or ``int8`` was asked for on a machine without CUDA."""

    kind = "no_gpu"


class BadDatasetError(TrainingError):
    """``datasets/train.jsonl`` / ``eval.jsonl`` are missing, empty or unreadable."""

    kind = "bad_dataset"


class LoraTargetError(TrainingError):
    """A requested LoRA target module matches nothing in the model."""

    kind = "bad_targets"


class AdapterNotFoundError(TrainingError):
    """An adapter run id (or the ``latest`` pointer) names no adapter folder."""

    kind = "adapter_missing"


class AdapterMismatchError(TrainingError):
    """An adapter does not fit the base model or prompt template it is loaded with."""

    kind = "adapter_mismatch"


class NanLossError(TrainingError):
    """The training loss became NaN or infinite."""

    kind = "nan"


class CancelledError(TrainingError):
    """The run was stopped by SIGTERM/SIGINT; its checkpoint is kept in ``runs/RUN_ID``."""

    kind = "cancelled"


class OutOfMemoryError(TrainingError):
    """CUDA ran out of memory even at the smallest micro-batch."""

    kind = "oom"


class BadSettingError(TrainingError):
    """A flag or config.toml value is out of range."""

    kind = "bad_setting"
