"""The confirm modal shown before a training run is cancelled.

Dismisses with True (cancel the run: ``y`` or the "Cancel run" button) or False (keep it
running: ``n``, ``escape`` or the "Keep training" button). A cancelled run keeps its checkpoint in
``runs/RUN_ID`` and the previous adapter stays the latest.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class CancelTrainScreen(ModalScreen[bool]):
    """Ask whether to stop the running training run."""

    DEFAULT_CSS = """
    CancelTrainScreen { align: center middle; }
    CancelTrainScreen > Vertical {
        width: 60; height: auto; padding: 1 2;
        border: thick $warning; background: $surface;
    }
    CancelTrainScreen Horizontal { height: auto; margin-top: 1; align-horizontal: right; }
    CancelTrainScreen Button { margin-left: 2; }
    """

    BINDINGS = [
        Binding("y", "answer(True)", "Cancel run"),
        Binding("n,escape", "answer(False)", "Keep training"),
    ]

    def __init__(self, run_id: str | None = None, step: int | None = None, total: int | None = None) -> None:
        super().__init__()
        self.run_id = run_id
        self.step = step
        self.total = total

    def compose(self) -> ComposeResult:
        where = ""
        if self.step is not None and self.total:
            where = f" at step {self.step}/{self.total}"
        run = f" {self.run_id}" if self.run_id else ""
        with Vertical():
            yield Static(
                f"[b]Cancel training run{run}{where}?[/b]\n\n"
                "The partial run is kept in runs/ (resumable); the current adapter stays in use."
            )
            with Horizontal():
                yield Button("Keep training (n)", id="keep", variant="primary")
                yield Button("Cancel run (y)", id="cancel-run", variant="error")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "cancel-run")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
