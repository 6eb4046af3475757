"""Import what people already have: folders of Markdown, jrnl journals, Day One exports.

Every reader turns a source into plain :class:`ImportItem` objects (one per future note) and
:class:`Skipped` records (one per thing it could not or would not import, with the reason).
:func:`run_import` then writes the items through the note store, each as a new note whose front
matter records where it came from (``source``, ``source_format``, ``source_id``) and a
``content_sha256`` of its day and text, so that importing the same thing twice adds nothing.

Formats (``--format``):

* ``folder`` -- ``.md``/``.txt`` files: Obsidian daily notes, Logseq ``YYYY_MM_DD.md``, Jekyll
  ``YYYY-MM-DD-slug.md`` posts, plain per-day files (:mod:`.folder`).
* ``jrnl`` -- jrnl's plain-text journals (``[YYYY-MM-DD HH:MM] Title. body``, day-first dates,
  jrnl 1.x headers without brackets) and its folder journals ``YYYY/MM/DD.txt`` (:mod:`.jrnl`).
* ``jrnl-json`` -- ``jrnl --export json`` files (:mod:`.jrnl`).
* ``dayone`` -- Day One JSON exports and Day One Classic ``.doentry`` plists (:mod:`.dayone`).
* ``auto`` -- chosen per file from its name and content; a folder may mix formats.

Every note is written as ``kind: note`` unless ``--kind entry`` is given (importing a diary such
as Pepys's as the person's journal entries) or the source's front matter says ``kind: entry``.
Two items are the same when their day and normalised text are (:func:`content_sha256`); the
hash is compared with the notes already in the folder (recorded ``content_sha256`` values and
hashes of their day and body) and with earlier items of the same import.

Sources are only ever opened for reading: their bytes and mtimes stay as they were.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

#: A note file (``folder`` format) larger than this is skipped: the note store refuses notes over
#: 2 MB too (:data:`journal_tui.notes.parse.DEFAULT_MAX_BYTES`).
MAX_BYTES = 2_000_000
#: Journals and exports (jrnl, Day One) hold years of entries in one file; above this a file is
#: skipped rather than read into memory.
MAX_JOURNAL_BYTES = 512_000_000

NOTE_SUFFIXES = (".md", ".markdown", ".txt")
_JRNL_DAY_FILE = re.compile(r"(?:^|/)(\d{4})/(\d{2})/(\d{2})\.txt$")


@dataclass
class ImportItem:
    """One note-to-be, parsed from a source but not yet written.

    Attributes:
        day: the journal day the text belongs to (local day of the writer).
        body: the note text (Markdown), normalised (LF line ends, no BOM, outer whitespace removed).
        format: the reader that produced it: ``folder``, ``jrnl``, ``jrnl-json`` or ``dayone``.
        source: absolute path of the source file.
        position: where in the file (``"entry 2, line 14"``; ``""`` for a whole file).
        created: timezone-aware time of writing when the source gives one, else ``None``.
        kind: ``"note"``/``"entry"`` when the source says so (front matter ``kind``), else ``None``.
            ``--kind`` overrides it; with neither, the note is a ``"note"``.
        title: a title when the source has one apart from the text, else ``None``.
        tags: tags without ``#``/``@``, lower-cased, unique, in order.
        starred: the source marked it starred/favourite.
        source_id: a stable id inside the source (Day One ``uuid``), else ``None``.
        raw_sha256: hex sha256 of the item's raw bytes in the source (provenance).
    """

    day: dt.date
    body: str
    format: str
    source: str
    position: str = ""
    created: dt.datetime | None = None
    kind: str | None = None
    title: str | None = None
    tags: tuple[str, ...] = ()
    starred: bool = False
    source_id: str | None = None
    raw_sha256: str = ""

    @property
    def where(self) -> str:
        return f"{self.source}#{self.position}" if self.position else self.source

    @property
    def content_sha256(self) -> str:
        return content_sha256(self.day, self.body)


@dataclass
class Skipped:
    """Something in a source that was not imported: ``source`` (path, ``#position`` if inside a
    file) and ``reason`` (what is wrong and, where it helps, what to do)."""

    source: str
    reason: str
    format: str = ""  # the reader that skipped it; "" when no reader applies

    def to_json(self) -> dict[str, str]:
        return {"source": self.source, "reason": self.reason}


# ---------------------------------------------------------------------------------------------
# helpers shared by the readers


def normalise_text(text: str) -> str:
    """CRLF/CR to LF, BOM removed, trailing spaces of each line and outer blank lines removed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n").strip()


