"""The notes index: the notes folder walked into columns, cached so a search parses nothing.

``notes list --search`` must answer in <= 100 ms over 10,000 notes, python start-up included.
Parsing 10,000 YAML headers takes seconds, and even unpickling 10,000 small records takes tens
of milliseconds, so the cache (``home/cache/notes-index.marshal``, mode 0600, written
atomically) keeps a few large flat columns instead of one object per note:

* ``rels``: relative POSIX paths joined by NUL; ``ids``: the note ids, likewise;
* ``stats``: ``array('q')``, 4 per file: st_mtime_ns, st_ctime_ns, st_size, st_ino;
* ``days`` (``array('l')``, day ordinals) and ``sorts`` (``array('d')``, created/mtime
  timestamps) for filtering and ordering;
* ``flags``: one character per file: ``n`` note, ``e`` entry, ``p`` problem;
* ``hay``: each note's casefolded title, tags, id and body, joined by NUL, and ``hay_off``;
* ``recs``: each file's full record, ``marshal``-ed one by one and concatenated, and
  ``rec_off``. Only the records of matching notes are decoded.

A file's row is reused only while its stat matches exactly; anything else is parsed again.
A cache that is missing, of another format/root/size limit, or unreadable (corrupt, truncated)
is ignored and rebuilt: it only ever costs time. marshal is used rather than pickle because it
cannot construct arbitrary objects. Front matter dates are stored as tagged tuples
(``("\\0d", iso)``, ``("\\0t", iso)``) and YAML pairs/omap tuples as ``("\\0T", [...])``.
"""

from __future__ import annotations

import datetime as dt
import marshal
import os
from array import array
from pathlib import Path
from typing import Any

#: bump when the layout or the parsing rules change
FORMAT = "jt-notes-index-4"

#: file suffixes that count as notes (case-insensitive)
NOTE_SUFFIXES = (".md", ".txt")

StatKey = tuple[int, int, int, int]

_SCANDIR_FD = os.scandir in os.supports_fd and hasattr(os, "O_DIRECTORY")


def is_note_name(name: str) -> bool:
    """True for a file name that counts as a note: ``*.md``/``*.txt``, not hidden, not an
    editor's temp or backup file (``.x``, ``x~``, ``#x#``, ``x.swp``, ``x.tmp``)."""
    if name[:1] in (".", "#") or name.endswith("~") or name.startswith("~$"):
        return False
    return name[-3:].lower() == ".md" or name[-4:].lower() == ".txt"


def stat_key(st) -> StatKey:
    return (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)


#: most containers one note's front matter may hold and still be cached (YAML aliases can make
#: a small file expand into billions of nodes; such front matter is re-parsed when needed)
MAX_META_NODES = 100_000


def encode_meta(meta: dict) -> tuple[Any, bool]:
    """(marshal-safe front matter, True when it needed no tagging so needs no decoding).

    Raises:
        ValueError: a type YAML's safe loader does not produce, or more than
            :data:`MAX_META_NODES` containers (alias bombs).
    """
    state = [0, MAX_META_NODES]  # [values tagged, containers still allowed]
    value = encode_value(meta, state)
    return value, not state[0]


def encode_value(v: Any, state: list | None = None) -> Any:
    """Front matter value -> marshal-safe value: dates, datetimes and tuples become tagged
    tuples, sets frozensets. ``state`` is ``[tagged count, container budget]`` (see
    :func:`encode_meta`). Raises ValueError as :func:`encode_meta` does."""
    if v is None or isinstance(v, (str, bool, int, float, bytes)):
        return v
    if state is None:
        state = [0, MAX_META_NODES]
    if isinstance(v, dt.datetime):
        state[0] += 1
        return ("\0t", v.isoformat())
    if isinstance(v, dt.date):
        state[0] += 1
        return ("\0d", v.isoformat())
    state[1] -= 1
    if state[1] < 0:
        raise ValueError("front matter too large to cache")
    if isinstance(v, dict):
        return {encode_value(k, state): encode_value(x, state) for k, x in v.items()}
    if isinstance(v, list):
        return [encode_value(x, state) for x in v]
    state[0] += 1
    if isinstance(v, tuple):
        return ("\0T", [encode_value(x, state) for x in v])
    if isinstance(v, (set, frozenset)):
        return frozenset(encode_value(x, state) for x in v)
    raise ValueError(f"cannot cache a {type(v).__name__}")


