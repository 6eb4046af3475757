"""The ML side of the app: draft pane + train panel in one tabbed panel, and their commands.

:class:`MLPanel` is mounted by the App into ``#ml-panel``. It owns :class:`~journal_tui.app.jobs.MLJobs`
(the child processes) and routes their messages to the :class:`DraftPane` and
:class:`TrainPanel`. The App exposes it through one action, ``ml(NAME)`` with NAME one of
:data:`COMMANDS`, bound by :data:`ML_BINDINGS` and listed in the palette by :data:`ML_PALETTE`.

Keys (App level):
    ``t`` / ``ctrl+r``  retrain on the current dataset. The chords are priority bindings, so
                        they also work inside the editor; TextArea binds neither ctrl+r nor
                        ctrl+g, and the App already uses ctrl+t (tag filter).
    ``d`` / ``ctrl+g``  draft the selected day's entry (ctrl+d is TextArea's delete-right, so
                        the chord is ctrl+g, "generate")
    ``ctrl+s``          inside the draft pane: accept the draft (save it as the day's entry);
                        ``escape`` there stops a draft being written.

The dataset status is kept current without a second folder watcher: the App publishes
``app.notes_changed_signal`` (see messages.NotesChanged) and the panel applies the changed
paths with the dataset builder's incremental rebuild (``DatasetWatcher.refresh``) in a thread
worker. The dataset code is light (no torch, no datasets) and allowed in the UI process.
"""

from __future__ import annotations

import datetime as dt
import threading

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, TabbedContent, TabPane

from journal_tui.app.jobs import BuildEvent, DraftEvent, JobExited, JobFailed, MLJobs, TrainEvent, dataset_is_stale
from journal_tui.app.screens.cancel_confirm import CancelTrainScreen
from journal_tui.app.screens.draft import DraftPane
from journal_tui.app.screens.train import TrainPanel
from journal_tui.app.widgets.dataset_status import DatasetStatus
from journal_tui.app.widgets.run_list import RunList

from journal_tui.app.messages import DraftAccepted
from journal_tui.app.ml_commands import COMMANDS, ML_BINDINGS, ML_PALETTE  # noqa: F401 (re-exported)


class DatasetRebuilt(Message):
    """The in-app dataset rebuild finished (``summary``: BuildSummary.to_json()) or failed (``error``)."""

    def __init__(self, summary: dict | None, error: str | None = None) -> None:
        super().__init__()
        self.summary = summary
        self.error = error


