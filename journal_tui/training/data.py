"""Training data: read the dataset, tokenize, choose max_length, batch under a token budget, collate.

Reads ``home/datasets/{train,eval}.jsonl`` as plain JSON lines (no ``datasets`` import: the
GPU image lacks it). Each row's ``input`` (the prompt from ``dataset/template.py``) and
``output`` (the target) are tokenized separately with no special tokens, concatenated, and the
EOS id is appended. Labels are -100 over the prompt and equal the ids over output + EOS; they are
built here, never by ``DataCollatorForLanguageModeling`` (which masks every pad id, and so the
EOS when pad == eos).

``max_length`` is the 95th percentile (nearest rank) of the tokenized lengths, capped by the
model's ``max_position_embeddings``. Longer examples lose the start of their prompt (output + EOS
kept); an example whose output + EOS alone does not fit with one prompt token is dropped.

Batches are length-grouped micro-batches under a token budget: the padded size
``len(batch) * longest`` of a micro-batch stays within ``token_budget``. Nothing is ever padded
to ``max_length``. Examples are shuffled into chunks of 64 micro-batches' worth, sorted by length
inside a chunk, cut into micro-batches, and the micro-batches shuffled (the "length-grouped
sampler" idea of HF's ``group_by_length``, with a token budget instead of a fixed batch size).
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from pathlib import Path

from journal_tui.training.errors import BadDatasetError

_HINT = "Run `journal-tui dataset build` (it writes datasets/train.jsonl and eval.jsonl from your notes)."


@dataclass
class Example:
    """One tokenized example: ``ids`` = prompt ids + output ids + EOS; ``prompt_len`` ids carry
    no loss. ``id`` is the dataset row id."""

    ids: list[int]
    prompt_len: int
    id: str = ""

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def label_count(self) -> int:
        return len(self.ids) - self.prompt_len


def read_jsonl(path: Path) -> list[dict]:
    """Rows of a dataset JSONL file.

    Raises:
        BadDatasetError: missing file, a line that is not a JSON object, or a row without string
            ``input`` / ``output`` (the message names file and line).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadDatasetError(f"{path}: not found", _HINT) from None
    except (OSError, UnicodeDecodeError) as e:
        raise BadDatasetError(f"{path}: unreadable ({e})", _HINT) from e
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise BadDatasetError(f"{path}:{n}: not JSON ({e.msg})", _HINT) from e
        if not isinstance(row, dict) or not isinstance(row.get("input"), str) or not isinstance(row.get("output"), str):
            raise BadDatasetError(f"{path}:{n}: a row needs string fields 'input' and 'output'", _HINT)
        rows.append(row)
    return rows


def load_rows(datasets_dir: Path) -> tuple[list[dict], list[dict]]:
    """(train rows, eval rows) from ``datasets_dir``.

    Raises:
        BadDatasetError: a file is missing or bad, or either split is empty.
    """
    train = read_jsonl(Path(datasets_dir) / "train.jsonl")
    evals = read_jsonl(Path(datasets_dir) / "eval.jsonl")
    if not train:
        raise BadDatasetError(f"{Path(datasets_dir) / 'train.jsonl'}: no examples", _HINT)
    if not evals:
        raise BadDatasetError(
            f"{Path(datasets_dir) / 'eval.jsonl'}: no examples (eval loss is what keeps the best adapter)",
            "Write notes on at least two days (one is held out for eval_loss), then `journal-tui dataset build`.",
        )
    return train, evals


def tokenize_rows(rows: list[dict], tokenizer) -> list[Example]:
    """Tokenize ``input`` and ``output`` separately (no special tokens), append EOS."""
    eos = tokenizer.eos_token_id
    if eos is None:
        raise ValueError("tokenizer has no eos_token_id")
    inputs = tokenizer([r["input"] for r in rows], add_special_tokens=False)["input_ids"]
    outputs = tokenizer([r["output"] for r in rows], add_special_tokens=False)["input_ids"]
    return [
        Example(list(p) + list(o) + [eos], len(p), str(r.get("id", i)))
        for i, (r, p, o) in enumerate(zip(rows, inputs, outputs))
    ]


def choose_max_length(lengths: list[int], cap: int | None, *, percentile: float = 95.0) -> int:
    """The ``percentile`` (nearest-rank) of ``lengths``, at most ``cap``, at least 8."""
    if not lengths:
        raise ValueError("no lengths")
    s = sorted(lengths)
    rank = max(1, math.ceil(percentile / 100.0 * len(s)))
    value = s[rank - 1]
    if cap:
        value = min(value, int(cap))
    return max(8, int(value))