_NESTED = (tuple, dict, list, frozenset)


def decode_value(v: Any) -> Any:
    """Inverse of :func:`encode_value`."""
    t = type(v)
    if t is dict:
        return {
            (decode_value(k) if type(k) is tuple else k): (decode_value(x) if type(x) in _NESTED else x)
            for k, x in v.items()
        }
    if t is tuple:
        tag, x = v
        if tag == "\0t":
            return dt.datetime.fromisoformat(x)
        if tag == "\0d":
            return dt.date.fromisoformat(x)
        return tuple(decode_value(i) for i in x)
    if t is list:
        return [decode_value(x) if type(x) in _NESTED else x for x in v]
    if t is frozenset:
        return {decode_value(x) for x in v}
    return v


class Snapshot:
    """The notes folder as columns (see the module docstring). Row ``i`` is one file."""

    def __init__(self, rels, ids, stats, days, sorts, flags, hay, hay_off, recs, rec_off) -> None:
        self.rels: list[str] = rels
        self.ids: list[str] = ids
        self.stats: array = stats
        self.days: array = days
        self.sorts: array = sorts
        self.flags: str = flags
        self.hay: str = hay
        self.hay_off: array = hay_off
        self.recs: bytes = recs
        self.rec_off: array = rec_off

    @classmethod
    def empty(cls) -> "Snapshot":
        return cls([], [], array("q"), array("l"), array("d"), "", "", array("q", [0]), b"", array("q", [0]))

    def __len__(self) -> int:
        return len(self.rels)

    def stat_of(self, i: int) -> StatKey:
        s = self.stats
        return (s[4 * i], s[4 * i + 1], s[4 * i + 2], s[4 * i + 3])

    def record_bytes(self, i: int) -> bytes:
        return self.recs[self.rec_off[i] : self.rec_off[i + 1]]

    def record(self, i: int) -> tuple:
        """The file's full record: ``("n", sha256, created_iso|None, kind, title, tags, body,
        meta|None, mtime, meta_plain)`` or ``("p", reason)``; ``meta_plain``: the meta needs no
        :func:`decode_value`."""
        return marshal.loads(self.recs[self.rec_off[i] : self.rec_off[i + 1]])

    def hay_of(self, i: int) -> str:
        return self.hay[self.hay_off[i] : self.hay_off[i + 1] - 1]

    def find_all(self, words: list[str]) -> list[int]:
        """Rows whose haystack contains every word (already casefolded), in row order."""
        if not words:
            return [i for i, f in enumerate(self.flags) if f != "p"]
        import bisect

        hay, off = self.hay, self.hay_off
        found: set[int] | None = None
        for w in sorted(words, key=len, reverse=True):
            rows: set[int] = set()
            pos = hay.find(w)
            while pos >= 0:
                i = bisect.bisect_right(off, pos) - 1
                rows.add(i)
                pos = hay.find(w, off[i + 1])
            found = rows if found is None else found & rows
            if not found:
                return []
        return sorted(found or ())


class SnapshotBuilder:
    """Collects rows (reused ones as raw slices, new ones as records) into a Snapshot."""

    def __init__(self) -> None:
        self.rels: list[str] = []
        self.stats = array("q")
        self.days = array("l")
        self.sorts = array("d")
        self.flags: list[str] = []
        self.hay: list[str] = []
        self.recs: list[bytes] = []

    def add_row(self, rel: str, key: StatKey, day: int, sort: float, flag: str, hay: str, rec: bytes) -> None:
        self.rels.append(rel)
        self.stats.extend(key)
        self.days.append(day)
        self.sorts.append(sort)
        self.flags.append(flag)
        self.hay.append(hay)
        self.recs.append(rec)

    def copy_row(self, snap: Snapshot, i: int, rel: str) -> None:
        self.add_row(rel, snap.stat_of(i), snap.days[i], snap.sorts[i], snap.flags[i], snap.hay_of(i), snap.record_bytes(i))

    def build(self, ids: list[str]) -> Snapshot:
        hay_off, rec_off = array("q", [0]), array("q", [0])
        for h in self.hay:
            hay_off.append(hay_off[-1] + len(h) + 1)
        for r in self.recs:
            rec_off.append(rec_off[-1] + len(r))
        hay = "".join(h + "\0" for h in self.hay)
        return Snapshot(self.rels, ids, self.stats, self.days, self.sorts, "".join(self.flags), hay, hay_off,
                        b"".join(self.recs), rec_off)  # fmt: skip


