"""Messages shared by the app's widgets and panels."""

from __future__ import annotations

from pathlib import Path

from textual.message import Message


class NotesChanged(Message):
    """Files in the notes folder changed on disk (any writer: this app, the CLI, an editor).

    Posted to the App by the debounced notes watcher (from its thread). The App refreshes the
    note list, reconciles the open note, then publishes ``app.notes_changed_signal`` with the
    same paths, so panels elsewhere (dataset status, ...) can subscribe without the App knowing
    them.

    Attributes:
        paths: absolute paths of the changed, created, moved or deleted note files.
    """

    def __init__(self, paths: set[Path] | frozenset[Path]) -> None:
        super().__init__()
        self.paths: frozenset[Path] = frozenset(Path(p) for p in paths)


class NotesScanned(Message):
    """A scan of the notes folder finished (posted by the App's scan worker, handled by the App).

    Attributes:
        notes: every readable note, newest first.
        problems: files that could not be read (``Problem``: path, reason).
        index: ``(note, lower-cased search text)`` pairs, built off the UI thread.
        keep: a note path to reveal in the list afterwards, or None.
        error: set when the scan itself failed (the message to show); the lists are then empty.
    """

    def __init__(self, notes: list, problems: list, *, index: list | None = None,
                 keep: Path | None = None, error: str | None = None) -> None:
        super().__init__()
        self.notes = notes
        self.problems = problems
        self.index = index or []
        self.keep = keep
        self.error = error


class DraftAccepted(Message):
    """A draft was saved as a day's entry: ``note`` is the new Note (from NoteStore.add)."""

    def __init__(self, note) -> None:
        super().__init__()
        self.note = note
