"""Incremental rebuilds equal full rebuilds, byte for byte (journal_tui/dataset/build.py + watch.py).

The watcher's refresh() is driven by hand here with exactly the paths an editor would touch, so
the tests need no timing; test_watch.py covers the file-system events themselves.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil

import pytest
from dataset_helpers import locations_for, read_rows, with_datasets, write_note

from journal_tui.dataset import build
from journal_tui.dataset.watch import DatasetWatcher

D1 = dt.date(2026, 5, 1)
FILES = ("train.jsonl", "eval.jsonl")


def day(i: int) -> dt.date:
    return D1 + dt.timedelta(days=i)


@pytest.fixture
def setup(home, tmp_path):
    locs = locations_for(home)
    locs.notes.mkdir(parents=True)
    for i in range(12):
        write_note(locs.notes, f"{day(i)}-n.md", f"Note of day {i}.")
        if i % 3 == 0:
            write_note(locs.notes, f"{day(i)}-e.md", f"Entry of day {i}.", kind="entry", at=(21, 0))
    w = DatasetWatcher(locs, settings={"voice_until_pairs": 6})
    w.rebuild_full()  # no file-system watching in these tests
    full_locs = with_datasets(locs, tmp_path / "full")

    def check():
        expected = build.build_dataset(full_locs, settings={"voice_until_pairs": 6})
        for name in FILES:
            assert (locs.datasets / name).read_bytes() == (full_locs.datasets / name).read_bytes(), name
        assert w.last.counts == expected.counts and w.last.skipped == expected.skipped
        return expected

    return locs, w, check


def test_edit_add_delete_rename_redate(setup):
    locs, w, check = setup
    root = locs.notes
    p = root / f"{day(1)}-n.md"
    write_note(root, p.name, "Edited text of day 1.")
    s = w.refresh({p})
    assert s.changed_days == [day(1).isoformat()]
    check()

    new = write_note(root, f"{day(20)}-n.md", "A new day.")
    w.refresh({new})
    check()

    (root / f"{day(2)}-n.md").unlink()
    w.refresh({root / f"{day(2)}-n.md"})
    check()

    # rename into a sub-folder (a move: both ends reported)
    src, dst = root / f"{day(4)}-n.md", root / "sub" / f"{day(4)}-renamed.md"
    dst.parent.mkdir()
    os.replace(src, dst)
    w.refresh({src, dst})
    rows = read_rows(locs.datasets / "train.jsonl") + read_rows(locs.datasets / "eval.jsonl")
    assert any(r["sources"] == ["sub/" + dst.name] for r in rows)
    check()

    # front matter moves a note to another day: the old and the new day are recomputed
    q = root / f"{day(5)}-n.md"
    q.write_text(f"---\ncreated: {day(30)}T10:00:00+01:00\nkind: note\n---\nmoved day\n", encoding="utf-8")
    s = w.refresh({q})
    assert set(s.changed_days) == {day(5).isoformat(), day(30).isoformat()}
    check()


def test_pairs_crossing_the_voice_threshold(setup):
    locs, w, check = setup  # 4 pair days, voice_until_pairs 6
    assert w.last.voice_enabled
    for i in (1, 2):
        p = write_note(locs.notes, f"{day(i)}-e.md", f"entry {i}", kind="entry", at=(22, 0))
        w.refresh({p})
    assert not w.last.voice_enabled and w.last.counts["voice"] == 0
    check()
    os.unlink(locs.notes / f"{day(1)}-e.md")
    w.refresh({locs.notes / f"{day(1)}-e.md"})
    assert w.last.voice_enabled
    check()


def test_malformed_then_fixed_and_vanishing_notes(setup):
    locs, w, check = setup
    bad = locs.notes / f"{day(3)}-n.md"
    bad.write_text("---\nkind: [note\n---\nbroken\n", encoding="utf-8")
    s = w.refresh({bad})
    assert [x["path"] for x in s.skipped] == [str(bad)]
    check()
    write_note(locs.notes, bad.name, "fixed")
    assert w.refresh({bad}).skipped == []
    check()

    # a note deleted between the event and the read: treated as deleted, no error
    gone = locs.notes / f"{day(6)}-n.md"
    real_read = w._store.read

    def read_after_delete(path):
        if path == gone and gone.exists():
            gone.unlink()
        return real_read(path)

    w._store.read = read_after_delete
    s = w.refresh({gone})
    assert s.skipped == []
    check()
    w._store.read = real_read

    # a path that was never a note, and hidden/editor files, change nothing
    (locs.notes / ".hidden").mkdir()
    junk = {locs.notes / "image.png", locs.notes / ".hidden" / "x.md", locs.notes / ".#lock.md",
            locs.notes / f"{day(7)}-n.md~"}
    for j in junk:
        j.write_text("x", encoding="utf-8")
    assert w.refresh(junk).changed_days == []
    check()


def test_folders_moved_in_out_and_deleted(setup, tmp_path):
    locs, w, check = setup
    outside = tmp_path / "elsewhere"
    for i in range(40, 43):
        write_note(outside / "trip", f"{day(i)}-t.md", f"trip {i}")
    shutil.move(str(outside / "trip"), str(locs.notes / "trip"))
    w.refresh({locs.notes / "trip"})  # a folder moved in: only the folder path is reported
    check()
    shutil.move(str(locs.notes / "trip"), str(outside / "trip2"))
    s = w.refresh({locs.notes / "trip"})  # moved out: one event for the folder
    assert len(s.changed_days) == 3
    check()
    write_note(locs.notes / "old", f"{day(50)}-o.md", "old")
    w.refresh({locs.notes / "old" / f"{day(50)}-o.md"})
    shutil.rmtree(locs.notes / "old")
    w.refresh({locs.notes / "old"})
    check()


def test_random_edits_match_full_builds(setup):
    locs, w, check = setup
    rng = random.Random(7)
    names = [f"{day(i)}-{s}.md" for i in range(25) for s in ("n", "m", "e")]
    for _step in range(30):
        changed = set()
        for _ in range(rng.randint(1, 4)):
            name = rng.choice(names)
            path = locs.notes / name
            op = rng.random()
            if op < 0.25 and path.exists():
                path.unlink()
            elif op < 0.35:
                path.write_bytes(b"---\ntitle: [x\n---\n")
            else:
                kind = "entry" if name.endswith("-e.md") else "note"
                body = " ".join(rng.choice(["rain.", "sun!", "Work.", "<<entry>>\n", "long " * 120])
                                for _ in range(rng.randint(1, 6)))
                write_note(locs.notes, name, body, kind=kind, at=(rng.randint(0, 23), rng.randint(0, 59)))
            changed.add(path)
        w.refresh(changed)
        check()
