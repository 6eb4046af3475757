"""Build ``home/datasets/{train.jsonl, eval.jsonl, manifest.json}`` from the notes, fully or
incrementally.

:class:`DatasetState` keeps, in memory, every note read (path -> Note), the files that could not
be read (path -> reason), the paths of each day, and each day's examples already serialised as
JSONL text. A full build fills it from ``NoteStore.scan()``; :meth:`DatasetState.apply` re-reads
only changed paths and recomputes only the days they touch (a moved or re-dated note touches its
old and its new day). Both paths end in :meth:`DatasetState.render`, so an incremental rebuild is
byte-identical to a full one.

Output: days ascending; inside a day the pair and its continuations, then voice-entry, then
voice-note examples (see dataset/examples.py). Train and eval files are written atomically
(journal_tui/fsutil.py), then ``manifest.json``, whose ``files`` hold the sha256 of the two
JSONL files as written, so a reader can tell whether it saw one build's files. ``built_at`` is
only in the manifest: identical notes give byte-identical JSONL files.

Settings (config.toml ``[dataset]``): ``voice_until_pairs`` (voice examples are kept while the
number of pair days is below it; default 10), ``max_example_chars`` (2000), ``eval_fraction``
(0.1; dataset/split.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from journal_tui.dataset import examples as ex
from journal_tui.dataset import split, template
from journal_tui.notes.model import Note, Problem

TRAIN_FILE = "train.jsonl"
EVAL_FILE = "eval.jsonl"
MANIFEST_FILE = "manifest.json"
EMPTY_MESSAGE = (
    "no notes yet: write some (in the app, or `journal-tui notes add`), "
    "then run `journal-tui dataset build`"
)
NO_EXAMPLES_MESSAGE = "the notes folder has only empty or unreadable notes: no examples to train on"


# ---------------------------------------------------------------------------- settings


def dataset_settings(locations, settings: dict | None = None) -> dict[str, Any]:
    """The ``[dataset]`` settings, checked.

    Args:
        locations: a Locations (its config.toml is read when ``settings`` is None).
        settings: either the whole ``config.settings()`` dict or just its ``dataset`` section;
            missing keys take the defaults.

    Raises:
        journal_tui.config.ConfigError: a value out of range (names config.toml and the key).
    """
    from journal_tui.config import DEFAULTS, ConfigError
    from journal_tui.config import settings as load_settings

    if settings is None:
        settings = load_settings(locations.config_file)
    section = settings.get("dataset", settings) if isinstance(settings, dict) else {}
    out = {**DEFAULTS["dataset"], **{k: v for k, v in section.items() if v is not None}}
    where = f"{locations.config_file}: [dataset]"
    if not isinstance(out["max_example_chars"], int) or out["max_example_chars"] < 100:
        raise ConfigError(f"{where} max_example_chars = {out['max_example_chars']!r} should be a whole number >= 100 (default 2000).")
    if not isinstance(out["voice_until_pairs"], int) or out["voice_until_pairs"] < 0:
        raise ConfigError(f"{where} voice_until_pairs = {out['voice_until_pairs']!r} should be a whole number >= 0 (default 10).")
    if not 0 <= float(out["eval_fraction"]) < 1:
        raise ConfigError(f"{where} eval_fraction = {out['eval_fraction']!r} should be at least 0 and below 1 (default 0.1).")
    out["eval_fraction"] = float(out["eval_fraction"])
    return out


# ---------------------------------------------------------------------------- state


def is_note_path(root: Path, path: Path) -> bool:
    """True for a file under ``root`` that the store reads as a note: not inside a hidden folder
    (``.git/…``, ``.obsidian/…``) and a note name (``notes.parse.is_note_name``: ``*.md``/``*.txt``,
    not hidden, not an editor temp/backup such as ``.#x``, ``x~``, ``#x#``)."""
    try:
        rel = Path(path).relative_to(root)
    except ValueError:
        return False
    from journal_tui.notes.parse import is_note_name

    if not rel.parts or any(part.startswith(".") for part in rel.parts[:-1]):
        return False
    return is_note_name(rel.parts[-1])


def _walk_notes(folder: Path, root: Path) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            p = Path(dirpath) / name
            if is_note_path(root, p):
                found.append(p)
    return found


@dataclass
class _Day:
    """One day's cached output. Voice examples are made only when a render needs them (voice
    examples are off for most journals), then kept until the day changes."""

    notes: list[Note]
    examples: ex.DayExamples  # pair examples (voice filled in lazily)
    pair_text: str  # JSONL lines of examples.pair
    pair_lengths: list[tuple[int, int]]  # (input chars, output chars) per pair example
    n_pairs: int  # examples of kind "pair" (1 for a pair day, else 0)
    voice_text: str | None = None  # JSONL lines of the voice examples, once made
    voice_lengths: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class Rendered:
    """What one build writes: the two JSONL texts and the facts for the manifest."""

    train_text: str
    eval_text: str
    counts: dict[str, int]
    eval_dates: list[str]
    voice_enabled: bool
    lengths: dict[str, dict[str, int]]
    skipped: list[dict[str, str]]
    message: str | None


class DatasetState:
    """Per-path and per-day state of the dataset (see the module docstring). Not thread-safe:
    the caller serialises calls (the dataset watcher holds a lock)."""

    def __init__(self, root: Path, settings: dict[str, Any]) -> None:
        self.root = Path(root)
        self.settings = settings
        self.notes: dict[Path, Note] = {}
        self.problems: dict[Path, str] = {}
        self.day_paths: dict[dt.date, set[Path]] = {}
        self.days: dict[dt.date, _Day] = {}

    # -- loading

    def load(self, notes: Iterable[Note], problems: Iterable[Problem]) -> None:
        """Replace the state with a scan's notes and problems and compute every day."""
        self.notes.clear()
        self.problems.clear()
        self.day_paths.clear()
        self.days.clear()
        for n in notes:
            self._add(n)
        for p in problems:
            self.problems[Path(p.path)] = p.reason
        for day in list(self.day_paths):
            self._compute(day)

    def apply(self, paths: Iterable[Path], read: Callable[[Path], Note]) -> set[dt.date]:
        """Re-read changed paths and recompute the days they touch.

        Args:
            paths: changed files (created, modified, deleted, moved from or to) or folders
                (created, moved or deleted as a whole); anything else under the root is ignored.
            read: reads one note; raises ``FileNotFoundError`` when it is gone (then treated as
                deleted) or an exception with a ``reason`` attribute (NoteError) when it cannot be
                read (then listed as skipped).

        Returns:
            The days recomputed.
        """
        touched: set[dt.date] = set()
        for path in self._expand(paths):
            old = self.notes.pop(path, None)
            self.problems.pop(path, None)
            if old is not None:
                self._drop(old)
                touched.add(old.date)
            if not path.is_file():
                continue
            try:
                note = read(path)
            except FileNotFoundError:
                continue  # deleted or renamed while we looked: the move's other path comes too
            except Exception as e:  # NoteError and friends: skip and list, never crash
                if path.exists():
                    self.problems[path] = str(getattr(e, "reason", None) or e)
                continue
            self._add(note)
            touched.add(note.date)
        for day in touched:
            self._compute(day)
        return touched

    def _expand(self, paths: Iterable[Path]) -> list[Path]:
        out: set[Path] = set()
        known = None
        for raw in paths:
            p = Path(raw)
            if p.is_dir():
                out.update(_walk_notes(p, self.root))
            if is_note_path(self.root, p) and not p.is_dir():
                out.add(p)
            elif not p.is_file():  # a folder, now moved away or deleted: everything we had under it
                if known is None:
                    known = list(self.notes) + list(self.problems)
                out.update(k for k in known if p in k.parents)
        return sorted(out)

    def _add(self, note: Note) -> None:
        path = note.path if isinstance(note.path, Path) else Path(note.path)
        self.notes[path] = note
        self.day_paths.setdefault(note.date, set()).add(path)

    def _drop(self, note: Note) -> None:
        paths = self.day_paths.get(note.date)
        if paths is not None:
            paths.discard(note.path if isinstance(note.path, Path) else Path(note.path))
            if not paths:
                del self.day_paths[note.date]

    def _compute(self, day: dt.date) -> None:
        paths = self.day_paths.get(day)
        notes = [self.notes[p] for p in paths] if paths else []  # day_examples orders them
        if not any(template.normalise(n.body) for n in notes):
            self.days.pop(day, None)
            return
        d = ex.day_examples(day, notes, root=self.root, max_chars=self.settings["max_example_chars"], voice=False)
        self.days[day] = _Day(
            notes=notes,
            examples=d,
            pair_text="".join(e.to_line() for e in d.pair),
            pair_lengths=[(len(e.input), len(e.output)) for e in d.pair],
            n_pairs=sum(1 for e in d.pair if e.kind == ex.KIND_PAIR),
        )

    def _voice(self, d: _Day) -> None:
        if d.voice_text is None:
            full = ex.day_examples(d.examples.day, d.notes, root=self.root,
                                   max_chars=self.settings["max_example_chars"])
            d.voice_text = "".join(e.to_line() for e in full.voice)
            d.voice_lengths = [(len(e.input), len(e.output)) for e in full.voice]

    # -- output

    def render(self) -> Rendered:
        """The train/eval JSONL texts and manifest facts for the current state."""
        pair_days = sum(1 for d in self.days.values() if d.n_pairs)
        voice = pair_days < self.settings["voice_until_pairs"]
        if voice:
            for d in self.days.values():
                self._voice(d)
        used = sorted(day for day, d in self.days.items() if d.pair_text or (voice and d.voice_text))
        evals = split.eval_days(used, self.settings["eval_fraction"])
        train: list[str] = []
        evl: list[str] = []
        lengths: list[tuple[int, int]] = []
        counts = {"pairs": 0, "voice": 0, "train": 0, "eval": 0}
        for day in used:
            d = self.days[day]
            texts = [d.pair_text] + ([d.voice_text] if voice else [])
            lens = d.pair_lengths + (d.voice_lengths if voice else [])
            counts["pairs"] += d.n_pairs
            counts["voice"] += len(lens) - d.n_pairs
            counts["eval" if day in evals else "train"] += len(lens)
            (evl if day in evals else train).extend(texts)
            lengths.extend(lens)
        counts.update(
            days=len(used),
            eval_days=len(evals),
            pair_days=pair_days,
            notes=sum(1 for n in self.notes.values() if n.kind != "entry"),
            entries=sum(1 for n in self.notes.values() if n.kind == "entry"),
            skipped=len(self.problems),
            trimmed_prompts=sum(1 for day in used if self.days[day].examples.trimmed_prompt),
        )
        message = None
        if not self.notes:
            message = EMPTY_MESSAGE
        elif not used:
            message = NO_EXAMPLES_MESSAGE
        return Rendered(
            train_text="".join(train),
            eval_text="".join(evl),
            counts=counts,
            eval_dates=[d.isoformat() for d in sorted(evals)],
            voice_enabled=voice,
            lengths={
                "input_chars": _stats([a for a, _ in lengths]),
                "output_chars": _stats([b for _, b in lengths]),
            },
            skipped=[{"path": str(p), "reason": r} for p, r in sorted(self.problems.items())],
            message=message,
        )


def _stats(values: list[int]) -> dict[str, int]:
    """min / median / p95 / max (nearest-rank percentiles); zeros when empty."""
    if not values:
        return {"min": 0, "median": 0, "p95": 0, "max": 0}
    v = sorted(values)
    n = len(v)
    return {"min": v[0], "median": v[max(0, math.ceil(0.5 * n) - 1)], "p95": v[max(0, math.ceil(0.95 * n) - 1)], "max": v[-1]}


# ---------------------------------------------------------------------------- writing


@dataclass
class BuildSummary:
    """What a build did; ``to_json()`` is what ``dataset build --json`` prints."""

    counts: dict[str, int]
    eval_dates: list[str]
    voice_enabled: bool
    skipped: list[dict[str, str]]
    built_at: str
    duration_s: float
    message: str | None
    datasets_dir: str
    changed_days: list[str] | None = None  # incremental builds: the days recomputed
    files: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "counts": self.counts,
            "eval_dates": self.eval_dates,
            "voice_enabled": self.voice_enabled,
            "skipped": self.skipped,
            "built_at": self.built_at,
            "duration_s": round(self.duration_s, 4),
            "message": self.message,
            "datasets_dir": self.datasets_dir,
            "changed_days": self.changed_days,
            "files": self.files,
        }

    def line(self) -> str:
        """One human line: ``12 pairs, 30 voice · train 38 / eval 4 (3 eval days) · 1 skipped``."""
        c = self.counts
        s = f"{c['pairs']} pairs, {c['voice']} voice · train {c['train']} / eval {c['eval']} ({c['eval_days']} eval days)"
        if self.skipped:
            s += f" · {len(self.skipped)} skipped"
        if self.message:
            s += f" · {self.message}"
        return s


