"""Decoders: one forward pass per generated token, behind a two-method interface.

A decoder turns token ids into next-token logits while keeping the KV cache itself:
``prefill(ids) -> logits`` for the prompt, then ``step(token_id) -> logits`` per new token.
Logits are a float32 tensor of shape ``[vocab]`` on the model's device.

* :class:`EagerDecoder`: a ``DynamicCache`` that grows with the text; works for every model
  (quantized, with an unmerged PEFT adapter, on the CPU). Used on the CPU and for NF4 drafting.
* :class:`StaticDecoder`: a ``StaticCache`` of fixed length ``max_len`` and fixed-shape decode
  inputs, so the decode step has the same shapes and memory addresses every token. With
  ``cuda_graph=True`` the decode step (model forward, KV-cache write, position increment) is
  captured once as a CUDA graph at :meth:`StaticDecoder.warmup` and replayed for every token:
  one launch instead of ~10 per layer, which is what bounds eager decoding of a 2.7B model at
  batch 1 (the gpt-fast recipe, PyTorch blog "Accelerating Generative AI with PyTorch II", 2023).
  Capture takes well under a second, unlike ``torch.compile``'s warm-up. Without a graph the
  same code runs eagerly (that is how the CPU tests exercise it).

The decode step passes its own 4-D additive attention mask (0 where ``key_index <= position``,
the dtype's lowest value elsewhere, as transformers builds them; shape ``[1, 1, q, max_len]``, the model's dtype, built once per step rather than
converted in each layer); transformers returns a 4-D mask unchanged (masking_utils,
``_preprocess_mask_arguments``), so no host-side logic runs inside the captured step.

In a CUDA graph each kernel still costs the GPU a few microseconds, and Phi-2's decode step is
~40 small kernels per layer, so :func:`fuse_activations` swaps the Python ``gelu_new`` (8
elementwise kernels) for PyTorch's fused ``gelu(approximate="tanh")``: the same function
(Hendrycks & Gimpel's tanh approximation), one kernel.
transformers 5.17..5.24 keep the write position in the cache layer's ``cumulative_length``
tensor, advanced in place, which a graph replays correctly.
"""

from __future__ import annotations

import inspect

import torch


def fuse_activations(model) -> int:
    """Replace transformers' ``NewGELUActivation`` modules (``gelu_new``) in ``model`` by
    ``torch.nn.GELU(approximate="tanh")`` (same formula, one fused kernel). Returns the count."""
    swaps = []
    for parent in model.modules():
        for name, child in parent.named_children():
            if type(child).__name__ == "NewGELUActivation":
                swaps.append((parent, name))
    for parent, name in swaps:
        setattr(parent, name, torch.nn.GELU(approximate="tanh"))
    return len(swaps)


