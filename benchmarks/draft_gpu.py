"""Drafting speed on one GPU: time to first token, steady tokens/s, peak memory, ready time.

Issue 7. A full-size Phi-2 (config from docs/gpu.md, random bf16 weights) is saved with
``save_pretrained`` and drafted through the product's own path: ``python -m journal_tui draft
--serve`` (resolve -> load -> adapter load/merge -> warm-up -> ``ready``), a random LoRA adapter
(r=32, alpha=64 on q,k,v,dense,fc1,fc2, non-zero B) saved in journal-tui's adapter format with a
manifest so the product's check + load + merge run, a day whose prompt is 100 tokens, 128 new
tokens per draft, batch 1. ``ignore_eos`` keeps every draft at exactly 128 tokens (random
weights would otherwise end anywhere).

Rows (each a fresh server process):
    seed-like          --quant nf4: NF4 base + unmerged adapter, eager decoding (the original recipe, int8 aside)
    bf16-merged-eager  --quant none --decoder eager: merged bf16, dynamic cache, no graph
    journal-tui        defaults: bf16 merged when it fits + static KV cache + CUDA-graph decode step

Measured per row: ``ready_s`` = wall time from launching the process to its ``ready`` line
(imports, load, merge, warm-up, graph capture); ``ttft_s`` = median over the drafts of the time
from writing the request to reading the first ``token`` event (client side: prompt build from
notes, tokenize, prefill, sampling, detokenize, pipe); ``tokens_per_s`` = median of the server's
steady decode rate ((n-1) / time from first to last token); ``peak_mem_gib`` = the largest
``torch.cuda.max_memory_allocated`` reported by ``done`` (peak stats are reset after loading).

The tokenizer is synthetic (byte-level BPE whose 51,200 ids decode to 1-3 printable ASCII
characters, EOS at id 50256), because no Phi-2 files are available offline; every id decodes to
valid text, so streaming is exercised on every token.

Usage:
    python benchmarks/draft_gpu.py               # on the H200: writes benchmarks/results/<date>-h200-draft.json
    python benchmarks/draft_gpu.py --smoke       # tiny config, CPU is fine: checks the script end to end
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PHI2 = dict(vocab_size=51200, hidden_size=2560, intermediate_size=10240, num_hidden_layers=32,
            num_attention_heads=32, num_key_value_heads=32, partial_rotary_factor=0.4,
            max_position_embeddings=2048, rope_theta=10000.0, layer_norm_eps=1e-5, hidden_act="gelu_new",
            resid_pdrop=0.1, embd_pdrop=0.0, attention_dropout=0.0, tie_word_embeddings=False,
            bos_token_id=50256, eos_token_id=50256)
TINY = {**PHI2, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 4}
EOS = "<|endoftext|>"
DAY = dt.date(2026, 11, 29)
RUN_ID = "20261129-000000-beef"
TARGETS = ["q_proj", "k_proj", "v_proj", "dense", "fc1", "fc2"]


# ---------------------------------------------------------------------------- building


def synthetic_tokenizer(vocab_size: int, eos_id: int):
    """Byte-level BPE with exactly ``vocab_size`` ids: 256 byte symbols, then all pairs and
    then triples of 95 printable symbols ('!'..'~' and the byte-level space 'Ġ'); EOS at eos_id."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    byte_syms = sorted(alphabet)
    printable = [chr(c) for c in range(33, 127)] + ["\u0120"]
    vocab: dict[str, int] = {}
    merges: list[tuple[str, str]] = []
    next_id = 0

    def add(tok):
        nonlocal next_id
        if next_id == eos_id:
            next_id += 1
        vocab[tok] = next_id
        next_id += 1

    for s in byte_syms:
        add(s)
    budget = vocab_size - 1  # EOS takes one id
    for a in printable:
        for b in printable:
            if len(vocab) >= budget:
                break
            add(a + b)
            merges.append((a, b))
    for a in printable:
        for b in printable:
            for c in printable:
                if len(vocab) >= budget:
                    break
                add(a + b + c)
                merges.append((a + b, c))
    vocab[EOS] = eos_id
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(EOS, special=True)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=EOS, eos_token=EOS, unk_token=EOS)