def content_sha256(day: dt.date, body: str) -> str:
    """The duplicate key of a note: hex sha256 of ``"YYYY-MM-DD\\n" + normalised body`` (UTF-8).

    The same text on the same day is one note, whichever format or file it came from.
    """
    return hashlib.sha256(f"{day.isoformat()}\n{normalise_text(body)}".encode("utf-8")).hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def clean_tags(values: Iterable[Any]) -> tuple[str, ...]:
    """Tags as stored: strings without a leading ``#``/``@``, lower-cased, unique, in order.

    Accepts nested lists (YAML reads an unquoted ``[[Link]]`` as a list in a list) and skips
    empty or non-text values.
    """
    out: list[str] = []

    def walk(v: Any) -> None:
        if isinstance(v, (list, tuple)):
            for x in v:
                walk(x)
        elif isinstance(v, str):
            t = v.strip().lstrip("#@").strip().lower()
            if t and t not in out:
                out.append(t)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            walk(str(v))

    walk(list(values))
    return tuple(out)


def is_empty_page(body: str) -> bool:
    """True when a page holds no text: only blank lines and bare outline bullets (``-``, ``*``).

    Logseq creates such pages for every day it is opened.
    """
    for line in body.splitlines():
        s = line.strip()
        if s and s not in ("-", "*", "+"):
            return False
    return True


def local_tz() -> dt.tzinfo:
    """The machine's current local time zone (used where a source gives wall-clock times only)."""
    return dt.datetime.now().astimezone().tzinfo  # type: ignore[return-value]


def read_source_bytes(path: Path) -> bytes:
    """Read ``path`` for import without changing it (bytes only; no write, no rename)."""
    with open(path, "rb") as f:
        return f.read()


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM). Raises UnicodeDecodeError."""
    return data.decode("utf-8-sig")


def json_entries(path: Path, data: bytes, what: str) -> list | Skipped:
    """The ``entries`` list of a JSON export (jrnl's or Day One's), or a Skipped with the reason
    (not UTF-8, not valid JSON, no ``entries`` list, or an empty one). ``what`` names the format
    in the reason, e.g. ``"Day One JSON export"``."""
    import json

    try:
        doc = json.loads(decode_text(data))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        return Skipped(str(path), f"not valid JSON ({e})")
    entries = doc.get("entries") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        return Skipped(str(path), f'not a {what} (no "entries" list)')
    if not entries:
        return Skipped(str(path), "export holds no entries")
    return entries


def is_hidden(rel: Path) -> bool:
    return any(part.startswith(".") for part in rel.parts)


def _is_editor_temp(name: str) -> bool:
    return name.endswith(("~", ".swp", ".swx", ".tmp", ".bak")) or name.startswith(("#", ".#"))


# the entry points live in .run (it imports the readers, which import the names above)
from journal_tui.notes.importers.run import (  # noqa: E402
    FORMATS,
    ImportSummary,
    SourceError,
    collect,
    detect_format,
    existing_hashes,
    run_import,
)

__all__ = [
    "FORMATS",
    "ImportItem",
    "ImportSummary",
    "Skipped",
    "SourceError",
    "collect",
    "content_sha256",
    "detect_format",
    "existing_hashes",
    "run_import",
]
