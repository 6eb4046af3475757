"""The loss chart: train loss and eval loss against optimizer step.

Built on ``textual-plot``'s :class:`~textual_plot.PlotWidget` (maintained; ``textual-plotext``
is stalled). Axes are labelled ``step`` and ``loss``. Every value received is kept and plotted,
step 0 included (the base model's eval_loss, before any update); non-finite values (``"nan"``
strings from the event stream) are kept in :attr:`LossChart.train_points` but the plot skips them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

from textual_plot import HiResMode, LegendLocation, PlotWidget

TRAIN_STYLE = "bright_cyan"
EVAL_STYLE = "bright_magenta"


def as_float(value) -> float:
    """An event number (float, int or a string such as ``"nan"``) as a float; NaN when unusable."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


class LossChart(PlotWidget):
    """Line plot of ``loss`` (log events) and ``eval_loss`` (eval events) by ``step``.

    Attributes:
        train_points: ``[(step, loss)]`` in arrival order.
        eval_points: ``[(step, eval_loss)]`` in arrival order; step 0 is the base model.
        total_steps: the run's planned steps (x axis upper limit) when known, else None.
    """

    DEFAULT_CSS = """
    LossChart { height: 1fr; min-height: 10; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(allow_pan_and_zoom=False, **kwargs)
        self.train_points: list[tuple[float, float]] = []
        self.eval_points: list[tuple[float, float]] = []
        self.total_steps: int | None = None

    def on_mount(self) -> None:
        self.set_xlabel("step")
        self.set_ylabel("loss")
        self.margin_left = 8
        self._redraw()

    # -- data in

    def reset(self, total_steps: int | None = None) -> None:
        """Forget all points (a new run starts); ``total_steps`` fixes the x range."""
        self.train_points.clear()
        self.eval_points.clear()
        self.total_steps = total_steps or None
        self._redraw()

    def add_event(self, event: dict) -> bool:
        """Take one train event (``start``, ``log``, ``eval``, ``done``); True when it added a point."""
        name = event.get("event")
        if name == "start":
            self.reset(event.get("total_steps"))
            return False
        if name == "log" and "loss" in event:
            self.train_points.append((as_float(event.get("step", 0)), as_float(event["loss"])))
        elif name == "eval" and "eval_loss" in event:
            self.eval_points.append((as_float(event.get("step", 0)), as_float(event["eval_loss"])))
        elif name == "done" and event.get("base_eval_loss") is not None:
            # a run that did not report its step-0 eval still shows the base model's loss
            if not any(step == 0 for step, _ in self.eval_points):
                self.eval_points.insert(0, (0.0, as_float(event["base_eval_loss"])))
            else:
                return False
        else:
            return False
        self._redraw()
        return True

    def load_events(self, events: Iterable[dict]) -> int:
        """Replace the curves with those of a past run's events; return the number of points."""
        self.train_points.clear()
        self.eval_points.clear()
        self.total_steps = None
        for ev in events:
            if ev.get("event") == "start":
                self.total_steps = ev.get("total_steps") or None
                continue
            name = ev.get("event")
            if name == "log" and "loss" in ev:
                self.train_points.append((as_float(ev.get("step", 0)), as_float(ev["loss"])))
            elif name == "eval" and "eval_loss" in ev:
                self.eval_points.append((as_float(ev.get("step", 0)), as_float(ev["eval_loss"])))
            elif name == "done" and ev.get("base_eval_loss") is not None:
                if not any(step == 0 for step, _ in self.eval_points):
                    self.eval_points.insert(0, (0.0, as_float(ev["base_eval_loss"])))
        self._redraw()
        return len(self.train_points) + len(self.eval_points)

    # -- drawing

    def _redraw(self) -> None:
        if not self.is_mounted:
            return
        self.clear()
        xs = [s for s, _ in self.train_points + self.eval_points]
        xmax = max([float(self.total_steps or 0), *xs, 1.0])
        self.set_xlimits(0.0, xmax)
        if self.train_points:
            x, y = zip(*self.train_points)
            self.plot(x, y, line_style=TRAIN_STYLE, hires_mode=HiResMode.BRAILLE, label="train loss")
        if self.eval_points:
            x, y = zip(*self.eval_points)
            if len(self.eval_points) > 1:
                self.plot(x, y, line_style=EVAL_STYLE, hires_mode=HiResMode.BRAILLE)
            self.scatter(x, y, marker="●", marker_style=EVAL_STYLE, label="eval_loss")
        if self.train_points or self.eval_points:
            self.show_legend(LegendLocation.TOPRIGHT)
        else:
            self.show_legend(is_visible=False)


def read_events_file(path: Path) -> list[dict]:
    """The events of a run's ``events.jsonl`` (bad lines skipped; [] when the file is missing)."""
    from journal_tui.events import parse_event_line

    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return [ev for ev in (parse_event_line(line) for line in f) if ev is not None]
    except OSError:
        return []


__all__ = ["LossChart", "read_events_file", "as_float"]