def fit_to_length(examples: list[Example], max_length: int) -> tuple[list[Example], dict]:
    """Cut prompts so every example fits ``max_length``; drop those whose output + EOS needs
    more than ``max_length - 1`` tokens.

    Returns:
        (kept examples, {"truncated": n, "dropped": n})
    """
    kept, truncated, dropped = [], 0, 0
    for ex in examples:
        if len(ex) <= max_length:
            kept.append(ex)
            continue
        out_len = ex.label_count
        if out_len + 1 > max_length:
            dropped += 1
            continue
        keep_prompt = max_length - out_len
        ids = ex.ids[ex.prompt_len - keep_prompt : ex.prompt_len] + ex.ids[ex.prompt_len :]
        kept.append(Example(ids, keep_prompt, ex.id))
        truncated += 1
    return kept, {"truncated": truncated, "dropped": dropped}


def length_grouped_batches(
    lengths: list[int], token_budget: int, *, seed: int, shuffle: bool = True, chunk_batches: int = 64
) -> list[list[int]]:
    """Indices grouped into micro-batches whose padded size (count x longest) <= ``token_budget``.

    A single example longer than the budget forms a micro-batch alone. Deterministic for a given
    ``seed``. ``shuffle=False`` sorts everything by length (eval).
    """
    if token_budget < 1:
        raise ValueError("token_budget must be >= 1")
    rng = random.Random(seed)
    order = list(range(len(lengths)))
    if shuffle:
        rng.shuffle(order)
        mean = max(1, sum(lengths) // max(1, len(lengths)))
        chunk = max(1, chunk_batches * max(1, token_budget // mean))
        chunks = [order[i : i + chunk] for i in range(0, len(order), chunk)]
    else:
        chunks = [order]
    batches: list[list[int]] = []
    for c in chunks:
        c.sort(key=lambda i: lengths[i], reverse=True)
        cur: list[int] = []
        longest = 0
        for i in c:
            new_longest = max(longest, lengths[i])
            if cur and new_longest * (len(cur) + 1) > token_budget:
                batches.append(cur)
                cur, longest = [], 0
                new_longest = lengths[i]
            cur.append(i)
            longest = new_longest
        if cur:
            batches.append(cur)
    if shuffle:
        rng.shuffle(batches)
    return batches


def plan_steps(
    lengths: list[int],
    token_budget: int,
    *,
    seed: int,
    epochs: float,
    grad_accum: int = 1,
    max_steps: int | None = None,
) -> list[list[list[int]]]:
    """The whole run's data order: a list of optimizer steps, each a list of micro-batches
    (lists of example indices). Epoch ``e`` uses seed ``seed + e``. With ``max_steps`` the epochs
    repeat until that many steps exist; otherwise ``ceil(epochs)`` epochs are planned and cut at
    ``epochs`` (fractional epochs allowed)."""
    steps: list[list[list[int]]] = []
    epoch = 0
    want_steps = max_steps
    while True:
        batches = length_grouped_batches(lengths, token_budget, seed=seed + epoch)
        per_epoch = [batches[i : i + grad_accum] for i in range(0, len(batches), grad_accum)]
        if want_steps is None:
            want_steps = max(1, round(len(per_epoch) * epochs))
        steps.extend(per_epoch)
        epoch += 1
        if len(steps) >= want_steps:
            return steps[:want_steps]


def collate(examples: list[Example], pad_id: int, *, device=None) -> dict:
    """Right-pad ``examples`` to the longest one.

    Returns:
        dict of LongTensors ``input_ids``, ``attention_mask``, ``labels``, each (batch, longest);
        labels are -100 on prompt and padding, the ids on output + EOS (the EOS is labelled even
        when ``pad_id`` equals it).
    """
    import torch

    longest = max(len(e) for e in examples)
    n = len(examples)
    input_ids = torch.full((n, longest), pad_id, dtype=torch.long)
    attention = torch.zeros((n, longest), dtype=torch.long)
    labels = torch.full((n, longest), -100, dtype=torch.long)
    for row, ex in enumerate(examples):
        ids = torch.tensor(ex.ids, dtype=torch.long)
        input_ids[row, : len(ex)] = ids
        attention[row, : len(ex)] = 1
        labels[row, ex.prompt_len : len(ex)] = ids[ex.prompt_len :]
    out = {"input_ids": input_ids, "attention_mask": attention, "labels": labels}
    if device is not None:
        out = {k: v.to(device, non_blocking=True) for k, v in out.items()}
    return out


def padding_fraction(batches: list[list[int]], lengths: list[int]) -> float:
    """Share of padded positions among all positions of ``batches`` (0 = no waste)."""
    real = sum(lengths[i] for b in batches for i in b)
    total = sum(len(b) * max(lengths[i] for i in b) for b in batches)
    return 1.0 - real / total if total else 0.0


def dataset_fingerprint(datasets_dir: Path) -> dict:
    """sha256 of train.jsonl and eval.jsonl, plus counts/built_at/template_version from
    manifest.json when it exists."""
    import hashlib

    d = Path(datasets_dir)
    out: dict = {"sha256": {}}
    for name in ("train.jsonl", "eval.jsonl"):
        out["sha256"][name] = hashlib.sha256((d / name).read_bytes()).hexdigest()
    try:
        manifest = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
        for k in ("counts", "built_at", "template_version"):
            if k in manifest:
                out[k] = manifest[k]
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        pass
    return out
