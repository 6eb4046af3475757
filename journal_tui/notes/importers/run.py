"""Running an import: walk the source, pick a reader per file, compare, write through the store.

:func:`collect` parses a file or folder into :class:`~journal_tui.notes.importers.ImportItem`
and :class:`~journal_tui.notes.importers.Skipped` records; :func:`run_import` drops items whose
content hash is already in the notes (or earlier in the same import) and adds the rest with
:meth:`journal_tui.notes.store.NoteStore.add`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from journal_tui.notes.importers import (
    _JRNL_DAY_FILE,
    MAX_BYTES,
    MAX_JOURNAL_BYTES,
    NOTE_SUFFIXES,
    ImportItem,
    Skipped,
    _is_editor_temp,
    content_sha256,
    read_source_bytes,
)

FORMATS: tuple[str, ...] = ("auto", "folder", "jrnl", "jrnl-json", "dayone")


class SourceError(Exception):
    """The source cannot be imported at all (missing path, unknown format). Message says what to do."""


@dataclass
class ImportSummary:
    """What an import did (or, with ``dry_run``, would do).

    ``added`` lists the new notes (``path`` is ``None`` in a dry run); ``duplicates`` the items
    whose content hash matched an existing note or an earlier item of the same import.
    """

    source: str
    dry_run: bool
    added: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    by_format: dict[str, dict[str, int]] = field(default_factory=dict)

    def count(self, fmt: str, what: str) -> None:
        per = self.by_format.setdefault(fmt, {"added": 0, "duplicates": 0, "skipped": 0})
        per[what] += 1

    def to_json(self) -> dict[str, Any]:
        """``{source, dry_run, added, duplicates, skipped: [{source, reason}], by_format, days, notes,
        duplicate_notes}``: ``added``/``duplicates`` are counts, ``days`` the number of distinct days
        added, ``notes`` the added notes (``day, kind, path, source``) and ``duplicate_notes`` the
        others (``day, kind, source, duplicate_of``)."""
        return {
            "source": self.source,
            "dry_run": self.dry_run,
            "added": len(self.added),
            "duplicates": len(self.duplicates),
            "skipped": [s.to_json() for s in self.skipped],
            "by_format": self.by_format,
            "days": len({a["day"] for a in self.added}),
            "notes": self.added,
            "duplicate_notes": self.duplicates,
        }


# ---------------------------------------------------------------------------------------------
# dispatch


def detect_format(path: Path) -> str:
    """The format ``auto`` picks for one file: ``folder``, ``jrnl``, ``jrnl-json``, ``dayone``,
    or ``""`` when the file is none of them (by suffix; ``.json`` by its content; a ``.txt`` that
    starts with a jrnl entry header is a jrnl journal)."""
    name = path.name.lower()
    if name.endswith(".doentry"):
        return "dayone"
    if name.endswith(".journal"):
        return "jrnl"
    if name.endswith(".json"):
        from journal_tui.notes.importers import dayone, jrnl

        try:
            with open(path, "rb") as f:
                head = f.read(200_000).decode("utf-8-sig", errors="replace")
        except OSError:
            return ""
        if dayone.looks_like_dayone_json(head):
            return "dayone"
        if jrnl.looks_like_jrnl_json(head):
            return "jrnl-json"
        return ""
    if name.endswith(".txt") and _starts_like_jrnl(path):
        return "jrnl"  # jrnl's default journal is a single journal.txt
    if name.endswith(NOTE_SUFFIXES):
        return "folder"
    return ""


def _starts_like_jrnl(path: Path) -> bool:
    """The first non-blank line is a jrnl header with a readable date (``[2024-01-05 09:00] ...``)."""
    from journal_tui.notes.importers import jrnl

    try:
        with open(path, "rb") as f:
            head = f.read(4096).decode("utf-8-sig", errors="replace")
    except OSError:
        return False
    first = next((line for line in head.splitlines() if line.strip()), "")
    return jrnl.header_date(first) is not None


def _walk(root: Path) -> Iterator[Path]:
    """Files under ``root``, sorted, skipping hidden folders/files and editor temp files."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith(".") or _is_editor_temp(name):
                continue
            yield Path(dirpath) / name


def jrnl_folder_roots(files: Iterable[Path]) -> set[Path]:
    """Folders that are jrnl folder journals: they hold at least one ``YYYY/MM/DD.txt``."""
    roots: set[Path] = set()
    for p in files:
        if _JRNL_DAY_FILE.search(p.as_posix()):
            roots.add(p.parent.parent.parent)
    return roots