class MLPanel(Vertical):
    """Tabbed draft pane and train panel, plus the job manager behind them.

    Args:
        locations: the home; defaults to ``app.locations`` at mount.
        cli_prefix: the command that runs journal-tui (default ``[python, -m, journal_tui]``).
        keep_dataset_current: rebuild the dataset when notes change (via ``app.notes_changed_signal``)
            and once at mount when it is stale.
    """

    DEFAULT_CSS = """
    MLPanel { height: 1fr; }
    MLPanel TabbedContent, MLPanel TabPane { height: 1fr; }
    MLPanel TabPane { padding: 0; }
    """

    def __init__(self, locations=None, *, keep_dataset_current: bool = True,
                 cli_prefix: list[str] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self._locations = locations
        self.cli_prefix = cli_prefix
        self.keep_dataset_current = keep_dataset_current
        self.jobs: MLJobs | None = None
        self._dataset = None  # journal_tui.dataset.watch.DatasetWatcher, used without its own watcher
        self._pending_lock = threading.Lock()  # guards _pending_paths (held briefly, also by the UI thread)
        self._build_lock = threading.Lock()  # one rebuild at a time (worker threads only)
        self._pending_paths: set = set()
        self.dataset_rebuilds = 0

    @property
    def locations(self):
        return self._locations if self._locations is not None else self.app.locations

    def compose(self) -> ComposeResult:
        with TabbedContent(id="ml-tabs", initial="ml-draft-tab"):
            with TabPane("Draft", id="ml-draft-tab"):
                yield DraftPane(id="draft-pane")
            with TabPane("Train", id="ml-train-tab"):
                yield TrainPanel(self.locations, id="train-panel")

    def on_mount(self) -> None:
        self.jobs = MLJobs(self.app, self, self.locations, self.draft_pane.buffer, cli_prefix=self.cli_prefix)
        if self.keep_dataset_current:
            signal = getattr(self.app, "notes_changed_signal", None)
            if signal is not None:
                signal.subscribe(self, self._notes_changed)
            self.set_timer(0.5, self._initial_rebuild)

    def _initial_rebuild(self) -> None:
        """Rebuild a stale dataset once the App's first notes scan is done (not competing with it)."""
        if not getattr(self.app, "scanned", True):
            self.set_timer(0.5, self._initial_rebuild)
            return
        if self.locations.notes.is_dir() and dataset_is_stale(self.locations):
            self._schedule_rebuild(None)

    def on_unmount(self) -> None:
        if self.jobs is not None:
            self.jobs.shutdown_all()

    @property
    def draft_pane(self) -> DraftPane:
        return self.query_one(DraftPane)

    @property
    def train_panel(self) -> TrainPanel:
        return self.query_one(TrainPanel)

    def _show(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    # -- commands

    def run_command(self, name: str) -> None:
        """Run one of :data:`COMMANDS` (the App's ``ml(NAME)`` action lands here)."""
        if name not in COMMANDS:
            raise ValueError(f"unknown ML command {name!r}; known: {', '.join(COMMANDS)}")
        if name in ("train", "draft") and isinstance(self.app.screen, ModalScreen):
            return  # the chords are priority bindings: not behind a dialog (help, confirm, ...)
        getattr(self, f"cmd_{name}")()

    def cmd_show_train(self) -> None:
        self._show("ml-train-tab")

    def cmd_show_draft(self) -> None:
        self._show("ml-draft-tab")

    def cmd_train(self) -> None:
        """Retrain now, no confirm: build the dataset if stale, stop the draft server, train."""
        self._show("ml-train-tab")
        if self.jobs.training:
            self.app.notify("A training run is already going (cancel it from the train panel).", severity="warning")
            return
        if self.draft_pane.streaming:
            self.jobs.stop_draft()
        self.train_panel.begin()
        self.jobs.start_train()

    def cmd_cancel_train(self) -> None:
        if not self.jobs.training:
            self.app.notify("No training run is going.", severity="information")
            return
        tp = self.train_panel

        def answered(yes: bool | None) -> None:
            if yes and not self.jobs.cancel_train():
                self.app.notify("The run had already finished.")

        self.app.push_screen(CancelTrainScreen(tp.run_id, tp.step, tp.total_steps), answered)

    def selected_day(self) -> dt.date:
        day = getattr(self.app, "selected_day", None)
        if isinstance(day, dt.datetime):
            return day.date()
        return day if isinstance(day, dt.date) else dt.date.today()

    def cmd_draft(self, day: dt.date | None = None) -> None:
        """Draft ``day`` (default: the app's selected day, else today) with the newest adapter."""
        self._show("ml-draft-tab")
        pane = self.draft_pane
        day = day or self.selected_day()
        if pane.streaming:
            self.app.notify("A draft is being written; stop it first (escape in the draft pane).", severity="warning")
            return
        warm = self.jobs.draft is not None and self.jobs.draft.running and self.jobs.draft_ready
        reason = self.jobs.request_draft({"date": day.isoformat()})
        if reason:
            pane.refused(reason)
            return
        pane.begin(day, warm=warm)

    def cmd_stop_draft(self) -> None:
        if not self.jobs.stop_draft():
            self.app.notify("No draft is being written.")

    def cmd_accept_draft(self) -> None:
        """Save the pane's text, as edited, as the day's entry (kind: entry)."""
        pane = self.draft_pane
        text = pane.text_area.text.strip()
        if pane.streaming:
            self.app.notify("Wait for the draft to finish (or stop it) before accepting.", severity="warning")
            return
        if not text:
            self.app.notify("The draft is empty: nothing to save.", severity="warning")
            return
        day = pane.day or self.selected_day()
        store = getattr(self.app, "store", None)
        if store is None:
            from journal_tui.notes.store import NoteStore

            store = NoteStore.from_locations(self.locations)
        meta = {"draft_adapter": pane.adapter or "none", "draft_base": pane.base or "?"}
        try:
            note = store.add(text, day=day, kind="entry", extra_meta=meta)
        except OSError as e:
            self.app.notify(f"Could not save the entry: {e}. The draft is still in the pane.", severity="error")
            return
        pane.accepted(note.path)
        self.app.notify(f"Saved the entry of {day.isoformat()} ({note.path.name}).", title="Draft accepted")
        self.post_message(DraftAccepted(note))

    # -- messages from the panes

    def on_draft_pane_requested(self, msg: DraftPane.Requested) -> None:
        msg.stop()
        self.cmd_draft(msg.day)

    def on_draft_pane_stop_requested(self, msg: DraftPane.StopRequested) -> None:
        msg.stop()
        self.cmd_stop_draft()

    def on_draft_pane_accept_requested(self, msg: DraftPane.AcceptRequested) -> None:
        msg.stop()
        self.cmd_accept_draft()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "train-start":
            event.stop()
            self.cmd_train()
        elif event.button.id == "train-cancel":
            event.stop()
            self.cmd_cancel_train()

    def on_run_list_run_chosen(self, msg: RunList.RunChosen) -> None:
        msg.stop()
        if self.jobs.training:
            self.app.notify("A run is training; its live curve stays on the chart.", severity="warning")
            return
        self.train_panel.show_run(msg.run)

    # -- messages from the jobs (posted from worker threads)

    def on_train_event(self, msg: TrainEvent) -> None:
        self.train_panel.handle_event(msg.event)

    def on_build_event(self, msg: BuildEvent) -> None:
        self.train_panel.handle_build(msg.event)

    def on_draft_event(self, msg: DraftEvent) -> None:
        self.draft_pane.handle_event(msg.event)

    def on_job_exited(self, msg: JobExited) -> None:
        if msg.job == "train":
            self.train_panel.handle_exit(msg.returncode, msg.stderr_tail, msg.log_path, msg.saw_error)
        elif msg.job == "draft":
            self.draft_pane.handle_exit(msg.returncode, msg.stderr_tail, msg.log_path, msg.saw_error)

    def on_job_failed(self, msg: JobFailed) -> None:
        if msg.job in ("train", "build"):
            self.train_panel.handle_failure(msg.kind, msg.message, msg.hint)
        else:
            self.draft_pane.handle_failure(msg.kind, msg.message, msg.hint)

    # -- dataset kept current

    def _notes_changed(self, paths) -> None:
        self._schedule_rebuild(set(paths))

    def _schedule_rebuild(self, paths: set | None) -> None:
        """Queue changed ``paths`` (None: full rebuild) for the single rebuild worker."""
        with self._pending_lock:
            if paths is None:
                self._pending_paths = None  # type: ignore[assignment]
            elif self._pending_paths is not None:
                self._pending_paths |= paths
        self.run_worker(self._rebuild_dataset, thread=True, group="ml-dataset", exclusive=False,
                        exit_on_error=False)

    def _rebuild_dataset(self) -> None:
        with self._build_lock:  # one rebuild at a time; batches that arrive meanwhile merge
            with self._pending_lock:
                pending, self._pending_paths = self._pending_paths, set()
            if pending is not None and not pending:
                return
            try:
                if self._dataset is None:
                    from journal_tui.dataset.watch import DatasetWatcher

                    self._dataset = DatasetWatcher(self.locations)  # its folder watcher is never started
                summary = self._dataset.rebuild_full() if pending is None else self._dataset.refresh(pending)
                self.dataset_rebuilds += 1
                self.post_message(DatasetRebuilt(summary.to_json()))
            except Exception as e:  # bad [dataset] settings, full disk...: shown, the app keeps going
                self.post_message(DatasetRebuilt(None, f"{type(e).__name__}: {e}"))

    def on_dataset_rebuilt(self, msg: DatasetRebuilt) -> None:
        self.query_one(DatasetStatus).reload()
        if msg.error:
            self.app.notify(f"Dataset not rebuilt: {msg.error}", title="Dataset", severity="error")