def write_rendered(locations, state: DatasetState, rendered: Rendered, *, started: float,
                   changed_days: Iterable[dt.date] | None = None,
                   previous: dict[str, str] | None = None) -> BuildSummary:
    """Write train.jsonl, eval.jsonl (each atomically, skipped when ``previous`` says the file
    already holds these bytes) and then manifest.json. Returns the summary.

    Raises:
        OSError: the datasets folder cannot be written (earlier files stay as they were).
    """
    from journal_tui.fsutil import atomic_write_bytes, atomic_write_json, ensure_dir

    out_dir = ensure_dir(locations.datasets)
    files: dict[str, str] = {}
    for name, text in ((TRAIN_FILE, rendered.train_text), (EVAL_FILE, rendered.eval_text)):
        data = text.encode("utf-8")
        digest = hashlib.sha256(data).hexdigest()
        files[name] = digest
        if previous is None or previous.get(name) != digest or not (out_dir / name).exists():
            atomic_write_bytes(out_dir / name, data)
    built_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    manifest = {
        "template_version": template.TEMPLATE_VERSION,
        "built_at": built_at,
        "counts": rendered.counts,
        "voice_enabled": rendered.voice_enabled,
        "settings": {k: state.settings[k] for k in ("voice_until_pairs", "max_example_chars", "eval_fraction")},
        "eval_dates": rendered.eval_dates,
        "files": files,
        "skipped": rendered.skipped,
        "lengths": rendered.lengths,
        "notes_dir": str(state.root),
        "message": rendered.message,
    }
    atomic_write_json(out_dir / MANIFEST_FILE, manifest)
    return BuildSummary(
        counts=rendered.counts,
        eval_dates=rendered.eval_dates,
        voice_enabled=rendered.voice_enabled,
        skipped=rendered.skipped,
        built_at=built_at,
        duration_s=time.perf_counter() - started,
        message=rendered.message,
        datasets_dir=str(out_dir),
        changed_days=None if changed_days is None else sorted(d.isoformat() for d in changed_days),
        files=files,
    )


