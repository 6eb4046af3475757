"""Pilot tests of the real app driving the real child commands with the tiny Phi on the CPU:
``t`` trains (chart points, run completes, new adapter listed), a cancelled run leaves the app and
the previous adapter intact, ``d`` streams a draft that is accepted as edited (``kind: entry``),
and a missing model shows the train command's hint.

Each test copies a home prepared once per module (notes for five days, four with entries, and
an adapter trained by ``journal-tui train``), so the app's run is not the first one.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import frontmatter
from app_ml_fixtures import DRAFT_DAY, app_home, ml_panel, prepared_home, wait_for, write_config  # noqa: F401

from journal_tui.app.app import JournalApp
from journal_tui.app.ml import MLPanel
from journal_tui.app.screens.cancel_confirm import CancelTrainScreen
from journal_tui.app.widgets.run_list import RunList
from journal_tui.locations import Locations


async def test_t_trains_the_chart_fills_and_the_new_adapter_shows(app_home):
    old = (app_home / "adapters" / "latest").read_text().strip()
    app = JournalApp(Locations.resolve(app_home), watch=False)
    async with app.run_test(size=(160, 50)) as pilot:
        panel = await ml_panel(pilot)
        await pilot.press("escape")  # leave the editor: plain t trains outside text fields
        await pilot.press("t")
        tp = panel.train_panel
        await wait_for(pilot, lambda: tp.state in ("done", "failed") and not panel.jobs.training, what="run end")
        assert tp.state == "done", tp.last_error
        chart = tp.chart
        assert [int(s) for s, _ in chart.train_points] == [1, 2, 3, 4, 5, 6]
        assert [int(s) for s, _ in chart.eval_points] == [0, 2, 4, 6]  # step 0: the base model
        new = (app_home / "adapters" / "latest").read_text().strip()
        assert new != old and tp.run_id == new
        assert tp.last_done["best_eval_loss"] == min(v for _, v in chart.eval_points[1:])
        assert tp.query_one("#train-progress").progress == 6
        runs = tp.query_one(RunList).runs
        assert any(r.run_id == new and r.latest for r in runs)
        assert f"adapter {new}" in str(tp.query_one("#train-state").render())  # the adapter in use
        assert any(new in n.message and "best eval_loss" in n.message for n in app._notifications)
        # a past run's curve reloads from its events.jsonl
        old_run = next(r for r in runs if r.run_id == old)
        assert tp.show_run(old_run) > 0 and chart.eval_points[0][0] == 0


async def test_cancel_mid_run_keeps_the_app_and_the_previous_adapter(app_home, tiny_model_dir):
    # a long run that early stopping cannot end before the cancel arrives
    write_config(app_home, str(tiny_model_dir), max_steps=5000, patience=5000)
    old = (app_home / "adapters" / "latest").read_text().strip()
    old_files = sorted(p.name for p in (app_home / "adapters" / old).iterdir())
    app = JournalApp(Locations.resolve(app_home), watch=False)
    async with app.run_test(size=(160, 50)) as pilot:
        panel = await ml_panel(pilot)
        tp = panel.train_panel
        await pilot.press("ctrl+r")  # the chord works from inside the editor
        await wait_for(pilot, lambda: len(tp.chart.train_points) >= 2, what="first train losses")
        await pilot.click("#train-cancel")
        await wait_for(pilot, lambda: isinstance(app.screen, CancelTrainScreen), what="confirm modal")
        await pilot.press("y")
        await wait_for(pilot, lambda: not panel.jobs.training, what="run end")
        assert tp.state == "cancelled" and tp.last_error["kind"] == "cancelled"
        assert tp.last_error["hint"]  # how to resume
        assert len(tp.chart.train_points) < 5000
        assert (app_home / "adapters" / "latest").read_text().strip() == old
        assert sorted(p.name for p in (app_home / "adapters" / old).iterdir()) == old_files
        assert any(r.status == "partial" for r in tp.query_one(RunList).runs)
        # the app keeps working: typing in the editor still edits the note
        app.editor_pane.editor.focus()
        await pilot.press("h", "i")
        assert "hi" in app.editor_pane.editor.text
        assert tp.query_one("#train-start").disabled is False


async def test_d_streams_a_draft_then_accept_saves_it_as_edited(app_home):
    adapter = (app_home / "adapters" / "latest").read_text().strip()
    locs = Locations.resolve(app_home)
    app = JournalApp(locs, watch=False)
    async with app.run_test(size=(160, 50)) as pilot:
        panel = await ml_panel(pilot)
        pane = panel.draft_pane
        app.selected_day = DRAFT_DAY
        await pilot.press("escape", "d")
        await wait_for(pilot, lambda: pane.state in ("done", "failed"), what="draft end")
        assert pane.state == "done", pane.last_error
        assert pane.day == DRAFT_DAY
        assert pane.streamed_before_done > 0  # text was in the pane before the draft ended
        assert pane.flushes <= pane.buffer.appends
        assert pane.adapter == adapter and pane.base
        assert pane.finish_reason in ("eos", "stop", "length")
        title = str(pane.query_one("#draft-status").render())
        assert adapter in title and Path(pane.base).name in title
        edited = pane.text_area.text.strip() + "\n\nEdited by me before accepting."
        pane.text_area.load_text(edited)
        pane.text_area.focus()
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: any("Saved the entry" in n.message for n in app._notifications),
                       timeout=10, what="saved notification")
    entries = []
    for path in (app_home / "notes").rglob("*.md"):
        post = frontmatter.load(path)
        if post.get("draft_adapter"):
            entries.append(post)
    assert len(entries) == 1
    post = entries[0]
    assert post["kind"] == "entry" and post["draft_adapter"] == adapter and post["draft_base"] == pane.base
    assert post.content.strip() == edited.strip()
    # the entry lands on the drafted day: a `date:` for a past day (its time is unknown), else `created:`
    when = post.get("created", post.get("date"))
    when = when if isinstance(when, (dt.date, dt.datetime)) else dt.datetime.fromisoformat(str(when))
    assert (when.date() if isinstance(when, dt.datetime) else when) == DRAFT_DAY


async def test_missing_model_shows_the_hint_and_the_app_keeps_working(app_home):
    write_config(app_home, str(app_home / "no-such-model"))
    app = JournalApp(Locations.resolve(app_home), watch=False)
    async with app.run_test(size=(160, 50)) as pilot:
        panel = await ml_panel(pilot)
        tp = panel.train_panel
        await pilot.press("escape", "t")
        await wait_for(pilot, lambda: tp.state == "failed" and not panel.jobs.training, what="failure")
        assert tp.last_error["kind"] == "model_missing"
        hint = tp.last_error["hint"]
        assert hint
        shown = str(tp.query_one("#train-error").render())
        assert hint.split()[0] in shown and "model_missing" in shown
        assert " ".join(hint.split()) in " ".join(shown.split())
        assert tp.query_one("#train-start").disabled is False

