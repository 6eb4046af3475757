"""The draft pane: the selected day's entry, streamed from the warm draft server, editable.

Token deltas are not applied one by one: the job's reader thread appends them to
:attr:`DraftPane.buffer` and a 50 ms timer drains the buffer into the TextArea, so a fast
model costs at most 20 UI updates a second and typing elsewhere stays smooth.

When the draft is done the pane shows which adapter and base model wrote it (from the server's
``done`` event); the text can then be edited and accepted: it is saved, as edited, as that day's
entry (``kind: entry``, front matter ``draft_adapter`` / ``draft_base``) through the note store,
where it feeds the next dataset build.
"""

from __future__ import annotations

import datetime as dt

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Static, TextArea

from journal_tui.app.jobs import TextBuffer

#: seconds between flushes of streamed text into the TextArea
FLUSH_INTERVAL_S = 0.05


def _name(value) -> str:
    """An adapter/base field of an event as a string (run id, model id or path, or "none")."""
    if isinstance(value, dict):
        return str(value.get("run_id") or value.get("name") or value.get("path") or "?")
    return "none" if value in (None, "") else str(value)


def short(name: str | None) -> str:
    """A model path shown by its last part (``/x/SmolLM2.gguf`` -> ``SmolLM2.gguf``); ids unchanged."""
    if not name:
        return "?"
    return name.rstrip("/").rsplit("/", 1)[-1] if name.startswith(("/", "~", ".")) else name


