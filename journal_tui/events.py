"""JSON-lines events: the protocol between model child processes and the UI.

A child process (``journal-tui train --events jsonl``, ``journal-tui draft --events jsonl``)
prints one JSON object per stdout line and nothing else. Every object has an ``"event"``
field. The UI reads the lines in a Textual worker with :func:`parse_event_line`.

Event names used:
    train: start, log, eval, checkpoint, done, error, warning
    draft: ready, start, token, done, error
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import IO, Any


def _clean(value: Any) -> Any:
    # JSON has no NaN/inf: send them as strings so the line stays valid JSON.
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


class EventWriter:
    """Writes events as JSON lines to a stream (stdout by default) and optionally tees them to a file.

    Args:
        stream: where events go; ``None`` disables the stream (events only go to ``tee``).
        tee: optional path of a JSONL file that receives a copy of every event (e.g. the run's
            ``events.jsonl``), opened in append mode.
    """

    def __init__(self, stream: IO[str] | None = sys.stdout, tee: Path | None = None) -> None:
        self.stream = stream
        self._tee: IO[str] | None = None
        if tee is not None:
            self.set_tee(tee)

    def set_tee(self, path: Path) -> None:
        from journal_tui.fsutil import ensure_dir

        ensure_dir(Path(path).parent)
        if self._tee:
            self._tee.close()
        self._tee = open(path, "a", encoding="utf-8")

    def emit(self, event: str, **fields: Any) -> dict:
        """Write one event; return the dict written."""
        obj = {"event": event, **_clean(fields)}
        line = json.dumps(obj, ensure_ascii=False)
        if self.stream is not None:
            self.stream.write(line + "\n")
            self.stream.flush()
        if self._tee is not None:
            self._tee.write(line + "\n")
            self._tee.flush()
        return obj

    def close(self) -> None:
        if self._tee:
            self._tee.close()
            self._tee = None


def parse_event_line(line: str | bytes) -> dict | None:
    """Parse one stdout line of a child process.

    Returns the event dict, or ``None`` for a blank line or one that is not a JSON object with
    an ``"event"`` field (the caller may log it as stray output).
    """
    if isinstance(line, bytes):
        line = line.decode("utf-8", errors="replace")
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError:
        return None
    if not isinstance(obj, dict) or "event" not in obj:
        return None
    return obj