def collect(path: Path, fmt: str = "auto") -> tuple[list[ImportItem], list[Skipped]]:
    """Parse everything under ``path`` (a file or a folder) into items and skipped records.

    Args:
        path: the source; never modified.
        fmt: one of :data:`FORMATS`; anything but ``auto`` forces that reader on every candidate
            file (``folder``: ``.md``/``.txt``; ``jrnl``: ``.journal``/``.txt``; ``jrnl-json``:
            ``.json``; ``dayone``: ``.json``/``.doentry``).

    Raises:
        SourceError: ``path`` does not exist or ``fmt`` is unknown.
    """
    from journal_tui.notes.importers import dayone, folder, jrnl

    path = Path(path).expanduser().resolve()
    if fmt not in FORMATS:
        raise SourceError(f"unknown format {fmt!r}; use one of: {', '.join(FORMATS)}")
    if not path.exists():
        raise SourceError(f"{path}: no such file or folder")
    if path.is_file():
        files = [path]
        base = path.parent
    else:
        files = list(_walk(path))
        base = path
    jrnl_roots = jrnl_folder_roots(p.relative_to(base) for p in files) if fmt in ("auto", "jrnl") else set()
    jrnl_roots = {base / r for r in jrnl_roots}

    items: list[ImportItem] = []
    skipped: list[Skipped] = []
    for f in files:
        in_jrnl_folder = next((r for r in jrnl_roots if r == f.parent or r in f.parents), None)
        if fmt == "auto":
            how = detect_format(f)
            if in_jrnl_folder is not None and f.suffix.lower() == ".txt":
                how = "jrnl-folder"
        elif fmt == "folder":
            how = "folder" if f.name.lower().endswith(NOTE_SUFFIXES) else ""
        elif fmt == "jrnl":
            if f.suffix.lower() == ".txt" and in_jrnl_folder is not None:
                how = "jrnl-folder"
            elif f.suffix.lower() in (".journal", ".txt"):
                how = "jrnl"
            else:
                how = ""
        elif fmt == "jrnl-json":
            how = "jrnl-json" if f.suffix.lower() == ".json" else ""
        else:  # dayone
            how = "dayone" if f.suffix.lower() in (".json", ".doentry") else ""

        in_dayone_package = any(p.name.lower().endswith(".dayone") for p in f.parents)
        if in_dayone_package and f.suffix.lower() != ".doentry":
            skipped.append(Skipped(str(f), "inside a Day One Classic journal (.dayone) but not a .doentry entry", "dayone"))
            continue
        if not how:
            skipped.append(Skipped(str(f), _unknown_reason(f, fmt), "other"))
            continue
        reader = "jrnl" if how == "jrnl-folder" else how
        try:
            size = f.stat().st_size
        except OSError as e:
            skipped.append(Skipped(str(f), f"cannot read: {e.strerror or e}", reader))
            continue
        limit = MAX_BYTES if how == "folder" else MAX_JOURNAL_BYTES
        if size > limit:
            skipped.append(Skipped(str(f), f"larger than {limit // 1_000_000} MB ({size} bytes); split it first", reader))
            continue
        try:
            data = read_source_bytes(f)
        except OSError as e:
            skipped.append(Skipped(str(f), f"cannot read: {e.strerror or e}", reader))
            continue
        try:
            if how == "folder":
                got = folder.parse_file(f, data)
            elif how == "jrnl":
                got = jrnl.parse_journal_file(f, data)
            elif how == "jrnl-folder":
                assert in_jrnl_folder is not None
                got = jrnl.parse_folder_day_file(f, data, root=in_jrnl_folder)
            elif how == "jrnl-json":
                got = jrnl.parse_json_export(f, data)
            elif f.suffix.lower() == ".doentry":
                got = dayone.parse_doentry(f, data)
            else:
                got = dayone.parse_json_export(f, data)
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as e:
            # data shaped in a way no reader expects: report the file, carry on with the rest
            got = [Skipped(str(f), f"could not be read as {reader}: {type(e).__name__}: {e}")]
        for x in got:
            if isinstance(x, Skipped):
                x.format = x.format or reader
                skipped.append(x)
            else:
                items.append(x)
    return items, skipped


