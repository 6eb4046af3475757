"""Helpers for the training tests: write a small dataset the way the dataset builder does
(voice-entry rows rendered with dataset/template.py), and run ``journal-tui train`` as a child."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

from journal_tui.dataset import template as T

ROOT = Path(__file__).resolve().parent.parent

TEXTS = [
    "Went for a run by the river this morning. The knee held up fine.",
    "Lunch with Sam. We talked about the move and the new flat.",
    "Read two chapters before bed. Slept badly, woke at five.",
    "Today was long. Work, then groceries, then a quiet evening writing.",
]


def voice_row(day: dt.date, text: str, n: int) -> dict:
    return {
        "id": f"ex-{n}",
        "date": day.isoformat(),
        "kind": "voice-entry",
        "input": T.render_pair_prompt(day, []),
        "output": T.render_output(text),
        "sources": [f"notes/{day.isoformat()}.md"],
        "template_version": T.TEMPLATE_VERSION,
    }


def write_dataset(home: Path, *, n_train: int = 40, n_eval: int = 8, texts=TEXTS) -> Path:
    """Write datasets/train.jsonl and eval.jsonl under ``home``; return the datasets folder."""
    d = Path(home) / "datasets"
    d.mkdir(parents=True, exist_ok=True)
    start = dt.date(2026, 1, 1)
    train = [voice_row(start + dt.timedelta(days=i), texts[i % len(texts)], i) for i in range(n_train)]
    evals = [voice_row(start + dt.timedelta(days=500 + i), texts[i % len(texts)], 1000 + i) for i in range(n_eval)]
    for name, rows in (("train.jsonl", train), ("eval.jsonl", evals)):
        (d / name).write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return d


def child_env() -> dict:
    env = dict(os.environ)
    env["HF_HUB_OFFLINE"] = "1"
    env["OMP_NUM_THREADS"] = "1"  # tiny matmuls: one thread is ~10x faster on a shared 2-core box
    env["PYTHONPATH"] = str(ROOT)
    env.pop("JOURNAL_TUI_HOME", None)
    return env


def train_cmd(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "journal_tui", "--home", str(home), "train", "--events", "jsonl", *args]


def run_train(home: Path, *args: str, timeout: float = 300) -> tuple[int, list[dict], str]:
    """Run ``journal-tui train --events jsonl`` in a child process.

    Returns (exit status, events parsed from stdout, stderr). Fails the test if any stdout line is
    not a JSON event.
    """
    proc = subprocess.run(train_cmd(home, *args), capture_output=True, text=True, env=child_env(), timeout=timeout)
    return proc.returncode, parse_events(proc.stdout), proc.stderr


def parse_events(stdout: str) -> list[dict]:
    events = []
    for line in stdout.splitlines():
        obj = json.loads(line)  # every stdout line must be JSON
        assert isinstance(obj, dict) and "event" in obj, line
        events.append(obj)
    return events


def one_torch_thread():
    """Generator for a fixture: run in-process torch work on one thread, then restore."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
