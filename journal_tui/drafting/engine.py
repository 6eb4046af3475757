"""Load a base model and an adapter for drafting, choose how to run them, and draft.

Merge policy (issue 5 and 7):

* An adapter is never merged into a quantized (NF4/int8) base: merging into 4-bit weights
  rounds the LoRA update away and dequantizing on the fly is what makes NF4 decoding slow.
* CUDA, ``quant`` auto (the default for drafting): when the free GPU memory
  (``torch.cuda.mem_get_info``) covers the bf16 weights (parameters counted on the meta device,
  2 bytes each) plus the static KV cache plus a margin of :data:`MEMORY_MARGIN_BYTES`, the base
  loads in bf16, the adapter is merged into it (``merge_and_unload``) and the decode step runs as
  a CUDA graph over a static KV cache (decoders.StaticDecoder). Otherwise the base loads in NF4
  and the adapter stays unmerged (eager decoding; slow but it fits).
* CUDA, ``quant`` none: bf16 + merge + CUDA graph regardless of the estimate; nf4/int8: the
  quantized base with the unmerged adapter.
* CPU: fp32, adapter merged (small models only; merged weights decode faster than the PEFT
  wrapper and fp32 merging is exact enough), eager dynamic cache (a static cache would attend
  over all ``max_len`` positions every token, which costs more than it saves on a CPU).

``decoder`` overrides the choice of decoder: ``auto | eager | static | cuda-graph``
(``static`` is the CUDA-graph path's code without the graph; tests use it on the CPU).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

#: free GPU memory kept beyond weights + KV cache before choosing bf16 (activations, CUDA graph
#: pool, sampling buffers, other processes' growth)
MEMORY_MARGIN_BYTES = 2 * 1024**3
#: static KV-cache length on CUDA when the model allows it (prompt + max_new_tokens must fit;
#: longer drafts fall back to the eager decoder for that draft)
DEFAULT_STATIC_LEN = 2048
DECODERS = ("auto", "eager", "static", "cuda-graph")


@dataclass
class Plan:
    """How the model runs: ``quant`` (none|nf4|int8), ``merge`` (adapter merged), ``decoder``
    (eager|static|cuda-graph), ``why`` (a sentence for logs and the ready event)."""

    quant: str
    merge: bool
    decoder: str
    why: str
    static_len: int | None = None
    estimate: dict[str, Any] = field(default_factory=dict)


def count_parameters(source) -> int:
    """Parameters of ``source``'s architecture, counted on the meta device (no weights read)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(source.path)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    return sum(p.numel() for p in model.parameters())


