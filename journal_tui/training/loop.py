"""The training run: ``journal-tui train``'s work, start to promoted adapter.

Order: settings -> dataset rows (fail fast) -> model source, device, quant -> tokenizer,
tokenized examples, max_length -> base model + LoRA -> memory plan, data order, AdamW (fused on
CUDA) with a cosine schedule and linear warmup -> eval at step 0 (the base model's eval_loss) ->
steps, with eval every ``eval_steps``, best adapter kept by eval_loss, early stopping after
``patience`` evals without improvement -> adapter written to a hidden folder, renamed to
``adapters/RUN_ID``, ``latest`` moved when the best eval_loss is finite.

SIGTERM/SIGINT: the run stops before the next step, checkpoints into ``runs/RUN_ID``, emits
``checkpoint`` then ``error`` kind ``cancelled``; ``latest`` is untouched. ``--resume RUN_ID``
reloads the checkpoint and continues with the step count carried on.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import secrets
import shutil
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

from journal_tui.training.errors import BadDatasetError, BadSettingError, CancelledError


@dataclass
class TrainSettings:
    """Everything that decides a run. Keys are named like the CLI flags / config.toml keys."""

    model: str = "microsoft/phi-2"
    quant: str = "auto"
    profile: str = "auto"
    epochs: float = 3
    max_steps: int | None = None
    learning_rate: float = 2e-4
    lora_r: int = 32
    lora_alpha: int = 64
    lora_dropout: float = 0.0
    target_modules: list[str] | None = None
    eval_steps: int | None = None
    patience: int = 3
    warmup_ratio: float = 0.05
    seed: int = 42
    max_grad_norm: float = 1.0
    token_budget: int | None = None
    step_tokens: int | None = None
    allow_downloads: bool = False

    @classmethod
    def from_config(cls, cfg: dict, overrides: dict[str, Any]) -> "TrainSettings":
        """``config.settings()`` output, then non-None ``overrides`` (CLI flags) on top."""
        s = cls()
        s.model = cfg["model"]["base"]
        s.quant = cfg["model"]["quant"]
        s.allow_downloads = bool(cfg.get("allow_downloads", False))
        for k, v in cfg.get("train", {}).items():
            if hasattr(s, k) and v is not None:
                setattr(s, k, v)
        for k, v in overrides.items():
            if v is not None:
                setattr(s, k, v)
        if overrides.get("max_steps") is None and overrides.get("epochs") is not None:
            s.max_steps = None  # --epochs on the command line beats max_steps from config
        s.validate()
        return s

    def validate(self) -> None:
        checks = [
            (self.epochs > 0, "epochs must be > 0"),
            (self.max_steps is None or self.max_steps >= 1, "max_steps must be >= 1"),
            (0 < self.learning_rate < 1, "learning_rate must be in (0, 1)"),
            (self.lora_r >= 1 and self.lora_alpha >= 1, "lora_r and lora_alpha must be >= 1"),
            (0 <= self.lora_dropout < 1, "lora_dropout must be in [0, 1)"),
            (self.patience >= 1, "patience must be >= 1"),
            (0 <= self.warmup_ratio < 1, "warmup_ratio must be in [0, 1)"),
            (self.profile in ("auto", "low-memory"), "profile must be auto or low-memory"),
            (self.quant in ("auto", "nf4", "int8", "none"), "quant must be auto, nf4, int8 or none"),
            (self.eval_steps is None or self.eval_steps >= 1, "eval_steps must be >= 1"),
            (self.token_budget is None or self.token_budget >= 1, "token_budget must be >= 1"),
            (self.step_tokens is None or self.step_tokens >= 1, "step_tokens must be >= 1"),
            (self.max_grad_norm > 0, "max_grad_norm must be > 0"),
        ]
        for ok, msg in checks:
            if not ok:
                raise BadSettingError(msg, "Fix the flag or the [train] section of config.toml.")


def cosine_with_warmup(optimizer, warmup_steps: int, total_steps: int):
    """Linear warmup then cosine decay to 0, as a LambdaLR stepped once per optimizer step.

    Unlike ``transformers.get_cosine_schedule_with_warmup``, the first optimizer step already
    uses ``learning_rate / (warmup_steps + 1)`` rather than 0: with the few dozen steps of a
    personal retrain, a step at learning rate 0 is a wasted step (its eval_loss equals the
    base model's).
    """
    import torch

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / (warmup_steps + 1)
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress))))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def new_run_id(now: dt.datetime | None = None) -> str:
    """``YYYYMMDD-HHMMSS-xxxx`` (local time, 4 random hex digits)."""
    now = now or dt.datetime.now()
    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


class _StopFlag:
    """Set by SIGTERM/SIGINT; checked before each step."""

    def __init__(self) -> None:
        self.set = False
        self._old: dict = {}

    def install(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                self._old[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread
                pass

    def _handle(self, signum, frame) -> None:
        self.set = True

    def restore(self) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


def _peak_gib(device: str) -> float:
    if device == "cuda":
        import torch

        return torch.cuda.max_memory_allocated() / 1024**3
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB on Linux


def _versions() -> dict:
    import peft
    import torch
    import transformers

    from journal_tui import __version__

    return {"journal_tui": __version__, "torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__}


def run_training(
    locations,
    settings: TrainSettings,
    events,
    *,
    resume: str | None = None,
    progress: Callable[[dict], None] | None = None,
    stop: _StopFlag | None = None,
    run_id: str | None = None,
) -> dict:
    """Train one adapter. Every event goes through ``events`` (an EventWriter); it is tee'd to
    ``runs/RUN_ID/events.jsonl`` and copied into the adapter folder.

    SIGTERM/SIGINT handlers are installed for the whole call (then restored): a signal makes
    the run checkpoint before its next step and raise CancelledError.

    Returns:
        the ``done`` event's dict.

    Raises:
        TrainingError subclasses (model_missing, no_gpu, bad_dataset, bad_targets, nan, oom,
        cancelled, bad_resume, bad_setting); the caller turns them into ``error`` events.
    """
    stop = stop or _StopFlag()
    stop.install()
    try:
        return _run(locations, settings, events, resume=resume, progress=progress, stop=stop, run_id=run_id)
    finally:
        stop.restore()


def _run(locations, settings, events, *, resume, progress, stop, run_id) -> dict:
    import torch
    from peft.utils import get_peft_model_state_dict, set_peft_model_state_dict


    from journal_tui.fsutil import atomic_write_json, ensure_dir
    from journal_tui.training import checkpoint as ckpt
    from journal_tui.training import data, memory
    from journal_tui.training.adapters import promote_staged
    from journal_tui.training.lora import apply_lora, estimate_lora_params
    from journal_tui.training.models import load_base_model, load_tokenizer, pick_device, resolve_model_source, resolve_quant
    from journal_tui.training.step import Stepper

    t0 = time.monotonic()
    state: dict[str, Any] = {}
    if resume:
        state = ckpt.read_state(Path(locations.runs) / resume)
        settings = TrainSettings(**{**asdict(TrainSettings()), **state["settings"]})
        run_id = resume
    else:
        run_id = run_id or new_run_id()
    run_dir = ensure_dir(Path(locations.runs) / run_id)
    events.set_tee(run_dir / "events.jsonl")

    train_rows, eval_rows = data.load_rows(locations.datasets)
    fingerprint = data.dataset_fingerprint(locations.datasets)
    if resume and fingerprint["sha256"] != state["dataset"]["sha256"]:
        raise ckpt.ResumeError(
            f"the dataset changed since run {run_id} was checkpointed",
            "Start a new run (journal-tui train) to train on the new dataset.",
        )
    source = resolve_model_source(settings.model, locations, allow_downloads=settings.allow_downloads)
    device = pick_device()
    quant, warning = resolve_quant(settings.quant, device)
    if warning:
        events.emit("warning", message=warning)
    torch.manual_seed(settings.seed)
    tok = load_tokenizer(source)
    train_ex = data.tokenize_rows(train_rows, tok)
    eval_ex = data.tokenize_rows(eval_rows, tok)
    max_length = state.get("max_length") or data.choose_max_length(
        [len(e) for e in train_ex], source.max_position_embeddings
    )
    train_ex, fit_train = data.fit_to_length(train_ex, max_length)
    eval_ex, fit_eval = data.fit_to_length(eval_ex, max_length)
    if not train_ex or not eval_ex:
        raise BadDatasetError(
            f"no example fits max_length {max_length} tokens", "Write shorter entries or rebuild the dataset."
        )

    memory.apply_memory_cap(settings.profile, device)
    model = load_base_model(source, quant=quant, device=device)
    lengths = [len(e) for e in train_ex]
    if state:
        plan = memory.MemoryPlan(**state["plan"])
    else:
        # LoRA weights, grads and AdamW moments (fp32: 16 bytes per parameter) come on top.
        lora_bytes = 16 * estimate_lora_params(model, settings.target_modules, settings.lora_r)
        static = (torch.cuda.memory_allocated() if device == "cuda" else 0) + lora_bytes
        free = torch.cuda.mem_get_info()[0] if device == "cuda" else None
        plan = memory.plan_memory(
            settings.profile, device, model.config, max_length=max_length, total_tokens=sum(lengths),
            free_bytes=free, static_bytes=static, token_budget=settings.token_budget,
            step_tokens=settings.step_tokens,
        )
    model, trainable, total_params, targets = apply_lora(
        model, quant=quant, r=settings.lora_r, alpha=settings.lora_alpha, dropout=settings.lora_dropout,
        targets=settings.target_modules, gradient_checkpointing=plan.gradient_checkpointing,
    )
    steps_plan = data.plan_steps(
        lengths, plan.token_budget, seed=settings.seed, epochs=settings.epochs,
        grad_accum=plan.grad_accum, max_steps=settings.max_steps,
    )
    total_steps = len(steps_plan)
    steps_per_epoch = max(1, len(data.plan_steps(lengths, plan.token_budget, seed=settings.seed, epochs=1, grad_accum=plan.grad_accum)))
    eval_steps = settings.eval_steps or max(1, total_steps // 10)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=settings.learning_rate, weight_decay=0.0, fused=device == "cuda")
    scheduler = cosine_with_warmup(optimizer, math.ceil(settings.warmup_ratio * total_steps), total_steps)
    stepper = Stepper(
        model, optimizer, scheduler, train_ex, tok.pad_token_id, device, loss_chunk=plan.loss_chunk,
        max_grad_norm=settings.max_grad_norm, split=state.get("split", 1),
        on_warning=lambda msg: events.emit("warning", message=msg),
    )
    best_state = None
    if state:
        set_peft_model_state_dict(model, ckpt.load_tensors(run_dir / "adapter_state.safetensors"))
        best_state = ckpt.load_tensors(run_dir / "best.safetensors")
        ckpt.restore_trainer(run_dir, optimizer, scheduler)
    start_step = state.get("step", 0)
    base_eval = state.get("base_eval_loss")
    best_eval, best_step = state.get("best_eval_loss", math.inf), state.get("best_step", 0)
    bad_evals = state.get("bad_evals", 0)
    tokens_done = state.get("tokens_done", 0)
    train_seconds = state.get("train_seconds", 0.0)
    events.emit(
        "start", run_id=run_id, model=source.name, quant=quant, device=device, examples=len(train_ex),
        eval_examples=len(eval_ex), max_length=max_length, total_steps=total_steps, start_step=start_step,
        trainable_params=trainable, all_params=total_params, target_modules=targets, seed=settings.seed,
        profile=settings.profile, token_budget=plan.token_budget, grad_accum=plan.grad_accum,
        gradient_checkpointing=plan.gradient_checkpointing, truncated=fit_train["truncated"] + fit_eval["truncated"],
        dropped=fit_train["dropped"] + fit_eval["dropped"], resumed=bool(resume),
    )
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()

    def checkpoint_state(step: int) -> dict:
        return {
            "run_id": run_id, "step": step, "settings": asdict(settings), "plan": plan.to_json(), "split": stepper.split,
            "max_length": max_length, "dataset": fingerprint, "base_model": source.identity(),
            "base_eval_loss": base_eval, "best_eval_loss": best_eval, "best_step": best_step, "bad_evals": bad_evals,
            "tokens_done": tokens_done, "train_seconds": train_seconds,
        }

    def do_eval(step: int) -> float:
        loss = stepper.evaluate(eval_ex, plan.token_budget)
        events.emit("eval", step=step, eval_loss=loss)
        if progress:
            progress({"event": "eval", "step": step, "eval_loss": loss})
        return loss

    if start_step == 0:
        base_eval = best_eval = do_eval(0)
    window_tokens, window_t = 0, time.monotonic()
    last_step = start_step
    log_every = max(1, min(10, total_steps // 20 or 1))
    for step in range(start_step + 1, total_steps + 1):
        if stop.set:
            ckpt.save_checkpoint(run_dir, state=checkpoint_state(last_step),
                                 lora_state=get_peft_model_state_dict(model), best_state=best_state,
                                 optimizer=optimizer, scheduler=scheduler)
            events.emit("checkpoint", step=last_step, path=str(run_dir), reason="cancelled")
            raise CancelledError(
                f"training stopped at step {last_step} of {total_steps}; the adapter was not promoted",
                f"Continue with `journal-tui train --resume {run_id}`.",
            )
        ts = time.monotonic()
        res = stepper.step(steps_plan[step - 1])
        if device == "cuda":
            torch.cuda.synchronize()
        dt_s = time.monotonic() - ts
        train_seconds += dt_s
        tokens_done += res.real_tokens
        window_tokens += res.real_tokens
        last_step = step
        if step % log_every == 0 or step == total_steps or step == start_step + 1:
            now = time.monotonic()
            tps = window_tokens / max(1e-9, now - window_t)
            window_tokens, window_t = 0, now
            rate = train_seconds / max(1, step - start_step)
            ev = events.emit(
                "log", step=step, epoch=round(step / steps_per_epoch, 3), loss=res.loss,
                learning_rate=scheduler.get_last_lr()[0], grad_norm=res.grad_norm, tokens_per_s=tps,
                peak_mem_gib=round(_peak_gib(device), 3), eta_s=round(rate * (total_steps - step), 1),
                padding_fraction=round(1 - res.real_tokens / max(1, res.padded_tokens), 4),
            )
            if progress:
                progress(ev)
        if step % eval_steps == 0 or step == total_steps:
            loss = do_eval(step)
            if loss < best_eval:
                best_eval, best_step, bad_evals = loss, step, 0
                best_state = {k: v.detach().to("cpu", copy=True) for k, v in get_peft_model_state_dict(model).items()}
                events.emit("checkpoint", step=step, eval_loss=loss, reason="best")
            else:
                bad_evals += 1
                if bad_evals >= settings.patience:
                    events.emit("warning", message=f"early stopping at step {step}: eval_loss has not improved for {bad_evals} evals (best {best_eval:.4f} at step {best_step})")
                    break

    # Finish: best weights into a hidden staging folder, manifest, rename, move latest.
    if best_state is not None:
        set_peft_model_state_dict(model, best_state)
    staged = ensure_dir(Path(locations.adapters)) / f".{run_id}.tmp"
    shutil.rmtree(staged, ignore_errors=True)
    model.save_pretrained(staged)
    tps_avg = tokens_done / max(1e-9, train_seconds)
    finite = math.isfinite(best_eval) and best_state is not None
    if not finite:
        events.emit("warning", message="eval_loss never improved on the base model's; the adapter is kept but `latest` was not moved")
    manifest = {
        "run_id": run_id, "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "base_model": source.identity(), "quant": quant, "device": device,
        "lora": {"r": settings.lora_r, "alpha": settings.lora_alpha, "dropout": settings.lora_dropout, "target_modules": targets},
        "template_version": _template_version(train_rows), "dataset": fingerprint, "max_length": max_length,
        "seed": settings.seed, "settings": asdict(settings), "plan": plan.to_json(),
        "metrics": {
            "base_eval_loss": base_eval, "best_eval_loss": best_eval if math.isfinite(best_eval) else None, "best_step": best_step,
            "steps": last_step, "total_steps": total_steps, "tokens_per_s": tps_avg, "train_tokens": tokens_done,
            "train_seconds": round(train_seconds, 2), "wall_s": round(time.monotonic() - t0, 2),
            "peak_mem_gib": round(_peak_gib(device), 3), "trainable_params": trainable,
        },
        "versions": _versions(),
    }
    atomic_write_json(staged / "manifest.json", manifest)
    done = {
        "run_id": run_id, "adapter_path": str(Path(locations.adapters) / run_id), "best_eval_loss": best_eval,
        "base_eval_loss": base_eval, "best_step": best_step, "steps": last_step, "tokens_per_s": tps_avg,
        "wall_s": round(time.monotonic() - t0, 2), "promoted": finite,
    }
    shutil.copyfile(run_dir / "events.jsonl", staged / "events.jsonl")
    info = promote_staged(locations, staged, run_id, make_latest=finite)
    ev = events.emit("done", **done)
    events.close()
    with open(info.path / "events.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(ev, ensure_ascii=False) + "\n")
    ckpt.clear_checkpoint(run_dir)
    return done


def _template_version(rows: list[dict]) -> str:
    from journal_tui.dataset.template import TEMPLATE_VERSION

    versions = {r.get("template_version") for r in rows if r.get("template_version")}
    return versions.pop() if len(versions) == 1 else TEMPLATE_VERSION
