"""A stand-in for ``python -m journal_tui`` in the app's job-runner tests (fast, no model).

It speaks the same JSON-lines protocol as the real train / draft commands and writes the same
files, so the app's side (workers, messages, cancel, crash handling, streaming) is tested in
milliseconds. The real commands are exercised by tests/test_app_ml_pilot.py.

Usage: ``fake_ml_cli.py --home H train --events jsonl`` | ``--home H draft --serve --events jsonl``
| ``--home H dataset build --json``. Behaviour via environment:
FAKE_TRAIN = ok | slow | error | crash;  FAKE_STEPS (default 6);  FAKE_TOKENS (default 40);
FAKE_TOKEN_DELAY (seconds between token events, default 0).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path


def emit(**obj) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def train(home: Path) -> int:
    mode = os.environ.get("FAKE_TRAIN", "ok")
    steps = int(os.environ.get("FAKE_STEPS", "6"))
    run_id = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}"
    run_dir = home / "runs" / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    log = open(run_dir / "events.jsonl", "w")
    stop = {"flag": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.__setitem__("flag", True))

    def ev(**obj):
        emit(**obj)
        log.write(json.dumps(obj) + "\n")
        log.flush()

    if mode == "error":
        ev(event="error", kind="model_missing", message="model /nope not found", hint="set [model] base in config.toml")
        return 2
    if mode == "crash":
        print("Traceback: something broke badly", file=sys.stderr)
        return 3
    ev(event="start", run_id=run_id, model="fake", quant="none", device="cpu", examples=4, max_length=64,
       total_steps=steps, trainable_params=123)
    ev(event="eval", step=0, eval_loss=3.0)
    for step in range(1, steps + 1):
        if stop["flag"]:
            ev(event="error", kind="cancelled", message=f"run {run_id} cancelled at step {step - 1}",
               hint=f"resume with journal-tui train --resume {run_id}")
            return 1
        ev(event="log", step=step, epoch=step / steps, loss=3.0 - 0.2 * step, learning_rate=2e-4, grad_norm=1.0,
           tokens_per_s=1000.0, peak_mem_gib=0.1, eta_s=(steps - step) * 0.1)
        if step % 2 == 0:
            ev(event="eval", step=step, eval_loss=3.0 - 0.15 * step)
        time.sleep(0.3 if mode == "slow" else 0.01)
    adapter = home / "adapters" / run_id
    adapter.mkdir(parents=True)
    log.close()
    os.replace(run_dir / "events.jsonl", adapter / "events.jsonl")
    run_dir.rmdir()
    best = 3.0 - 0.15 * (steps - steps % 2)
    (adapter / "manifest.json").write_text(json.dumps({"run_id": run_id, "best_eval_loss": best, "base_model": "fake"}))
    (home / "adapters" / "latest").write_text(run_id)
    done = dict(event="done", run_id=run_id, adapter_path=str(adapter), best_eval_loss=best, base_eval_loss=3.0)
    emit(**done)
    with open(adapter / "events.jsonl", "a") as f:
        f.write(json.dumps(done) + "\n")
    return 0


def serve(home: Path) -> int:
    import queue
    import threading

    n_tokens = int(os.environ.get("FAKE_TOKENS", "40"))
    delay = float(os.environ.get("FAKE_TOKEN_DELAY", "0"))
    latest = home / "adapters" / "latest"
    adapter = latest.read_text().strip() if latest.exists() else "none"
    requests: queue.Queue = queue.Queue()
    cancel = threading.Event()

    def read() -> None:  # like the real server: stop is honoured while a draft runs
        for line in sys.stdin:
            req = json.loads(line)
            if req["cmd"] == "stop":
                cancel.set()
            else:
                requests.put(req)
                if req["cmd"] == "quit":
                    cancel.set()
                    return
        requests.put({"cmd": "quit"})

    threading.Thread(target=read, daemon=True).start()
    emit(event="ready", model="fake-base", adapter=adapter, device="cpu", ready_s=0.01)
    while True:
        req = requests.get()
        if req["cmd"] == "quit":
            return 0
        cancel.clear()
        emit(event="start", date=req.get("date"), adapter=adapter, base="fake-base")
        words = []
        for i in range(n_tokens):
            if cancel.is_set():
                break
            words.append(f"word{i} ")
            emit(event="token", text=words[-1])
            time.sleep(delay)
        reason = "cancelled" if len(words) < n_tokens else "eos"
        emit(event="done", text="".join(words).strip(), finish_reason=reason, new_tokens=len(words),
             tokens_per_s=999.0, adapter=adapter, base="fake-base")


def main(argv: list[str]) -> int:
    home = Path(argv[argv.index("--home") + 1])
    rest = argv[argv.index("--home") + 2:]
    if rest[0] == "train":
        return train(home)
    if rest[0] == "draft":
        return serve(home)
    if rest[:2] == ["dataset", "build"]:
        (home / "datasets").mkdir(parents=True, exist_ok=True)
        (home / "datasets" / "manifest.json").write_text(json.dumps({"counts": {"pairs": 1, "train": 1}}))
        print(json.dumps({"counts": {"pairs": 1}}))
        return 0
    print(f"fake cli: unknown command {rest}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
