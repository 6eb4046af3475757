"""The UI process imports no ML library: train, draft and accept through the real app and the
real child commands (tiny Phi) in a fresh process, then look at its ``sys.modules``."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from app_ml_fixtures import app_home, prepared_home  # noqa: F401  (fixtures)

UI_SCRIPT = r'''
import asyncio, json, sys, datetime as dt
from journal_tui.app.app import JournalApp
from journal_tui.app.ml import MLPanel
from journal_tui.locations import Locations

FORBIDDEN = ("torch", "transformers", "peft", "bitsandbytes", "datasets", "accelerate")

async def main(home):
    app = JournalApp(Locations.resolve(home), watch=False)
    async with app.run_test(size=(160, 50)) as pilot:
        async def until(cond):
            for _ in range(2400):
                if cond():
                    return
                await pilot.pause(0.05)
            raise SystemExit("timeout")
        await until(lambda: app.query(MLPanel) and app.query_one(MLPanel).jobs is not None)
        panel = app.query_one(MLPanel)
        await pilot.press("ctrl+r")
        await until(lambda: panel.train_panel.state in ("done", "failed") and not panel.jobs.training)
        app.selected_day = dt.date(2026, 11, 23)
        await pilot.press("ctrl+g")
        await until(lambda: panel.draft_pane.state in ("done", "failed"))
        panel.run_command("accept_draft")
        states = [panel.train_panel.state, panel.draft_pane.state]
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in FORBIDDEN)
    print(json.dumps({"states": states, "loaded": loaded}))

asyncio.run(main(sys.argv[1]))
'''


def test_ui_process_imports_no_ml_library(app_home):
    """Train, draft and accept through the app in a fresh process; its sys.modules stays clean."""
    r = subprocess.run([sys.executable, "-c", UI_SCRIPT, str(app_home)], capture_output=True, text=True,
                       env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["states"] == ["done", "done"]
    assert out["loaded"] == []
