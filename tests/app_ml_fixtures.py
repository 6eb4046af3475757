"""Fixtures shared by the app-ML Pilot tests: a home with notes, config for the tiny Phi, and
one adapter trained by the real ``journal-tui train`` (built once per module, copied per test)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from journal_tui.locations import Locations

DRAFT_DAY = dt.date(2026, 11, 23)


def write_config(home: Path, model: str, *, max_steps: int = 6, max_new_tokens: int = 120,
                 patience: int = 3) -> None:
    (home / "config.toml").write_text(
        f'[model]\nbase = "{model}"\nquant = "none"\n'
        f"[train]\nmax_steps = {max_steps}\neval_steps = 2\npatience = {patience}\n"
        f"[draft]\nmax_new_tokens = {max_new_tokens}\nseed = 1\n",
        encoding="utf-8",
    )


@pytest.fixture(scope="module")
def prepared_home(tiny_model_dir, tmp_path_factory) -> Path:
    """Notes for 2026-11-20..23 (two notes and an entry each) and 11-29, plus one trained adapter."""
    from journal_tui.notes.store import NoteStore

    home = tmp_path_factory.mktemp("ml-pilot") / "home"
    (home / "notes").mkdir(parents=True)
    write_config(home, str(tiny_model_dir))
    store = NoteStore.from_locations(Locations.resolve(home))
    for i in range(4):
        day = dt.date(2026, 11, 20 + i)
        at = lambda h, m: dt.datetime.combine(day, dt.time(h, m)).astimezone()  # noqa: E731
        store.add(f"Ran by the river, day {i}. The knee held up.", day=day, created=at(9, 15))
        store.add(f"Lunch with Sam about the move, day {i}.", day=day, created=at(13, 40))
        store.add(f"Today was long. I ran, then had lunch with Sam. Day {i}.", day=day, kind="entry", created=at(21, 0))
    store.add("Read two chapters before bed.", day=dt.date(2026, 11, 29))
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    for args in (["dataset", "build"], ["train"]):
        r = subprocess.run([sys.executable, "-m", "journal_tui", "--home", str(home), *args],
                           capture_output=True, text=True, env=env, timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
    assert (home / "adapters" / "latest").read_text().strip()
    return home


@pytest.fixture
def app_home(prepared_home, tmp_path, monkeypatch) -> Path:
    home = tmp_path / "home"
    shutil.copytree(prepared_home, home)
    monkeypatch.setenv("JOURNAL_TUI_HOME", str(home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return home


async def wait_for(pilot, cond, timeout: float = 120.0, what: str = "") -> None:
    """Let the app run until ``cond()`` holds (polling every 50 ms); fail after ``timeout`` s."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what or cond}")
        await pilot.pause(0.05)


async def ml_panel(pilot):
    """The app's MLPanel, once mounted (the App mounts it after its first frame)."""
    from journal_tui.app.ml import MLPanel

    for _ in range(200):
        found = pilot.app.query(MLPanel)
        if found and found.first().is_mounted and getattr(found.first(), "jobs", None) is not None:
            await pilot.pause()
            return found.first()
        await pilot.pause(0.02)
    raise AssertionError("the ML panel was never mounted")