def kv_cache_bytes(config: dict, positions: int, bytes_per_value: int = 2) -> int:
    """Bytes of a K+V cache of ``positions`` tokens for the config.json dict ``config``."""
    layers = int(config.get("num_hidden_layers") or 0)
    heads = int(config.get("num_attention_heads") or 1)
    kv_heads = int(config.get("num_key_value_heads") or heads)
    hidden = int(config.get("hidden_size") or 0)
    head_dim = int(config.get("head_dim") or (hidden // heads))
    return 2 * layers * positions * kv_heads * head_dim * bytes_per_value


def choose_plan(source, *, device: str, quant: str = "auto", decoder: str = "auto",
                static_len: int | None = None) -> Plan:
    """Decide quant, merge and decoder for ``source`` on ``device`` (see the module docstring).

    Raises:
        ValueError: unknown quant or decoder name.
    """
    if quant not in ("auto", "nf4", "int8", "none"):
        raise ValueError(f"quant must be auto, nf4, int8 or none, not {quant!r}")
    if decoder not in DECODERS:
        raise ValueError(f"decoder must be one of {', '.join(DECODERS)}, not {decoder!r}")
    max_pos = source.max_position_embeddings or DEFAULT_STATIC_LEN
    length = int(static_len or min(DEFAULT_STATIC_LEN, max_pos))
    if device != "cuda":
        if quant in ("nf4", "int8"):
            from journal_tui.training.models import resolve_quant

            resolve_quant(quant, device)  # raises NoGpuError
        dec = "eager" if decoder == "auto" else decoder
        if dec == "cuda-graph":
            raise ValueError("decoder cuda-graph needs a CUDA GPU")
        return Plan("none", True, dec, "CPU: fp32 (an adapter is merged)", length if dec == "static" else None)
    if quant in ("nf4", "int8"):
        dec = "eager" if decoder == "auto" else decoder
        if dec != "eager":
            raise ValueError("a quantized base drafts with the eager decoder only")
        return Plan(quant, False, "eager", f"{quant} base asked for: adapter kept unmerged")
    import torch

    weights = count_parameters(source) * 2
    cache = kv_cache_bytes(source.config, length)
    free, total = torch.cuda.mem_get_info()
    need = weights + cache + MEMORY_MARGIN_BYTES
    estimate = {"bf16_weights_gib": weights / 2**30, "kv_cache_gib": cache / 2**30,
                "free_gib": free / 2**30, "total_gib": total / 2**30}
    dec = "cuda-graph" if decoder == "auto" else decoder
    if quant == "none" or free >= need:
        why = f"bf16 fits ({need / 2**30:.1f} GiB needed, {free / 2**30:.1f} GiB free): adapter merged"
        return Plan("none", True, dec, why, length if dec != "eager" else None, estimate)
    why = f"bf16 does not fit ({need / 2**30:.1f} GiB needed, {free / 2**30:.1f} GiB free): NF4 + unmerged adapter"
    return Plan("nf4", False, "eager", why, None, estimate)


class DraftEngine:
    """A loaded base model (+ adapter) ready to draft. Build it with :meth:`load`.

    Attributes:
        source: the ModelSource; ``adapter``: AdapterInfo or None; ``plan``: Plan;
        template_version: the template the prompt must use; ``device``: "cuda" | "cpu";
        ready_s: seconds :meth:`load` took (resolve, load, merge, warm-up); ``timings``: the
        seconds of each phase.
    """

    def __init__(self, *, source, tokenizer, model, adapter, plan, decoder, device, ready_s) -> None:
        from journal_tui.dataset.template import TEMPLATE_VERSION
        from journal_tui.drafting.generate import eos_ids_of

        self.source = source
        self.tokenizer = tokenizer
        self.model = model
        self.adapter = adapter
        self.plan = plan
        self.decoder = decoder
        self.device = device
        self.ready_s = ready_s
        self.template_version = (adapter.manifest.get("template_version") if adapter else None) or TEMPLATE_VERSION
        self.eos_ids = eos_ids_of(tokenizer, model)
        self._eager = decoder if decoder.name == "eager" else None
        self.lock = threading.Lock()
        self.timings: dict[str, float] = {}

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, locations, *, model_spec: str, adapter_ref: str | None = "latest", quant: str = "auto",
             decoder: str = "auto", device: str | None = None, allow_downloads: bool = False,
             static_len: int | None = None, log: Callable[[str], None] | None = None) -> "DraftEngine":
        """Resolve, check and load everything, then warm up once.

        Raises:
            journal_tui.training.errors.ModelMissingError / AdapterNotFoundError /
            AdapterMismatchError / NoGpuError: as their names say (each has ``kind`` and ``hint``).
            ValueError: bad quant or decoder name.
        """
        import torch

        from journal_tui.drafting.decoders import EagerDecoder, StaticDecoder, fuse_activations
        from journal_tui.training import adapters as adapters_mod
        from journal_tui.training import models

        t0 = time.perf_counter()
        say = log or (lambda s: None)
        timings: dict[str, float] = {}
        mark = [t0]

        def lap(name: str) -> None:
            now = time.perf_counter()
            timings[name] = round(now - mark[0], 3)
            mark[0] = now

        if not allow_downloads:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        source = models.resolve_model_source(model_spec, locations, allow_downloads=allow_downloads)
        info = adapters_mod.resolve_adapter(locations, adapter_ref)
        if info is not None:
            adapters_mod.check_adapter_matches(info, source)
        tokenizer = models.load_tokenizer(source)
        lap("resolve")
        device = device or models.pick_device()
        plan = choose_plan(source, device=device, quant=quant, decoder=decoder, static_len=static_len)
        say(f"plan: {plan.why}; decoder {plan.decoder}")
        lap("plan")
        model = models.load_base_model(source, quant=plan.quant, device=device)
        lap("load_base")
        if info is not None:
            peft_model = adapters_mod.load_adapter(model, info)
            model = peft_model.merge_and_unload() if plan.merge else peft_model
            lap("adapter")
        model.eval()
        if plan.quant == "none" and (info is None or plan.merge):
            fuse_activations(model)  # plain weights only; the NF4 + PEFT path stays as trained
        if plan.decoder == "eager":
            dec = EagerDecoder(model)
        else:
            dec = StaticDecoder(model, plan.static_len or DEFAULT_STATIC_LEN, cuda_graph=plan.decoder == "cuda-graph")
        try:
            dec.warmup()
        except RuntimeError as e:  # a capture that fails (new transformers internals): keep drafting
            if plan.decoder != "cuda-graph":
                raise
            say(f"CUDA graph capture failed ({e}); drafting with the static cache without a graph")
            torch.cuda.synchronize()
            dec = StaticDecoder(model, dec.max_len, cuda_graph=False)
            dec.warmup()
            plan.why += f"; CUDA graph capture failed: {str(e)[:200]}"
        lap("decoder_warmup")
        engine = cls(source=source, tokenizer=tokenizer, model=model, adapter=info, plan=plan, decoder=dec,
                     device=device, ready_s=0.0)
        # one short sampled draft: loads the sampling kernels so the first real draft is warm too
        from journal_tui.drafting.generate import SamplingSettings

        engine.draft("<<journal>>\n", SamplingSettings(max_new_tokens=2, seed=0), ignore_eos=True)
        lap("sample_warmup")
        if device == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        engine.ready_s = time.perf_counter() - t0
        engine.timings = timings
        say("ready in " + ", ".join(f"{k} {v:.2f}s" for k, v in timings.items()))
        return engine

    # ------------------------------------------------------------------ drafting
    def describe(self) -> dict[str, Any]:
        """Fields of the ``ready`` event."""
        return {
            "model": self.source.name,
            "adapter": self.adapter.run_id if self.adapter else None,
            "device": self.device,
            "quant": self.plan.quant,
            "merged": bool(self.adapter) and self.plan.merge,
            "decoder": self.decoder.name,
            "template_version": self.template_version,
            "plan": self.plan.why,
            "timings": self.timings,
        }

    def encode(self, prompt: str) -> list[int]:
        """Prompt token ids, tokenized as training tokenizes ``input`` (no special tokens)."""
        return list(self.tokenizer(prompt, add_special_tokens=False)["input_ids"])

    def draft(self, prompt: str, settings, *, on_delta=None, cancel: threading.Event | None = None,
              ignore_eos: bool = False):
        """Generate one draft for ``prompt`` (a DraftPrompt's text). Returns a generate.Outcome.

        Raises:
            PromptTooLongError: prompt + max_new_tokens exceed the model's context window.
            ValueError: bad sampling settings.
        """
        from journal_tui.drafting.decoders import EagerDecoder
        from journal_tui.drafting.errors import PromptTooLongError
        from journal_tui.drafting.generate import generate

        settings.check()
        ids = self.encode(prompt)
        limit = self.source.max_position_embeddings
        if limit and len(ids) + int(settings.max_new_tokens) > limit:
            raise PromptTooLongError(
                f"the prompt has {len(ids)} tokens; with max_new_tokens {settings.max_new_tokens} it exceeds "
                f"the model's {limit}-token context",
                "Lower --max-new-tokens or [dataset] max_example_chars (fewer note characters in the prompt).",
            )
        dec = self.decoder
        if getattr(dec, "max_len", None) and not dec.fits(len(ids), int(settings.max_new_tokens)):
            if self._eager is None:
                self._eager = EagerDecoder(self.model)
            dec = self._eager
        with self.lock:
            return generate(dec, self.tokenizer, ids, settings, eos_ids=self.eos_ids, on_delta=on_delta,
                            cancel=cancel, ignore_eos=ignore_eos)

    def peak_mem_gib(self) -> float | None:
        """Peak GPU memory allocated since the last reset (CUDA only), in GiB."""
        if self.device != "cuda":
            return None
        import torch

        return torch.cuda.max_memory_allocated() / 2**30
