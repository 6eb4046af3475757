"""The shared, debounced watcher of the notes folder (the dataset watcher and the app use it).

A watchdog ``Observer`` watches the notes folder recursively. Every event on a note path (a
``*.md``/``*.txt`` file with no hidden part below the root) is collected; after ``debounce_s``
seconds without a new one, ``callback`` runs once on the watcher's own thread with the set of
paths that changed. A steady stream of saves cannot hold the callback back for more than
``max_wait_s`` seconds.

What counts:

* created, modified, deleted and closed-after-write events on note files;
* moves and renames, both ends: editors that save via a temp file and a rename
  (``draft.md.tmp`` -> ``draft.md``) produce only a move, whose destination is the note;
* folders created, moved or deleted as a whole: the folder path itself is passed (the callback
  then looks at what is under it, or what it knew was under it).

Ignored: anything under a hidden folder (``.git``, ``.obsidian``, ``.trash``), hidden files
(emacs lock/autosave ``.#x``, vim swap ``.x.swp``, our own atomic-write temp files
``.NAME.*.tmp``), backup files ending ``~``, vim's write test file ``4913``, and any other
name that ``notes.parse.is_note_name`` rejects (not ``.md``/``.txt``, ``#x#``...). Opened and
closed-without-write events are ignored too.

The callback's exceptions are caught and logged (``logging``), so a bad note never stops the
watcher.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from pathlib import Path
from typing import Callable

from journal_tui.notes.parse import is_note_name

log = logging.getLogger(__name__)

_EVENTS = frozenset({"created", "modified", "deleted", "moved", "closed"})


def is_ignored(root: Path, path: Path) -> bool:
    """True for paths the watcher never reports (see the module docstring); ``root`` itself and
    paths outside it are ignored too."""
    try:
        rel = Path(path).relative_to(root)
    except ValueError:
        return True
    if not rel.parts:
        return True
    name = rel.parts[-1]
    return any(p.startswith(".") for p in rel.parts) or name.endswith("~") or name == "4913"


class NotesWatcher:
    """Debounced, recursive watcher of the notes folder.

    Args:
        root: the notes folder; it must exist when :meth:`start` runs.
        callback: called as ``callback(paths)`` with a non-empty ``set[Path]`` of changed note
            files (and whole folders), on a background thread, after ``debounce_s`` seconds of quiet.
        debounce_s: quiet time before the callback runs (default 0.2 s).
        max_wait_s: longest time an event waits while events keep coming (default 2 s).

    Raises (from start):
        FileNotFoundError: ``root`` does not exist.
    """

    def __init__(
        self,
        root: Path,
        callback: Callable[[set[Path]], None],
        *,
        debounce_s: float = 0.2,
        max_wait_s: float = 2.0,
    ) -> None:
        self.root = Path(root).absolute()
        self.callback = callback
        self.debounce_s = debounce_s
        self.max_wait_s = max(max_wait_s, debounce_s)
        self._pending: set[Path] = set()
        self._first = 0.0
        self._last = 0.0
        self._cond = threading.Condition()
        self._stopping = False
        self._observer = None
        self._thread: threading.Thread | None = None

    # -- life cycle

    def start(self) -> None:
        """Start watching (returns at once)."""
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        if not self.root.is_dir():
            raise FileNotFoundError(f"notes folder {self.root} does not exist")
        # watchdog warns on stderr when `mkdir -p a/b` races its own recursive watch setup; the
        # watch is simply replaced, nothing is lost, and the warning would clutter the terminal
        warnings.filterwarnings(
            "ignore", message="Callback with id", category=RuntimeWarning, module="watchdog"
        )
        watcher = self

        class _Handler(FileSystemEventHandler):
            def on_any_event(self, event) -> None:  # runs on watchdog's thread
                watcher._on_event(event)

        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="notes-watch-debounce", daemon=True)
        self._thread.start()
        self._observer = Observer()
        self._observer.schedule(_Handler(), str(self.root), recursive=True)
        self._observer.start()

    def stop(self) -> None:
        """Stop watching. Pending changes not yet delivered are dropped; a callback already
        running finishes first (unless stop is called from inside it)."""
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
            self._observer = None
        with self._cond:
            self._stopping = True
            self._pending.clear()
            self._cond.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        self._thread = None

    def __enter__(self) -> "NotesWatcher":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- events

    def _on_event(self, event) -> None:
        if event.event_type not in _EVENTS:
            return
        paths = [event.src_path]
        if event.event_type == "moved":
            paths.append(event.dest_path)
        keep = set()
        for raw in paths:
            if not raw:
                continue
            p = Path(raw.decode() if isinstance(raw, bytes) else raw)
            if is_ignored(self.root, p):
                continue
            if event.is_directory:
                if event.event_type == "modified":
                    continue  # a file inside changed: that file has its own event
                keep.add(p)
            elif is_note_name(p.name):
                keep.add(p)
        if keep:
            self.notify(keep)

    def notify(self, paths: set[Path]) -> None:
        """Add changed paths by hand (also what the watchdog handler calls)."""
        now = time.monotonic()
        with self._cond:
            if not self._pending:
                self._first = now
            self._pending.update(paths)
            self._last = now
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    return
                now = time.monotonic()
                due = min(self._last + self.debounce_s, self._first + self.max_wait_s)
                if now < due:
                    self._cond.wait(due - now)
                    continue
                batch, self._pending = self._pending, set()
            try:
                self.callback(batch)
            except Exception:  # never let one bad batch stop the watcher
                log.exception("notes watcher callback failed for %d paths", len(batch))
