"""The shared NotesWatcher and the dataset watcher on a real file system (watchdog/inotify).

Waits use generous timeouts; nothing here asserts how fast anything is."""

from __future__ import annotations

import datetime as dt
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from dataset_helpers import locations_for, read_rows, write_note

from journal_tui.dataset.watch import DatasetWatcher
from journal_tui.notes.watch import NotesWatcher, is_ignored

DAY = dt.date(2026, 6, 1)


class Recorder:
    def __init__(self):
        self.batches: queue.Queue[set[Path]] = queue.Queue()

    def __call__(self, paths):
        self.batches.put(set(paths))

    def next(self, timeout=10.0) -> set[Path]:
        return self.batches.get(timeout=timeout)

    def quiet(self, wait=1.0) -> bool:
        try:
            self.batches.get(timeout=wait)
        except queue.Empty:
            return True
        return False


@pytest.fixture
def notes(tmp_path) -> Path:
    root = tmp_path / "notes"
    root.mkdir()
    return root


def test_ignored_names(notes):
    assert not is_ignored(notes, notes / "a.md")
    assert not is_ignored(notes, notes / "sub" / "b.txt")
    for rel in (".git/x.md", ".obsidian/ws.md", ".#a.md", "a.md~", ".a.md.swp", ".a.md.abc123.tmp", "4913"):
        assert is_ignored(notes, notes / rel), rel
    assert is_ignored(notes, notes.parent / "outside.md")


def test_burst_of_saves_is_one_callback(notes):
    rec = Recorder()
    target = notes / "a.md"
    with NotesWatcher(notes, rec, debounce_s=0.3, max_wait_s=30):
        for i in range(50):
            target.write_text(f"save {i}\n", encoding="utf-8")
        assert rec.next() == {target}
        assert rec.quiet(1.0)


def test_temp_file_and_rename_counts_and_editor_files_are_ignored(notes):
    rec = Recorder()
    (notes / ".git").mkdir()
    with NotesWatcher(notes, rec, debounce_s=0.2):
        for junk in (".#a.md", "a.md~", ".a.md.swp", ".git/x.md", "picture.png", "4913"):
            (notes / junk).write_text("junk", encoding="utf-8")
        assert rec.quiet(1.0)
        tmp = notes / ".a.md.k2j3.tmp"  # how fsutil.atomic_write and many editors save
        tmp.write_text("body\n", encoding="utf-8")
        os.replace(tmp, notes / "a.md")
        assert rec.next() == {notes / "a.md"}
        (notes / "a.md").rename(notes / "b.md")
        assert rec.next() == {notes / "a.md", notes / "b.md"}
        (notes / "b.md").unlink()
        assert rec.next() == {notes / "b.md"}


def test_folders_are_reported(notes, tmp_path):
    rec = Recorder()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.md").write_text("x", encoding="utf-8")
    with NotesWatcher(notes, rec, debounce_s=0.2):
        os.replace(outside, notes / "moved-in")
        got = rec.next()
        assert notes / "moved-in" in got


def test_a_failing_callback_does_not_stop_the_watcher(notes):
    calls = []

    def cb(paths):
        calls.append(paths)
        if len(calls) == 1:
            raise RuntimeError("boom")

    done = threading.Event()
    with NotesWatcher(notes, lambda p: (cb(p), done.set() if len(calls) == 2 else None), debounce_s=0.1):
        (notes / "a.md").write_text("1", encoding="utf-8")
        deadline = time.monotonic() + 10
        while not calls and time.monotonic() < deadline:
            time.sleep(0.05)
        (notes / "b.md").write_text("2", encoding="utf-8")
        assert done.wait(10)
    assert calls[1] == {notes / "b.md"}


def test_missing_root_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        NotesWatcher(tmp_path / "nope", lambda p: None).start()


def test_dataset_watcher_keeps_the_dataset_current(home):
    locs = locations_for(home)
    locs.notes.mkdir(parents=True)
    builds: queue.Queue = queue.Queue()
    w = DatasetWatcher(locs, on_build=builds.put, debounce_s=0.3, max_wait_s=30)
    first = w.start()
    try:
        assert first.message and "no notes yet" in first.message
        assert builds.get(timeout=5) is first and w.rebuilds == 1
        # a burst of 50 saves across a few notes -> one incremental rebuild
        for i in range(50):
            write_note(locs.notes, f"{DAY + dt.timedelta(days=i % 5)}-n.md", f"save {i}")
        s = builds.get(timeout=15)
        assert w.rebuilds == 2 and len(s.changed_days) == 5
        with pytest.raises(queue.Empty):
            builds.get(timeout=1.0)
        rows = read_rows(locs.datasets / "train.jsonl") + read_rows(locs.datasets / "eval.jsonl")
        assert sorted(r["output"] for r in rows) == [f"save {i}" for i in range(45, 50)]
        # a malformed note is listed and the watcher carries on
        bad = locs.notes / f"{DAY}-bad.md"
        bad.write_bytes(b"---\ntitle: [x\n---\n")
        s = builds.get(timeout=15)
        assert [x["path"] for x in s.skipped] == [str(bad)]
        bad.unlink()
        assert builds.get(timeout=15).skipped == []
    finally:
        w.stop()


def test_cli_watch_prints_jsonl_and_stops_on_sigterm(home):
    env = {**os.environ, "JOURNAL_TUI_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    p = subprocess.Popen([sys.executable, "-m", "journal_tui", "dataset", "watch", "--events", "jsonl"],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=lambda: [lines.put(json.loads(ln)) for ln in p.stdout], daemon=True).start()
        assert lines.get(timeout=30)["event"] == "watching"
        first = lines.get(timeout=30)
        assert first["event"] == "build" and first["counts"]["train"] == 0
        notes = home / "notes"
        assert notes.is_dir()  # the home's notes folder is created for watching
        write_note(notes, f"{DAY}-n.md", "hello")
        write_note(notes, f"{DAY}-e.md", "entry", kind="entry", at=(20, 0))
        ev = lines.get(timeout=30)
        while ev["counts"]["pairs"] == 0:  # the two saves may land in one rebuild or two
            ev = lines.get(timeout=30)
        assert ev["event"] == "build" and ev["counts"]["voice"] == 2
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=30) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