def open_store(locations):
    """The notes store for ``locations`` (journal_tui/notes/store.py)."""
    from journal_tui.notes.store import NoteStore

    return NoteStore.from_locations(locations)


def scan_into(state: DatasetState, store) -> None:
    """Fill ``state`` from ``store.scan()``. A scan that trips over a file deleted while it ran
    (FileNotFoundError) is repeated, up to three times."""
    for attempt in range(3):
        try:
            result = store.scan()
            break
        except FileNotFoundError:
            if attempt == 2:
                raise
    state.load(result.notes, result.problems)


def build_dataset(locations, *, settings: dict | None = None) -> BuildSummary:
    """Full rebuild of ``locations.datasets`` from every note.

    Args:
        locations: a journal_tui.locations.Locations.
        settings: ``config.settings()`` or its ``dataset`` section; read from config.toml when None.

    Returns:
        A :class:`BuildSummary`. An empty or missing notes folder gives empty train/eval files
        and ``message`` = :data:`EMPTY_MESSAGE`, not an exception.

    Raises:
        journal_tui.config.ConfigError: bad ``[dataset]`` settings.
        OSError: the datasets folder cannot be written.
    """
    started = time.perf_counter()
    state = DatasetState(locations.notes, dataset_settings(locations, settings))
    scan_into(state, open_store(locations))
    return write_rendered(locations, state, state.render(), started=started)


def read_manifest(locations) -> dict | None:
    """``datasets/manifest.json`` as a dict, or None when there is none or it does not parse
    (a half-written manifest cannot happen: it is written atomically)."""
    try:
        with open(Path(locations.datasets) / MANIFEST_FILE, encoding="utf-8") as f:
            obj = json.load(f)
    except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return obj if isinstance(obj, dict) else None
