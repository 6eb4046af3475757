"""Keys and palette entries of the ML panel (train / draft), kept apart from the panel itself so
the App can declare its bindings without importing the panel, its chart (textual-plot, numpy) or
the job runner before the first screen is painted. :mod:`journal_tui.app.ml` implements them."""

from __future__ import annotations

from textual.binding import Binding

#: action names accepted by :meth:`MLPanel.run_command` (and the App's ``ml(NAME)`` action)
COMMANDS = ("train", "cancel_train", "draft", "stop_draft", "accept_draft", "show_train", "show_draft")

#: App-level bindings; the part of ``tooltip`` before " — " is the palette title
ML_BINDINGS = [
    Binding("t", "ml('train')", "Train",
            tooltip="Train: retrain adapter on current dataset — builds the dataset if needed, then trains"),
    Binding("ctrl+r", "ml('train')", "Train", show=False, priority=True,
            tooltip="Train: retrain adapter on current dataset — builds the dataset if needed, then trains"),
    Binding("d", "ml('draft')", "Draft",
            tooltip="Draft: write the selected day's entry — with the newest adapter, streamed into the draft pane"),
    Binding("ctrl+g", "ml('draft')", "Draft", show=False, priority=True,
            tooltip="Draft: write the selected day's entry — with the newest adapter, streamed into the draft pane"),
]

#: palette-only commands as (title, help, action) for the App's ``PALETTE_ONLY``
ML_PALETTE = [
    ("Train: cancel the running training run", "asks to confirm; the partial run is kept in runs/", "ml('cancel_train')"),
    ("Train: show the train panel", "loss chart, progress, dataset status and past runs", "ml('show_train')"),
    ("Draft: stop the draft being written", "the text so far stays in the pane", "ml('stop_draft')"),
    ("Draft: accept the draft as the day's entry", "saves the pane's text, as edited, as kind: entry", "ml('accept_draft')"),
    ("Draft: show the draft pane", "the current draft", "ml('show_draft')"),
]
