"""One optimizer step and the eval loss: chunked cross-entropy, token-weighted loss, OOM back-off.

The loss is the mean cross-entropy over labelled tokens (output + EOS) of the whole optimizer
step: every micro-batch's summed loss is divided by the step's label count, so micro-batches of
different sizes weigh by tokens, and splitting a step into more micro-batches (OOM back-off,
low-memory profile) does not change the gradient.

Chunked cross-entropy: the decoder's hidden states are gathered at labelled positions only, and
the output head + cross-entropy run over ``loss_chunk`` rows at a time under activation
checkpointing, so the (tokens x vocab) logits (vocab 51,200 for Phi-2: 200 KB per token in fp32)
are never held for the whole micro-batch and prompt positions cost no head FLOPs.
"""

from __future__ import annotations

import math
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Callable

from journal_tui.training.data import Example, collate
from journal_tui.training.errors import NanLossError, OutOfMemoryError


def _ce_sum(head, hidden, targets):
    import torch.nn.functional as F

    return F.cross_entropy(head(hidden).float(), targets, reduction="sum")


def chunked_lm_loss(causal_lm, batch: dict, chunk: int):
    """Summed next-token cross-entropy over labelled positions of ``batch``.

    Args:
        causal_lm: a ``*ForCausalLM`` (peft-wrapped layers inside are fine).
        batch: from :func:`journal_tui.training.data.collate` (tensors on the model's device).
        chunk: rows of logits computed at once.

    Returns:
        (loss_sum tensor (0-dim, fp32), number of labelled tokens)
    """
    from torch.utils.checkpoint import checkpoint

    decoder = causal_lm.get_decoder() if hasattr(causal_lm, "get_decoder") else causal_lm.model
    head = causal_lm.get_output_embeddings()
    hidden = decoder(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], use_cache=False)
    hidden = hidden.last_hidden_state if hasattr(hidden, "last_hidden_state") else hidden[0]
    targets = batch["labels"][:, 1:]
    mask = targets != -100
    hs = hidden[:, :-1][mask]
    tg = targets[mask]
    n = int(tg.numel())
    if n == 0:
        return hidden.sum() * 0.0, 0
    total = None
    for i in range(0, n, chunk):
        part = checkpoint(_ce_sum, head, hs[i : i + chunk], tg[i : i + chunk], use_reentrant=False)
        total = part if total is None else total + part
    return total, n


def split_batches(batches: list[list[int]], factor: int) -> list[list[int]]:
    """Split every micro-batch into ``factor`` smaller ones (OOM back-off)."""
    if factor <= 1:
        return batches
    out = []
    for b in batches:
        size = max(1, math.ceil(len(b) / factor))
        out.extend(b[i : i + size] for i in range(0, len(b), size))
    return out


@dataclass
class StepResult:
    loss: float  # mean CE per labelled token over the step
    grad_norm: float
    real_tokens: int  # non-pad tokens processed
    padded_tokens: int  # positions processed including padding
    label_tokens: int


class Stepper:
    """Runs optimizer steps for a peft model.

    Args:
        model: the peft model (train mode is set here).
        optimizer, scheduler: torch optimizer and LR scheduler.
        examples: the training :class:`Example` list the step indices refer to.
        pad_id: padding id for :func:`collate`.
        device: ``"cuda"`` or ``"cpu"``; CUDA runs under bf16 autocast.
        loss_chunk: rows per chunk in :func:`chunked_lm_loss`.
        max_grad_norm: gradient-norm clipping (default 1.0, the transformers Trainer default).
        on_warning: called with a sentence when the OOM back-off acts.
        split: current micro-batch split factor (1 = as planned; doubles on each CUDA OOM).
    """

    def __init__(
        self,
        model,
        optimizer,
        scheduler,
        examples: list[Example],
        pad_id: int,
        device: str,
        *,
        loss_chunk: int = 4096,
        max_grad_norm: float = 1.0,
        on_warning: Callable[[str], None] | None = None,
        split: int = 1,
    ) -> None:
        self.model = model
        self.causal_lm = model.get_base_model() if hasattr(model, "get_base_model") else model
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.examples = examples
        self.pad_id = pad_id
        self.device = device
        self.loss_chunk = loss_chunk
        self.max_grad_norm = max_grad_norm
        self.on_warning = on_warning or (lambda msg: None)
        self.split = split
        self.params = [p for p in model.parameters() if p.requires_grad]

    def _autocast(self):
        import torch

        if self.device == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return nullcontext()

    def step(self, batches: list[list[int]]) -> StepResult:
        """One optimizer step over micro-batches ``batches`` (lists of example indices).

        Raises:
            NanLossError: non-finite loss (the optimizer step is not taken).
            OutOfMemoryError: CUDA OOM with single-example micro-batches.
        """
        import torch

        while True:
            try:
                return self._step(split_batches(batches, self.split))
            except torch.cuda.OutOfMemoryError:
                self.optimizer.zero_grad(set_to_none=True)
                torch.cuda.empty_cache()
                if all(len(b) <= 1 for b in split_batches(batches, self.split)):
                    raise OutOfMemoryError(
                        "CUDA ran out of memory with one example per micro-batch",
                        "Use --profile low-memory, a smaller --lora-r, or close other GPU programs.",
                    ) from None
                self.split *= 2
                self.on_warning(
                    f"CUDA out of memory: micro-batch token budget halved (split x{self.split}), "
                    f"gradient accumulation doubled; retrying the step."
                )

    def _step(self, batches: list[list[int]]) -> StepResult:
        import torch

        self.model.train()
        label_total = sum(self.examples[i].label_count for b in batches for i in b)
        loss_total = 0.0
        real = padded = 0
        for b in batches:
            exs = [self.examples[i] for i in b]
            batch = collate(exs, self.pad_id, device=self.device)
            real += sum(len(e) for e in exs)
            padded += len(exs) * max(len(e) for e in exs)
            with self._autocast():
                loss_sum, _ = chunked_lm_loss(self.causal_lm, batch, self.loss_chunk)
            (loss_sum / label_total).backward()
            loss_total += float(loss_sum.detach())
        loss = loss_total / max(1, label_total)
        if not math.isfinite(loss):
            self.optimizer.zero_grad(set_to_none=True)
            raise NanLossError(
                f"training loss became {loss} (not finite)",
                "Lower --learning-rate, check the base model (fp16 weights overflow; journal-tui uses bf16/fp32).",
            )
        grad_norm = float(torch.nn.utils.clip_grad_norm_(self.params, self.max_grad_norm))
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return StepResult(loss, grad_norm, real, padded, label_total)

    def evaluate(self, examples: list[Example], token_budget: int) -> float:
        """Mean CE per labelled token over ``examples`` (no grad, eval mode, length-sorted
        micro-batches under ``token_budget``)."""
        import torch

        from journal_tui.training.data import length_grouped_batches

        lengths = [len(e) for e in examples]
        self.model.eval()
        total, count = 0.0, 0
        with torch.no_grad():
            for b in length_grouped_batches(lengths, token_budget, seed=0, shuffle=False):
                batch = collate([examples[i] for i in b], self.pad_id, device=self.device)
                with self._autocast():
                    loss_sum, n = chunked_lm_loss(self.causal_lm, batch, self.loss_chunk)
                total += float(loss_sum)
                count += n
        self.model.train()
        return total / max(1, count)
