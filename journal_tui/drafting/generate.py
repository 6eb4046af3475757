"""The decode loop: sample, detokenize, apply the stop rules, stream, time.

One loop serves every decoder (:mod:`journal_tui.drafting.decoders`), so streaming, stop
strings, EOS and cancellation behave the same on the CPU, with NF4 and on the CUDA-graph path.

Sampling uses transformers' own logits processors, applied in the order ``generate()`` applies
them: repetition penalty (over prompt and generated ids, as transformers does; CTRL paper,
Keskar et al. 2019), temperature, top-p (nucleus, Holtzman et al. 2019). ``temperature == 0``
is greedy. A ``torch.Generator`` seeded with ``seed`` draws the tokens, so the same seed, prompt,
settings, model and device give the same draft.

EOS: the loop stops when the sampled id is in ``eos_ids`` (the tokenizer's ``eos_token_id``
plus the model's ``generation_config.eos_token_id``, passed explicitly). Batch size is 1 and no
padding is ever built, so ``pad_token_id`` is not needed by this loop.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Callable

import torch

from journal_tui.drafting.text import DraftText, IncrementalDecoder

#: when this few tokens of the budget are left, text after the last sentence end is held back
#: so a "length" finish rarely has to take back streamed text (see text.DraftText)
HOLD_WINDOW_TOKENS = 64


@dataclass(frozen=True)
class SamplingSettings:
    """max_new_tokens >= 1; temperature >= 0 (0: greedy); 0 < top_p <= 1;
    repetition_penalty > 0 (1: off); seed: int or None (None: a random seed, reported back)."""

    max_new_tokens: int = 400
    temperature: float = 0.7
    top_p: float = 0.9
    repetition_penalty: float = 1.1
    seed: int | None = None

    def check(self) -> None:
        """Raises ValueError naming the first bad setting."""
        if int(self.max_new_tokens) < 1:
            raise ValueError(f"max_new_tokens = {self.max_new_tokens!r} should be at least 1")
        if not float(self.temperature) >= 0:
            raise ValueError(f"temperature = {self.temperature!r} should be 0 (greedy) or more")
        if not 0 < float(self.top_p) <= 1:
            raise ValueError(f"top_p = {self.top_p!r} should be above 0 and at most 1")
        if not float(self.repetition_penalty) > 0:
            raise ValueError(f"repetition_penalty = {self.repetition_penalty!r} should be above 0")


@dataclass(frozen=True)
class Outcome:
    """One finished draft.

    Attributes:
        text: final draft text (unescaped, stripped; trimmed on "length").
        finish_reason: eos | stop | length | cancelled.
        new_tokens: tokens generated (EOS not counted).
        tokens_per_s: steady decode rate: (sampled - 1) / seconds from the first to the last
            sampled token (sampled = new_tokens, plus the EOS when there is one); None with
            fewer than 2 sampled tokens.
        ttft_s: seconds from the call to the first sampled token (tokenize + prefill + sample).
        seed: the seed used.
        retracted: streamed characters that are not in ``text`` (see text.DraftText).
        elapsed_s: seconds for the whole call.
    """

    text: str
    finish_reason: str
    new_tokens: int
    tokens_per_s: float | None
    ttft_s: float | None
    seed: int
    retracted: str
    elapsed_s: float


class Sampler:
    """Picks the next token id from logits with transformers' processors and a seeded generator."""

    def __init__(self, settings: SamplingSettings, device: torch.device) -> None:
        from transformers.generation.logits_process import (
            LogitsProcessorList,
            RepetitionPenaltyLogitsProcessor,
            TemperatureLogitsWarper,
            TopPLogitsWarper,
        )

        self.greedy = float(settings.temperature) == 0
        procs = LogitsProcessorList()
        if float(settings.repetition_penalty) != 1.0:
            procs.append(RepetitionPenaltyLogitsProcessor(float(settings.repetition_penalty)))
        if not self.greedy:
            if float(settings.temperature) != 1.0:
                procs.append(TemperatureLogitsWarper(float(settings.temperature)))
            if float(settings.top_p) < 1.0:
                procs.append(TopPLogitsWarper(float(settings.top_p)))
        self.procs = procs
        self.seed = int(settings.seed) if settings.seed is not None else int.from_bytes(os.urandom(4), "little")
        self.generator = torch.Generator(device=device)
        self.generator.manual_seed(self.seed)

    def __call__(self, ids: torch.Tensor, logits: torch.Tensor) -> int:
        """``ids``: ``[1, n]`` long (prompt + generated); ``logits``: ``[vocab]`` float32."""
        scores = self.procs(ids, logits.view(1, -1).clone())
        if self.greedy:
            return int(scores.argmax(dim=-1))
        probs = torch.softmax(scores, dim=-1)
        return int(torch.multinomial(probs, 1, generator=self.generator))


