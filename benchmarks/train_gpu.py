"""GPU training benchmark (issue 6): the original recipe vs journal-tui's own training path.

Run on the H200 (see benchmarks/NOTES.md for the command); ``--smoke`` runs the same code on the
CPU with a tiny Phi so a device call does not fail on a typo.

What it does, in one run:

1. Builds Phi-2's full config (../shared/docs/gpu.md) with random weights, saves it with a
   byte-level BPE tokenizer to ``--model-dir`` (so the real ``from_pretrained`` +
   BitsAndBytesConfig path is exercised).
2. Generates journal-like examples: lengths lognormal (median 180 tokens, sigma 0.6) clipped to
   32..512, 40% prompt / 60% labelled output; ~100k tokens (a year of daily journaling).
3. Rows, each in its own child process (so peak memory and allocator state are per row):
   * ``original``: int8 (LLM.int8()), every example padded to 512, batch 2, gradient
     checkpointing, paged 8-bit AdamW, HF forward with ``labels`` (full logits), fp32
     layer norms / head as ``prepare_model_for_kbit_training`` leaves them.
   * ``auto`` and ``low-memory``: journal-tui's own code -- ``models.load_base_model`` (NF4),
     ``memory.plan_memory``, ``lora.apply_lora``, ``data.plan_steps`` / ``collate`` and
     ``step.Stepper`` (chunked loss, token-weighted accumulation, fused AdamW).
   Timing: ``torch.cuda.synchronize()`` around ``--steps`` timed steps after ``--warmup``
   steps; peak = ``max_memory_allocated`` after ``reset_peak_memory_stats`` once the model and
   adapter are loaded. Real tokens = non-pad tokens.
4. ``journal-tui train --events jsonl`` through the CLI on a home holding ~100k tokens, 3
   epochs, NF4 (issue 4's end-to-end proof; its wall time, load included, is the full-retrain
   figure).

Writes ``OUT/<date>-h200-train.json`` (``{"device", "rows": [{"name", "real_tokens_per_s",
"peak_mem_gib", "padding_fraction", "ratio_to_original", ...}], "full_retrain": {...}}``),
``OUT/train-cli-events.jsonl`` and prints a table last.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EOS = "<|endoftext|>"
PHI2 = dict(
    vocab_size=51200, hidden_size=2560, intermediate_size=10240, num_hidden_layers=32, num_attention_heads=32,
    num_key_value_heads=32, partial_rotary_factor=0.4, max_position_embeddings=2048, rope_theta=10000.0,
    layer_norm_eps=1e-5, hidden_act="gelu_new", resid_pdrop=0.1, embd_pdrop=0.0, attention_dropout=0.0,
    tie_word_embeddings=False, bos_token_id=50256, eos_token_id=50256,
)
TINY = dict(PHI2, vocab_size=1024, hidden_size=64, intermediate_size=256, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=4, bos_token_id=0, eos_token_id=0)
SYLLABLES = "ka lo mi ne ru sa to vi wen dor fal gri hum ist jol kar lum mor nor pel quin ras sel tur".split()


def words(rng: random.Random, n: int) -> str:
    out = []
    for i in range(n):
        w = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 3)))
        out.append(w + ("." if rng.random() < 0.08 else ""))
    return " ".join(out)


def build_model(model_dir: Path, smoke: bool) -> None:
    """Random-weight Phi-2 (or tiny) + a byte-level BPE tokenizer whose EOS id matches."""
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PhiConfig, PhiForCausalLM, PreTrainedTokenizerFast

    if (model_dir / "config.json").exists():
        return
    model_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(0)
    bpe = ByteLevelBPETokenizer()
    corpus = [words(rng, 60) for _ in range(400)]
    bpe.train_from_iterator(corpus, vocab_size=800, min_frequency=1, special_tokens=[EOS], show_progress=False)
    tok = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, bos_token=EOS, eos_token=EOS, unk_token=EOS)
    tok.save_pretrained(model_dir)
    cfg = dict(TINY if smoke else PHI2)
    cfg["bos_token_id"] = cfg["eos_token_id"] = tok.eos_token_id  # 0 here; ids stay < vocab
    torch.manual_seed(0)
    device = "cpu" if smoke else "cuda"
    with torch.device(device):
        model = PhiForCausalLM(PhiConfig(**cfg)).to(torch.bfloat16 if not smoke else torch.float32)
    model.save_pretrained(model_dir)
    del model


def synthetic_examples(total_tokens: int, vocab: int, seed: int = 0):
    """Journal-like token examples: lognormal lengths (median 180, sigma 0.6) clipped to 32..512."""
    from journal_tui.training.data import Example

    rng = random.Random(seed)
    out, n = [], 0
    while n < total_tokens:
        length = int(min(512, max(32, rng.lognormvariate(math.log(180), 0.6))))
        ids = [rng.randrange(1, vocab) for _ in range(length)]
        ids[-1] = 0  # stands for EOS; any id works for timing
        out.append(Example(ids, int(length * 0.4), f"s{len(out)}"))
        n += length
    return out


def cuda_peak_reset(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def sync(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()


def row_original(model_dir: Path, examples, steps: int, warmup: int, smoke: bool) -> dict:
    import torch
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    from journal_tui.training.data import collate
    from journal_tui.training.models import ModelSource, load_base_model

    device = "cpu" if smoke else "cuda"
    source = ModelSource(str(model_dir), "folder", model_dir, str(model_dir))
    model = load_base_model(source, quant="none" if smoke else "int8", device=device)
    if not smoke:
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=True,
                                                gradient_checkpointing_kwargs={"use_reentrant": True})
    model.config.use_cache = False
    model = get_peft_model(model, LoraConfig(r=32, lora_alpha=64, lora_dropout=0.05, task_type="CAUSAL_LM",
                                             target_modules=["q_proj", "k_proj", "v_proj", "dense", "fc1", "fc2"]))
    params = [p for p in model.parameters() if p.requires_grad]
    if smoke:
        opt = torch.optim.AdamW(params, lr=2e-4)
    else:
        import bitsandbytes as bnb

        opt = bnb.optim.PagedAdamW8bit(params, lr=2e-4)
    model.train()
    pad = 0
    rng = random.Random(1)
    order = list(range(len(examples)))
    rng.shuffle(order)
    batches = [order[i : i + 2] for i in range(0, len(order), 2)]
    cuda_peak_reset(device)
    real = padded = 0
    t = 0.0
    for k in range(warmup + steps):
        exs = [examples[i] for i in batches[k % len(batches)]]
        batch = collate(exs, pad, device=device)
        n = batch["input_ids"].shape[1]
        if n < 512:  # pad to 512 as the original recipe did
            padn = 512 - n
            batch = {
                "input_ids": torch.nn.functional.pad(batch["input_ids"], (0, padn), value=pad),
                "attention_mask": torch.nn.functional.pad(batch["attention_mask"], (0, padn), value=0),
                "labels": torch.nn.functional.pad(batch["labels"], (0, padn), value=-100),
            }
        if k == warmup:
            sync(device)
            t0 = time.perf_counter()
        ctx = torch.autocast("cuda", dtype=torch.bfloat16) if device == "cuda" else torch.autocast("cpu", enabled=False)
        with ctx:
            loss = model(**batch).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if k >= warmup:
            real += sum(len(e) for e in exs)
            padded += 2 * 512
    sync(device)
    t = time.perf_counter() - t0
    return {"name": "original", "real_tokens_per_s": real / t, "padding_fraction": 1 - real / padded,
            "step_time_s": t / steps, "peak_mem_gib": peak(device), "timed_steps": steps,
            "recipe": "int8, pad to 512, batch 2, gradient checkpointing, paged 8-bit AdamW, full logits"}


def peak(device: str) -> float:
    import torch

    return torch.cuda.max_memory_allocated() / 1024**3 if device == "cuda" else float("nan")


def row_product(name: str, model_dir: Path, examples, steps: int, warmup: int, smoke: bool, out: Path | None = None) -> dict:
    """journal-tui's own path: the same calls run_training makes. ``name`` is a profile, or
    ``auto-mbN`` (diagnostic: auto with N-token micro-batches and optimizer steps), or
    ``auto-prof`` (auto, then a torch.profiler table of 2 steps written to ``out``)."""
    profile = "low-memory" if name == "low-memory" else "auto"
    forced = int(name.split("-mb")[1]) if "-mb" in name else None
    import torch
    from transformers import get_cosine_schedule_with_warmup

    from journal_tui.training import data, memory
    from journal_tui.training.lora import apply_lora, estimate_lora_params
    from journal_tui.training.models import ModelSource, load_base_model
    from journal_tui.training.step import Stepper

    device = "cpu" if smoke else "cuda"
    source = ModelSource(str(model_dir), "folder", model_dir, str(model_dir))
    memory.apply_memory_cap(profile, device)
    model = load_base_model(source, quant="none" if smoke else "nf4", device=device)
    lengths = [len(e) for e in examples]
    max_length = data.choose_max_length(lengths, 2048)
    examples, _ = data.fit_to_length(examples, max_length)
    lengths = [len(e) for e in examples]
    lora_params = estimate_lora_params(model, None, 32)
    static = (torch.cuda.memory_allocated() if device == "cuda" else 0) + 16 * lora_params
    free = torch.cuda.mem_get_info()[0] if device == "cuda" else None
    plan = memory.plan_memory(profile, device, model.config, max_length=max_length, total_tokens=sum(lengths),
                              free_bytes=free, static_bytes=static, token_budget=forced, step_tokens=forced)
    model, trainable, _, _ = apply_lora(model, quant="none" if smoke else "nf4", r=32, alpha=64,
                                        gradient_checkpointing=plan.gradient_checkpointing)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=2e-4, fused=device == "cuda")
    plan_steps = data.plan_steps(lengths, plan.token_budget, seed=0, epochs=3, grad_accum=plan.grad_accum)
    sched = get_cosine_schedule_with_warmup(opt, 2, len(plan_steps))
    stepper = Stepper(model, opt, sched, examples, 0, device, loss_chunk=plan.loss_chunk)
    cuda_peak_reset(device)
    real = padded = 0
    for k in range(warmup + steps):
        if k == warmup:
            sync(device)
            t0 = time.perf_counter()
        res = stepper.step(plan_steps[k % len(plan_steps)])
        if k >= warmup:
            real += res.real_tokens
            padded += res.padded_tokens
    sync(device)
    t = time.perf_counter() - t0
    if name == "auto-prof" and out is not None:
        from torch.profiler import ProfilerActivity, profile as tprofile

        acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device == "cuda" else [])
        with tprofile(activities=acts) as prof:
            for k in range(2):
                stepper.step(plan_steps[k])
            sync(device)
        key = "cuda_time_total" if device == "cuda" else "cpu_time_total"
        (out / "profile-auto.txt").write_text(prof.key_averages().table(sort_by=key, row_limit=40, max_name_column_width=70))
    return {"name": name, "real_tokens_per_s": real / t, "padding_fraction": 1 - real / padded,
            "step_time_s": t / steps, "peak_mem_gib": peak(device), "timed_steps": steps,
            "tokens_per_step": real / steps, "plan": plan.to_json(), "trainable_params": trainable,
            "split": stepper.split}


def write_home(home: Path, model_dir: Path, total_tokens: int) -> int:
    """A journal-tui home whose datasets hold ~total_tokens training tokens (voice-entry rows)."""
    from journal_tui.dataset import template as T
    from journal_tui.training.models import ModelSource, load_tokenizer

    tok = load_tokenizer(ModelSource(str(model_dir), "folder", model_dir, str(model_dir)))
    rng = random.Random(2)
    (home / "datasets").mkdir(parents=True, exist_ok=True)
    rows, n, day = [], 0, dt.date(2025, 1, 1)
    while n < total_tokens * 1.1:
        length = int(min(512, max(32, rng.lognormvariate(math.log(180), 0.6))))
        text = words(rng, max(4, int(length / 2.2)))
        prompt = T.render_pair_prompt(day, [])
        rows.append({"id": f"r{len(rows)}", "date": day.isoformat(), "kind": "voice-entry", "input": prompt,
                     "output": T.render_output(text), "sources": [], "template_version": T.TEMPLATE_VERSION})
        n += len(tok(prompt + text, add_special_tokens=False)["input_ids"]) + 1
        day += dt.timedelta(days=1)
    k = len(rows) // 11
    for name, part in (("train.jsonl", rows[k:]), ("eval.jsonl", rows[:k])):
        (home / "datasets" / name).write_text("".join(json.dumps(r) + "\n" for r in part), encoding="utf-8")
    return int(n * (len(rows) - k) / len(rows))


def run_cli(model_dir: Path, out: Path, smoke: bool, total_tokens: int) -> dict:
    home = Path("/tmp/jt-bench-home")
    import shutil

    shutil.rmtree(home, ignore_errors=True)
    train_tokens = write_home(home, model_dir, total_tokens)
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    cmd = [sys.executable, "-m", "journal_tui", "--home", str(home), "train", "--events", "jsonl",
           "--model", str(model_dir), "--epochs", "3"]
    if smoke:
        cmd += ["--quant", "none"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    events = []
    with open(out / "train-cli-events.jsonl", "w") as f:
        for line in proc.stdout:
            f.write(line)
            events.append(json.loads(line))  # stdout must be JSON only
            ev = events[-1]
            if ev["event"] in ("start", "eval", "done", "error", "warning"):
                print("  cli:", json.dumps({k: v for k, v in ev.items() if k not in ("target_modules",)})[:300], flush=True)
    err = proc.stderr.read()
    rc = proc.wait()
    wall = time.perf_counter() - t0
    (out / "train-cli-stderr.txt").write_text(err[-20000:])
    logs = [e for e in events if e["event"] == "log"]
    done = next((e for e in events if e["event"] == "done"), None)
    adapter_files = sorted(os.listdir(done["adapter_path"])) if done else []
    return {"exit": rc, "wall_s_load_included": wall, "train_tokens_per_epoch": train_tokens, "epochs": 3,
            "events": {k: sum(1 for e in events if e["event"] == k) for k in {e["event"] for e in events}},
            "start": next((e for e in events if e["event"] == "start"), None), "done": done,
            "last_log": logs[-1] if logs else None, "adapter_files": adapter_files}


def child(args) -> None:
    model_dir = Path(args.model_dir)
    vocab = (TINY if args.smoke else PHI2)["vocab_size"]
    examples = synthetic_examples(args.tokens, vocab)
    if args.row == "original":
        res = row_original(model_dir, examples, args.steps_original, args.warmup, args.smoke)
    else:
        res = row_product(args.row, model_dir, examples, args.steps, args.warmup, args.smoke, Path(args.out))
    print("ROW " + json.dumps(res), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--smoke", action="store_true", help="tiny Phi on the CPU (checks the script, no real numbers)")
    ap.add_argument("--out", default=os.environ.get("OUT", "benchmarks/results"))
    ap.add_argument("--model-dir", default="/tmp/phi2")
    ap.add_argument("--tokens", type=int, default=100_000, help="training tokens per epoch")
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--steps-original", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--rows", default="original,auto,low-memory,cli")
    ap.add_argument("--row", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.row:
        return child(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    build_model(Path(args.model_dir), args.smoke)
    print(f"model ready in {time.perf_counter() - t0:.1f}s", flush=True)
    import torch

    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    rows, full = [], None
    for name in args.rows.split(","):
        if name == "cli":
            full = run_cli(Path(args.model_dir), out, args.smoke, args.tokens)
            print("  cli:", json.dumps({k: full[k] for k in ("exit", "wall_s_load_included", "events")}), flush=True)
            continue
        cmd = [sys.executable, __file__, "--row", name, "--model-dir", args.model_dir, "--tokens", str(args.tokens),
               "--steps", str(args.steps), "--steps-original", str(args.steps_original), "--warmup", str(args.warmup),
               "--out", str(out)]
        if args.smoke:
            cmd.append("--smoke")
        ts = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        with open(out / "rows.log", "a") as f:
            f.write(f"===== {name} (exit {proc.returncode})\n" + (proc.stdout + proc.stderr)[-20000:] + "\n")
        line = next((l for l in proc.stdout.splitlines() if l.startswith("ROW ")), None)
        if line is None:
            print(f"row {name} FAILED (exit {proc.returncode}):\n{proc.stderr[-3000:]}", flush=True)
            rows.append({"name": name, "error": proc.stderr[-500:]})
            continue
        row = json.loads(line[4:])
        row["row_wall_s"] = time.perf_counter() - ts
        row["diagnostic"] = name not in ("original", "auto", "low-memory")
        rows.append(row)
        print(f"  {name}: {row['real_tokens_per_s']:.0f} tok/s, peak {row['peak_mem_gib']:.2f} GiB", flush=True)
    base = next((r["real_tokens_per_s"] for r in rows if r["name"] == "original" and "error" not in r), None)
    for r in rows:
        if base and "real_tokens_per_s" in r:
            r["ratio_to_original"] = r["real_tokens_per_s"] / base
    result = {"device": device, "date": dt.date.today().isoformat(), "smoke": args.smoke,
              "versions": {"torch": torch.__version__}, "tokens_per_epoch": args.tokens, "rows": rows,
              "full_retrain": full}
    name = f"{dt.date.today().isoformat()}-{'smoke' if args.smoke else 'h200'}-train.json"
    (out / name).write_text(json.dumps(result, indent=2))
    print(f"\nwrote {out / name}\n")
    print(f"{'row':<12}{'real tok/s':>12}{'ratio':>8}{'pad frac':>10}{'peak GiB':>10}{'step s':>9}")
    for r in rows:
        if "error" in r:
            print(f"{r['name']:<12} FAILED")
            continue
        print(f"{r['name']:<12}{r['real_tokens_per_s']:>12.0f}{r.get('ratio_to_original', float('nan')):>8.2f}"
              f"{r['padding_fraction']:>10.3f}{r['peak_mem_gib']:>10.2f}{r['step_time_s']:>9.3f}")
    if full:
        d = full.get("done") or {}
        print(f"full retrain ({full['train_tokens_per_epoch']} tokens x 3 epochs, load included): "
              f"{full['wall_s_load_included']:.1f}s, exit {full['exit']}, eval_loss {d.get('base_eval_loss')} -> "
              f"{d.get('best_eval_loss')}, train tok/s {d.get('tokens_per_s')}")


if __name__ == "__main__":
    main()
