"""Dataset build speed: full build of 10,000 notes, and save-to-dataset latency with the watcher.

Targets (issue 3): full build of 10,000 notes <= 2 s on the dev machine; a single note change
visible in train/eval.jsonl <= 0.5 s after the save, debounce (0.2 s) included.

    .venv/bin/python benchmarks/dataset_build.py [--notes 10000] [--years 3] [--changes 10]

Generates a journal in a temporary home: notes and entries (about 2 entries for every 3 days)
spread over ``--years`` years, ``YYYY/MM/`` folders, front matter ``created``/``kind``, bodies of
1-12 generated sentences in 1-3 paragraphs. Measures

* ``scan_cold_s`` / ``scan_warm_s``: ``NoteStore.scan()`` without and with the notes cache
  (home/cache/notes-index.marshal);
* ``full_build_cold_s`` / ``full_build_warm_s``: ``build_dataset()`` end to end (scan, examples,
  split, writing three files atomically), first run without the cache, then with it;
* ``full_build_voice_s``: the same with voice examples forced on (every note and entry an example);
* ``cli_build_cold_s`` / ``cli_build_warm_s``: ``journal-tui dataset build --json`` in a fresh
  process (interpreter start and imports included), without and with the notes cache;
* ``change_visible_s``: with a running DatasetWatcher (debounce 0.2 s), the time from the end of
  writing one note (a fresh marker word in it) until the marker can be read in train.jsonl or
  eval.jsonl, polled every 5 ms; ``--changes`` edits (alternately a new note and a new entry on a day
  that has an entry, so the change shows in that day's pair), median and max reported, together with
  the incremental rebuild time the watcher measured itself.

Writes ``benchmarks/results/<UTC date>-dataset.json`` and prints it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from journal_tui.dataset.build import build_dataset  # noqa: E402
from journal_tui.dataset.watch import DatasetWatcher  # noqa: E402
from journal_tui.locations import Locations  # noqa: E402
from journal_tui.notes.store import NoteStore  # noqa: E402

WORDS = (
    "river morning office lunch train rain coffee letter garden meeting friend evening walk book "
    "music dinner sister weather market project deadline kitchen window bicycle phone doctor"
).split()
TZ = dt.timezone(dt.timedelta(hours=1))


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(5, 18))]
    return " ".join(words).capitalize() + rng.choice([".", ".", ".", "!", "?"])


def body(rng: random.Random) -> str:
    paras = []
    for _ in range(rng.randint(1, 3)):
        paras.append(" ".join(sentence(rng) for _ in range(rng.randint(1, 4))))
    return "\n\n".join(paras)


def generate(notes_dir: Path, n: int, years: int, seed: int = 0) -> dict:
    rng = random.Random(seed)
    start = dt.date(2023, 1, 1)
    days = [start + dt.timedelta(days=i) for i in range(365 * years)]
    entry_days = set(rng.sample(days, k=len(days) * 2 // 3))
    entries = sorted(entry_days)[: n // 5]
    written = 0
    for d in entries:
        _write(notes_dir, d, 22, 0, "entry", body(rng), written)
        written += 1
    while written < n:
        d = rng.choice(days)
        _write(notes_dir, d, rng.randint(6, 21), rng.randint(0, 59), "note", body(rng), written)
        written += 1
    return {"files": written, "entries": len(entries), "days": len(days), "entry_days": entries}


def _write(root: Path, d: dt.date, h: int, m: int, kind: str, text: str, i: int) -> Path:
    folder = root / f"{d:%Y}" / f"{d:%m}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{d.isoformat()}-{h:02d}{m:02d}-{i}.md"
    created = dt.datetime.combine(d, dt.time(h, m), TZ).isoformat()
    path.write_text(f"---\ncreated: {created}\nkind: {kind}\n---\n{text}\n", encoding="utf-8")
    return path


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--notes", type=int, default=10_000)
    ap.add_argument("--years", type=int, default=3)
    ap.add_argument("--changes", type=int, default=10)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="jt-bench-") as tmp:
        locs = Locations.resolve(Path(tmp) / "home", read_config=False)
        gen_s, gen = timed(lambda: generate(locs.notes, args.notes, args.years))
        entry_days = gen.pop("entry_days")
        store = NoteStore.from_locations(locs)
        nocache = NoteStore(locs.notes, trash=locs.trash, cache=None)
        scan_cold_s, _ = timed(nocache.scan)
        build_cold_s, summary = timed(lambda: build_dataset(locs))  # writes the notes cache too
        scan_warm_s, _ = timed(store.scan)
        build_warm_s, summary = timed(lambda: build_dataset(locs))
        build_voice_s, voice_summary = timed(lambda: build_dataset(locs, settings={"voice_until_pairs": 10**9}))
        sizes = {n: (locs.datasets / n).stat().st_size for n in ("train.jsonl", "eval.jsonl")}

        # the command a person runs, in a fresh process (interpreter start and imports included)
        cmd = [sys.executable, "-m", "journal_tui", "--home", str(locs.home), "dataset", "build", "--json"]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        for f in locs.cache.glob("notes-index*"):
            f.unlink()
        cli_cold_s, _ = timed(lambda: subprocess.run(cmd, env=env, check=True, capture_output=True))
        cli_warm_s, _ = timed(lambda: subprocess.run(cmd, env=env, check=True, capture_output=True))

        # save -> visible latency with the real watcher
        rebuilds: list[float] = []
        w = DatasetWatcher(locs, debounce_s=0.2, on_build=lambda s: rebuilds.append(s.duration_s))
        w.start()
        latencies = []
        rng = random.Random(1)
        try:
            time.sleep(0.5)
            for k in range(args.changes):
                marker = f"zebra{k}x{rng.randint(0, 10**9)}"
                # a day with an entry, so the change shows in its pair: an extra entry paragraph
                # (last in time order), or a note written first thing (first in the prompt)
                d = rng.choice(entry_days)
                h, m, kind = (23, 59, "entry") if k % 2 else (0, 1, "note")
                _write(locs.notes, d, h, m, kind, f"Saw a {marker} today.", 900_000 + k)
                t0 = time.perf_counter()
                latencies.append(_wait_for(locs, marker, t0))
                time.sleep(0.3)
        finally:
            w.stop()

    result = {
        "benchmark": "dataset_build",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "generated": {**gen, "seconds": round(gen_s, 2)},
        "counts": summary.counts,
        "output_bytes": sizes,
        "scan_cold_s": round(scan_cold_s, 3),
        "scan_warm_s": round(scan_warm_s, 3),
        "full_build_cold_s": round(build_cold_s, 3),
        "full_build_warm_s": round(build_warm_s, 3),
        "full_build_voice_s": round(build_voice_s, 3),
        "cli_build_cold_s": round(cli_cold_s, 3),
        "cli_build_warm_s": round(cli_warm_s, 3),
        "voice_counts": voice_summary.counts,
        "change_visible_s": {
            "n": len(latencies),
            "median": round(statistics.median(latencies), 3),
            "max": round(max(latencies), 3),
            "all": [round(x, 3) for x in latencies],
        },
        "incremental_rebuild_s": {
            "median": round(statistics.median(rebuilds[1:]), 4) if len(rebuilds) > 1 else None,
            "max": round(max(rebuilds[1:]), 4) if len(rebuilds) > 1 else None,
        },
        "debounce_s": 0.2,
        "targets": {"full_build_s": 2.0, "change_visible_s": 0.5},
    }
    out_dir = ROOT / "benchmarks" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d}-dataset.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    print(f"wrote {out}", file=sys.stderr)
    return 0


def _wait_for(locs: Locations, marker: str, t0: float, timeout: float = 30.0) -> float:
    files = [locs.datasets / "train.jsonl", locs.datasets / "eval.jsonl"]
    last = None
    needle = marker.encode()
    while time.perf_counter() - t0 < timeout:
        stamp = tuple((f.stat().st_mtime_ns, f.stat().st_ino) for f in files)
        if stamp != last:
            last = stamp
            if any(needle in f.read_bytes() for f in files):
                return time.perf_counter() - t0
        time.sleep(0.005)
    raise TimeoutError(f"{marker} did not appear in {timeout} s")


if __name__ == "__main__":
    raise SystemExit(main())
