"""The Note model shared by the store, the dataset builder, the importer and the app."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Kind = Literal["note", "entry"]
KINDS: tuple[str, ...] = ("note", "entry")


@dataclass
class Note:
    """One Markdown (or .txt) file in the notes folder.

    Attributes:
        id: the path relative to the notes folder, POSIX separators, without the suffix
            (``2026/11/2026-11-29-091500-run``). Stable while the file is not moved.
        path: absolute path of the file.
        date: the note's day: front matter ``created``/``date``, else a YYYY-MM-DD in the file
            name, else the file's mtime (local time).
        created: timezone-aware creation time when known (front matter, or file name time),
            else ``None``.
        kind: ``"note"`` or ``"entry"`` (the day's journal entry).
        title: front matter title, else the first Markdown heading, else ``""``.
        tags: front matter tags plus ``#tags`` found in the body, lower-cased, unique, in order.
        body: the Markdown text after the front matter, with ``\\n`` line endings and no BOM.
        meta: the whole front matter mapping as parsed (unknown keys kept).
        mtime: file mtime in seconds since the epoch when read.
        sha256: hex digest of the file's bytes when read (conflict detection).
    """

    id: str
    path: Path
    date: dt.date
    created: dt.datetime | None
    kind: str
    title: str
    tags: list[str]
    body: str
    meta: dict[str, Any] = field(default_factory=dict)
    mtime: float = 0.0
    sha256: str = ""

    @property
    def sort_time(self) -> dt.datetime:
        """When the note was written, for ordering a day's notes (created, else mtime)."""
        if self.created is not None:
            return self.created
        return dt.datetime.fromtimestamp(self.mtime).astimezone()

    def to_json(self) -> dict[str, Any]:
        """The stable JSON shape used by ``notes list/show --json``:
        ``id, path, date, created, kind, title, tags, body``."""
        return {
            "id": self.id,
            "path": str(self.path),
            "date": self.date.isoformat(),
            "created": self.created.isoformat() if self.created else None,
            "kind": self.kind,
            "title": self.title,
            "tags": list(self.tags),
            "body": self.body,
        }


@dataclass
class Problem:
    """A file in the notes folder that could not be read as a note. It is never rewritten or moved.

    Attributes:
        path: the file.
        reason: what is wrong and what to do, e.g. ``"front matter is not valid YAML (line 3):
            fix it in an editor"``.
    """

    path: Path
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"path": str(self.path), "reason": self.reason}
