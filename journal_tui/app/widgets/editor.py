"""The editor pane: a status line and a Markdown TextArea bound to one note.

It owns the rules that keep typed text safe:

* Saving goes through ``NoteStore``. A failed write (``OSError``), a note whose file could not
  be parsed (``NoteError``, never rewritten) or a file changed on disk since it was read
  (``ConflictError``: the store writes our text to a conflict copy and leaves the disk file
  alone) never clears the editor; the person is told why and where things are.
* An external change to the open note with no local edits reloads it; with local edits the
  typed text stays and the next save takes the conflict path (both versions kept).
* A new note is created on disk only when it is saved with some text in it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Label, TextArea

from journal_tui.notes.model import Note

Mode = Literal["empty", "welcome", "new", "note"]


def _markdown_language() -> str | None:
    """``"markdown"`` when tree-sitter's Markdown grammar is installed (highlighting), else None."""
    try:
        from textual._tree_sitter import TREE_SITTER, get_language
    except ImportError:  # pragma: no cover - textual moved it
        return None
    return "markdown" if TREE_SITTER and get_language("markdown") is not None else None


class NoteEditor(TextArea):
    """The TextArea: soft wrap, Markdown highlighting when available, no line numbers."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            "",
            language=_markdown_language(),
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            id=id,
        )


class EditorPane(Vertical):
    """The open note and its editor.

    State: ``mode`` is ``"empty"`` (nothing open), ``"welcome"`` (the read-only welcome note),
    ``"new"`` (an unsaved new note for ``new_day``) or ``"note"`` (``note`` is open;
    ``baseline`` is the body as last read or saved).
    """

    class Saved(Message):
        """A note was written (new, saved, or a conflict copy); the list should show it."""

        def __init__(self, note: Note) -> None:
            super().__init__()
            self.note = note

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.mode: Mode = "empty"
        self.note: Note | None = None
        self.baseline = ""
        self.new_day: dt.date | None = None
        self.external_change = False

    def compose(self) -> ComposeResult:
        yield Label("", id="editor-status", markup=False)
        yield NoteEditor(id="editor")

    @property
    def editor(self) -> NoteEditor:
        return self.query_one(NoteEditor)

    @property
    def text(self) -> str:
        return self.editor.text

    @property
    def dirty(self) -> bool:
        """True when the editor holds text that is not on disk."""
        if self.mode == "new":
            return bool(self.text.strip())
        if self.mode == "note":
            return self.text != self.baseline
        return False

    # --- loading -------------------------------------------------------------------------

    def load_note(self, note: Note) -> None:
        """Show ``note`` for editing (discarding what the editor held: save first)."""
        self.mode, self.note, self.baseline, self.external_change = "note", note, note.body, False
        self._load(note.body, read_only=False)

    def start_new(self, day: dt.date) -> None:
        """An empty new note for ``day``; nothing is written until it is saved with text."""
        self.mode, self.note, self.baseline, self.new_day, self.external_change = "new", None, "", day, False
        self._load("", read_only=False)
        self.editor.placeholder = "A new note. Type; it is saved on ctrl+s, when you leave it, and when you quit."

    def show_welcome(self, text: str) -> None:
        """Show the read-only welcome note (never written to disk)."""
        self.mode, self.note, self.baseline, self.external_change = "welcome", None, "", False
        self._load(text, read_only=True)

    def clear(self) -> None:
        self.mode, self.note, self.baseline, self.external_change = "empty", None, "", False
        self._load("", read_only=True)
        self.editor.placeholder = "Pick a note on the left, or ctrl+n for a new one."

    def _load(self, text: str, *, read_only: bool) -> None:
        editor = self.editor
        editor.read_only = read_only
        editor.placeholder = ""
        editor.load_text(text)
        editor.move_cursor(editor.document.end if self.mode == "new" else (0, 0))
        editor.scroll_home(animate=False)
        self.update_status()

    # --- status --------------------------------------------------------------------------

    def _rel(self, path: Path) -> str:
        root = self.app.store.root
        try:
            return str(Path(path).relative_to(root))
        except ValueError:
            return str(path)

    def update_status(self) -> None:
        if self.mode == "welcome":
            status = "Welcome (shown only, not saved) · ctrl+n starts your first note"
        elif self.mode == "empty":
            status = ""
        elif self.mode == "new":
            day = self.new_day.isoformat() if self.new_day else ""
            status = f"New note {day}" + (" · unsaved" if self.dirty else "")
        else:
            assert self.note is not None
            status = self._rel(self.note.path)
            if self.external_change:
                status += " · changed on disk, your text kept"
            if self.dirty:
                status += " · unsaved"
        label = self.query_one("#editor-status", Label)
        label.update(status)
        label.set_class(self.dirty, "-dirty")

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self.update_status()

    # --- saving --------------------------------------------------------------------------

    def save(self, *, quiet: bool = False) -> bool:
        """Write the editor's text if it differs from disk.

        Returns True when nothing needed saving or it was saved (or kept in a conflict copy),
        False when the write failed: the text stays in the editor and the person was notified.
        """
        from journal_tui.notes.store import ConflictError, NoteError

        store = self.app.store
        text = self.text
        if self.mode == "new":
            if not text.strip():
                return True
            try:
                note = store.add(text, day=self.new_day)
            except (OSError, NoteError) as e:
                self._failed("the new note", e)
                return False
            self.mode, self.note, self.baseline = "note", note, text
            self._saved(note, quiet)
            return True
        if self.mode != "note" or not self.dirty:
            return True
        assert self.note is not None
        try:
            note = store.save(self.note, text)
        except ConflictError as e:
            self._conflict(e, text)
            return True
        except NoteError as e:
            self.app.notify(
                f"{self._rel(e.path)} could not be read as a note ({e.reason}), so it was not rewritten. "
                "Your text is still here: use 'Save as new note' (ctrl+p) to keep it.",
                title="Not saved",
                severity="error",
                markup=False,
                timeout=15,
            )
            return False
        except OSError as e:
            self._failed(self._rel(self.note.path), e)
            return False
        self.note, self.baseline, self.external_change = note, text, False
        self._saved(note, quiet)
        return True

    def save_as_new(self) -> bool:
        """Write the editor's text as a new note for today (a way out when the open file
        cannot be saved). Returns False on failure (text kept, person notified)."""
        text = self.text
        if self.mode == "welcome" or not text.strip():
            self.app.notify("Nothing to save: the editor is empty.", severity="warning")
            return True
        self.mode, self.note, self.new_day = "new", None, dt.date.today()
        return self.save()

    def _saved(self, note: Note, quiet: bool) -> None:
        self.update_status()
        self.post_message(self.Saved(note))
        if not quiet:
            self.app.notify(f"Saved {self._rel(note.path)}", timeout=2, markup=False)

    def _failed(self, what: str, error: BaseException) -> None:
        reason = getattr(error, "strerror", None) or getattr(error, "reason", None) or str(error) or type(error).__name__
        self.app.notify(
            f"Could not save {what}: {reason}. Your text is still in the editor; "
            "ctrl+s tries again, 'Save as new note' (ctrl+p) writes it elsewhere.",
            title="Not saved",
            severity="error",
            markup=False,
            timeout=15,
        )
        self.update_status()

    def _conflict(self, error: BaseException, text: str) -> None:
        from journal_tui.notes.store import NoteError

        path: Path = error.path  # type: ignore[attr-defined]
        copy: Path = error.conflict_path  # type: ignore[attr-defined]
        try:  # keep editing the conflict copy, so later saves go there
            note = self.app.store.read(copy)
        except (NoteError, OSError):
            note = None
        if note is not None:
            self.note, self.baseline = note, text
        self.external_change = False
        self.update_status()
        if note is not None:
            self.post_message(self.Saved(note))
        self.app.notify(
            f"{self._rel(path)} changed on disk after you opened it. Both versions are kept: "
            f"yours in {self._rel(copy)}, the other in {self._rel(path)}.",
            title="Kept both versions",
            severity="warning",
            markup=False,
            timeout=20,
        )

    # --- changes on disk -----------------------------------------------------------------

    def disk_changed(self, paths: frozenset[Path]) -> None:
        """React to changed files: reload the open note if untouched, else keep the typing
        and warn that saving will keep both versions."""
        from journal_tui.notes.store import NoteError

        if self.mode != "note" or self.note is None:
            return
        mine = _resolved(self.note.path)
        if not any(_resolved(p) == mine or _resolved(p) in mine.parents for p in paths):
            return  # (a whole folder moved or deleted counts for the notes under it)
        rel = self._rel(self.note.path)
        try:
            fresh = self.app.store.read(self.note.path) if self.note.path.exists() else None
        except (NoteError, OSError) as e:
            reason = getattr(e, "reason", None) or str(e)
            self.external_change = True
            self.update_status()
            self.app.notify(f"{rel} changed on disk and cannot be read now ({reason}). Your text is kept here.",
                            severity="warning", markup=False, timeout=15)
            return
        if fresh is None:
            if self.dirty:
                self.mode, self.note, self.new_day = "new", None, dt.date.today()
                self.update_status()
                self.app.notify(f"{rel} was deleted or moved on disk. Your text is kept; ctrl+s saves it as a new note.",
                                severity="warning", markup=False, timeout=15)
            else:
                self.clear()
                self.app.notify(f"{rel} was deleted or moved on disk.", markup=False)
            return
        if fresh.sha256 and fresh.sha256 == self.note.sha256:
            return  # our own write, or a touch
        if not self.dirty:
            self.load_note(fresh)
            self.app.notify(f"Reloaded {rel}: it changed on disk.", markup=False, timeout=4)
            return
        self.external_change = True
        self.update_status()
        self.app.notify(
            f"{rel} changed on disk while you were typing. Your text is kept; "
            "saving keeps both versions (yours goes to a conflict copy).",
            title="Changed on disk",
            severity="warning",
            markup=False,
            timeout=15,
        )


def _resolved(path: Path) -> Path:
    try:
        return Path(path).resolve()
    except OSError:
        return Path(path)
