"""The dataset's in-memory state: every note read, each day's examples, and the rendering of
train/eval JSONL from them (dataset/build.py writes the files; dataset/watch.py drives updates).

:class:`DatasetState` keeps every note read (path -> Note), the files that could not be read
(path -> reason), the paths of each day, and each day's examples already serialised as JSONL
text. :meth:`~DatasetState.load` fills it from a store scan; :meth:`~DatasetState.apply` re-reads
only changed paths and recomputes only the days they touch (a moved or re-dated note touches its
old and its new day). Both end in :meth:`~DatasetState.render`, so an incremental rebuild is
byte-identical to a full one.

Output order: days ascending; inside a day the pair and its continuations, then voice-entry,
then voice-note examples (dataset/examples.py). Voice examples are kept while the number of pair
days is below ``voice_until_pairs``. Length statistics are nearest-rank percentiles of the
characters of ``input`` and ``output``.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from journal_tui.dataset import examples as ex
from journal_tui.dataset import split, template
from journal_tui.notes.model import Note, Problem

EMPTY_MESSAGE = (
    "no notes yet: write some (in the app, or `journal-tui notes add`), then run `journal-tui dataset build`"
)
NO_EXAMPLES_MESSAGE = "the notes folder has only empty or unreadable notes: no examples to train on"


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
        d = ex.day_examples(
            day, notes, root=self.root, max_chars=self.settings["max_example_chars"], voice=False
        )
        self.days[day] = _Day(
            notes=notes,
            examples=d,
            pair_text="".join(e.to_line() for e in d.pair),
            pair_lengths=[(len(e.input), len(e.output)) for e in d.pair],
            n_pairs=sum(1 for e in d.pair if e.kind == ex.KIND_PAIR),
        )

    def _voice(self, d: _Day) -> None:
        if d.voice_text is None:
            full = ex.day_examples(
                d.examples.day, d.notes, root=self.root, max_chars=self.settings["max_example_chars"]
            )
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
    return {
        "min": v[0],
        "median": v[max(0, math.ceil(0.5 * n) - 1)],
        "p95": v[max(0, math.ceil(0.95 * n) - 1)],
        "max": v[-1],
    }
