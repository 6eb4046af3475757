"""Memory profiles: how many tokens a micro-batch may hold, and whether to checkpoint.

Two sizes are chosen separately:

* ``step_tokens`` -- padded tokens per optimizer step. It depends on the data only, so every
  profile trains the same way: ``total_tokens / MIN_STEPS_PER_EPOCH`` (so a small journal still
  gets enough optimizer steps), clamped to [max_length, MAX_STEP_TOKENS].
* ``token_budget`` -- padded tokens per micro-batch, from memory. Gradient accumulation is
  ``ceil(step_tokens / token_budget)``.

Profiles (config ``[train] profile``):

* ``auto``: on CUDA, the budget fills ~60% of the GPU memory free after the model, adapter
  and optimizer state are in place, using an activation estimate per token (below); gradient
  checkpointing only when that budget would be under 4 x max_length. On the CPU: 2,048 tokens.
* ``low-memory``: gradient checkpointing on, budget sized so the peak stays under
  ``LOW_MEMORY_LIMIT_GIB`` (6 GiB: 8 GB cards).

Activation estimate (bf16, no checkpointing), per token and layer: ~12 x hidden + 6 x
intermediate values (layer norm input, q/k/v before and after rotary, attention output, dense
output, residual, fc1 output and the tanh-GELU temporaries), 2 bytes each. With checkpointing:
one hidden state per layer plus one layer recomputed. These are estimates; a CUDA OOM still
halves the budget at run time (loop.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PROFILES = ("auto", "low-memory")
MIN_STEPS_PER_EPOCH = 16
MAX_STEP_TOKENS = 8192
MAX_TOKEN_BUDGET = 16384
CPU_TOKEN_BUDGET = 2048
LOW_MEMORY_LIMIT_GIB = 6.0
GIB = 1024**3


@dataclass
class MemoryPlan:
    """``token_budget`` (padded tokens per micro-batch), ``step_tokens`` (per optimizer step),
    ``grad_accum``, ``gradient_checkpointing``, ``loss_chunk`` (rows of logits computed at once
    by the chunked cross-entropy) and ``why`` (one line for the log)."""

    token_budget: int
    step_tokens: int
    grad_accum: int
    gradient_checkpointing: bool
    loss_chunk: int
    why: str

    def to_json(self) -> dict:
        return dict(self.__dict__)


def step_tokens_for(total_tokens: int, max_length: int) -> int:
    """Padded tokens per optimizer step for a dataset of ``total_tokens`` (see module doc)."""
    return int(max(max_length, min(MAX_STEP_TOKENS, total_tokens // MIN_STEPS_PER_EPOCH)))


def activation_bytes_per_token(config, *, checkpointing: bool) -> int:
    """Estimated activation bytes kept per token for backward (module doc gives the source)."""
    h = int(getattr(config, "hidden_size", 2560))
    i = int(getattr(config, "intermediate_size", 4 * h))
    layers = int(getattr(config, "num_hidden_layers", 32))
    per_layer = (12 * h + 6 * i) * 2
    if checkpointing:
        return layers * h * 2 + per_layer
    return layers * per_layer


def plan_memory(
    profile: str,
    device: str,
    config,
    *,
    max_length: int,
    total_tokens: int,
    free_bytes: int | None = None,
    static_bytes: int = 0,
    token_budget: int | None = None,
    step_tokens: int | None = None,
) -> MemoryPlan:
    """Choose the micro-batch token budget and checkpointing for ``profile`` on ``device``.

    Args:
        config: the model config (hidden_size, intermediate_size, num_hidden_layers).
        max_length: longest example in tokens (a micro-batch holds at least one).
        total_tokens: training tokens per epoch (sets ``step_tokens``).
        free_bytes: free GPU memory now (CUDA; after model + adapter are loaded).
        static_bytes: GPU memory already allocated by model, adapter (and optimizer state to come).
        token_budget: force a budget (benchmarks, tests); checkpointing then follows the profile.
        step_tokens: force the tokens per optimizer step (benchmark sweeps).

    Raises:
        ValueError: unknown profile.
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, not {profile!r}")
    step_tokens = int(step_tokens or step_tokens_for(total_tokens, max_length))
    checkpointing = profile == "low-memory"
    loss_chunk = 512 if profile == "low-memory" else 4096
    if token_budget is not None:
        budget, why = int(token_budget), "forced"
    elif device != "cuda":
        budget, why = CPU_TOKEN_BUDGET, "cpu default"
    elif profile == "low-memory":
        room = LOW_MEMORY_LIMIT_GIB * GIB * 0.85 - static_bytes
        per = activation_bytes_per_token(config, checkpointing=True)
        budget = int(room * 0.35 / per) if room > 0 else max_length
        why = f"low-memory: {room / GIB:.2f} GiB room under {LOW_MEMORY_LIMIT_GIB} GiB, {per / 1e6:.2f} MB/token"
    else:
        free = int(free_bytes or 0)
        per = activation_bytes_per_token(config, checkpointing=False)
        budget = int(free * 0.6 / per)
        why = f"auto: {free / GIB:.1f} GiB free, {per / 1e6:.2f} MB/token"
        if budget < 4 * max_length:
            checkpointing = True
            per = activation_bytes_per_token(config, checkpointing=True)
            budget = int(free * 0.6 / per)
            why += f"; checkpointing ({per / 1e6:.2f} MB/token)"
    budget = max(max_length, min(budget, MAX_TOKEN_BUDGET))
    budget = min(budget, max(step_tokens, max_length))
    grad_accum = max(1, math.ceil(step_tokens / budget))
    return MemoryPlan(budget, step_tokens, grad_accum, checkpointing, loss_chunk, why)


def apply_memory_cap(profile: str, device: str) -> float | None:
    """For ``low-memory`` on CUDA, cap this process's share of GPU memory at
    ``LOW_MEMORY_LIMIT_GIB`` (``torch.cuda.set_per_process_memory_fraction``), so going over it
    is a CUDA OOM that the loop's back-off answers (halve the micro-batch), not a silent overrun.
    Returns the fraction set, or None."""
    if profile != "low-memory" or device != "cuda":
        return None
    import torch

    total = torch.cuda.get_device_properties(0).total_memory
    fraction = min(1.0, LOW_MEMORY_LIMIT_GIB * GIB / total)
    torch.cuda.set_per_process_memory_fraction(fraction)
    return fraction
