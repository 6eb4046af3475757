"""Build ``home/datasets/{train.jsonl, eval.jsonl, manifest.json}`` from the notes.

:func:`build_dataset` is the full rebuild (``journal-tui dataset build``): a store scan into a
:class:`~journal_tui.dataset.state.DatasetState`, rendered and written by :func:`write_rendered`.
The dataset watcher (dataset/watch.py) writes incremental rebuilds through the same function.

Train and eval files are written atomically (journal_tui/fsutil.py), then ``manifest.json``,
whose ``files`` hold the sha256 of the two JSONL files as written, so a reader can tell whether
it saw one build's files (:func:`snapshot` does that check). ``built_at`` is only in the
manifest: identical notes give byte-identical JSONL files.

Settings (config.toml ``[dataset]``): ``voice_until_pairs`` (voice examples are kept while the
number of pair days is below it; default 10), ``max_example_chars`` (2000; dataset/examples.py),
``eval_fraction`` (0.1; dataset/split.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from journal_tui.dataset import template
from journal_tui.dataset.state import (  # noqa: F401  (re-exported: the public build API)
    EMPTY_MESSAGE,
    NO_EXAMPLES_MESSAGE,
    DatasetState,
    Rendered,
    is_note_path,
)

TRAIN_FILE = "train.jsonl"
EVAL_FILE = "eval.jsonl"
MANIFEST_FILE = "manifest.json"


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
        raise ConfigError(
            f"{where} max_example_chars = {out['max_example_chars']!r} should be a whole number >= 100 (default 2000)."
        )
    if not isinstance(out["voice_until_pairs"], int) or out["voice_until_pairs"] < 0:
        raise ConfigError(
            f"{where} voice_until_pairs = {out['voice_until_pairs']!r} should be a whole number >= 0 (default 10)."
        )
    if not 0 <= float(out["eval_fraction"]) < 1:
        raise ConfigError(
            f"{where} eval_fraction = {out['eval_fraction']!r} should be at least 0 and below 1 (default 0.1)."
        )
    out["eval_fraction"] = float(out["eval_fraction"])
    return out


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


def write_rendered(
    locations,
    state: DatasetState,
    rendered: Rendered,
    *,
    started: float,
    changed_days: Iterable[dt.date] | None = None,
    previous: dict[str, str] | None = None,
) -> BuildSummary:
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
        "settings": {
            k: state.settings[k] for k in ("voice_until_pairs", "max_example_chars", "eval_fraction")
        },
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
    """Fill ``state`` from ``store.scan()``. A note deleted or renamed while the scan ran is
    simply absent: a scan that raises FileNotFoundError is repeated (up to three times), and a
    problem reported for a file that no longer exists ("vanished while being read") is dropped."""
    for attempt in range(3):
        try:
            result = store.scan()
            break
        except FileNotFoundError:
            if attempt == 2:
                raise
    state.load(result.notes, [p for p in result.problems if Path(p.path).exists()])


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
    rendered = state.render()
    if locations.notes_is_external and not Path(locations.notes).is_dir():
        rendered.message = (
            f"notes folder {locations.notes} (notes_dir in {locations.config_file}) does not exist: "
            "fix notes_dir or create the folder"
        )
    return write_rendered(locations, state, rendered, started=started)


def read_manifest(locations) -> dict | None:
    """``datasets/manifest.json`` as a dict, or None when there is none or it does not parse
    (a half-written manifest cannot happen: it is written atomically)."""
    try:
        with open(Path(locations.datasets) / MANIFEST_FILE, encoding="utf-8") as f:
            obj = json.load(f)
    except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return obj if isinstance(obj, dict) else None


class DatasetError(Exception):
    """The dataset files cannot be used as they are (missing, or changing faster than they can
    be read). The message says what to do."""


def snapshot(locations, dest: Path | None = None, *, attempts: int = 20) -> tuple[dict, bytes, bytes]:
    """Read one build's train.jsonl, eval.jsonl and manifest.json consistently.

    Each file is replaced atomically, but a watcher may rewrite them between two reads; this
    reads the manifest, then both files, and retries (every 50 ms, ``attempts`` times) until the
    files' sha256 match the manifest's ``files``. Training should read the dataset through this
    (``dest`` copies the three files into, say, ``runs/RUN_ID/data/``, atomically).

    Returns:
        (manifest dict, train bytes, eval bytes).

    Raises:
        DatasetError: no dataset yet, or no consistent read after ``attempts`` tries.
    """
    from journal_tui.fsutil import atomic_write_bytes, atomic_write_json

    folder = Path(locations.datasets)
    for _ in range(attempts):
        manifest = read_manifest(locations)
        if manifest is None:
            raise DatasetError(f"no dataset in {folder}: run `journal-tui dataset build` first")
        try:
            train = (folder / TRAIN_FILE).read_bytes()
            evl = (folder / EVAL_FILE).read_bytes()
        except FileNotFoundError:
            train = evl = None
        files = manifest.get("files") or {}
        if (
            train is not None
            and files.get(TRAIN_FILE) == hashlib.sha256(train).hexdigest()
            and files.get(EVAL_FILE) == hashlib.sha256(evl).hexdigest()
        ):
            if dest is not None:
                atomic_write_bytes(Path(dest) / TRAIN_FILE, train)
                atomic_write_bytes(Path(dest) / EVAL_FILE, evl)
                atomic_write_json(Path(dest) / MANIFEST_FILE, manifest)
            return manifest, train, evl
        time.sleep(0.05)
    raise DatasetError(
        f"{folder}: train/eval files do not match manifest.json (being rebuilt?): "
        "wait a moment, or run `journal-tui dataset build`"
    )
