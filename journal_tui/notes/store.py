"""NoteStore: the notes folder as Note objects, with safe writes.

* :meth:`NoteStore.scan` walks the folder (``*.md``/``*.txt``; hidden folders such as ``.git``,
  ``.obsidian``, ``.trash`` and hidden or editor temp files skipped) and returns notes newest
  first plus the files it could not read (:class:`~journal_tui.notes.model.Problem`). It creates
  nothing in the notes folder; the only file it writes is the cache in ``home/cache/``
  (:mod:`journal_tui.notes.index`), so listing and searching an external ``notes_dir`` (an
  Obsidian vault, say) changes nothing there.
* :meth:`add`, :meth:`save` and :meth:`delete` are the only writers. Writes are atomic (temp
  file in the same folder, fsync, rename; :mod:`journal_tui.fsutil`); new files are 0600 and new
  folders 0700.
* :meth:`save` re-reads the file first. If its bytes differ from what was read (sha256), our text
  goes to a sibling ``NAME.conflict-YYYYmmdd-HHMMSS.md`` and :class:`ConflictError` names both
  files: nothing is overwritten. A file that does not parse is never rewritten (:class:`NoteError`).
  Saving keeps the front matter as the person wrote it (only changed keys are rewritten) and
  the file's BOM and line-ending style.
* :meth:`delete` moves the file into ``home/trash/`` under the same relative path, never over an
  existing trash file.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from journal_tui.notes.index import NOTE_SUFFIXES, NotesIndex, Snapshot, sha256_hex, strip_suffix
from journal_tui.fsutil import create_new_file, fsync_dir as _fsync_dir
from journal_tui.notes.model import KINDS, Note, Problem

# journal_tui.notes.parse (re, YAML), hashlib and journal_tui.fsutil (tempfile, shutil) are
# imported only when a file must be parsed or written: a search over a warm cache needs none.

CACHE_NAME = "notes-index.marshal"


class NoteError(Exception):
    """A note file that cannot be read, or cannot be written safely.

    Attributes:
        path: the file.
        reason: what is wrong and what to do.
    """

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = Path(path)
        self.reason = reason


class ConflictError(Exception):
    """The file changed on disk after it was read. Our text was saved to ``conflict_path``; the
    file at ``path`` was left exactly as it is on disk.

    Attributes:
        path: the note's file (the version someone else wrote).
        conflict_path: the new sibling file holding our version.
    """

    def __init__(self, path: Path, conflict_path: Path) -> None:
        self.path = Path(path)
        self.conflict_path = Path(conflict_path)
        super().__init__(
            f"{self.path} changed on disk since it was opened; it was left as it is and your version "
            f"was saved to {self.conflict_path}. Compare the two and merge them by hand."
        )


@dataclass
class ScanResult:
    """What :meth:`NoteStore.scan` found: notes newest first (day desc, then time desc) and the
    files that could not be read, by path."""

    notes: list[Note] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


class NoteStore:
    """The notes folder.

    Args:
        root: the notes folder (need not exist yet: it is created by the first :meth:`add`).
        trash: where :meth:`delete` moves files (``home/trash``).
        cache: the cache file (``home/cache/notes-index.marshal``), or None for no cache.
        max_bytes: files larger than this are problems ("too large"), default 2,000,000.
    """

    def __init__(self, root: Path, *, trash: Path, cache: Path | None = None, max_bytes: int = 2_000_000) -> None:
        self.root = Path(root).expanduser().absolute()
        self.trash = Path(trash).expanduser().absolute()
        self.max_bytes = int(max_bytes)
        self._index = NotesIndex(cache, self.root, self.max_bytes)

    @property
    def last_problems(self) -> int:
        """How many problem files the last scan/search/get saw (for a hint in listings)."""
        return self._index.last_problems

    @classmethod
    def from_locations(cls, locations) -> "NoteStore":
        """The store of a :class:`~journal_tui.locations.Locations` (notes, trash, cache)."""
        return cls(locations.notes, trash=locations.trash, cache=locations.cache / CACHE_NAME)

    # ------------------------------------------------------------------ reading

    def _note(self, rel: str, note_id: str, day: int, rec: tuple) -> Note:
        from journal_tui.notes.index import decode_value

        _, sha, created, kind, title, tags, body, meta, mtime, plain = rec
        path = self.root / rel
        if meta is None:
            try:
                meta = self.read(path).meta
            except NoteError:
                meta = {}
        elif not plain:
            meta = decode_value(meta)
        return Note(
            id=note_id, path=path, date=dt.date.fromordinal(day), created=dt.datetime.fromisoformat(created) if created else None,
            kind=kind, title=title, tags=list(tags), body=body, meta=meta, mtime=mtime, sha256=sha,
        )  # fmt: skip

    def _row_note(self, snap: Snapshot, i: int) -> Note:
        return self._note(snap.rels[i], snap.ids[i], snap.days[i], snap.record(i))

    @staticmethod
    def _newest_first(snap: Snapshot, rows: Iterable[int]) -> list[int]:
        return sorted(rows, key=lambda i: (snap.days[i], snap.sorts[i], snap.rels[i]), reverse=True)

    def scan(self) -> ScanResult:
        """All notes (newest first: day desc, then created/mtime desc) and problem files (by
        path). Creates nothing in the notes folder; a missing folder gives an empty result."""
        snap = self._index.snapshot()
        rows = self._newest_first(snap, (i for i, f in enumerate(snap.flags) if f != "p"))
        problems = sorted(
            (Problem(self.root / snap.rels[i], snap.record(i)[1]) for i, f in enumerate(snap.flags) if f == "p"),
            key=lambda p: str(p.path),
        )
        return ScanResult([self._row_note(snap, i) for i in rows], problems)

    def search(
        self,
        text: str | None = None,
        *,
        tags: Iterable[str] = (),
        kind: str | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
    ) -> list[Note]:
        """Notes matching every filter, newest first.

        Args:
            text: whitespace-separated words; each must occur (case-insensitive, as a
                substring) in the title, tags, relative path or body.
            tags: every tag must be among the note's tags (``#`` and case ignored).
            kind: ``"note"`` or ``"entry"``.
            start, end: inclusive day range (either may be None).
        """
        snap = self._index.snapshot()
        want_tags = [t.strip().lstrip("#").lower() for t in tags if t.strip().lstrip("#")]
        words = (text.casefold().split() if text else []) + [t.casefold() for t in want_tags]
        lo = start.toordinal() if start else None
        hi = end.toordinal() if end else None
        flag = kind[0] if kind else None
        rows = []
        for i in snap.find_all(words):  # tags are words too: a cheap pre-filter
            if snap.flags[i] == "p" or (flag and snap.flags[i] != flag):
                continue
            if (lo is not None and snap.days[i] < lo) or (hi is not None and snap.days[i] > hi):
                continue
            rows.append(i)
        notes = [self._row_note(snap, i) for i in self._newest_first(snap, rows)]
        if want_tags:
            notes = [n for n in notes if all(t in n.tags for t in want_tags)]
        return notes

    def _rel(self, path: Path) -> str | None:
        try:
            return Path(path).absolute().relative_to(self.root).as_posix()
        except ValueError:
            return None

    def read(self, path: Path) -> Note:
        """Read one file as a Note (``path`` absolute, or relative to the notes folder).

        Raises:
            NoteError: missing, unreadable, binary, not UTF-8, too large, or bad front matter.
        """
        path = Path(path)
        if not path.is_absolute():
            path = self.root / path
        rel = self._rel(path) or path.as_posix()
        try:
            st = os.stat(path)
        except FileNotFoundError as e:
            raise NoteError(path, "does not exist") from e
        except OSError as e:
            raise NoteError(path, f"cannot be read ({e.strerror or e})") from e
        day, _, flag, _, rec = self._index.parse_row(path, rel, st)
        if flag == "p":
            raise NoteError(path, rec[1])
        note_id = strip_suffix(rel)
        if path.suffix.lower() in NOTE_SUFFIXES:
            if any(path.with_suffix(s).exists() for s in NOTE_SUFFIXES if s != path.suffix.lower()):
                note_id = rel
        if rec[7] is None:  # meta that cannot be cached: keep the parsed one
            from journal_tui.notes import parse

            rec = rec[:7] + ({},) + rec[8:9] + (True,)
            note = self._note(rel, note_id, day, rec)
            note.meta = parse.parse_text(parse.read_note_bytes(path, self.max_bytes)).meta
            return note
        return self._note(rel, note_id, day, rec)

    def get(self, id_or_path: str) -> Note:
        """Find one note by id, by path (absolute, relative to the notes folder or to the current
        folder), by a unique prefix of its id or of its file name, else by a unique part of its
        file name.

        Raises:
            KeyError: nothing matches, or a prefix matches several notes (the message lists them).
            NoteError: the file matched but cannot be read.
        """
        s = str(id_or_path).strip()
        if not s:
            raise KeyError("no note id given")
        snap = self._index.snapshot()
        by_id = {snap.ids[i]: i for i, f in enumerate(snap.flags) if f != "p"}
        if s in by_id:
            return self._row_note(snap, by_id[s])
        p = Path(s).expanduser()
        for cand in ([p] if p.is_absolute() else [self.root / p, Path.cwd() / p]):
            if cand.is_file():
                return self.read(cand)
        key = strip_suffix(s)
        if key in by_id:
            return self._row_note(snap, by_id[key])
        matches = sorted(i for i in by_id if i.startswith(key) or i.rsplit("/", 1)[-1].startswith(key))
        if not matches:  # a word of the file name: "morning-run"
            matches = sorted(i for i in by_id if key in i.rsplit("/", 1)[-1])
        if len(matches) == 1:
            return self._row_note(snap, by_id[matches[0]])
        if not matches:
            for i, f in enumerate(snap.flags):  # a problem file named exactly: say what is wrong with it
                if f == "p" and key in (snap.rels[i], strip_suffix(snap.rels[i])):
                    raise NoteError(self.root / snap.rels[i], snap.record(i)[1])
            raise KeyError(f"no note matches {s!r}: see `journal-tui notes list`")
        shown = ", ".join(matches[:5]) + (", ..." if len(matches) > 5 else "")
        raise KeyError(f"{s!r} matches {len(matches)} notes ({shown}): give more of the id")

    # ------------------------------------------------------------------ writing

    def add(
        self,
        body: str,
        *,
        day: dt.date | None = None,
        kind: str = "note",
        tags: Iterable[str] = (),
        title: str | None = None,
        created: dt.datetime | None = None,
        extra_meta: dict[str, Any] | None = None,
    ) -> Note:
        """Write a new note to ``notes/YYYY/MM/YYYY-MM-DD-HHMMSS[-slug].md`` and return it.

        Front matter: ``created`` (ISO 8601 with UTC offset, seconds), ``kind``, ``tags`` (when
        any), ``title`` (when given), then ``extra_meta`` in its order. The slug comes from the
        title, else the body's first words; a taken name gets ``-2``, ``-3``, ... (never
        overwritten). ``created`` defaults to now when ``day`` is omitted or today. For another
        ``day`` with no ``created`` the time is unknown: the front matter gets ``date: YYYY-MM-DD``
        instead of a made-up ``created`` and the file name has no time
        (``notes/YYYY/MM/YYYY-MM-DD[-slug].md``). The body gets a final newline if it lacks one;
        CRLF becomes LF.

        Raises:
            ValueError: unknown kind, ``day`` disagreeing with ``created``, or ``extra_meta``
                overriding created/kind/tags/title.
            OSError: the notes folder is not writable (nothing is left behind).
        """
        from journal_tui.notes import parse

        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
        now = dt.datetime.now().astimezone().replace(microsecond=0)
        time_known = created is not None or day is None or day == now.date()
        if created is None:
            created = now if time_known else dt.datetime.combine(day, dt.time()).astimezone()
        elif created.tzinfo is None:
            created = created.astimezone()
        created = created.replace(microsecond=0)
        if day is not None and created.date() != day:
            raise ValueError(f"created {created.isoformat()} is not on day {day.isoformat()}")
        extra_meta = dict(extra_meta or {})
        clash = {"created", "kind", "tags", "title"} & set(extra_meta)
        if clash:
            raise ValueError(f"extra_meta may not set {', '.join(sorted(clash))}")
        tag_list = parse.merge_tags([t for t in (parse._norm_tag(t) for t in tags) if t])
        meta: dict[str, Any] = {"kind": kind}
        if tag_list:
            meta["tags"] = tag_list
        if title:
            meta["title"] = title
        meta.update(extra_meta)
        if time_known:
            fm = f"created: {created.isoformat()}\n" + parse.dump_yaml(meta)
        else:
            fm = f"date: {created.date().isoformat()}\n" + parse.dump_yaml(meta)
        body = body.replace("\r\n", "\n")
        if body and not body.endswith("\n"):
            body += "\n"
        data = parse.compose(fm, body)
        slug = parse.slugify(title or body)
        folder = self.root / f"{created.year:04d}" / f"{created:%m}"  # strftime %Y does not pad years < 1000
        stem = f"{created.date().isoformat()}-{created:%H%M%S}" if time_known else created.date().isoformat()
        stem += f"-{slug}" if slug else ""
        for n in range(1, 10_000):
            path = folder / (f"{stem}.md" if n == 1 else f"{stem}-{n}.md")
            if create_new_file(path, data):
                return self.read(path)
        raise OSError(errno.EEXIST, f"no free file name for {stem} in {folder}")

    def _conflict_path(self, path: Path) -> Path:
        ts = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        return path.with_name(f"{path.stem}.conflict-{ts}{path.suffix or '.md'}")

    def save(
        self,
        note: Note,
        body: str,
        *,
        title: str | None = None,
        tags: Iterable[str] | None = None,
        kind: str | None = None,
    ) -> Note:
        """Write ``body`` (and, when given, a new title, tags or kind) to ``note``'s file.

        The front matter is kept as the person wrote it; only a changed key is rewritten (a new
        key is appended). ``tags`` is the note's full tag list: tags already written as ``#tags``
        in the body are not repeated in front matter. The file's BOM and CRLF/LF style are kept.
        Unchanged text is not written at all.

        Returns:
            the note as now on disk.

        Raises:
            ConflictError: the file changed (or vanished) since ``note`` was read; our version is
                in ``conflict_path`` and the file on disk is untouched.
            NoteError: the file on disk cannot be parsed (it is never rewritten).
            ValueError: unknown kind.
            OSError: the write failed; the old file is intact.
        """
        from journal_tui.notes import parse

        if kind is not None and kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
        path = Path(note.path)
        body = body.replace("\r\n", "\n")
        try:
            data = parse.read_note_bytes(path, self.max_bytes)
        except FileNotFoundError:
            data = None
        except parse.ParseError as e:
            raise NoteError(path, e.reason) from e
        if data is None or sha256_hex(data) != note.sha256:
            changes = self._changes(note.meta, note, body, title, tags, kind)
            meta = dict(note.meta)
            for k, v in changes.items():
                meta[k] = v
            meta = {k: v for k, v in meta.items() if v is not None}
            ours = parse.compose(parse.dump_yaml(meta) if meta else None, body)
            base = self._conflict_path(path)
            for n in range(1, 1000):
                cand = base if n == 1 else base.with_name(f"{base.stem}-{n}{base.suffix}")
                if create_new_file(cand, ours):
                    raise ConflictError(path, cand)
            raise OSError(errno.EEXIST, f"no free conflict file name next to {path}")
        try:
            parsed = parse.parse_text(data)
        except parse.ParseError as e:
            raise NoteError(path, e.reason) from e
        changes = self._changes(parsed.meta, note, body, title, tags, kind)
        fm = parsed.fm_text
        if changes:
            try:
                fm = parse.update_front_matter(parsed.fm_text, changes)
            except parse.ParseError as e:  # pragma: no cover - parse_text already loaded it
                raise NoteError(path, e.reason) from e
        new = parsed.to_bytes(fm_text=fm if (fm or parsed.fm_text is not None) else None, body=body)
        if new != data:
            from journal_tui.fsutil import atomic_write_bytes

            # a symlinked note is written through the link: replacing the link itself would cut
            # it off from the file it points at (which would keep the old text)
            atomic_write_bytes(Path(os.path.realpath(path)) if path.is_symlink() else path, new)
        return self.read(path)

    @staticmethod
    def _changes(meta: dict, note: Note, body: str, title, tags, kind) -> dict[str, Any]:
        """Front matter keys to set (value None: remove) for a save."""
        from journal_tui.notes import parse

        changes: dict[str, Any] = {}
        if title is not None and title != note.title:
            changes["title"] = title or None
        if kind is not None and kind != note.kind:
            changes["kind"] = kind
        if tags is not None:
            wanted = parse.merge_tags([t for t in (parse._norm_tag(t) for t in tags) if t])
            if wanted != list(note.tags):
                in_body = set(parse.body_tags(body))
                fm_tags = [t for t in wanted if t not in in_body]
                if fm_tags != parse.front_matter_tags(meta) or ("tag" in meta and "tags" not in meta):
                    changes["tags"] = fm_tags or None
                    if "tag" in meta:
                        changes["tag"] = None
        return changes

    def delete(self, note: Note) -> Path:
        """Move the note's file into the trash, keeping its path relative to the notes folder.
        An existing trash file is never overwritten: the newcomer is named
        ``NAME.deleted-YYYYmmdd-HHMMSS[-N].md``.

        Returns:
            the file's path in the trash.

        Raises:
            NoteError: the file is gone, or lies outside the notes folder.
            OSError: the move failed (the note stays where it was).
        """
        src = Path(note.path)
        rel = self._rel(src)
        if rel is None:
            raise NoteError(src, f"is not inside the notes folder {self.root}; not deleted")
        if not src.exists():
            raise NoteError(src, "does not exist (already deleted or moved?)")
        target = self.trash / rel
        from journal_tui.fsutil import ensure_dir

        ensure_dir(target.parent)
        ts = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        for n in range(0, 1000):
            cand = target if n == 0 else target.with_name(
                f"{target.stem}.deleted-{ts}{'' if n == 1 else f'-{n}'}{target.suffix}"
            )
            try:
                os.link(src, cand)
            except FileExistsError:
                continue
            except OSError as e:
                if e.errno not in (errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS):
                    raise
                data = src.read_bytes()
                if not create_new_file(cand, data, mode=os.stat(src).st_mode & 0o777):
                    continue
            os.unlink(src)
            _fsync_dir(src.parent)
            return cand
        raise OSError(errno.EEXIST, f"no free name in the trash for {rel}")