class NotesIndex:
    """One notes folder as a :class:`Snapshot`: walks it, re-parses only files whose stat changed
    (everything on the first run), and keeps the cache file up to date.

    Args:
        path: the cache file, or None to keep no cache.
        root: the notes folder it describes.
        max_bytes: the size limit used when parsing (part of the key: a different limit changes
            which files are problems).
    """

    def __init__(self, path: Path | None, root: Path, max_bytes: int) -> None:
        self.path = Path(path) if path else None
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.header = (FORMAT, str(root), max_bytes)
        #: problem files seen by the last :meth:`snapshot`
        self.last_problems = 0

    def walk(self) -> tuple[list[str], array]:
        """Relative POSIX paths of every note file under the root, and their stat keys (4 ints
        each). Hidden folders are not entered; folder symlinks are not followed (no loops); a folder
        that cannot be opened (permissions) is a row of its own, a problem. Each
        folder is opened once and its files are stat-ed relative to it (``fstatat``): on the dev
        machine that was ~18% faster than a full path per file, and the stat calls are most of
        a warm search's time."""
        rels: list[str] = []
        stats = array("q")
        append, extend = rels.append, stats.extend  # hot loop: ~10,000 turns for 10,000 notes
        stack = [("", str(self.root))]
        while stack:
            prefix, folder = stack.pop()
            try:
                fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY) if _SCANDIR_FD else -1
            except FileNotFoundError:
                continue
            except OSError:  # no permission, ...: a problem row, so its notes are not silently missing
                try:
                    st = os.stat(folder)
                except OSError:
                    continue
                extend((st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino))
                append(prefix[:-1] if prefix else ".")
                continue
            try:
                with os.scandir(fd if _SCANDIR_FD else folder) as it:
                    for e in it:
                        name = e.name
                        try:
                            if (name.endswith((".md", ".txt")) and name[0] not in ".#~" or is_note_name(name)) and e.is_file():
                                st = e.stat()
                                extend((st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino))
                                append(prefix + name)
                            elif name[0] != "." and e.is_dir(follow_symlinks=False):
                                stack.append((prefix + name + "/", folder + os.sep + name))
                        except OSError:  # vanished, or a broken symlink
                            continue
            except OSError:
                continue
            finally:
                if _SCANDIR_FD:
                    os.close(fd)
        return rels, stats

    def parse_row(self, path: Path, rel: str, st: os.stat_result) -> tuple[int, float, str, str, tuple]:
        """Parse one file into a cache row: (day ordinal, sort timestamp, flag, haystack, record).
        The record layout is documented on :meth:`journal_tui.notes.index.Snapshot.record`."""
        import stat as stat_mod

        from journal_tui.notes import parse

        if rel == "." and not stat_mod.S_ISDIR(st.st_mode):  # walk() found a file where the folder should be
            return 0, 0.0, "p", "", ("p", "the notes folder is a file, not a folder: move it away or fix notes_dir")
        if stat_mod.S_ISDIR(st.st_mode):  # a folder walk() could not open
            try:
                os.scandir(path).close()
                why = "could not be opened"
            except OSError as e:
                why = e.strerror or str(e)
            return 0, 0.0, "p", "", ("p", f"folder cannot be read ({why}): the notes in it are not listed; "
                                          "check its permissions")
        try:
            data = parse.read_note_bytes(path, self.max_bytes)
            p = parse.parse_text(data)
        except FileNotFoundError:
            return 0, 0.0, "p", "", ("p", "vanished while being read: scan again")
        except parse.ParseError as e:
            return 0, 0.0, "p", "", ("p", e.reason)
        day, created = parse.resolve_day(p.meta, tuple(rel.split("/")), st.st_mtime)
        tags = parse.merge_tags(parse.front_matter_tags(p.meta), parse.body_tags(p.body))
        kind = parse.resolve_kind(p.meta)
        title = parse.resolve_title(p.meta, p.body)
        try:
            meta, plain = encode_meta(p.meta)
        except ValueError:  # not a type YAML's safe loader makes; re-read on demand instead
            meta, plain = None, False
        hay = f"{title}\n{' '.join(tags)}\n{rel}\n{p.body}".casefold().replace("\0", " ")
        rec = ("n", sha256_hex(data), created.isoformat() if created else None, kind, title, tuple(tags), p.body,
               meta, st.st_mtime, plain)  # fmt: skip
        return day.toordinal(), (created.timestamp() if created else st.st_mtime), kind[0], hay, rec

    def snapshot(self) -> Snapshot:
        """The folder as a :class:`~journal_tui.notes.index.Snapshot`: the cache when every
        file's stat still matches it, else rebuilt (re-parsing only the changed files) and saved."""
        old = self.load()
        rels, stats = self.walk()
        if rels == old.rels and stats == old.stats:
            snap = old
        else:
            pos = {r: i for i, r in enumerate(old.rels)}
            b = SnapshotBuilder()
            for j, rel in enumerate(rels):
                key = (stats[4 * j], stats[4 * j + 1], stats[4 * j + 2], stats[4 * j + 3])
                i = pos.get(rel)
                if i is not None and old.stat_of(i) == key:
                    b.copy_row(old, i, rel)
                    continue
                path = self.root / rel
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                day, sort, flag, hay, rec = self.parse_row(path, rel, st)
                b.add_row(rel, key, day, sort, flag, hay, marshal.dumps(rec))
            snap = b.build(note_ids(b.rels))
            self.save(snap)
        self.last_problems = snap.flags.count("p")
        return snap

    def load(self) -> Snapshot:
        """The cached snapshot (empty when there is no usable cache; never raises)."""
        if self.path is None:
            return Snapshot.empty()
        try:
            with open(self.path, "rb") as f:
                obj = marshal.load(f)
            head, rels, ids, stats, days, sorts, flags, hay, hay_off, recs, rec_off = obj
            if head != self.header:
                return Snapshot.empty()
            snap = Snapshot(
                rels.split("\0") if rels else [], ids.split("\0") if ids else [], _arr("q", stats),
                _arr("l", days), _arr("d", sorts), flags, hay, _arr("q", hay_off), recs, _arr("q", rec_off),
            )  # fmt: skip
            n = len(snap.rels)
            if not (len(snap.ids) == n == len(flags) == len(snap.days) == len(snap.sorts) == len(snap.stats) // 4
                    == len(snap.hay_off) - 1 == len(snap.rec_off) - 1) or snap.rec_off[-1] != len(recs):  # fmt: skip
                return Snapshot.empty()
            return snap
        except Exception:  # any unreadable cache is only a cache miss
            return Snapshot.empty()

    def save(self, snap: Snapshot) -> bool:
        """Write the snapshot atomically (0600). Returns False, silently, when the cache folder
        is not writable: the cache is an optimisation, never a requirement."""
        if self.path is None:
            return False
        from journal_tui.fsutil import atomic_write_bytes

        obj = (
            self.header, "\0".join(snap.rels), "\0".join(snap.ids), snap.stats.tobytes(), snap.days.tobytes(),
            snap.sorts.tobytes(), snap.flags, snap.hay, snap.hay_off.tobytes(), snap.recs, snap.rec_off.tobytes(),
        )  # fmt: skip
        try:
            atomic_write_bytes(self.path, marshal.dumps(obj))
        except (OSError, ValueError):
            return False
        return True


def note_ids(rels: list[str]) -> list[str]:
    """Note ids: the path without its suffix, unless two files share that stem (``a.md``
    and ``a.txt``), in which case both keep their suffix."""
    stems = [strip_suffix(r) for r in rels]
    seen: dict[str, int] = {}
    for s in stems:
        seen[s] = seen.get(s, 0) + 1
    return [s if seen[s] == 1 else r for s, r in zip(stems, rels)]


def strip_suffix(rel: str) -> str:
    """``a/b.md`` -> ``a/b`` (only note suffixes are removed)."""
    base, dot, suffix = rel.rpartition(".")
    return base if dot and ("." + suffix.lower()) in NOTE_SUFFIXES else rel


def sha256_hex(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _arr(code: str, data: bytes) -> array:
    a = array(code)
    a.frombytes(data)
    return a