def _cache_kwarg(model) -> str:
    """``"cache"`` (transformers >= 5.2x) or ``"past_key_values"`` (older 5.x)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    params = inspect.signature(base.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


class EagerDecoder:
    """Dynamic KV cache, eager forward. Works with any causal LM, PEFT-wrapped or quantized."""

    name = "eager"
    max_len: int | None = None

    def __init__(self, model) -> None:
        self.model = model
        self.device = next(model.parameters()).device
        self._kw = _cache_kwarg(model)
        self._cache = None

    def _new_cache(self):
        from transformers import DynamicCache

        cfg = self.model.config
        try:
            return DynamicCache(config=cfg)
        except TypeError:
            return DynamicCache()

    @torch.inference_mode()
    def prefill(self, ids: list[int]) -> torch.Tensor:
        self._cache = self._new_cache()
        x = torch.tensor([ids], dtype=torch.long, device=self.device)
        out = self.model(input_ids=x, use_cache=True, logits_to_keep=1, **{self._kw: self._cache})
        return out.logits[0, -1].float()

    @torch.inference_mode()
    def step(self, token_id: int) -> torch.Tensor:
        x = torch.tensor([[token_id]], dtype=torch.long, device=self.device)
        out = self.model(input_ids=x, use_cache=True, **{self._kw: self._cache})
        return out.logits[0, -1].float()

    def warmup(self) -> None:
        self.prefill([0] * 8)
        for _ in range(2):
            self.step(0)
        self._cache = None


class StaticDecoder:
    """Static KV cache of ``max_len`` positions; the decode step optionally a CUDA graph.

    Args:
        model: a plain (merged, not quantized) transformers causal LM in eval mode.
        max_len: cache length in tokens; prompt + new tokens must fit (see :meth:`fits`).
        cuda_graph: capture the decode step at :meth:`warmup` (CUDA only).

    Memory: the cache holds ``2 * layers * max_len * hidden`` values of the model's dtype
    (Phi-2, bf16, 1024 positions: 2*32*1024*2560*2 B = 0.34 GB).
    """

    def __init__(self, model, max_len: int, *, cuda_graph: bool = False) -> None:
        from transformers import StaticCache

        self.model = model
        self.max_len = int(max_len)
        self.device = next(model.parameters()).device
        if cuda_graph and self.device.type != "cuda":
            raise ValueError("a CUDA graph needs the model on a CUDA device")
        self.cuda_graph = cuda_graph
        self.name = "cuda-graph" if cuda_graph else "static"
        self._kw = _cache_kwarg(model)
        self.cache = StaticCache(config=model.config, max_cache_len=self.max_len)
        self._ids = torch.zeros((1, 1), dtype=torch.long, device=self.device)
        self._pos = torch.zeros((1,), dtype=torch.long, device=self.device)
        self._arange = torch.arange(self.max_len, device=self.device)
        self._dtype = next(model.parameters()).dtype
        self._zero = torch.zeros((), dtype=self._dtype, device=self.device)
        self._neg = torch.full((), torch.finfo(self._dtype).min, dtype=self._dtype, device=self.device)
        self._graph = None
        self._graph_logits: torch.Tensor | None = None

    def fits(self, prompt_len: int, max_new_tokens: int) -> bool:
        return prompt_len + max_new_tokens <= self.max_len

    def _reset(self) -> None:
        for layer in getattr(self.cache, "layers", []):
            cl = getattr(layer, "cumulative_length", None)
            if isinstance(cl, torch.Tensor):
                cl.zero_()  # in place: the captured graph holds this tensor's address
            elif cl is not None:
                layer.cumulative_length = 0

    def _mask(self, allowed: torch.Tensor) -> torch.Tensor:
        return torch.where(allowed, self._zero, self._neg)

    def _forward_step(self) -> torch.Tensor:
        mask = self._mask(self._arange <= self._pos).view(1, 1, 1, self.max_len)
        out = self.model(
            input_ids=self._ids,
            position_ids=self._pos.view(1, 1),
            attention_mask=mask,
            use_cache=True,
            **{self._kw: self.cache},
        )
        self._pos.add_(1)
        return out.logits[0, -1].float()

    @torch.inference_mode()
    def prefill(self, ids: list[int]) -> torch.Tensor:
        n = len(ids)
        if n > self.max_len:
            raise ValueError(f"prompt of {n} tokens does not fit the static cache of {self.max_len}")
        self._reset()
        x = torch.tensor([ids], dtype=torch.long, device=self.device)
        q = torch.arange(n, device=self.device)
        mask = self._mask(self._arange[None, :] <= q[:, None]).view(1, 1, n, self.max_len)
        out = self.model(
            input_ids=x,
            position_ids=q.view(1, n),
            attention_mask=mask,
            use_cache=True,
            logits_to_keep=1,
            **{self._kw: self.cache},
        )
        self._pos.fill_(n)
        return out.logits[0, -1].float()

    @torch.inference_mode()
    def step(self, token_id: int) -> torch.Tensor:
        self._ids.fill_(int(token_id))
        if self._graph is not None:
            self._graph.replay()
            return self._graph_logits
        return self._forward_step()

    @torch.inference_mode()
    def warmup(self) -> None:
        """Initialise the cache, run the decode step eagerly, and capture it when asked.
        Called once per process (the draft server's start), never per draft."""
        self.prefill([0] * 8)
        if not self.cuda_graph:
            for _ in range(2):
                self.step(0)
            return
        s = torch.cuda.Stream(device=self.device)
        s.wait_stream(torch.cuda.current_stream(self.device))
        with torch.cuda.stream(s):
            for _ in range(3):  # cuBLAS workspaces and lazy kernels, outside the capture
                self._forward_step()
        torch.cuda.current_stream(self.device).wait_stream(s)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            logits = self._forward_step()
        self._graph, self._graph_logits = graph, logits
        torch.cuda.synchronize(self.device)