class DraftPane(Vertical):
    """The draft of one day's entry.

    Attributes:
        buffer: streamed deltas not yet shown (filled by the job thread).
        day: the day being drafted.
        state: ``idle`` | ``starting`` | ``streaming`` | ``done`` | ``failed``.
        adapter, base: who wrote the current draft (from ``ready``/``start``/``done``).
        finish_reason: of the last draft (eos, stop, length, cancelled).
        flushes: number of timer flushes that moved text (a handful per draft, not one per token).
        deltas_seen: characters streamed into the pane for the current draft.
        streamed_before_done: of those, the characters shown before the ``done`` event arrived.
    """

    DEFAULT_CSS = """
    DraftPane { height: 1fr; }
    DraftPane #draft-title { height: auto; padding: 0 1; }
    DraftPane #draft-head { height: auto; padding: 0 1; }
    DraftPane #draft-head Button { width: auto; min-width: 8; margin-right: 1; }
    DraftPane #draft-head #draft-start { width: 16; }  /* fits "Regenerate (d)" after the first draft */
    DraftPane TextArea { height: 1fr; }
    DraftPane #draft-status { height: auto; padding: 0 1; color: $text-muted; }
    DraftPane #draft-error { height: auto; padding: 0 1; color: $error; display: none; }
    DraftPane #draft-error.shown { display: block; }
    """

    BINDINGS = [
        Binding("escape", "stop", "Stop draft", show=False),
        Binding("ctrl+s", "accept", "Accept draft"),
    ]

    class Requested(Message):
        """The pane asks the ML panel for a draft of ``day`` (None: the app's selected day)."""

        def __init__(self, day: dt.date | None) -> None:
            super().__init__()
            self.day = day

    class StopRequested(Message):
        """Stop button / escape while streaming."""

    class AcceptRequested(Message):
        """Accept button / ctrl+s."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.buffer = TextBuffer()
        self.day: dt.date | None = None
        self.state = "idle"
        self.adapter: str | None = None
        self.base: str | None = None
        self.finish_reason: str | None = None
        self.last_done: dict | None = None
        self.last_error: dict | None = None
        self.flushes = 0
        self.deltas_seen = 0
        self.streamed_before_done = 0
        self._timer = None

    def compose(self) -> ComposeResult:
        yield Static("No draft yet: press [b]d[/b] (or ctrl+g) to draft the selected day's entry.", id="draft-title")
        with Horizontal(id="draft-head"):
            yield Button("Draft (d)", id="draft-start", variant="primary", compact=True)
            yield Button("Stop", id="draft-stop", disabled=True, compact=True)
            yield Button("Accept (ctrl+s)", id="draft-accept", variant="success", disabled=True, compact=True)
        yield TextArea("", id="draft-text", soft_wrap=True, show_line_numbers=False)
        yield Static("", id="draft-status")
        yield Static("", id="draft-error")

    def on_mount(self) -> None:
        self._timer = self.set_interval(FLUSH_INTERVAL_S, self.flush, pause=True)

    @property
    def text_area(self) -> TextArea:
        return self.query_one("#draft-text", TextArea)

    @property
    def streaming(self) -> bool:
        return self.state in ("starting", "streaming")

    # -- state

    def _set_state(self, state: str) -> None:
        self.state = state
        busy = self.streaming
        self.query_one("#draft-start", Button).disabled = busy
        self.query_one("#draft-start", Button).label = "Regenerate (d)" if state in ("done", "failed") else "Draft (d)"
        self.query_one("#draft-stop", Button).disabled = not busy
        self.query_one("#draft-accept", Button).disabled = busy or not self.text_area.text.strip()
        self.text_area.read_only = busy

    def _status(self, text: str) -> None:
        self.query_one("#draft-status", Static).update(text)

    def _show_error(self, kind: str, message: str, hint: str) -> None:
        from rich.markup import escape

        self.last_error = {"kind": kind, "message": message, "hint": hint}
        box = self.query_one("#draft-error", Static)
        box.update(f"[b]{escape(kind)}[/b]: {escape(message)}" + (f"\n[b]Hint:[/b] {escape(hint)}" if hint else ""))
        box.add_class("shown")

    def _clear_error(self) -> None:
        self.last_error = None
        box = self.query_one("#draft-error", Static)
        box.update("")
        box.remove_class("shown")

    # -- streaming

    def begin(self, day: dt.date, *, warm: bool) -> None:
        """A draft of ``day`` was requested; ``warm``: the server is already loaded."""
        self.day = day
        self.buffer.drain()
        self.text_area.load_text("")
        self.adapter = self.base = self.finish_reason = None
        self.last_done = None
        self.deltas_seen = 0
        self.streamed_before_done = 0
        self._clear_error()
        self.query_one("#draft-title", Static).update(f"Drafting the entry for [b]{day.isoformat()} {day:%A}[/b]")
        self._status("Drafting…" if warm else "Starting the draft server (loading the model)…")
        self._set_state("starting")
        self._timer.resume()

    def _focus_finished_draft(self) -> None:
        """Put the cursor in the finished draft, so it can be edited and ctrl+s accepts it, unless
        the person is typing elsewhere (a note, the search box): their focus is never taken."""
        from textual.widgets import Input, TextArea

        focused = self.app.focused
        if focused is self.text_area or not isinstance(focused, (Input, TextArea)):
            self.text_area.focus()

    def flush(self) -> None:
        """Move buffered deltas into the TextArea (runs every FLUSH_INTERVAL_S while streaming)."""
        text = self.buffer.drain()
        if not text:
            return
        ta = self.text_area
        ta.insert(text, ta.document.end, maintain_selection_offset=False)
        ta.scroll_end(animate=False)
        self.flushes += 1
        self.deltas_seen += len(text)
        if self.state == "starting":
            self._set_state("streaming")

    def handle_event(self, ev: dict) -> None:
        """One draft server event other than ``token``."""
        name = ev.get("event")
        if name == "ready":
            self.adapter = _name(ev.get("adapter"))
            self.base = _name(ev.get("model") or ev.get("base"))
            self._status(f"Draft server ready: {short(self.base)} + adapter {self.adapter} on {ev.get('device', '?')}"
                         f" (loaded in {ev.get('ready_s', '?')} s). Drafting…")
        elif name == "start":
            if ev.get("adapter") is not None:
                self.adapter = _name(ev.get("adapter"))
            if ev.get("base") is not None or ev.get("model") is not None:
                self.base = _name(ev.get("base") or ev.get("model"))
            self._set_state("streaming")
        elif name == "done":
            self.streamed_before_done = self.deltas_seen
            self.flush()
            self._timer.pause()
            self.last_done = ev
            self.finish_reason = str(ev.get("finish_reason", "?"))
            if ev.get("adapter") is not None:
                self.adapter = _name(ev.get("adapter"))
            if ev.get("base") is not None:
                self.base = _name(ev.get("base"))
            final = ev.get("text")
            if isinstance(final, str) and (final.strip() or self.finish_reason != "cancelled"):
                self.text_area.load_text(final)
            self._set_state("done")
            self._focus_finished_draft()
            if self.day is not None:
                self.query_one("#draft-title", Static).update(
                    f"Draft of the entry for [b]{self.day.isoformat()} {self.day:%A}[/b]")
            tps = ev.get("tokens_per_s")
            tps_txt = f"{float(tps):.1f} tokens/s" if isinstance(tps, (int, float)) else ""
            self._status(
                f"Written by adapter [b]{self.adapter}[/b] on base [b]{short(self.base)}[/b] · finish_reason "
                f"{self.finish_reason} · {ev.get('new_tokens', '?')} new tokens {('· ' + tps_txt) if tps_txt else ''}\n"
                "Edit freely, then Accept (ctrl+s) to save it as the day's entry, or press d to regenerate."
            )
        elif name == "error":
            self.flush()
            self._timer.pause()
            self._show_error(str(ev.get("kind", "error")), str(ev.get("message", "")), str(ev.get("hint", "")))
            self._set_state("failed")
            self._status("")

    def handle_exit(self, returncode: int, stderr_tail: str, log_path, saw_error: bool) -> None:
        """The draft server exited (quit for training, or crashed)."""
        if self.streaming:
            self.flush()
            self._timer.pause()
            if returncode == 0 and not saw_error:  # quit on purpose: a training run needs the GPU
                self._set_state("idle")
                self._status("The draft server stopped (a training run needs the GPU); draft again afterwards.")
                return
            if not saw_error:
                lines = [ln for ln in stderr_tail.strip().splitlines() if ln.strip()]
                self._show_error("crashed", f"the draft server exited with status {returncode}: "
                                 + (lines[-1] if lines else "no message"), f"full log: {log_path}")
            self._set_state("failed")

    def handle_failure(self, kind: str, message: str, hint: str) -> None:
        self._timer.pause()
        self._show_error(kind, message, hint)
        self._set_state("failed")

    def refused(self, reason: str) -> None:
        """A draft could not start (e.g. training holds the GPU); the pane keeps its text."""
        self._set_state(self.state if self.state != "starting" else "idle")
        self.app.notify(reason, title="Draft", severity="warning")

    def accepted(self, path) -> None:
        self._status(f"Saved as the entry of {self.day.isoformat() if self.day else '?'}: {path}")
        self.query_one("#draft-accept", Button).disabled = True

    # -- buttons and keys bubble up to the ML panel as messages

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "draft-start":
            event.stop()
            self.post_message(self.Requested(self.day if self.state in ("done", "failed") else None))
        elif event.button.id == "draft-stop":
            event.stop()
            self.post_message(self.StopRequested())
        elif event.button.id == "draft-accept":
            event.stop()
            self.post_message(self.AcceptRequested())

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if not self.streaming:
            self.query_one("#draft-accept", Button).disabled = not self.text_area.text.strip()

    def check_action(self, action: str, parameters) -> bool | None:
        # escape only means "stop" while a draft streams; otherwise it reaches the App
        if action == "stop":
            return self.streaming
        return True

    def action_stop(self) -> None:
        if self.streaming:
            self.post_message(self.StopRequested())

    def action_accept(self) -> None:
        self.post_message(self.AcceptRequested())
