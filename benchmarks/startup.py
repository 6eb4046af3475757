"""Start-up benchmark: time from launching ``journal-tui`` to the first screen painted, and to
the note list being filled, with 1,000 and 10,000 generated notes in a temp home.

Method: the real console script (``python -m journal_tui --home TMP``) runs under a
pseudo-terminal (120x36, TERM=xterm-256color). The clock starts just before the process is
spawned; "first screen" is when the bytes written to the terminal contain the search box's
placeholder (the sidebar is painted), "list ready" is when they contain ``N notes`` (the
scan worker finished and the list was drawn). At each of these moments the CPU time the
process had used (user + system, from /proc) is recorded too: on a shared machine wall time
includes waiting for a core, CPU time much less so. ctrl+q then quits. Each case runs ``--repeat``
times; the median is reported. "cold" is the first launch on a fresh home (every file parsed,
the notes index cache written to home/cache), "warm" the launches after it.

Also measured: the import time of ``journal_tui.app.app`` in a fresh interpreter (median of
the repeats), whether importing it pulled in any model library, and (in-process, headless)
the time one search keystroke takes to filter the notes and rebuild the list. The 1-minute
load average is recorded: the dev machine's 2 cores are shared, so figures move with it.

Usage::

    .venv/bin/python benchmarks/startup.py [--counts 1000 10000] [--repeat 3] [--out DIR]

Writes ``benchmarks/results/YYYY-MM-DD-startup.json`` (or into ``--out``) and prints it.
Target on the dev machine (2 shared CPU cores): first screen <= 0.5 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import fcntl
import json
import os
import platform
import pty
import random
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRST_SCREEN_MARK = b"Search: words or #tag"
COLS, ROWS = 120, 36
WORDS = ("river morning coffee walk train office lunch friend rain evening book music garden "
         "call sister run knee bread market letter quiet tired happy window city bus").split()
TAGS = ("running", "work", "family", "books", "food", "health", "travel")


def generate_notes(notes_dir: Path, count: int, *, seed: int = 7) -> None:
    """Write ``count`` Markdown notes (3 per day, going back from today) with front matter,
    a #tag or two and 40-120 words each, straight to disk (the store's own writer would fsync
    each one: fine for people, slow for 10,000 test files)."""
    rng = random.Random(seed)
    today = dt.date.today()
    for i in range(count):
        day = today - dt.timedelta(days=i // 3)
        hh, mm = 8 + (i % 3) * 5, rng.randrange(60)
        created = dt.datetime(day.year, day.month, day.day, hh, mm).astimezone()
        folder = notes_dir / f"{day:%Y}" / f"{day:%m}"
        folder.mkdir(parents=True, exist_ok=True)
        body = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(40, 120)))
        tags = rng.sample(TAGS, rng.randrange(0, 3))
        text = (f"---\ncreated: {created.isoformat()}\nkind: note\n---\n{body.capitalize()}."
                + "".join(f" #{t}" for t in tags) + "\n")
        (folder / f"{created:%Y-%m-%d-%H%M%S}-{i}.md").write_text(text, encoding="utf-8")


def _cpu_s(pid: int) -> float | None:
    """CPU seconds (user + system, all threads) the process has used so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _read_until(fd: int, marks: list[bytes], start: float, deadline: float,
                pid: int | None = None) -> tuple[dict[bytes, float], dict[bytes, float | None]]:
    """Read the pty until every mark was seen (or the deadline). Returns mark -> wall seconds
    and mark -> CPU seconds the process had used by then."""
    seen: dict[bytes, float] = {}
    cpu: dict[bytes, float | None] = {}
    buf = b""
    while len(seen) < len(marks) and time.perf_counter() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        buf += chunk
        now = time.perf_counter() - start
        for m in marks:
            if m not in seen and m in buf:
                seen[m] = now
                cpu[m] = _cpu_s(pid) if pid else None
        buf = buf[-4096:]  # marks are short; keep a tail for ones split across reads
    return seen, cpu