def build(work: Path, smoke: bool) -> None:
    """Model folder, home with a 100-token-prompt day and a random adapter (runs in a child
    process so the benchmark's parent holds no GPU memory)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import PhiConfig, PhiForCausalLM

    from journal_tui.dataset import template
    from journal_tui.locations import Locations
    from journal_tui.notes.store import NoteStore
    from journal_tui.training.models import resolve_model_source

    cfg = PhiConfig(**(TINY if smoke else PHI2))
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model_dir, home = work / "phi2-random", work / "home"
    tok = synthetic_tokenizer(cfg.vocab_size, cfg.eos_token_id)
    assert len(tok) == cfg.vocab_size and tok.eos_token_id == cfg.eos_token_id
    torch.manual_seed(0)
    with torch.device(device):
        model = PhiForCausalLM(cfg).to(torch.bfloat16)
    model.save_pretrained(model_dir)
    tok.save_pretrained(model_dir)

    # a day whose prompt is exactly 100 tokens
    words = ("walked to the office early then lunch with sam about the move and the flat "
             "read two chapters slept badly woke at five ").split() * 20
    note = ""
    for w in words:
        cand = (note + " " + w).strip()
        prompt = template.render_pair_prompt(DAY, [template.TimedText(dt.time(9, 15), cand)])
        if len(tok(prompt, add_special_tokens=False)["input_ids"]) > 100:
            break
        note = cand
    while len(tok(template.render_pair_prompt(DAY, [template.TimedText(dt.time(9, 15), note + "x")]),
                  add_special_tokens=False)["input_ids"]) <= 100:
        note += "x"
    prompt_tokens = len(tok(template.render_pair_prompt(DAY, [template.TimedText(dt.time(9, 15), note)]),
                            add_special_tokens=False)["input_ids"])
    locs = Locations.resolve(home)
    NoteStore.from_locations(locs).add(note, day=DAY, created=dt.datetime.combine(DAY, dt.time(9, 15)).astimezone())

    lcfg = LoraConfig(r=32, lora_alpha=64, target_modules=TARGETS, init_lora_weights=False, task_type="CAUSAL_LM")
    peft_model = get_peft_model(model, lcfg)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.01)
    out = Path(locs.adapters) / RUN_ID
    peft_model.save_pretrained(out)
    identity = resolve_model_source(str(model_dir), locs).identity()
    manifest = {"run_id": RUN_ID, "created": dt.datetime.now(dt.timezone.utc).isoformat(), "base_model": identity,
                "quant": "nf4", "template_version": template.TEMPLATE_VERSION,
                "lora": {"r": 32, "alpha": 64, "dropout": 0.0, "target_modules": TARGETS}}
    (out / "manifest.json").write_text(json.dumps(manifest))
    (Path(locs.adapters) / "latest").write_text(RUN_ID + "\n")
    check = check_fast_path(peft_model.merge_and_unload(), device)
    print(f"fast-path check: {check}", flush=True)
    (work / "build.json").write_text(json.dumps({"prompt_tokens": prompt_tokens, "device": device, "check": check}))


def check_fast_path(model, device: str) -> dict:
    """Feed the same tokens to the eager decoder and to the static-cache decoder (with its CUDA
    graph on a GPU); report the worst relative L2 error of the logits and whether greedy picks
    agree (bf16: expect ~1e-3..1e-2)."""
    import torch

    from journal_tui.drafting.decoders import EagerDecoder, StaticDecoder

    model.eval()
    eager = EagerDecoder(model)
    fast = StaticDecoder(model, 256, cuda_graph=device == "cuda")
    fast.warmup()
    g = torch.Generator().manual_seed(1)
    worst, agree, total = 0.0, 0, 0
    for _ in range(2):  # twice: the second draft must not see the first one's cache
        prompt = torch.randint(0, model.config.vocab_size, (50,), generator=g).tolist()
        pairs = [(eager.prefill(prompt), fast.prefill(prompt))]
        for t in torch.randint(0, model.config.vocab_size, (20,), generator=g).tolist():
            pairs.append((eager.step(t), fast.step(t).clone()))
        for a, b in pairs:
            worst = max(worst, float((a - b).norm() / a.norm()))
            agree += int(a.argmax() == b.argmax())
            total += 1
    return {"decoder": fast.name, "max_rel_l2": worst, "argmax_agree": f"{agree}/{total}"}


# ---------------------------------------------------------------------------- measuring


def run_row(name: str, work: Path, flags: list[str], drafts: int, new_tokens: int, log) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1", "TOKENIZERS_PARALLELISM": "false"}
    cmd = [sys.executable, "-m", "journal_tui", "--home", str(work / "home"), "draft", "--serve",
           "--model", str(work / "phi2-random"), *flags]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, env=env,
                            cwd=ROOT)

    def event():
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{name}: server exited ({proc.wait()}); see the log")
        return json.loads(line)

    ready = event()
    ready_s = time.perf_counter() - t0
    if ready["event"] != "ready":
        raise RuntimeError(f"{name}: {ready}")
    ttfts, rates, peaks, firsts = [], [], [], []
    for i in range(drafts):
        t_send = time.perf_counter()
        proc.stdin.write(json.dumps({"cmd": "draft", "date": DAY.isoformat(), "max_new_tokens": new_tokens,
                                     "seed": i, "ignore_eos": True}) + "\n")
        proc.stdin.flush()
        t_first = None
        while True:
            ev = event()
            if ev["event"] == "token" and t_first is None:
                t_first = time.perf_counter()
            if ev["event"] == "error":
                raise RuntimeError(f"{name}: {ev}")
            if ev["event"] == "done":
                break
        assert ev["new_tokens"] == new_tokens, ev
        ttfts.append(t_first - t_send)
        rates.append(ev["tokens_per_s"])
        peaks.append(ev.get("peak_mem_gib") or 0.0)
        firsts.append(ev["ttft_s"])
    proc.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
    proc.stdin.flush()
    proc.wait(timeout=120)
    return {
        "name": name,
        "tokens_per_s": round(statistics.median(rates), 1),
        "ttft_s": round(statistics.median(ttfts), 4),
        "ready_s": round(ready_s, 2),
        "peak_mem_gib": round(max(peaks), 2),
        "server_ready_s": ready["ready_s"],
        "server_timings_s": ready.get("timings"),
        "server_ttft_s": round(statistics.median(firsts), 4),
        "ttft_first_draft_s": round(ttfts[0], 4),
        "tokens_per_s_all": rates,
        "quant": ready.get("quant"),
        "merged": ready.get("merged"),
        "decoder": ready.get("decoder"),
        "plan": ready.get("plan"),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="tiny config (CPU is fine): check the script only")
    ap.add_argument("--drafts", type=int, default=4, help="drafts per row (default 4)")
    ap.add_argument("--new-tokens", type=int, default=128)
    ap.add_argument("--rows", default="journal-tui,bf16-merged-eager,seed-like")
    ap.add_argument("--out", type=Path, help="results folder (default benchmarks/results; smoke: a temp folder)")
    ap.add_argument("--build", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.build:
        build(args.build, args.smoke)
        return 0

    import torch  # device name only; no CUDA context is created by this

    cuda = torch.cuda.is_available()
    device = torch.cuda.get_device_name(0) if cuda else "cpu"
    work = Path(tempfile.mkdtemp(prefix="jt-draft-bench-"))
    t = time.perf_counter()
    subprocess.run([sys.executable, __file__, "--build", str(work)] + (["--smoke"] if args.smoke else []),
                   check=True, cwd=ROOT)
    built = json.loads((work / "build.json").read_text())
    print(f"built model, home and adapter in {time.perf_counter() - t:.1f}s; prompt {built['prompt_tokens']} tokens",
          flush=True)
    flags = {
        "journal-tui": [],
        "bf16-merged-eager": ["--quant", "none", "--decoder", "eager"],
        "static-no-graph": ["--quant", "none", "--decoder", "static"],
        "seed-like": ["--quant", "nf4"],
    }
    if not cuda:  # CPU smoke: no NF4, no graphs; run the same code paths that exist on the CPU
        flags = {"journal-tui": [], "bf16-merged-eager": ["--decoder", "eager"], "static-no-graph": ["--decoder", "static"],
                 "seed-like": ["--decoder", "eager"]}
    rows = []
    log_path = work / "servers.log"
    with open(log_path, "w") as log:
        for name in args.rows.split(","):
            t = time.perf_counter()
            try:
                rows.append(run_row(name, work, flags[name], args.drafts, args.new_tokens, log))
            except Exception as e:  # keep the other rows; the log has the server's stderr
                print(f"{name}: FAILED {e}", flush=True)
                continue
            print(f"{name}: {rows[-1]['tokens_per_s']} tok/s ({time.perf_counter() - t:.0f}s)", flush=True)
    result = {
        "device": device,
        "date": dt.date.today().isoformat(),
        "setup": {"model": "Phi-2 config, random bf16 weights" if not args.smoke else "tiny Phi (smoke)",
                  "prompt_tokens": built["prompt_tokens"], "new_tokens": args.new_tokens, "batch": 1,
                  "drafts_per_row": args.drafts, "fast_path_check": built.get("check"), "adapter": "LoRA r=32 alpha=64 " + ",".join(TARGETS),
                  "sampling": "temperature 0.7, top_p 0.9, repetition_penalty 1.1 (config defaults)",
                  "torch": torch.__version__, "transformers": __import__("transformers").__version__},
        "rows": rows,
    }
    out_dir = args.out or (work if args.smoke else ROOT / "benchmarks" / "results")
    out_dir.mkdir(parents=True, exist_ok=True)
    if args.out:
        import shutil

        shutil.copy(log_path, args.out / "servers.log")
    name = f"{result['date']}-{'smoke' if args.smoke else 'h200'}-draft.json"
    (out_dir / name).write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {out_dir / name}")
    print(f"{'row':<20}{'tokens/s':>10}{'ttft s':>9}{'ready s':>9}{'peak GiB':>10}  path")
    for r in rows:
        print(f"{r['name']:<20}{r['tokens_per_s']:>10}{r['ttft_s']:>9}{r['ready_s']:>9}{r['peak_mem_gib']:>10}  "
              f"{r['quant']}/{r['decoder']}{'/merged' if r['merged'] else ''}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
