from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny random-weight Phi and its tokenizer saved as a Hugging Face folder (session-wide)."""
    from tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-phi"))


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """An empty journal-tui home; JOURNAL_TUI_HOME points at it for the test."""
    h = tmp_path / "home"
    monkeypatch.setenv("JOURNAL_TUI_HOME", str(h))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return h


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip(f"{SHARED_DATA} is not present")
    return SHARED_DATA


@pytest.fixture
def utc_machine(monkeypatch):
    """Run the test with the process time zone set to UTC (sources without a zone are read in
    the machine's local zone)."""
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