def launch_once(home: Path, count: int, timeout: float = 120.0) -> dict:
    """One launch under a pty: seconds to the first screen and to the filled list."""
    list_mark = f"{count} notes".encode()
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "HF_HUB_OFFLINE": "1", "COLUMNS": str(COLS), "LINES": str(ROWS)}
    env.pop("JOURNAL_TUI_HOME", None)
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "journal_tui", "--home", str(home)], stdin=slave,
                            stdout=slave, stderr=slave, env=env, cwd=ROOT, start_new_session=True)
    os.close(slave)
    try:
        seen, cpu = _read_until(master, [FIRST_SCREEN_MARK, list_mark], start, start + timeout, proc.pid)
        os.write(master, b"\x11")  # ctrl+q
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        # drain so the child never blocks on a full pty
        while select.select([master], [], [], 0)[0]:
            try:
                if not os.read(master, 65536):
                    break
            except OSError:
                break
    finally:
        os.close(master)
    return {"first_screen_s": seen.get(FIRST_SCREEN_MARK), "list_ready_s": seen.get(list_mark),
            "first_screen_cpu_s": cpu.get(FIRST_SCREEN_MARK), "list_ready_cpu_s": cpu.get(list_mark),
            "exit_status": proc.returncode}


def import_time(repeat: int) -> dict:
    code = ("import time, sys; t = time.perf_counter(); import journal_tui.app.app; "
            "d = time.perf_counter() - t; heavy = [m for m in ('torch', 'transformers', 'peft', "
            "'bitsandbytes', 'datasets', 'accelerate') if m in sys.modules]; print(d, ','.join(heavy))")
    times, heavy = [], ""
    for _ in range(repeat):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
        t, _, heavy = out.stdout.strip().partition(" ")
        times.append(float(t))
    return {"import_app_s": round(statistics.median(times), 4), "model_libraries_imported": heavy.split(",") if heavy else []}


def filter_keystroke(home: Path, repeat: int) -> dict:
    """In-process and headless: after the scan, how long one search keystroke takes (filter
    every note's text and rebuild the day list), and clearing it again. Median seconds."""
    import asyncio

    from journal_tui.app.app import JournalApp
    from journal_tui.locations import Locations

    async def go() -> dict:
        app = JournalApp(Locations.resolve(home), watch=False)
        async with app.run_test(size=(COLS, ROWS)) as pilot:
            while not app.scanned:
                await app.workers.wait_for_complete()
                await pilot.pause()
            search = app.query_one("#search")
            typed, cleared = [], []
            for _ in range(repeat):
                with app.prevent(type(search).Changed):
                    search.value = "river coffee"
                t = time.perf_counter()
                app._apply_filter()
                typed.append(time.perf_counter() - t)
                with app.prevent(type(search).Changed):
                    search.value = ""
                t = time.perf_counter()
                app._apply_filter()
                cleared.append(time.perf_counter() - t)
            return {"search_keystroke_s": round(statistics.median(typed), 4),
                    "clear_search_s": round(statistics.median(cleared), 4)}

    return asyncio.run(go())


def _median(values: list) -> float | None:
    vals = [v for v in values if v is not None]
    return round(statistics.median(vals), 3) if vals else None


def run(counts: list[int], repeat: int) -> dict:
    results = {"benchmark": "startup", "date": dt.date.today().isoformat(),
               "machine": {"python": platform.python_version(), "platform": platform.platform(),
                           "cpus": os.cpu_count()},
               "method": "python -m journal_tui under a 120x36 pty; median of repeats; cold = first launch on a "
                         "fresh home (no notes index cache), warm = later launches",
               "target_first_screen_s": 0.5, "load_avg_1m_before": round(os.getloadavg()[0], 2),
               **import_time(repeat), "cases": []}
    for count in counts:
        tmp = Path(tempfile.mkdtemp(prefix=f"jt-startup-{count}-"))
        try:
            home = tmp / "home"
            generate_notes(home / "notes", count)
            cold = launch_once(home, count)
            warm = [launch_once(home, count) for _ in range(repeat)]
            case = {
                "notes": count,
                **filter_keystroke(home, repeat),
                "cold": cold,
                "warm_first_screen_s": _median([w["first_screen_s"] for w in warm]),
                "warm_list_ready_s": _median([w["list_ready_s"] for w in warm]),
                "warm_first_screen_cpu_s": _median([w["first_screen_cpu_s"] for w in warm]),
                "warm_list_ready_cpu_s": _median([w["list_ready_cpu_s"] for w in warm]),
                "warm_runs": warm,
            }
            results["cases"].append(case)
            print(json.dumps(case), file=sys.stderr)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    results["load_avg_1m_after"] = round(os.getloadavg()[0], 2)
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--counts", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = ap.parse_args(argv)
    results = run(args.counts, args.repeat)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{results['date']}-startup.json"
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
