"""Full builds: files, manifest, voice/pair rules on real data, bad input, atomic output."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading

import pytest
from dataset_helpers import locations_for, read_rows, write_note

from journal_tui.dataset import build
from journal_tui.dataset.build import build_dataset, read_manifest

D1 = dt.date(2026, 3, 1)


def day(i: int) -> dt.date:
    return D1 + dt.timedelta(days=i)


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_empty_notes_folder_gives_empty_dataset_and_message(home):
    locs = locations_for(home)
    summary = build_dataset(locs)
    assert summary.message == build.EMPTY_MESSAGE and "no notes yet" in summary.message
    assert (locs.datasets / "train.jsonl").read_bytes() == b""
    assert (locs.datasets / "eval.jsonl").read_bytes() == b""
    assert not locs.notes.exists()  # building creates nothing in the notes folder
    m = read_manifest(locs)
    assert m["counts"]["train"] == 0 and m["message"] == build.EMPTY_MESSAGE
    assert m["files"]["train.jsonl"] == hashlib.sha256(b"").hexdigest()
    assert oct(os.stat(locs.datasets / "manifest.json").st_mode & 0o777) == "0o600"
    assert oct(os.stat(locs.datasets).st_mode & 0o777) == "0o700"


def test_pairs_voice_files_and_manifest(home):
    locs = locations_for(home)
    for i in range(4):
        write_note(locs.notes, f"{day(i)}-am.md", f"Morning of day {i}.", at=(8, 0))
        write_note(locs.notes, f"{day(i)}-pm.md", f"Evening of day {i}.", at=(19, 30))
        write_note(locs.notes, f"{day(i)}-entry.md", f"Entry for day {i}.", kind="entry", at=(22, 0))
    write_note(locs.notes, f"{day(5)}-alone.md", "A note with no entry.")
    summary = build_dataset(locs)
    rows = read_rows(locs.datasets / "train.jsonl") + read_rows(locs.datasets / "eval.jsonl")
    pairs = [r for r in rows if r["kind"] == "pair"]
    assert len(pairs) == 4
    p0 = next(r for r in pairs if r["date"] == day(0).isoformat())
    assert p0["input"].endswith("[08:00] Morning of day 0.\n[19:30] Evening of day 0.\n<<entry>>\n")
    assert p0["output"] == "Entry for day 0."
    assert sorted(p0["sources"]) == sorted(f"{day(0)}-{s}.md" for s in ("am", "pm", "entry"))
    # 4 pairs < 10: voice on; 4 voice-entry + 9 voice-note
    kinds = [r["kind"] for r in rows]
    assert kinds.count("voice-entry") == 4 and kinds.count("voice-note") == 9
    c = summary.counts
    assert (c["pairs"], c["voice"], c["days"], c["pair_days"]) == (4, 13, 5, 4)
    assert c["train"] + c["eval"] == len(rows) and c["eval_days"] >= 1
    # every day is wholly in one file
    train_days = {r["date"] for r in read_rows(locs.datasets / "train.jsonl")}
    eval_days = {r["date"] for r in read_rows(locs.datasets / "eval.jsonl")}
    assert not train_days & eval_days and eval_days == set(summary.eval_dates)
    m = read_manifest(locs)
    assert m["template_version"] == "jt-1" and m["voice_enabled"] is True
    assert m["files"] == {n: sha(locs.datasets / n) for n in ("train.jsonl", "eval.jsonl")}
    assert set(m["lengths"]["output_chars"]) == {"min", "median", "p95", "max"}
    assert m["lengths"]["output_chars"]["max"] == max(len(r["output"]) for r in rows)
    assert m["built_at"].endswith("Z")
    # identical notes -> byte-identical files
    before = {n: sha(locs.datasets / n) for n in ("train.jsonl", "eval.jsonl")}
    build_dataset(locs)
    assert {n: sha(locs.datasets / n) for n in ("train.jsonl", "eval.jsonl")} == before


def test_voice_stops_at_voice_until_pairs(home):
    locs = locations_for(home)
    for i in range(3):
        write_note(locs.notes, f"{day(i)}-n.md", f"note {i}")
        write_note(locs.notes, f"{day(i)}-e.md", f"entry {i}", kind="entry", at=(21, 0))
    on = build_dataset(locs, settings={"voice_until_pairs": 4})
    assert on.voice_enabled and on.counts["voice"] == 6
    off = build_dataset(locs, settings={"voice_until_pairs": 3})
    assert not off.voice_enabled and off.counts["voice"] == 0 and off.counts["pairs"] == 3


def test_malformed_files_are_skipped_and_listed(home):
    locs = locations_for(home)
    good = write_note(locs.notes, f"{day(0)}-good.md", "Fine note.")
    bad_yaml = locs.notes / f"{day(1)}-bad.md"
    bad_yaml.write_text("---\ntitle: [unclosed\nkind: note\n---\nbody\n", encoding="utf-8")
    binary = locs.notes / f"{day(2)}-bin.md"
    binary.write_bytes(b"\x00\x01\x02 not text")
    latin1 = locs.notes / f"{day(3)}-latin.txt"
    latin1.write_bytes("caf\xe9 au lait".encode("latin-1"))
    originals = {p: p.read_bytes() for p in (bad_yaml, binary, latin1)}
    summary = build_dataset(locs)
    skipped = {s["path"]: s["reason"] for s in summary.skipped}
    assert set(skipped) == {str(bad_yaml), str(binary), str(latin1)}
    assert all(reason for reason in skipped.values())
    assert "UTF-8" in skipped[str(latin1)]
    assert summary.counts["skipped"] == 3 and summary.counts["voice"] == 1
    rows = read_rows(locs.datasets / "train.jsonl") + read_rows(locs.datasets / "eval.jsonl")
    assert [r["sources"] for r in rows] == [[good.name]]
    assert {p: p.read_bytes() for p in originals} == originals  # never rewritten
    assert read_manifest(locs)["skipped"] == summary.skipped


def test_split_stays_stable_as_notes_are_added(home):
    locs = locations_for(home)
    for i in range(80):
        write_note(locs.notes, f"{day(i)}-n.md", f"note {i}")
    build_dataset(locs)
    eval_before = {r["date"] for r in read_rows(locs.datasets / "eval.jsonl")}
    train_before = {r["date"] for r in read_rows(locs.datasets / "train.jsonl")}
    assert eval_before and train_before
    for i in range(80, 200):
        write_note(locs.notes, f"{day(i)}-n.md", f"note {i}")
    write_note(locs.notes, f"{day(3)}-more.md", "a second note on an old day")
    build_dataset(locs)
    eval_after = {r["date"] for r in read_rows(locs.datasets / "eval.jsonl")}
    train_after = {r["date"] for r in read_rows(locs.datasets / "train.jsonl")}
    assert eval_before <= eval_after and train_before <= train_after
    assert len(eval_after) > len(eval_before)


def test_atomic_output_readers_never_see_half_a_file(home):
    locs = locations_for(home)
    for i in range(60):
        write_note(locs.notes, f"{day(i)}-n.md", ("Long enough text to make the file big. " * 30) + str(i))
    build_dataset(locs)
    versions = {(locs.datasets / "train.jsonl").read_bytes()}
    extra = locs.notes / f"{day(61)}-x.md"
    stop = threading.Event()
    seen: list[bytes] = []

    def reader():
        while not stop.is_set():
            seen.append((locs.datasets / "train.jsonl").read_bytes())

    t = threading.Thread(target=reader)
    t.start()
    try:
        for k in range(8):
            if k % 2:
                extra.unlink()
            else:
                write_note(locs.notes, extra.name, "extra note " * 200)
            build_dataset(locs)
            versions.add((locs.datasets / "train.jsonl").read_bytes())
    finally:
        stop.set()
        t.join()
    assert seen and set(seen) <= versions
    leftovers = [p.name for p in locs.datasets.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_failed_write_leaves_previous_files(home, monkeypatch):
    locs = locations_for(home)
    write_note(locs.notes, f"{day(0)}-n.md", "first")
    build_dataset(locs)
    before = {p.name: p.read_bytes() for p in locs.datasets.iterdir()}
    write_note(locs.notes, f"{day(1)}-n.md", "second")

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError):
        build_dataset(locs)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in locs.datasets.iterdir()} == before


def test_scan_retried_when_a_file_vanishes_mid_scan(home):
    calls = []

    class FlakyStore:
        def scan(self):
            calls.append(1)
            if len(calls) == 1:
                raise FileNotFoundError("gone")
            from journal_tui.notes.model import Problem
            from journal_tui.notes.store import ScanResult

            return ScanResult([], [Problem(home / "notes" / "gone.md", "vanished while being read: scan again")])

    state = build.DatasetState(locations_for(home).notes, build.dataset_settings(locations_for(home), {}))
    build.scan_into(state, FlakyStore())
    rendered = state.render()
    assert len(calls) == 2 and rendered.message == build.EMPTY_MESSAGE and rendered.skipped == []


def test_bad_settings_name_the_key(home):
    from journal_tui.config import ConfigError

    locs = locations_for(home)
    with pytest.raises(ConfigError, match="max_example_chars"):
        build_dataset(locs, settings={"max_example_chars": 5})
    with pytest.raises(ConfigError, match="eval_fraction"):
        build_dataset(locs, settings={"dataset": {"eval_fraction": 1.5}})


def test_pepys_gives_a_voice_entry_per_day(home, shared_data):
    """Pepys's 366 daily entries (no notes), marked kind: entry, give 366+ voice-entry examples."""
    locs = locations_for(home)
    src = shared_data / "pepys-diary-1660" / "entries"
    for f in sorted(src.glob("*.md")):
        (locs.notes / "1660").mkdir(parents=True, exist_ok=True)
        (locs.notes / "1660" / f.name).write_text("---\nkind: entry\n---\n" + f.read_text(encoding="utf-8"),
                                                  encoding="utf-8")
    summary = build_dataset(locs)
    rows = read_rows(locs.datasets / "train.jsonl") + read_rows(locs.datasets / "eval.jsonl")
    assert summary.counts["pairs"] == 0 and summary.skipped == []
    assert all(r["kind"] == "voice-entry" for r in rows)
    assert len({r["date"] for r in rows}) == 366 and len(rows) >= 366
    assert all(len(r["output"]) <= 2000 for r in rows)
    assert 20 <= summary.counts["eval_days"] <= 60
    jan1 = [r for r in rows if r["date"] == "1660-01-01"]
    assert jan1[0]["output"].startswith("Blessed be God")
    assert jan1[0]["input"] == "<<journal 1660-01-01 Thursday>>\n<<notes>>\n(no notes)\n<<entry>>\n"


