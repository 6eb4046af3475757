"""Draft streaming benchmark: does a fast token stream keep the UI responsive?

Method: a headless app (Textual ``run_test``) hosts the real :class:`journal_tui.app.ml.MLPanel`
and draft pane; the draft server is the protocol stand-in ``tests/fake_ml_cli.py``, which emits
``--tokens`` token events, one every ``--token-delay`` s (no model: this measures the UI side
only; 500 tokens/s is faster than Phi-2 on one GPU, a hard case for the UI). While the draft streams, a 10 ms probe timer records how late each of its ticks
fires (event-loop lag), and a key is typed into another TextArea every 50 ms during the stream,
each key's press-to-text time measured (what typing elsewhere feels like). Three cases: ``idle`` (no stream, the baseline), ``batched`` (the pane's
50 ms flush of buffered deltas) and ``per-token`` (one ``call_from_thread`` insert per token event,
the naive way, for comparison). Reported: token events received, TextArea updates made (flushes), wall time
of the draft, probe lag p50/p95/max and key latency p50/max, and the 1-minute load average
(the 2 dev cores are shared, so figures move with it).

Usage::

    .venv/bin/python benchmarks/app_draft_stream.py [--tokens 2000] [--token-delay 0.002] [--out DIR]

Writes ``benchmarks/results/YYYY-MM-DD-app-draft-stream.json`` (or into ``--out``) and prints it.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FAKE = [sys.executable, str(ROOT / "tests" / "fake_ml_cli.py")]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


async def run_case(home: Path, tokens: int, keys: int, mode: str, idle_s: float) -> dict:
    from textual import events
    from textual.app import App, ComposeResult
    from textual.widgets import TextArea

    from journal_tui.app.ml import ML_BINDINGS, MLPanel
    from journal_tui.locations import Locations

    class Bench(App):
        BINDINGS = ML_BINDINGS

        def __init__(self) -> None:
            super().__init__()
            self.locations = Locations.resolve(home)
            self.selected_day = dt.date(2026, 11, 29)

        def compose(self) -> ComposeResult:
            yield TextArea("", id="other")
            yield MLPanel(self.locations, keep_dataset_current=False, cli_prefix=FAKE)

        def action_ml(self, name: str) -> None:
            self.query_one(MLPanel).run_command(name)

    os.environ["FAKE_TOKENS"] = str(tokens)
    app = Bench()
    lags: list[float] = []
    key_ms: list[float] = []
    async with app.run_test(size=(140, 45)) as pilot:
        panel = app.query_one(MLPanel)
        pane = panel.draft_pane
        if mode != "idle":  # warm the server first so the measured draft is pure streaming
            panel.run_command("draft")
            while pane.state != "done":
                await pilot.pause(0.02)
        sink = None
        if mode == "per-token":  # the naive way, for comparison: one UI call per token event
            class PerToken:
                appends = 0

                def append(self, text: str) -> None:
                    PerToken.appends += 1
                    ta = pane.text_area
                    app.call_from_thread(lambda: ta.insert(text, ta.document.end))

            sink = panel.jobs.token_sink = PerToken()
        expected = {"t": None}

        def probe() -> None:
            now = time.perf_counter()
            if expected["t"] is not None:
                lags.append(max(0.0, now - expected["t"]) * 1000)
            expected["t"] = now + 0.01

        other = app.query_one("#other", TextArea)
        other.focus()
        flushes0, appends0 = pane.flushes, pane.buffer.appends
        timer = app.set_interval(0.01, probe)
        t0 = time.perf_counter()
        if mode != "idle":
            panel.run_command("draft")

        def running() -> bool:
            if mode == "idle":
                return time.perf_counter() - t0 < idle_s
            return pane.state != "done"

        while running():
            if len(key_ms) < keys:
                # a key as the terminal driver delivers it (pilot.press would wait for idle)
                before = len(other.text)
                k0 = time.perf_counter()
                key = events.Key("x", "x")
                key.set_sender(app)
                app._driver.send_message(key)
                while len(other.text) == before:
                    await asyncio.sleep(0.001)
                key_ms.append((time.perf_counter() - k0) * 1000)
            await asyncio.sleep(0.05)  # about a fast typist's pace
        wall = time.perf_counter() - t0
        timer.stop()
        return {
            "mode": mode,
            "tokens": 0 if mode == "idle" else tokens,
            "token_events": 0 if mode == "idle" else (sink.appends if sink else pane.buffer.appends - appends0),
            "textarea_updates": sink.appends if sink else pane.flushes - flushes0,
            "wall_s": round(wall, 3),
            "probe_lag_ms": {"p50": round(pct(lags, 0.5), 2), "p95": round(pct(lags, 0.95), 2),
                             "max": round(max(lags), 2) if lags else None, "ticks": len(lags)},
            "keys_typed": len(key_ms),
            "key_latency_ms": {"p50": round(statistics.median(key_ms), 2) if key_ms else None,
                               "p95": round(pct(key_ms, 0.95), 2) if key_ms else None,
                               "max": round(max(key_ms), 2) if key_ms else None},
        }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=2000)
    ap.add_argument("--token-delay", type=float, default=0.002,
                    help="seconds between token events (default 0.002: 500 tokens/s, a fast GPU)")
    ap.add_argument("--keys", type=int, default=1000, help="most keys typed per case (one per 50 ms)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="jt-stream-") as tmp:
        home = Path(tmp) / "home"
        (home / "notes").mkdir(parents=True)
        os.environ["FAKE_TOKEN_DELAY"] = str(args.token_delay)
        idle_s = args.tokens * args.token_delay
        cases = [asyncio.run(run_case(home, args.tokens, args.keys, mode, idle_s))
                 for mode in ("idle", "batched", "per-token")]
    result = {
        "cases": cases,
        "benchmark": "app-draft-stream",
        "date": dt.date.today().isoformat(),
        "flush_interval_s": 0.05,
        "token_delay_s": args.token_delay,
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "python": sys.version.split()[0],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / f"{dt.date.today().isoformat()}-app-draft-stream.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
