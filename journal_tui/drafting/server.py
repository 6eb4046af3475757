"""``journal-tui draft --serve``: a warm drafting process driven by JSON lines on stdin.

Requests, one JSON object per stdin line:

* ``{"cmd": "draft", "date": "YYYY-MM-DD", "max_new_tokens": N, "temperature": T, "top_p": P,
  "repetition_penalty": R, "seed": S, "id": any}``: every field but ``cmd`` optional (date:
  today; the rest: the server's flags / config ``[draft]``). ``id`` is echoed in the events of
  that draft. Drafts are queued and run one at a time. ``"ignore_eos": true`` (benchmarks only)
  runs the full ``max_new_tokens`` past EOS and stop strings.
* ``{"cmd": "stop"}``: cancel the draft in progress (its ``done`` has finish_reason
  ``cancelled``); ignored when idle.
* ``{"cmd": "quit"}``: cancel the draft in progress, drop queued ones, exit 0 at once (what the
  app sends before a training run). The end of stdin instead finishes the queued drafts, then
  exits 0, so ``journal-tui draft --serve < requests.jsonl`` works as a batch.

Events on stdout (journal_tui/events.py): ``ready`` once after loading (model, adapter, device,
ready_s, quant, merged, decoder, template_version), then per draft ``start``, ``token``
(``text``: a delta), ``done`` (text, finish_reason, new_tokens, tokens_per_s, ttft_s, seed,
adapter, base, retracted, peak_mem_gib on CUDA) or ``error`` (kind, message, hint). A bad
request gives an ``error`` and the server keeps serving; a failure while loading gives an
``error`` and a non-zero exit.

The app keeps this process warm between drafts and ends it (``quit``) before a training run, so
one GPU job runs at a time.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
from typing import IO, Any

from journal_tui.drafting.errors import BadRequestError

_SAMPLING_KEYS = ("max_new_tokens", "temperature", "top_p", "repetition_penalty", "seed")


class LockedWriter:
    """An EventWriter safe to call from the stdin reader thread and the drafting thread."""

    def __init__(self, writer) -> None:
        self._writer = writer
        self._lock = threading.Lock()

    def emit(self, event: str, **fields: Any) -> dict:
        with self._lock:
            return self._writer.emit(event, **fields)


def _read_requests(stream: IO[str], requests: queue.Queue, cancel: threading.Event, quitting: threading.Event,
                   events: LockedWriter) -> None:
    for line in stream:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            if not isinstance(req, dict) or not isinstance(req.get("cmd"), str):
                raise ValueError("not an object with a string 'cmd'")
        except ValueError as e:
            events.emit("error", kind="bad_request", message=f"bad request line {line[:200]!r}: {e}",
                        hint='Send one JSON object per line, e.g. {"cmd": "draft", "date": "2026-11-29"}.')
            continue
        cmd = req["cmd"]
        if cmd == "stop":
            cancel.set()
        elif cmd == "quit":
            quitting.set()
            cancel.set()
            requests.put(None)
            return
        elif cmd == "draft":
            requests.put(req)
        else:
            events.emit("error", kind="bad_request", message=f"unknown cmd {cmd!r}", hint="Use draft, stop or quit.",
                        id=req.get("id"))
    requests.put(None)  # end of stdin: finish the queued drafts, then exit


def request_settings(req: dict, defaults: dict):
    """SamplingSettings for a request, its fields over ``defaults``.

    Raises:
        BadRequestError: a field of the wrong type or out of range.
    """
    from journal_tui.drafting.generate import SamplingSettings

    values = dict(defaults)
    for k in _SAMPLING_KEYS:
        if k in req and req[k] is not None:
            values[k] = req[k]
    try:
        s = SamplingSettings(
            max_new_tokens=int(values["max_new_tokens"]),
            temperature=float(values["temperature"]),
            top_p=float(values["top_p"]),
            repetition_penalty=float(values["repetition_penalty"]),
            seed=None if values.get("seed") is None else int(values["seed"]),
        )
        s.check()
    except (TypeError, ValueError) as e:
        raise BadRequestError(f"draft request: {e}", "Fix the request's field (see `journal-tui draft --help`).") from e
    return s


def serve(engine, locations, defaults: dict, events, *, stdin: IO[str] | None = None, store=None) -> int:
    """Run the request loop until ``quit`` or end of stdin. ``engine`` is a loaded DraftEngine;
    ``defaults`` holds the sampling defaults (see :data:`_SAMPLING_KEYS`). Returns 0."""
    from journal_tui.drafting.cli import run_one

    out = LockedWriter(events)
    requests: queue.Queue = queue.Queue()
    cancel = threading.Event()
    quitting = threading.Event()
    out.emit("ready", ready_s=round(engine.ready_s, 3), **engine.describe())
    reader = threading.Thread(target=_read_requests, args=(stdin or sys.stdin, requests, cancel, quitting, out),
                              name="draft-stdin", daemon=True)
    reader.start()
    while True:
        req = requests.get()
        if req is None or quitting.is_set():
            _cancel_queued(req, requests, out)
            return 0
        cancel.clear()  # a stop sent before this draft started was meant for the previous one
        rid = {"id": req["id"]} if "id" in req else {}
        run_one(engine, locations, req.get("date"), req, defaults, out, cancel=cancel, extra=rid, store=store,
                ignore_eos=bool(req.get("ignore_eos", False)))


def _cancel_queued(req, requests: queue.Queue, out: LockedWriter) -> None:
    """On ``quit``, answer every draft that was queued but never started with a ``done`` event
    whose finish_reason is ``cancelled``, so no request goes unanswered."""
    pending = [req] if req is not None else []
    while True:
        try:
            item = requests.get_nowait()
        except queue.Empty:
            break
        if item is not None:
            pending.append(item)
    for item in pending:
        rid = {"id": item["id"]} if "id" in item else {}
        out.emit("done", text="", finish_reason="cancelled", new_tokens=0, tokens_per_s=0.0,
                 day=item.get("date"), **rid)
