"""The app's ML panel against a stand-in CLI (tests/fake_ml_cli.py): job runner, messages,
cancel, crash handling, streaming batches, one GPU job at a time. Fast: no model is loaded.

The same flows with the real train/draft commands and the tiny Phi: tests/test_app_ml_pilot.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
from pathlib import Path

import pytest
from textual.app import App, ComposeResult

from journal_tui.app.jobs import ChildJob, TextBuffer, dataset_is_stale
from journal_tui.app.ml import ML_BINDINGS, MLPanel
from journal_tui.app.screens.cancel_confirm import CancelTrainScreen
from journal_tui.app.widgets.dataset_status import format_status
from journal_tui.app.widgets.run_list import scan_runs
from journal_tui.locations import Locations
from app_ml_fixtures import ml_panel

FAKE = [sys.executable, str(Path(__file__).with_name("fake_ml_cli.py"))]


class Harness(App):
    """The smallest host for MLPanel: what the real App exposes (locations, selected_day, store)."""

    BINDINGS = ML_BINDINGS

    def __init__(self, locations, store=None) -> None:
        super().__init__()
        self.locations = locations
        self.selected_day = dt.date(2026, 11, 29)
        self.store = store

    def compose(self) -> ComposeResult:
        yield MLPanel(self.locations, keep_dataset_current=False, cli_prefix=FAKE, id="ml")

    def action_ml(self, name: str) -> None:
        self.query_one(MLPanel).run_command(name)


async def wait_for(pilot, cond, timeout: float = 20.0) -> None:
    """Let the app run until ``cond()`` is true; fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {cond}")
        await pilot.pause(0.05)


@pytest.fixture
def locs(home) -> Locations:
    (home / "notes").mkdir(parents=True)
    return Locations.resolve(home)


async def test_t_trains_plots_every_point_and_shows_new_adapter(locs, monkeypatch):
    monkeypatch.setenv("FAKE_STEPS", "6")
    app = Harness(locs)
    async with app.run_test(size=(120, 50)) as pilot:
        panel = await ml_panel(pilot)
        await pilot.press("t")
        tp = panel.train_panel
        await wait_for(pilot, lambda: tp.state == "done" and not panel.jobs.training)
        chart = tp.chart
        assert [s for s, _ in chart.train_points] == [1, 2, 3, 4, 5, 6]
        assert chart.eval_points[0] == (0.0, 3.0)  # base eval loss at step 0 is plotted
        assert [s for s, _ in chart.eval_points] == [0, 2, 4, 6]
        latest = (locs.adapters / "latest").read_text().strip()
        assert tp.run_id == latest
        await wait_for(pilot, lambda: any(r.run_id == latest and r.latest for r in tp.query_one("#run-list").runs))
        assert tp.query_one("#train-progress").progress == 6
        notes = [n.message for n in app._notifications]
        assert any(latest in m and "best eval_loss 2.1000" in m for m in notes), notes
        # picking a past run in the list reloads its curves from its events.jsonl
        tp.chart.reset()
        run_list = tp.query_one("#run-list")
        run_list.focus()
        run_list.highlighted = 0
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(tp.chart.train_points) == 6)
        assert tp.chart.eval_points[0] == (0.0, 3.0)


