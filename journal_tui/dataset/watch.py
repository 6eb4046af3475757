"""Keep the dataset current while notes change: the shared NotesWatcher + incremental builds.

:class:`DatasetWatcher` does one full build when it starts, then for every debounced batch of
changed paths re-reads only those files, recomputes only the days they touch and rewrites the
outputs (dataset/build.py). A batch of 50 saves inside the debounce window is one rebuild.

Nothing stops the watcher short of :meth:`DatasetWatcher.stop`: unreadable notes are skipped and
listed in the manifest, a note deleted or renamed while it is read counts as deleted, and an
error while rebuilding (a full disk, say) is reported to ``on_error`` and the next change tries
again with a full rescan. The ``[dataset]`` settings are read once, at start.

Used by ``journal-tui dataset watch`` and by the app (which passes its own callbacks and calls
:meth:`stop` when it closes). Imports stay light: no torch, no datasets.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable, Iterable

from journal_tui.dataset.build import (
    BuildSummary,
    DatasetState,
    dataset_settings,
    open_store,
    scan_into,
    write_rendered,
)
from journal_tui.notes.watch import NotesWatcher


class DatasetWatcher:
    """Watches ``locations.notes`` and keeps ``locations.datasets`` built.

    Args:
        locations: a journal_tui.locations.Locations; the notes folder must exist.
        settings: ``config.settings()`` or its ``dataset`` section (None: read config.toml).
        on_build: called with each :class:`BuildSummary` (on the watcher's thread).
        on_error: called with the exception when a rebuild fails (on the watcher's thread).
        debounce_s: quiet time before a rebuild (default 0.2 s).
        max_wait_s: longest a change waits while saves keep coming (default 2 s).

    Attributes:
        rebuilds: number of builds done, the initial full build included.
        last: the latest BuildSummary, or None before the first build.

    Raises:
        journal_tui.config.ConfigError: bad ``[dataset]`` settings (at construction).
    """

    def __init__(
        self,
        locations,
        *,
        settings: dict | None = None,
        on_build: Callable[[BuildSummary], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        debounce_s: float = 0.2,
        max_wait_s: float = 2.0,
    ) -> None:
        self.locations = locations
        self.settings = dataset_settings(locations, settings)
        self.on_build = on_build
        self.on_error = on_error
        self.state = DatasetState(Path(locations.notes), self.settings)
        self.rebuilds = 0
        self.last: BuildSummary | None = None
        self._store = None
        self._lock = threading.Lock()
        self._needs_full = True
        self._watcher = NotesWatcher(
            Path(locations.notes), self._changed, debounce_s=debounce_s, max_wait_s=max_wait_s
        )

    def start(self) -> BuildSummary:
        """Start watching, then do the first (full) build; returns its summary.

        Watching starts before the scan so that a save made during the scan is not missed (it
        is then applied a second time, which changes nothing)."""
        self._watcher.start()
        try:
            return self.rebuild_full()
        except BaseException:
            self._watcher.stop()
            raise

    def stop(self) -> None:
        self._watcher.stop()

    def __enter__(self) -> "DatasetWatcher":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- builds

    def rebuild_full(self) -> BuildSummary:
        """Rescan every note and rewrite the outputs."""
        with self._lock:
            started = time.perf_counter()
            self._store = open_store(self.locations)
            scan_into(self.state, self._store)
            self._needs_full = False
            summary = write_rendered(self.locations, self.state, self.state.render(), started=started)
            return self._done(summary)

    def refresh(self, paths: Iterable[Path]) -> BuildSummary:
        """Incremental rebuild for changed ``paths`` (what the watcher calls after debouncing).
        Falls back to a full rescan after a failed rebuild."""
        if self._needs_full:
            return self.rebuild_full()
        with self._lock:
            started = time.perf_counter()
            previous = dict(self.last.files) if self.last else None
            try:
                touched = self.state.apply(paths, self._store.read)
                summary = write_rendered(
                    self.locations,
                    self.state,
                    self.state.render(),
                    started=started,
                    changed_days=touched,
                    previous=previous,
                )
            except BaseException:
                self._needs_full = True
                raise
            return self._done(summary)

    def _done(self, summary: BuildSummary) -> BuildSummary:
        self.rebuilds += 1
        self.last = summary
        if self.on_build is not None:
            self.on_build(summary)
        return summary

    def _changed(self, paths: set[Path]) -> None:
        try:
            self.refresh(paths)
        except Exception as e:  # keep watching; the next change retries with a full rescan
            if self.on_error is not None:
                self.on_error(e)
            else:
                raise
