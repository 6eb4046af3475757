"""Resumable checkpoints of a run in ``home/runs/RUN_ID/``.

Files: ``state.json`` (step, settings, plan, metrics so far, model identity, dataset
fingerprint), ``adapter_state.safetensors`` (current LoRA weights), ``best.safetensors`` (LoRA
weights at the best eval loss so far), ``trainer_state.pt`` (optimizer, LR scheduler, Python /
torch / CUDA RNG states). The data order is not stored: it is recomputed from the seed, the
token budget and grad_accum kept in state.json (:func:`journal_tui.training.data.plan_steps` is
deterministic). Each file is written atomically.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

from journal_tui.training.errors import TrainingError


class ResumeError(TrainingError):
    kind = "bad_resume"


def _save_tensors(path: Path, tensors: dict) -> None:
    from safetensors.torch import save_file

    tmp = path.with_name(f".{path.name}.tmp")
    save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(tmp))
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def save_checkpoint(run_dir: Path, *, state: dict, lora_state: dict, best_state: dict | None, optimizer, scheduler) -> None:
    """Write a resumable checkpoint of the run into ``run_dir``."""
    import torch

    from journal_tui.fsutil import atomic_write_json, ensure_dir

    ensure_dir(run_dir)
    _save_tensors(run_dir / "adapter_state.safetensors", lora_state)
    if best_state is not None:
        _save_tensors(run_dir / "best.safetensors", best_state)
    rng = {"python": random.getstate(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    tmp = run_dir / ".trainer_state.pt.tmp"
    torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(), "rng": rng}, tmp)
    os.chmod(tmp, 0o600)
    os.replace(tmp, run_dir / "trainer_state.pt")
    atomic_write_json(run_dir / "state.json", state)


def read_state(run_dir: Path) -> dict:
    """state.json of a checkpointed run.

    Raises:
        ResumeError: no checkpoint there.
    """
    try:
        return json.loads((Path(run_dir) / "state.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError) as e:
        raise ResumeError(
            f"{run_dir}: no resumable checkpoint ({type(e).__name__})",
            "List resumable runs in the runs/ folder of your journal-tui home; finished runs cannot be resumed.",
        ) from e


def load_tensors(path: Path) -> dict | None:
    from safetensors.torch import load_file

    return load_file(str(path)) if Path(path).exists() else None


def restore_trainer(run_dir: Path, optimizer, scheduler) -> None:
    """Load optimizer, scheduler and RNG states saved by :func:`save_checkpoint`."""
    import torch

    blob = torch.load(Path(run_dir) / "trainer_state.pt", map_location="cpu", weights_only=False)
    optimizer.load_state_dict(blob["optimizer"])
    scheduler.load_state_dict(blob["scheduler"])
    rng = blob["rng"]
    random.setstate(rng["python"])
    torch.set_rng_state(rng["torch"])
    if "cuda" in rng and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])


def clear_checkpoint(run_dir: Path) -> None:
    """Remove the heavy checkpoint files of a finished run (events.jsonl stays)."""
    for name in ("adapter_state.safetensors", "best.safetensors", "trainer_state.pt", "state.json"):
        (Path(run_dir) / name).unlink(missing_ok=True)