async def test_cancel_with_confirm_keeps_previous_adapter(locs, monkeypatch):
    (locs.adapters / "old-run").mkdir(parents=True)
    (locs.adapters / "latest").write_text("old-run")
    monkeypatch.setenv("FAKE_TRAIN", "slow")
    monkeypatch.setenv("FAKE_STEPS", "50")
    app = Harness(locs)
    async with app.run_test(size=(120, 50)) as pilot:
        panel = await ml_panel(pilot)
        tp = panel.train_panel
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: len(tp.chart.train_points) >= 2)
        panel.run_command("cancel_train")
        await wait_for(pilot, lambda: isinstance(app.screen, CancelTrainScreen))
        await pilot.press("n")  # keep training
        await pilot.pause(0.1)
        assert panel.jobs.training and tp.state == "running"
        panel.run_command("cancel_train")
        await wait_for(pilot, lambda: isinstance(app.screen, CancelTrainScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: tp.state == "cancelled" and not panel.jobs.training)
        assert tp.last_error["kind"] == "cancelled"
        assert (locs.adapters / "latest").read_text() == "old-run"
        assert len(tp.chart.train_points) < 50
        # the app keeps working: a draft runs after the cancelled training
        await pilot.press("d")
        await wait_for(pilot, lambda: panel.draft_pane.state == "done")


async def test_error_event_shows_hint_and_crash_shows_log_tail(locs, monkeypatch):
    monkeypatch.setenv("FAKE_TRAIN", "error")
    app = Harness(locs)
    async with app.run_test(size=(120, 50)) as pilot:
        panel = await ml_panel(pilot)
        tp = panel.train_panel
        await pilot.press("t")
        await wait_for(pilot, lambda: tp.state == "failed" and not panel.jobs.training)
        assert tp.last_error == {"kind": "model_missing", "message": "model /nope not found",
                                 "hint": "set [model] base in config.toml"}
        shown = str(tp.query_one("#train-error").render())
        assert "set [model] base in config.toml" in shown
        monkeypatch.setenv("FAKE_TRAIN", "crash")
        await pilot.press("t")
        await wait_for(pilot, lambda: tp.state == "failed" and tp.last_error["kind"] == "crashed"
                       and not panel.jobs.training)
        assert "status 3" in tp.last_error["message"]
        assert "something broke badly" in tp.last_error["message"]


class ListStore:
    """Records NoteStore.add calls (the accept path's contract), for the fast tests only."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.added = []

    def add(self, body, *, day=None, kind="note", extra_meta=None, **kw):
        from types import SimpleNamespace

        path = self.root / f"{day}-entry.md"
        self.added.append(dict(body=body, day=day, kind=kind, extra_meta=extra_meta))
        return SimpleNamespace(path=path)


async def test_draft_streams_in_batches_then_accept_saves_edited_text(locs, monkeypatch):
    monkeypatch.setenv("FAKE_TOKENS", "300")
    store = ListStore(locs.notes)
    app = Harness(locs, store=store)
    async with app.run_test(size=(120, 50)) as pilot:
        panel = await ml_panel(pilot)
        pane = panel.draft_pane
        await pilot.press("d")
        await wait_for(pilot, lambda: pane.state == "done")
        expected = " ".join(f"word{i}" for i in range(300))
        assert pane.text_area.text == expected
        assert pane.deltas_seen >= len(expected)  # the streamed text reached the pane before done
        assert 1 <= pane.flushes < 300  # batched, not one UI update per token
        assert pane.adapter == "none" and pane.base == "fake-base" and pane.finish_reason == "eos"
        assert pane.day == dt.date(2026, 11, 29)
        pane.text_area.focus()
        pane.text_area.move_cursor(pane.text_area.document.end)
        await pilot.press("!")
        await pilot.press("ctrl+s")
        assert store.added == [dict(body=expected + "!", day=dt.date(2026, 11, 29), kind="entry",
                                    extra_meta={"draft_adapter": "none", "draft_base": "fake-base"})]
        # the server stays warm: a second draft reuses the same process
        proc = panel.jobs.draft.proc
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: pane.state == "done")
        assert panel.jobs.draft.proc is proc


async def test_training_stops_the_warm_draft_server_first(locs, monkeypatch):
    app = Harness(locs)
    async with app.run_test(size=(120, 50)) as pilot:
        panel = await ml_panel(pilot)
        await pilot.press("d")
        await wait_for(pilot, lambda: panel.draft_pane.state == "done")
        server = panel.jobs.draft.proc
        assert server.poll() is None
        # the finished draft has the cursor (to edit and accept it), so the chord starts training
        assert app.focused is panel.draft_pane.text_area
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: panel.train_panel.state == "done" and not panel.jobs.training)
        assert server.poll() == 0  # quit politely before the run started
        assert panel.jobs.draft is None
        # restarted on demand, and it picks up the new adapter
        await pilot.press("d")
        await wait_for(pilot, lambda: panel.draft_pane.state == "done")
        assert panel.draft_pane.adapter == (locs.adapters / "latest").read_text()


async def test_draft_refused_while_training(locs, monkeypatch):
    monkeypatch.setenv("FAKE_TRAIN", "slow")
    monkeypatch.setenv("FAKE_STEPS", "40")
    app = Harness(locs)
    async with app.run_test(size=(120, 50)) as pilot:
        panel = await ml_panel(pilot)
        await pilot.press("t")
        await wait_for(pilot, lambda: panel.train_panel.state == "running")
        await pilot.press("d")
        await pilot.pause(0.1)
        assert panel.jobs.draft is None
        assert any("one GPU job at a time" in n.message for n in app._notifications)
        assert panel.jobs.cancel_train()
        await wait_for(pilot, lambda: not panel.jobs.training)


def test_child_job_shutdown_escalates_to_sigkill(tmp_path):
    script = "import signal,sys,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('{\"event\":\"ready\"}', flush=True); time.sleep(60)"
    job = ChildJob("stubborn", [sys.executable, "-c", script], logs=tmp_path, stdin=True)
    job.start()
    assert job.proc.stdout.readline().strip() == '{"event":"ready"}'
    rc = job.shutdown(quit_request={"cmd": "quit"}, quit_timeout=0.2, term_timeout=0.2)
    assert rc == -9
    assert oct(job.log_path.stat().st_mode & 0o777) == "0o600"


def test_text_buffer_drains_in_order():
    buf = TextBuffer()
    for piece in ("a", "b", "c"):
        buf.append(piece)
    assert buf.drain() == "abc"
    assert buf.drain() == ""


def test_dataset_is_stale_follows_note_mtimes(locs):
    assert dataset_is_stale(locs)  # no manifest yet
    locs.datasets.mkdir()
    manifest = locs.datasets / "manifest.json"
    manifest.write_text("{}")
    import os

    note = locs.notes / "2026-11-29.md"
    note.write_text("hello")
    os.utime(note, (1, 1))
    os.utime(locs.notes, (1, 1))
    assert not dataset_is_stale(locs)
    os.utime(note, None)
    os.utime(manifest, (2, 2))
    assert dataset_is_stale(locs)


def test_run_list_and_status_formatting(locs):
    a = locs.adapters / "run-a"
    a.mkdir(parents=True)
    (a / "manifest.json").write_text(json.dumps({"best_eval_loss": 1.25}))
    r = locs.runs / "run-b"
    r.mkdir(parents=True)
    (r / "events.jsonl").write_text('{"event": "eval", "step": 0, "eval_loss": 2.5}\n{"event": "eval", "step": 4, "eval_loss": 2.0}\n')
    (locs.adapters / "latest").write_text("run-a\n")
    runs = {x.run_id: x for x in scan_runs(locs)}
    assert runs["run-a"].status == "adapter" and runs["run-a"].latest and runs["run-a"].best_eval_loss == 1.25
    assert runs["run-b"].status == "partial" and runs["run-b"].best_eval_loss == 2.0
    text = format_status({"counts": {"pairs": 3, "voice": 7, "train": 9, "eval": 1, "days": 5, "eval_days": 1},
                          "template_version": "jt-1", "built_at": "2026-11-29T10:00:00Z",
                          "skipped": [{"path": "/n/bad.md", "reason": "front matter is not valid YAML"}]})
    assert "3 pairs" in text and "7 voice" in text and "train 9 / eval 1" in text
    assert "bad.md" in text and "not valid YAML" in text
    assert "not built yet" in format_status(None)


async def test_stop_keeps_partial_text_then_regenerate(locs, monkeypatch):
    monkeypatch.setenv("FAKE_TOKENS", "2000")
    monkeypatch.setenv("FAKE_TOKEN_DELAY", "0.01")
    app = Harness(locs)
    async with app.run_test(size=(120, 50)) as pilot:
        panel = await ml_panel(pilot)
        pane = panel.draft_pane
        await pilot.press("d")
        await wait_for(pilot, lambda: pane.deltas_seen > 0)
        assert pane.text_area.read_only  # no edits while the text streams
        await pilot.click("#draft-stop")
        await wait_for(pilot, lambda: pane.state == "done")
        assert pane.finish_reason == "cancelled"
        partial = pane.text_area.text
        assert partial.startswith("word0 word1") and len(partial.split()) < 2000
        assert not pane.text_area.read_only
        # typing d inside the editable draft edits it, it does not start a draft
        pane.text_area.focus()
        pane.text_area.move_cursor(pane.text_area.document.end)
        await pilot.press("d")
        assert pane.text_area.text == partial + "d" and pane.state == "done"
        monkeypatch.setenv("FAKE_TOKENS", "5")  # read by the next server only; this one stays warm
        await pilot.click("#draft-start")  # now labelled Regenerate
        await wait_for(pilot, lambda: pane.state == "streaming" or pane.deltas_seen > 0)
        panel.run_command("stop_draft")
        await wait_for(pilot, lambda: pane.state == "done")
        assert pane.day == dt.date(2026, 11, 29)


async def test_dataset_status_follows_notes_changed(home):
    from journal_tui.app.app import JournalApp
    from journal_tui.app.messages import NotesChanged
    from journal_tui.app.widgets.dataset_status import DatasetStatus
    from journal_tui.notes.store import NoteStore

    (home / "notes").mkdir(parents=True)
    locs = Locations.resolve(home)
    store = NoteStore.from_locations(locs)
    day = dt.date(2026, 11, 20)
    store.add("Ran by the river.", day=day)
    store.add("A good day by the river.", day=day, kind="entry")
    app = JournalApp(locs, watch=False)
    async with app.run_test(size=(160, 50)) as pilot:
        panel = await ml_panel(pilot)
        status = panel.query_one(DatasetStatus)
        await wait_for(pilot, lambda: status.manifest is not None)  # stale at start: rebuilt once
        assert status.manifest["counts"]["pairs"] == 1
        day2 = dt.date(2026, 11, 21)
        paths = {store.add("Lunch with Sam.", day=day2).path,
                 store.add("Sam is moving to Leeds.", day=day2, kind="entry").path}
        app.post_message(NotesChanged(paths))
        await wait_for(pilot, lambda: status.manifest["counts"]["pairs"] == 2)
        assert "2 pairs" in str(status.render())
        assert panel.dataset_rebuilds == 2


async def test_palette_entries_train_and_draft_in_the_real_app(locs):
    from textual.command import CommandPalette

    from journal_tui.app.app import JournalApp

    app = JournalApp(locs, watch=False)
    async with app.run_test(size=(160, 50)) as pilot:
        panel = await ml_panel(pilot)
        panel.jobs.cli_prefix = FAKE  # the stand-in CLI: this test is about the palette
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"retrain adapter")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: panel.train_panel.state == "done" and not panel.jobs.training)
        assert (locs.adapters / "latest").read_text() == panel.train_panel.run_id
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"draft: write")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: panel.draft_pane.state == "done")
        assert panel.draft_pane.day == app.selected_day