def eos_ids_of(tokenizer, model) -> set[int]:
    """The ids that end a draft: the tokenizer's EOS plus the model's generation_config EOS."""
    ids: set[int] = set()
    if tokenizer.eos_token_id is not None:
        ids.add(int(tokenizer.eos_token_id))
    gen = getattr(model, "generation_config", None)
    extra = getattr(gen, "eos_token_id", None) if gen is not None else None
    if isinstance(extra, int):
        ids.add(extra)
    elif isinstance(extra, (list, tuple)):
        ids.update(int(i) for i in extra)
    return ids


@torch.inference_mode()
def generate(
    decoder,
    tokenizer,
    prompt_ids: list[int],
    settings: SamplingSettings,
    *,
    eos_ids: set[int],
    on_delta: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
    ignore_eos: bool = False,
    hold_window: int = HOLD_WINDOW_TOKENS,
) -> Outcome:
    """Generate one draft after ``prompt_ids``, streaming text deltas to ``on_delta``.

    Args:
        decoder: an EagerDecoder or StaticDecoder (prefill/step).
        tokenizer: the model's tokenizer (decode only).
        prompt_ids: the prompt's token ids.
        settings: sampling settings (checked).
        eos_ids: ids that end the draft (finish_reason "eos").
        on_delta: called with each piece of text that may be shown (never a stop string or its
            prefix; already unescaped).
        cancel: when set (from another thread), the draft ends after the current token with
            finish_reason "cancelled".
        ignore_eos: benchmarks only: run the full ``max_new_tokens`` ignoring EOS and stops.
        hold_window: see :data:`HOLD_WINDOW_TOKENS`.

    Raises:
        ValueError: bad settings.
    """
    settings.check()
    t0 = time.perf_counter()
    max_new = int(settings.max_new_tokens)
    device = decoder.device
    sampler = Sampler(settings, device)
    ids = torch.zeros((1, len(prompt_ids) + max_new), dtype=torch.long, device=device)
    ids[0, : len(prompt_ids)] = torch.tensor(prompt_ids, dtype=torch.long, device=device)
    n = len(prompt_ids)
    detok = IncrementalDecoder(tokenizer)
    text = DraftText()
    emit = on_delta or (lambda s: None)

    logits = decoder.prefill(list(prompt_ids))
    new_tokens = 0
    sampled = 0  # new tokens plus a final EOS: the count the timing covers
    t_first = t_last = None
    reason = "length"
    while True:
        if cancel is not None and cancel.is_set():
            reason = "cancelled"
            break
        tok = sampler(ids[:, :n], logits)
        t_last = time.perf_counter()
        sampled += 1
        if t_first is None:
            t_first = t_last
        if tok in eos_ids and not ignore_eos:
            reason = "eos"
            break
        ids[0, n] = tok
        n += 1
        new_tokens += 1
        text.hold_sentences = max_new - new_tokens <= hold_window
        out = text.feed(detok.push(tok))
        if out:
            emit(out)
        if text.stopped and not ignore_eos:
            reason = "stop"
            break
        if new_tokens >= max_new:
            reason = "length"
            break
        logits = decoder.step(tok)
    if not text.stopped:
        out = text.feed(detok.flush())
        if out:
            emit(out)
        if text.stopped and reason != "cancelled":
            reason = "stop"
    fin = text.finish(reason)
    if fin.tail:
        emit(fin.tail)
    tps = None
    if sampled >= 2 and t_last is not None and t_first is not None and t_last > t_first:
        tps = (sampled - 1) / (t_last - t_first)
    return Outcome(
        text=fin.text,
        finish_reason=reason,
        new_tokens=new_tokens,
        tokens_per_s=tps,
        ttft_s=(t_first - t0) if t_first is not None else None,
        seed=sampler.seed,
        retracted=fin.retracted,
        elapsed_s=time.perf_counter() - t0,
    )
