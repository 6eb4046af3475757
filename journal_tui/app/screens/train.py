"""The train panel: live loss chart, progress, run stats, errors with hints, past runs.

It only displays; the child process is run by :class:`journal_tui.app.jobs.MLJobs` and its
events arrive through :meth:`TrainPanel.handle_event` / :meth:`TrainPanel.handle_exit`.
Event fields are those of ``journal-tui train --events jsonl``: ``start`` (run_id, model, quant,
device, examples, total_steps, ...), ``log`` (step, epoch, loss, learning_rate, tokens_per_s,
peak_mem_gib, eta_s), ``eval`` (step, eval_loss), ``checkpoint``, ``done`` (run_id,
adapter_path, best_eval_loss, base_eval_loss), ``error`` (kind, message, hint), ``warning``.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, ProgressBar, Static

from journal_tui.app.widgets.dataset_status import DatasetStatus
from journal_tui.app.widgets.loss_chart import LossChart, as_float, read_events_file
from journal_tui.app.widgets.run_list import RunList, latest_run_id


def fmt_duration(seconds) -> str:
    """``75`` -> ``"1m 15s"``; ``"?"`` for unknown values."""
    s = as_float(seconds)
    if s != s or s < 0:  # NaN or negative
        return "?"
    s = int(round(s))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    if h:
        return f"{h}h {m:02d}m"
    if m:
        return f"{m}m {sec:02d}s"
    return f"{sec}s"


def fmt_stats(log: dict, last_eval: float | None) -> str:
    """One status line from the latest ``log`` event (and the latest eval_loss)."""
    parts = []
    if "loss" in log:
        parts.append(f"loss {as_float(log['loss']):.4f}")
    if last_eval is not None:
        parts.append(f"eval_loss {last_eval:.4f}")
    if log.get("learning_rate") is not None:
        parts.append(f"learning_rate {as_float(log['learning_rate']):.2e}")
    if log.get("tokens_per_s") is not None:
        parts.append(f"{as_float(log['tokens_per_s']):,.0f} tokens/s")
    if log.get("peak_mem_gib") is not None:
        parts.append(f"peak {as_float(log['peak_mem_gib']):.2f} GiB")
    if log.get("eta_s") is not None:
        parts.append(f"ETA {fmt_duration(log['eta_s'])}")
    return " · ".join(parts)


class TrainPanel(Vertical):
    """Everything about training runs.

    Attributes:
        state: ``idle`` | ``building`` | ``running`` | ``done`` | ``failed`` | ``cancelled``.
        run_id: id of the current (or last) run.
        step, total_steps: progress of the current run.
        last_error: the last ``error`` event (or failure) as a dict with kind/message/hint.
        last_done: the last ``done`` event.
    """

    DEFAULT_CSS = """
    TrainPanel { height: 1fr; }
    TrainPanel #train-state { height: auto; padding: 0 1; }
    TrainPanel #train-head { height: auto; padding: 0 1; }
    TrainPanel #train-head Button { width: auto; min-width: 8; margin-right: 1; }
    TrainPanel ProgressBar { padding: 0 1; }
    TrainPanel #train-stats { height: auto; padding: 0 1; color: $text-muted; }
    TrainPanel #train-error { height: auto; padding: 0 1; color: $error; display: none; }
    TrainPanel #train-error.shown { display: block; }
    TrainPanel .section { padding: 0 1; text-style: bold; margin-top: 1; }
    """

    def __init__(self, locations, **kwargs) -> None:
        super().__init__(**kwargs)
        self.locations = locations
        self.state = "idle"
        self.run_id: str | None = None
        self.step = 0
        self.total_steps: int | None = None
        self.last_eval: float | None = None
        self.last_error: dict | None = None
        self.last_done: dict | None = None

    def compose(self) -> ComposeResult:
        yield Static(self._head_text(), id="train-state")
        with Horizontal(id="train-head"):
            yield Button("Train (t)", id="train-start", variant="primary", compact=True)
            yield Button("Cancel", id="train-cancel", variant="error", disabled=True, compact=True)
        yield LossChart(id="loss-chart")
        yield ProgressBar(total=None, show_eta=False, id="train-progress")
        yield Static("", id="train-stats")
        yield Static("", id="train-error")
        yield DatasetStatus(self.locations, id="dataset-status")
        yield Static("Past runs (select to show their curves)", classes="section")
        yield RunList(self.locations, id="run-list")

    # -- helpers

    def _head_text(self) -> str:
        latest = latest_run_id(self.locations)
        adapter = f"adapter [b]{latest}[/b]" if latest else "no adapter yet"
        label = {
            "idle": "Ready to train",
            "building": "Building the dataset…",
            "running": f"Training run [b]{self.run_id or '…'}[/b]",
            "done": f"Run [b]{self.run_id}[/b] finished",
            "failed": "Training failed",
            "cancelled": f"Run [b]{self.run_id or ''}[/b] cancelled",
        }.get(self.state, self.state)
        return f"{label}  ·  {adapter}"

    def _set_state(self, state: str) -> None:
        self.state = state
        if not self.is_mounted:
            return
        self.query_one("#train-state", Static).update(self._head_text())
        busy = state in ("building", "running")
        self.query_one("#train-start", Button).disabled = busy
        self.query_one("#train-cancel", Button).disabled = state != "running"

    def _show_error(self, kind: str, message: str, hint: str) -> None:
        from rich.markup import escape

        self.last_error = {"kind": kind, "message": message, "hint": hint}
        box = self.query_one("#train-error", Static)
        text = f"[b]{escape(kind)}[/b]: {escape(message)}"
        if hint:
            text += f"\n[b]Hint:[/b] {escape(hint)}"
        box.update(text)
        box.add_class("shown")

    def _clear_error(self) -> None:
        self.last_error = None
        box = self.query_one("#train-error", Static)
        box.update("")
        box.remove_class("shown")

    @property
    def chart(self) -> LossChart:
        return self.query_one(LossChart)

    # -- driven by the ML panel

    def begin(self) -> None:
        """A retrain was requested (the dataset may be built first)."""
        self._clear_error()
        self.last_done = None
        self.run_id = None
        self.step = 0
        self.last_eval = None
        self.chart.reset()
        self.query_one("#train-stats", Static).update("Preparing: stopping the draft server, checking the dataset…")
        self.query_one(ProgressBar).update(total=None, progress=0)
        self._set_state("building")

    def handle_build(self, summary: dict) -> None:
        """``dataset build --json`` finished before the run."""
        self.query_one(DatasetStatus).reload()

    def handle_event(self, ev: dict) -> None:
        """One train event."""
        name = ev.get("event")
        bar = self.query_one(ProgressBar)
        stats = self.query_one("#train-stats", Static)
        if name == "start":
            self.run_id = ev.get("run_id")
            self.total_steps = ev.get("total_steps") or None
            self.chart.add_event(ev)
            bar.update(total=self.total_steps, progress=0)
            stats.update(
                f"{ev.get('model', '?')} · quant {ev.get('quant', '?')} · {ev.get('device', '?')} · "
                f"{ev.get('examples', '?')} examples · {ev.get('trainable_params', '?')} trainable params"
            )
            self._set_state("running")
            self.query_one(RunList).reload()  # the run in progress is listed (runs/RUN_ID)
        elif name == "log":
            self.chart.add_event(ev)
            self.step = int(as_float(ev.get("step", self.step)) or 0)
            bar.update(progress=self.step)
            stats.update(f"step {self.step}/{self.total_steps or '?'} · " + fmt_stats(ev, self.last_eval))
        elif name == "eval":
            self.chart.add_event(ev)
            self.last_eval = as_float(ev.get("eval_loss"))
        elif name == "warning":
            self.app.notify(str(ev.get("message", "")), title="Training", severity="warning")
        elif name == "done":
            self.last_done = ev
            self.chart.add_event(ev)
            self.run_id = ev.get("run_id", self.run_id)
            if self.total_steps:
                bar.update(progress=self.total_steps)
            best = as_float(ev.get("best_eval_loss"))
            best_txt = f"{best:.4f}" if best == best else "n/a"
            self._set_state("done")
            self.app.notify(
                f"New adapter {self.run_id}: best eval_loss {best_txt}"
                + (f" (base {as_float(ev['base_eval_loss']):.4f})" if ev.get("base_eval_loss") is not None else ""),
                title="Training finished",
                timeout=10,
            )
        elif name == "error":
            kind = str(ev.get("kind", "error"))
            self._show_error(kind, str(ev.get("message", "")), str(ev.get("hint", "")))
            if kind == "cancelled":
                self._set_state("cancelled")
                self.app.notify("Training cancelled; the previous adapter is still in use.", title="Training")
            else:
                self._set_state("failed")
                self.app.notify(str(ev.get("message", "")), title=f"Training failed ({kind})", severity="error",
                                timeout=10)

    def handle_exit(self, returncode: int, stderr_tail: str, log_path, saw_error: bool) -> None:
        """The train child exited."""
        if returncode != 0 and not saw_error:
            lines = [ln for ln in stderr_tail.strip().splitlines() if ln.strip()]
            self._show_error("crashed", f"the train command exited with status {returncode}: "
                             + (lines[-1] if lines else "no message"), f"full log: {log_path}")
            self._set_state("failed")
            self.app.notify("The train command crashed; see the panel.", severity="error")
        elif self.state in ("running", "building"):
            self._set_state("done" if returncode == 0 else "failed")
        else:
            self._set_state(self.state)
        self.query_one(RunList).reload()
        self.query_one(DatasetStatus).reload()

    def handle_failure(self, kind: str, message: str, hint: str) -> None:
        """The flow failed before or around the child (dataset build, spawn)."""
        self._show_error(kind, message, hint)
        self._set_state("failed")
        self.app.notify(message, title="Training", severity="error", timeout=10)

    def show_run(self, run) -> int:
        """Load a past run's curves from its events.jsonl; return the number of points."""
        n = self.chart.load_events(read_events_file(run.events_path))
        self.query_one("#train-stats", Static).update(
            f"Showing run {run.run_id}: {n} points from {run.events_path}" if n else
            f"Run {run.run_id} has no recorded losses ({run.events_path})"
        )
        return n