def _unknown_reason(f: Path, fmt: str) -> str:
    if f.name.lower().endswith(".json"):
        import json

        try:
            json.loads(read_source_bytes(f).decode("utf-8-sig"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            return f"not valid JSON ({e})"
        return "a .json file that is neither a Day One nor a jrnl JSON export"
    if fmt == "auto":
        return "not a note or journal file (.md, .txt, .journal, .json, .doentry)"
    return f"not a file the {fmt} format reads"


# ---------------------------------------------------------------------------------------------
# writing


def existing_hashes(notes: Iterable[Any]) -> set[str]:
    """Content hashes of notes already in the store: the recorded ``content_sha256`` and the
    hash computed from each note's day and body (so hand-written copies count too)."""
    out: set[str] = set()
    for n in notes:
        meta = getattr(n, "meta", None) or {}
        h = meta.get("content_sha256")
        if isinstance(h, str):
            out.add(h)
        out.add(content_sha256(n.date, n.body))
    return out


def run_import(
    locations,
    path: Path,
    *,
    fmt: str = "auto",
    kind: str | None = None,
    dry_run: bool = False,
    store=None,
) -> ImportSummary:
    """Import ``path`` into the notes folder of ``locations``.

    Args:
        locations: a :class:`journal_tui.locations.Locations`.
        path: file or folder to import; only read.
        fmt: one of :data:`FORMATS`.
        kind: ``"note"`` or ``"entry"`` for every item (default: the source's own ``kind``, else
            ``"note"``).
        dry_run: parse and compare, write nothing.
        store: a NoteStore to use (default ``NoteStore.from_locations(locations)``).

    Returns:
        The :class:`ImportSummary`.

    Raises:
        SourceError: missing path, unknown format, or ``path`` lies inside the notes folder.
    """
    from journal_tui.notes.model import KINDS

    path = Path(path).expanduser().resolve()
    if kind is not None and kind not in KINDS:
        raise SourceError(f"unknown kind {kind!r}; use one of: {', '.join(KINDS)}")
    notes_root = Path(locations.notes).resolve()
    if path == notes_root or notes_root in path.parents:
        raise SourceError(f"{path} is inside the notes folder {notes_root}; its notes are already there")
    if path.is_dir() and path in notes_root.parents:
        raise SourceError(
            f"{path} contains the notes folder {notes_root}; import a folder beside it, not above it"
        )

    items, skipped = collect(path, fmt)
    summary = ImportSummary(source=str(path), dry_run=dry_run)
    for s in skipped:
        summary.skipped.append(s)
        summary.count(s.format or "other", "skipped")

    if store is None:
        store = _open_store(locations, cache=not dry_run)  # a dry run writes no cache either
    existing = existing_hashes(_existing_notes(store, notes_root))
    this_import: dict[str, str] = {}  # content hash -> where the first item with it came from

    for it in sorted(items, key=_item_order):
        h = it.content_sha256
        rec = {"day": it.day.isoformat(), "kind": kind or it.kind or "note", "source": it.where, "path": None}
        if h in existing or h in this_import:
            rec["duplicate_of"] = "a note already in the notes folder" if h in existing else this_import[h]
            summary.duplicates.append(rec)
            summary.count(it.format, "duplicates")
            continue
        this_import[h] = it.where
        if not dry_run:
            note = store.add(
                it.body,
                day=it.day,
                kind=rec["kind"],
                tags=list(it.tags),
                title=it.title,
                created=it.created,
                extra_meta=_provenance(it, h),
            )
            rec["path"] = str(note.path)
        summary.added.append(rec)
        summary.count(it.format, "added")
    return summary


def _item_order(it: ImportItem):
    t = it.created.timestamp() if it.created else float("-inf")
    return (it.day, t, it.source, it.position)


def _provenance(it: ImportItem, h: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"source": it.source, "source_format": it.format}
    if it.source_id or it.position:
        meta["source_id"] = it.source_id or it.position
    meta["content_sha256"] = h
    if it.starred:
        meta["starred"] = True
    return meta


def _open_store(locations, *, cache: bool = True):
    from journal_tui.notes.store import NoteStore

    if cache:
        return NoteStore.from_locations(locations)
    return NoteStore(locations.notes, trash=locations.trash, cache=None)


def _existing_notes(store, notes_root: Path) -> list[Any]:
    if not notes_root.exists():
        return []
    return list(store.scan().notes)