def test_labnotebook_notes_dir_and_load_dataset(home, shared_data):
    """An external notes_dir (real Jekyll posts, 13 days with two notes) builds, and the
    Hugging Face ``datasets`` json loader reads both files."""
    (home).mkdir(parents=True, exist_ok=True)
    posts = shared_data / "cboettig-labnotebook-2013" / "_posts"
    (home / "config.toml").write_text(f'notes_dir = "{posts}"\n', encoding="utf-8")
    locs = locations_for(home)
    summary = build_dataset(locs)
    assert summary.skipped == [] and summary.counts["days"] == 123
    assert summary.counts["voice"] >= 136 and summary.counts["eval"] > 0

    from datasets import load_dataset

    files = {"train": str(locs.datasets / "train.jsonl"), "eval": str(locs.datasets / "eval.jsonl")}
    ds = load_dataset("json", data_files=files, cache_dir=str(home / "hf-cache"))
    assert ds["train"].num_rows == summary.counts["train"] and ds["eval"].num_rows == summary.counts["eval"]
    assert set(ds["train"].column_names) >= {"id", "date", "kind", "input", "output", "sources", "template_version"}
    first = read_rows(locs.datasets / "train.jsonl")[0]
    assert ds["train"][0]["output"] == first["output"]


def test_cli_build_status_and_no_heavy_imports(home, tmp_path):
    env = {**os.environ, "JOURNAL_TUI_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    locs = locations_for(home)
    write_note(locs.notes, f"{day(0)}-n.md", "hello")
    write_note(locs.notes, f"{day(0)}-e.md", "entry", kind="entry", at=(20, 0))
    code = (
        "import sys, runpy; sys.argv=['journal-tui','dataset','build','--json'];"
        "from journal_tui.cli import main; rc=main(sys.argv[1:]);"
        "heavy=[m for m in ('torch','transformers','datasets','peft') if m in sys.modules];"
        "print('HEAVY', heavy, file=sys.stderr); sys.exit(rc)"
    )
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["counts"]["pairs"] == 1 and out["counts"]["voice"] == 2
    assert "HEAVY []" in r.stderr
    r = subprocess.run([sys.executable, "-m", "journal_tui", "dataset", "status"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "pairs 1, voice examples 2 (on)" in r.stdout
    r = subprocess.run([sys.executable, "-m", "journal_tui", "dataset", "status", "--json"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert json.loads(r.stdout)["counts"] == out["counts"]
    shutil.rmtree(locs.datasets)
    r = subprocess.run([sys.executable, "-m", "journal_tui", "dataset", "status", "--json"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert json.loads(r.stdout) == {"built": False}


def test_snapshot_reads_one_consistent_build(home, tmp_path):
    locs = locations_for(home)
    with pytest.raises(build.DatasetError, match="dataset build"):
        build.snapshot(locs)
    write_note(locs.notes, f"{day(0)}-n.md", "first")
    build_dataset(locs)
    manifest, train, evl = build.snapshot(locs, tmp_path / "copy")
    assert hashlib.sha256(train).hexdigest() == manifest["files"]["train.jsonl"]
    assert (tmp_path / "copy" / "train.jsonl").read_bytes() == train
    assert json.loads((tmp_path / "copy" / "manifest.json").read_text()) == manifest
    # a train file from another build (the manifest not yet rewritten) is never returned
    (locs.datasets / "train.jsonl").write_bytes(b'{"id": "other"}\n')
    with pytest.raises(build.DatasetError, match="do not match"):
        build.snapshot(locs, attempts=2)


def test_missing_external_notes_dir_is_named(home, tmp_path):
    home.mkdir(parents=True)
    (home / "config.toml").write_text(f'notes_dir = "{tmp_path / "vault"}"\n', encoding="utf-8")
    summary = build_dataset(locations_for(home))
    assert "does not exist" in summary.message and "notes_dir" in summary.message


def test_cli_build_reports_unwritable_datasets_folder(home, capsys):
    from journal_tui.cli import main

    locs = locations_for(home)
    home.mkdir(parents=True)
    locs.datasets.write_text("a file where the folder should be", encoding="utf-8")
    assert main(["dataset", "build"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("journal-tui: cannot write the dataset to") and str(locs.datasets) in err
    assert locs.datasets.read_text(encoding="utf-8") == "a file where the folder should be"
