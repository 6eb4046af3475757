"""The Textual app (the UI process).

This package imports only textual, rich, watchdog and the notes code: never torch,
transformers, peft, bitsandbytes, datasets or accelerate. Model work runs in child processes
(``python -m journal_tui train|draft ...``) whose JSON-lines events a worker reads.

Layout: :mod:`.app` (the thin App and ``run_app``), :mod:`.screens` (one modal per module),
:mod:`.widgets` (note list, editor pane, ...), :mod:`.commands` (command palette),
``journal.tcss`` (styles).
"""
