"""Time ``journal-tui notes list --search Q`` over 1,000 and 10,000 generated notes.

Target (issue 2): <= 100 ms at 10,000 notes on the dev machine, measured as the whole command
(a fresh ``python -m journal_tui`` process: interpreter start-up, imports, cache read, stat of
every file, search, output). Also measured in-process (``NoteStore.search`` with a fresh store
each time, so the cache is read from disk), and the cold first run that parses every file and
writes the cache.

Usage::

    .venv/bin/python benchmarks/notes_search.py [--sizes 1000 10000] [--repeats 15] [--query river]

Prints a table and writes ``benchmarks/results/<YYYY-MM-DD>-notes-search.json``. Notes are
generated in a temporary home (deleted afterwards) with a fixed seed: front matter
(created/kind/tags), 1-8 sentences, some ``#tags``; about 1 note in 30 mentions the query.
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

WORDS = (
    "morning coffee walk office meeting lunch call email garden train rain sun tired happy "
    "read book wrote code bug fixed dinner friend sister phone plan week weekend gym knee "
    "slept late early market bread cheese music film talk idea project deadline quiet long"
).split()
TAGS = ["work", "health", "family", "reading", "food", "travel", "ideas"]


def generate(notes_dir: Path, n: int, query: str, seed: int = 1) -> None:
    """Write ``n`` notes in our own layout, one per file, spread over ~3 years."""
    rng = random.Random(seed)
    start = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    for i in range(n):
        created = start + dt.timedelta(minutes=rng.randrange(3 * 365 * 24 * 60))
        sentences = []
        for _ in range(rng.randint(1, 8)):
            words = rng.choices(WORDS, k=rng.randint(5, 14))
            sentences.append(" ".join(words).capitalize() + ".")
        if rng.random() < 1 / 30:
            sentences.insert(rng.randrange(len(sentences) + 1), f"Went down to the {query}.")
        if rng.random() < 0.3:
            sentences.append("#" + rng.choice(TAGS))
        tags = rng.sample(TAGS, k=rng.randint(0, 2))
        fm = f"---\ncreated: {created.isoformat()}\nkind: {'entry' if i % 10 == 0 else 'note'}\n"
        if tags:
            fm += "tags:\n" + "".join(f"- {t}\n" for t in tags)
        path = notes_dir / f"{created:%Y}" / f"{created:%m}" / f"{created:%Y-%m-%d-%H%M%S}-{i}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(fm + "---\n" + " ".join(sentences) + "\n", encoding="utf-8")


def time_in_process(home: Path, query: str, repeats: int) -> tuple[float, list[float], int]:
    from journal_tui.locations import Locations
    from journal_tui.notes.store import NoteStore

    locs = Locations.resolve(home)
    t0 = time.perf_counter()
    hits = NoteStore.from_locations(locs).search(query)  # cold: parses every file, writes the cache
    cold = time.perf_counter() - t0
    warm = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        hits = NoteStore.from_locations(locs).search(query)
        warm.append(time.perf_counter() - t0)
    return cold, warm, len(hits)


def time_command(argv: list[str], env: dict, repeats: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU (user + sys, from wait4's rusage) seconds of ``repeats`` runs after
    one warm-up run. CPU time is less sensitive than wall-clock to other work on the machine."""
    subprocess.run(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall, cpu = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        wall.append(time.perf_counter() - t0)
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} exited with {p.returncode}")
        cpu.append(ru.ru_utime + ru.ru_stime)
    return wall, cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--query", default="river")
    args = ap.parse_args()

    ms = lambda xs: round(statistics.median(xs) * 1000, 1)
    load_before = round(os.getloadavg()[0], 2)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    # An installed package has compiled bytecode; let the children cache theirs (in the
    # git-ignored __pycache__/) instead of recompiling journal_tui on every run.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    baseline, baseline_cpu = time_command([sys.executable, "-c", "pass"], env, args.repeats)
    results = []
    for n in args.sizes:
        with tempfile.TemporaryDirectory(prefix="jt-bench-") as tmp:
            home = Path(tmp) / "home"
            generate(home / "notes", n, args.query)
            cold, warm, hits = time_in_process(home, args.query, args.repeats)
            cmd_env = {**env, "JOURNAL_TUI_HOME": str(home)}
            cmd = [sys.executable, "-m", "journal_tui", "notes", "list", "--search", args.query]
            command, command_cpu = time_command(cmd, cmd_env, args.repeats)
            command_json, _ = time_command(cmd + ["--json"], cmd_env, args.repeats)
            cache_bytes = (home / "cache" / "notes-index.marshal").stat().st_size
        results.append({
            "notes": n, "hits": hits, "cold_first_scan_ms": round(cold * 1000, 1),
            "in_process_warm_ms": ms(warm), "command_ms": ms(command), "command_json_ms": ms(command_json),
            "command_min_ms": round(min(command) * 1000, 1), "cache_bytes": cache_bytes,
            "command_minus_python_startup_ms": round(ms(command) - ms(baseline), 1),
            "command_cpu_ms": ms(command_cpu),
        })  # fmt: skip

    print(f"python start-up alone (python -c pass): {ms(baseline)} ms wall, {ms(baseline_cpu)} ms CPU "
          f"(median of {args.repeats}); "
          f"load average {load_before} -> {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    head = (f"{'notes':>6} {'hits':>5} {'cold scan':>10} {'in-process':>11} {'command':>8} {'cmd min':>8} "
            f"{'cmd CPU':>8} {'cmd --json':>11} {'cache':>9}")
    print(head)
    for r in results:
        print(f"{r['notes']:>6} {r['hits']:>5} {r['cold_first_scan_ms']:>8} ms {r['in_process_warm_ms']:>8} ms "
              f"{r['command_ms']:>5} ms {r['command_min_ms']:>5} ms {r['command_cpu_ms']:>5} ms "
              f"{r['command_json_ms']:>8} ms "
              f"{r['cache_bytes'] / 1e6:>6.1f} MB")
    print("(medians; 'command' = python -m journal_tui notes list --search Q, whole process, warm cache; "
          "command minus bare python start-up: "
          + ", ".join(f"{r['notes']}: {r['command_minus_python_startup_ms']} ms" for r in results) + ")")

    out = {
        "benchmark": "notes_search", "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "query": args.query, "repeats": args.repeats, "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs", "python_startup_ms": ms(baseline),
        "python_startup_cpu_ms": ms(baseline_cpu),
        "target_ms": 100, "load_average_1m_before_after": [load_before, round(os.getloadavg()[0], 2)],
        "note": "medians of `repeats` runs (min in command_min_ms); the dev machine's 2 cores are shared, "
                "so figures move with its load average",
        "results": results,
    }  # fmt: skip
    dest = ROOT / "benchmarks" / "results" / f"{dt.date.today().isoformat()}-notes-search.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {dest.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
