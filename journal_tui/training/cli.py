"""``journal-tui train`` and ``journal-tui adapters list|use|rm``.

``train --events jsonl`` prints only JSON events on stdout (journal_tui/events.py): start, log,
eval, checkpoint, warning, done, error. Library chatter, Python logging and warnings go to
``home/logs/train-RUN_ID.log``; anything a library
prints to file descriptor 1 is sent to stderr. Without ``--events`` a progress line is shown and
events are only written to the run's events.jsonl.

Exit status: 0 done; 1 training error (error event); 3 cancelled; 2 bad command line.
"""

from __future__ import annotations

import json
import os
import sys


def register(sub) -> None:
    p = sub.add_parser("train", help="fine-tune a LoRA adapter on datasets/train.jsonl (QLoRA on CUDA)")
    p.add_argument("--model", metavar="ID|PATH|FILE.gguf", help="base model (default: [model] base, microsoft/phi-2)")
    p.add_argument("--quant", choices=("auto", "nf4", "int8", "none"), help="auto: nf4 on CUDA, none on CPU")
    p.add_argument("--profile", choices=("auto", "low-memory"), help="GPU memory profile (low-memory: <= 6 GiB peak)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--epochs", type=float, help="passes over the training set (default 3)")
    g.add_argument("--max-steps", type=int, help="optimizer steps (overrides --epochs)")
    p.add_argument("--learning-rate", type=float)
    p.add_argument("--lora-r", type=int)
    p.add_argument("--lora-alpha", type=int)
    p.add_argument("--lora-dropout", type=float)
    p.add_argument("--target-modules", help="comma-separated module names (default: per architecture)")
    p.add_argument("--eval-steps", type=int, help="evaluate every N steps (default: ~10 evals per run)")
    p.add_argument("--patience", type=int, help="stop after N evals without improvement")
    p.add_argument("--warmup-ratio", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument("--token-budget", type=int, help="padded tokens per micro-batch (default: from memory)")
    p.add_argument("--step-tokens", type=int,
                   help="padded tokens per optimizer step (default: about 1/16 of an epoch, at most 8192)")
    p.add_argument("--events", choices=("jsonl",), help="print JSON-lines events on stdout (for the app)")
    p.add_argument("--resume", metavar="RUN_ID", help="continue a cancelled run from runs/RUN_ID")
    p.set_defaults(handler=train_command)

    a = sub.add_parser("adapters", help="list, select or remove trained adapters")
    asub = a.add_subparsers(dest="adapters_command", metavar="ACTION")
    lp = asub.add_parser("list", help="adapters, newest first (* marks latest)")
    lp.add_argument("--json", action="store_true")
    lp.set_defaults(handler=adapters_list)
    up = asub.add_parser("use", help="point latest at RUN_ID")
    up.add_argument("run_id")
    up.set_defaults(handler=adapters_use)
    rp = asub.add_parser("rm", help="remove an adapter (the latest one needs --force)")
    rp.add_argument("run_id")
    rp.add_argument("--force", action="store_true", help="remove even the latest; latest moves back")
    rp.set_defaults(handler=adapters_rm)


_FLAGS = (
    "model", "quant", "profile", "epochs", "max_steps", "learning_rate", "lora_r", "lora_alpha", "lora_dropout",
    "eval_steps", "patience", "warmup_ratio", "seed", "token_budget", "step_tokens",
)


def quiet_libraries(log_path):
    """Send logging, warnings and library progress bars to ``log_path`` instead of the terminal."""
    import logging

    from journal_tui.fsutil import ensure_dir

    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    ensure_dir(log_path.parent)
    handler = logging.FileHandler(log_path, encoding="utf-8")
    os.chmod(log_path, 0o600)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    try:
        from transformers.utils import logging as tlog

        tlog.disable_default_handler()
        tlog.enable_propagation()
        tlog.disable_progress_bar()
    except Exception:  # pragma: no cover - transformers always present in the model path
        pass
    try:
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
    except Exception:  # pragma: no cover
        pass
    return handler


def train_command(args, locations) -> int:
    from journal_tui.config import ConfigError
    from journal_tui.config import settings as read_settings
    from journal_tui.events import EventWriter

    from journal_tui.cli import CliError
    from journal_tui.training.adapters import RUN_ID_RE

    if args.resume and not RUN_ID_RE.match(args.resume):
        raise CliError(f"--resume {args.resume!r}: not a run id (YYYYMMDD-HHMMSS-xxxx, a folder name in runs/)")
    json_mode = args.events == "jsonl"
    real_stdout = sys.stdout
    saved_fd = None
    if json_mode:
        # Events keep the real stdout; whatever else writes to fd 1 goes to stderr.
        sys.stdout.flush()
        saved_fd = os.dup(1)
        real_stdout = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
        os.dup2(2, 1)
        sys.stdout = sys.stderr
    events = EventWriter(stream=real_stdout if json_mode else _HumanStream(sys.stdout))
    from journal_tui.training.loop import new_run_id

    run_id = args.resume or new_run_id()
    try:
        log_handler = quiet_libraries(locations.logs / f"train-{run_id}.log")
    except OSError as e:  # an unwritable home: an error event, not a traceback
        events.emit("error", kind="bad_setting",
                    message=f"cannot write the training log in {locations.logs}: {e.strerror or e}",
                    hint="Check that your journal-tui home is writable (or pick another with --home).")
        events.close()
        if saved_fd is not None:
            real_stdout.flush()
            os.dup2(saved_fd, 1)
            os.close(saved_fd)
            sys.stdout = sys.__stdout__
        return 1
    try:
        from journal_tui.training.errors import TrainingError
        from journal_tui.training.loop import TrainSettings, run_training

        overrides = {k: getattr(args, k) for k in _FLAGS}
        if args.target_modules:
            overrides["target_modules"] = [t.strip() for t in args.target_modules.split(",") if t.strip()]
        try:
            cfg = read_settings(locations.config_file)
            s = TrainSettings.from_config(cfg, overrides)
            run_training(locations, s, events, resume=args.resume, run_id=run_id)
        except ConfigError as e:
            events.emit("error", kind="bad_setting", message=str(e), hint="Fix config.toml; it was left unchanged.")
            return 1
        except TrainingError as e:
            events.emit("error", **e.to_event())
            return 3 if e.kind == "cancelled" else 1
        except Exception as e:  # noqa: BLE001 - any crash becomes an error event for the app
            import logging
            import traceback

            logging.getLogger("journal_tui.train").error("crash\n%s", traceback.format_exc())
            events.emit("error", kind="internal", message=f"{type(e).__name__}: {e}",
                        hint=f"See the log in {locations.logs}.")
            if not json_mode:
                traceback.print_exc()
            return 1
        return 0
    finally:
        events.close()
        import logging

        logging.getLogger().removeHandler(log_handler)
        log_handler.close()
        if saved_fd is not None:
            real_stdout.flush()
            os.dup2(saved_fd, 1)
            os.close(saved_fd)
            sys.stdout = sys.__stdout__


class _HumanStream:
    """Turns the JSON event lines into a readable progress log (``train`` without ``--events``)."""

    def __init__(self, out) -> None:
        self.out = out

    def flush(self) -> None:
        self.out.flush()

    def write(self, line: str) -> None:
        ev = json.loads(line)
        kind = ev["event"]
        if kind == "start":
            text = (f"run {ev['run_id']}: {ev['model']} ({ev['quant']} on {ev['device']}), {ev['examples']} examples, "
                    f"max_length {ev['max_length']}, {ev['total_steps']} steps, {ev['trainable_params']:,} trainable params")
        elif kind == "log":
            text = (f"step {ev['step']}/{self._total}  epoch {ev['epoch']:.2f}  loss {ev['loss']:.4f}  "
                    f"lr {ev['learning_rate']:.2e}  {ev['tokens_per_s']:.0f} tok/s  peak {ev['peak_mem_gib']:.2f} GiB  "
                    f"eta {ev['eta_s']:.0f}s")
        elif kind == "eval":
            text = f"step {ev['step']}  eval_loss {ev['eval_loss']:.4f}"
        elif kind == "warning":
            text = f"warning: {ev['message']}"
        elif kind == "done":
            text = (f"adapter {ev['run_id']}: eval_loss {ev['base_eval_loss']:.4f} -> {ev['best_eval_loss']:.4f} "
                    f"({ev['adapter_path']}{'' if ev['promoted'] else ', not made latest'})")
        elif kind == "error":
            text = f"journal-tui: {ev['message']}\n  {ev['hint']}"
        else:
            return
        if kind == "start":
            self._total = ev["total_steps"]
        print(text, file=self.out, flush=True)

    _total = "?"


def _unreadable_adapters(locations, listed) -> list:
    """Adapter folders (named like run ids) that list_adapters skipped: no readable manifest.json."""
    from pathlib import Path

    from journal_tui.training.adapters import RUN_ID_RE

    root = Path(locations.adapters)
    if not root.is_dir():
        return []
    seen = {i.run_id for i in listed}
    return sorted(p for p in root.iterdir() if p.is_dir() and RUN_ID_RE.match(p.name) and p.name not in seen)


def _not_found(locations, run_id: str, e) -> str:
    from pathlib import Path

    from journal_tui.training.adapters import RUN_ID_RE

    folder = Path(locations.adapters) / run_id
    if RUN_ID_RE.match(run_id) and folder.is_dir():
        return (f"{folder} is not a usable adapter: its manifest.json is missing or cannot be read "
                "(an interrupted copy, or edited by hand?). Retrain, or delete that folder yourself.")
    return f"{e.message}. {e.hint}"


def adapters_list(args, locations) -> int:
    from journal_tui.training.adapters import list_adapters, read_latest

    latest = read_latest(locations)
    infos = list_adapters(locations)
    rows = [dict(i.summary(), latest=i.run_id == latest) for i in infos]
    for p in _unreadable_adapters(locations, infos):
        print(f"journal-tui: {p}: no readable manifest.json, not listed", file=sys.stderr)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("no adapters yet: run `journal-tui train`")
        return 0
    for r in rows:
        loss = r["best_eval_loss"]
        base = r["base_eval_loss"]
        print(f"{'*' if r['latest'] else ' '} {r['run_id']}  {r['base_model']}  {r['quant']}  "
              f"eval_loss {base if base is None else round(base, 4)} -> {loss if loss is None else round(loss, 4)}  "
              f"steps {r['steps']}")
    return 0


def adapters_use(args, locations) -> int:
    from journal_tui.cli import CliError
    from journal_tui.training.adapters import resolve_adapter, set_latest
    from journal_tui.training.errors import AdapterNotFoundError

    try:
        info = resolve_adapter(locations, args.run_id)
    except AdapterNotFoundError as e:
        raise CliError(_not_found(locations, args.run_id, e)) from e
    if info is None:
        raise CliError("give a run id (see `journal-tui adapters list`)")
    set_latest(locations, info.run_id)
    print(f"latest -> {info.run_id}")
    return 0


def adapters_rm(args, locations) -> int:
    from journal_tui.cli import CliError
    from journal_tui.training.adapters import remove_adapter
    from journal_tui.training.errors import AdapterNotFoundError

    if args.run_id in ("latest", "none"):
        raise CliError("give a run id, not latest/none (see `journal-tui adapters list`)")
    try:
        path, new_latest = remove_adapter(locations, args.run_id, force=args.force)
    except AdapterNotFoundError as e:
        raise CliError(_not_found(locations, args.run_id, e)) from e
    except PermissionError as e:
        raise CliError(str(e)) from e
    print(f"removed {path}" + (f"; latest -> {new_latest}" if new_latest else ""))
    return 0
