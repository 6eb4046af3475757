"""``journal-tui draft``: draft a day's journal entry from its notes, or serve drafts.

Plain mode prints the draft to stdout as it is generated (a one-line summary goes to stderr).
``--events jsonl`` prints JSON lines instead: ``ready``, ``start``, ``token`` (text deltas),
``done`` (text, finish_reason eos|stop|length|cancelled, new_tokens, tokens_per_s, adapter,
base, ...) or ``error`` (kind, message, hint). ``--serve`` keeps the model loaded and reads
requests from stdin (journal_tui/drafting/server.py).

Settings come from config.toml ``[draft]`` (max_new_tokens, temperature, top_p,
repetition_penalty, seed, adapter, and optionally quant) and ``[model] base``; flags override.
Drafting's ``quant`` defaults to ``auto``, which on CUDA means bf16 with the adapter merged when
it fits (engine.py); ``[model] quant`` is the training setting and is not used here.

Exit status: 0 done; 2 for a user error (no notes, bad setting, missing or mismatched model or
adapter); 1 for anything else. In events mode the error is also an ``error`` event.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

_USER_KINDS = {"no_notes", "bad_request", "bad_setting", "model_missing", "adapter_missing", "adapter_mismatch",
               "no_gpu", "prompt_too_long"}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "draft",
        help="draft a day's journal entry from that day's notes",
        description="Draft a day's journal entry from its notes with the base model and the newest adapter.",
    )
    p.add_argument("--date", metavar="YYYY-MM-DD", help="the day to draft (default: today)")
    p.add_argument("--adapter", metavar="REF", help="latest (default), a run id, or none for the base model")
    p.add_argument("--model", metavar="ID|DIR|FILE.gguf", help="base model (default: config [model] base)")
    p.add_argument("--max-new-tokens", type=int, metavar="N", help="at most N new tokens (default 400)")
    p.add_argument("--temperature", type=float, metavar="T", help="sampling temperature, 0 = greedy (default 0.7)")
    p.add_argument("--top-p", type=float, metavar="P", help="nucleus sampling mass (default 0.9)")
    p.add_argument("--repetition-penalty", type=float, metavar="R", help="1 = off (default 1.1)")
    p.add_argument("--seed", type=int, metavar="S", help="make sampling reproducible")
    p.add_argument("--events", choices=["jsonl"], help="print JSON-lines events instead of plain text")
    p.add_argument("--serve", action="store_true",
                   help="stay loaded and read JSON requests from stdin (implies --events jsonl)")
    p.add_argument("--quant", choices=["auto", "nf4", "int8", "none"],
                   help="auto (default): bf16 with the adapter merged when the GPU has room, else nf4")
    p.add_argument("--decoder", choices=["auto", "eager", "static", "cuda-graph"], default="auto",
                   help=argparse.SUPPRESS)  # for benchmarks and tests
    p.set_defaults(handler=handle_draft)


def _settings(args, locations) -> tuple[dict, dict[str, Any]]:
    from journal_tui.config import settings

    cfg = settings(locations.config_file)
    d = dict(cfg["draft"])
    for k in ("max_new_tokens", "temperature", "top_p", "repetition_penalty", "seed", "adapter", "quant"):
        v = getattr(args, k, None)
        if v is not None:
            d[k] = v
    d.setdefault("quant", "auto")
    d["quant"] = d.get("quant") or "auto"
    d["model"] = args.model or cfg["model"]["base"]
    return cfg, d


def error_fields(exc: BaseException) -> dict[str, str]:
    """``kind``, ``message``, ``hint`` for any exception raised while drafting."""
    from journal_tui.config import ConfigError

    if hasattr(exc, "to_event"):
        return exc.to_event()
    if isinstance(exc, ConfigError):
        return {"kind": "bad_setting", "message": str(exc), "hint": "Fix config.toml."}
    try:
        import torch

        if isinstance(exc, torch.cuda.OutOfMemoryError):
            return {"kind": "oom", "message": f"the GPU ran out of memory while drafting: {exc}",
                    "hint": "Close other GPU programs, lower --max-new-tokens, or use --quant nf4."}
    except ImportError:
        pass
    if isinstance(exc, ValueError):
        return {"kind": "bad_request", "message": str(exc), "hint": "See `journal-tui draft --help`."}
    return {"kind": "internal", "message": f"{type(exc).__name__}: {exc}",
            "hint": "See the log in the journal-tui logs folder; please report it."}


def _log_exception(locations, exc: BaseException) -> None:
    import traceback

    from journal_tui.fsutil import ensure_dir

    try:
        ensure_dir(locations.logs)
        with open(locations.logs / "draft.log", "a", encoding="utf-8") as f:
            f.write(time.strftime("%Y-%m-%dT%H:%M:%S ") + "".join(traceback.format_exception(exc)) + "\n")
    except OSError:
        pass


def run_one(engine, locations, date, req: dict, defaults: dict, events, *, cancel=None, extra=None, store=None,
            on_text=None, ignore_eos: bool = False) -> dict:
    """Draft one day with a loaded engine, reporting through ``events`` (an object with
    ``emit(event, **fields)``). Errors become ``error`` events. Returns the emitted ``done`` or
    ``error`` dict (its ``"event"`` says which)."""
    from journal_tui.drafting.prompt import build_prompt, parse_day
    from journal_tui.drafting.server import request_settings

    extra = extra or {}
    try:
        day = parse_day(date)
        settings = request_settings(req, defaults)
        prompt = build_prompt(locations, day, template_version=engine.template_version, store=store)
        events.emit("start", day=day.isoformat(), adapter=engine.describe()["adapter"], base=engine.source.name,
                    template_version=prompt.template_version, notes=len(prompt.sources),
                    prompt_trimmed=prompt.trimmed, max_new_tokens=settings.max_new_tokens, **extra)

        def delta(text: str) -> None:
            if on_text is not None:
                on_text(text)
            events.emit("token", text=text, **extra)

        out = engine.draft(prompt.text, settings, on_delta=delta, cancel=cancel, ignore_eos=ignore_eos)
    except Exception as e:  # every failure of one draft is reported, the server lives on
        fields = error_fields(e)
        if fields["kind"] == "internal":
            _log_exception(locations, e)
        return events.emit("error", **fields, **extra)
    done = {
        "text": out.text,
        "finish_reason": out.finish_reason,
        "new_tokens": out.new_tokens,
        "tokens_per_s": None if out.tokens_per_s is None else round(out.tokens_per_s, 2),
        "ttft_s": None if out.ttft_s is None else round(out.ttft_s, 4),
        "seed": out.seed,
        "adapter": engine.describe()["adapter"],
        "base": engine.source.name,
        "day": day.isoformat(),
        "retracted": out.retracted,
    }
    peak = engine.peak_mem_gib()
    if peak is not None:
        done["peak_mem_gib"] = round(peak, 3)
    return events.emit("done", **done, **extra)


class _PlainEvents:
    """Plain mode: token text to stdout as it comes, a summary or the error to stderr."""

    def __init__(self) -> None:
        self.wrote = False

    def emit(self, event: str, **fields) -> dict:
        if event == "token":
            sys.stdout.write(fields["text"])
            sys.stdout.flush()
            self.wrote = True
        elif event == "done":
            if self.wrote:
                sys.stdout.write("\n")
                sys.stdout.flush()
            if fields.get("retracted"):
                print(f"journal-tui: the last {len(fields['retracted'])} characters above are a dangling "
                      "sentence and are not part of the draft", file=sys.stderr)
            tps = fields.get("tokens_per_s")
            print(f"journal-tui: {fields['finish_reason']}, {fields['new_tokens']} tokens"
                  + (f", {tps:.1f} tokens/s" if tps else "")
                  + f", adapter {fields['adapter'] or 'none'} on {fields['base']}, seed {fields['seed']}",
                  file=sys.stderr)
        return {"event": event, **fields}


def handle_draft(args, locations) -> int:
    """``journal-tui draft``. In events mode, stdout carries events only: anything a library
    writes to file descriptor 1 is sent to stderr (as ``train`` does)."""
    import os

    events_mode = args.serve or args.events == "jsonl"
    if not (events_mode and sys.stdout is sys.__stdout__):
        return _handle(args, locations, sys.stdout)
    sys.stdout.flush()
    saved_fd = os.dup(1)
    stream = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        return _handle(args, locations, stream)
    finally:
        stream.flush()
        os.dup2(saved_fd, 1)
        os.close(saved_fd)
        stream.close()
        sys.stdout = sys.__stdout__


def _handle(args, locations, stream) -> int:
    from journal_tui.cli import CliError
    from journal_tui.events import EventWriter

    events_mode = args.serve or args.events == "jsonl"
    events = EventWriter(stream) if events_mode else _PlainEvents()
    try:  # library warnings, progress bars and chatter go to logs/draft.log, not the terminal
        from journal_tui.training.cli import quiet_libraries

        quiet_libraries(locations.logs / "draft.log")
    except OSError:
        pass  # an unwritable logs folder must not stop a draft

    def fail(exc: BaseException) -> int:
        fields = error_fields(exc)
        if fields["kind"] == "internal":
            _log_exception(locations, exc)
        if events_mode:
            events.emit("error", **fields)
            return 2 if fields["kind"] in _USER_KINDS else 1
        raise CliError(fields["message"] + (f"\n  {fields['hint']}" if fields.get("hint") else ""),
                       code=2 if fields["kind"] in _USER_KINDS else 1) from exc

    try:
        cfg, d = _settings(args, locations)
        from journal_tui.drafting.server import request_settings

        # bad sampling flags or [draft] values are reported before paying for the model
        request_settings({}, {k: d[k] for k in ("max_new_tokens", "temperature", "top_p", "repetition_penalty", "seed")})
        if not args.serve:  # check the day and its notes before paying for the model
            from journal_tui.dataset.template import TEMPLATE_VERSION
            from journal_tui.drafting.prompt import build_prompt, parse_day

            build_prompt(locations, parse_day(args.date), template_version=TEMPLATE_VERSION)
        from journal_tui.drafting.engine import DraftEngine

        engine = DraftEngine.load(locations, model_spec=d["model"], adapter_ref=d.get("adapter") or "latest",
                                  quant=d["quant"], decoder=args.decoder,
                                  allow_downloads=bool(cfg.get("allow_downloads")),
                                  log=lambda s: print(f"journal-tui: {s}", file=sys.stderr, flush=True))
    except Exception as e:
        return fail(e)
    defaults = {k: d[k] for k in ("max_new_tokens", "temperature", "top_p", "repetition_penalty", "seed")}
    if args.serve:
        from journal_tui.drafting.server import serve

        return serve(engine, locations, defaults, events)
    if events_mode:
        events.emit("ready", ready_s=round(engine.ready_s, 3), **engine.describe())
    result = run_one(engine, locations, args.date, {}, defaults, events)
    if result.get("event") != "error":
        return 0
    code = 2 if result.get("kind") in _USER_KINDS else 1
    if events_mode:
        return code
    raise CliError(result["message"] + (f"\n  {result['hint']}" if result.get("hint") else ""), code=code)
