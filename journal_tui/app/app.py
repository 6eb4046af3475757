"""The journal-tui App: days and notes on the left, the editor in the centre, ML panels on the right.

``journal-tui`` with no subcommand calls :func:`run_app`. This module (and everything it
imports) stays free of torch, transformers, peft, bitsandbytes, datasets and accelerate:
model work runs in child processes. The notes folder is scanned in a thread worker, so the
first screen paints before the scan ends, and followed on disk by the debounced
``NotesWatcher``.

For other panels, the App exposes ``locations``, ``store`` (a ``NoteStore``),
``selected_day`` (a reactive date: the selected note's or day's date, today by default),
``refresh_notes()``, ``notes_changed_signal`` (published with the changed paths after a
``NotesChanged`` message is handled) and an empty, hidden container ``#ml-panel``
(add the class ``-visible`` to show it).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from textual import on, work
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import var
from textual.signal import Signal
from textual.widgets import Footer, Header, Input, Label, Select, Tree

from journal_tui.app.commands import JournalCommands
from journal_tui.app.messages import DraftAccepted, NotesChanged, NotesScanned
from journal_tui.app.ml_commands import ML_BINDINGS, ML_PALETTE
from journal_tui.app.search import build_index, filter_notes, parse_query
from journal_tui.app.widgets.editor import EditorPane
from journal_tui.app.widgets.note_list import DayGroup, NoteList
from journal_tui.notes.model import Note


def run_app(locations) -> int:
    """Run the app full-screen on ``locations``; returns the exit status (0)."""
    app = JournalApp(locations)
    app.run()
    return int(app.return_code or 0)


class JournalApp(App[int]):
    """The journal app. ``store`` may be given (tests); ``watch=False`` skips the disk watcher."""

    CSS_PATH = "journal.tcss"
    TITLE = "journal-tui"
    COMMANDS = App.COMMANDS | {JournalCommands}

    BINDINGS = [
        Binding("ctrl+n", "new_note", "New", tooltip="New note — start a new note for today"),
        Binding("ctrl+s", "save", "Save", tooltip="Save — write the open note to disk"),
        Binding("ctrl+f", "search", "Search", tooltip="Search — find notes by words or #tag"),
        Binding("ctrl+t", "filter_tag", "Tag", tooltip="Filter by tag — list only notes with one tag"),
        Binding("ctrl+o", "open_in_editor", "$EDITOR", tooltip="Open in $EDITOR — edit the note in your own editor"),
        Binding("f8", "delete_note", "Delete", tooltip="Delete — move the note to the trash (asks first)"),
        Binding("escape", "focus_list", "List", show=False, tooltip="Go to the list — move focus to the days and notes"),
        Binding("f1", "help", "Help", tooltip="Help — show all keys"),
        Binding("ctrl+q", "quit", "Quit", tooltip="Quit — save the open note and quit"),
        # --- ML panels (app-ML engineer) ---
        *ML_BINDINGS,  # t / ctrl+r train, d / ctrl+g draft (journal_tui/app/ml_commands.py)
        Binding("f2", "toggle_ml_panel", "Panel", tooltip="Show or hide the train / draft panel"),
    ]
    #: palette entries without a key: (title, help, action)
    PALETTE_ONLY: list[tuple[str, str, str]] = [
        ("Save as new note", "write the editor's text to a new note for today", "save_as_new"),
        ("Reload notes", "scan the notes folder again", "refresh_notes"),
        ("Clear search and tag filter", "list every note again", "clear_filter"),
        *ML_PALETTE,  # train / draft commands without a key
    ]
    #: actions that act on notes: disabled while a modal screen is open
    NOTE_ACTIONS = frozenset({"new_note", "save", "search", "filter_tag", "open_in_editor", "delete_note",
                              "focus_list", "save_as_new", "clear_filter"})

    selected_day: var[dt.date] = var(dt.date.today)

    def __init__(self, locations, *, store=None, watch: bool = True) -> None:
        super().__init__()
        if store is None:
            from journal_tui.notes.store import NoteStore

            store = NoteStore.from_locations(locations)
        self.locations = locations
        self.store = store
        self.notes: list[Note] = []
        self.problems: list = []
        self.scanned = False  # True once the first scan is shown
        self.notes_changed_signal: Signal[frozenset[Path]] = Signal(self, "notes-changed")
        self._index: list[tuple[Note, str]] = []
        self._tags: list[tuple[str, int]] = []
        self._watch = watch
        self._watcher = None
        self._watch_timer = None
        self._quit_armed = False
        self._problem_count = 0

    # --- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="✎")
        with Horizontal(id="main"):
            with Vertical(id="sidebar"):
                yield Input(placeholder="Search: words or #tag (ctrl+f)", id="search", compact=True)
                yield Select([], prompt="All tags (ctrl+t)", id="tag-filter", compact=True)
                yield NoteList(id="note-list")
                yield Label("Reading notes…", id="list-status", markup=False)
            yield EditorPane(id="editor-pane")
            yield Vertical(id="ml-panel")
        yield Footer()

    @property
    def editor_pane(self) -> EditorPane:
        return self.query_one(EditorPane)

    @property
    def note_list(self) -> NoteList:
        return self.query_one(NoteList)

    def on_mount(self) -> None:
        self.sub_title = str(self.store.root)
        self.editor_pane.start_new(dt.date.today())
        self.editor_pane.editor.focus()
        # scan once the first frame is out: the scan thread would compete for the GIL
        self.call_after_refresh(self.refresh_notes)
        self._start_watcher()

    def on_unmount(self) -> None:
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.NOTE_ACTIONS and len(self.screen_stack) > 1:
            return False
        return True

    # --- notes: scanning, filtering ------------------------------------------------------

    def refresh_notes(self, keep: Path | None = None) -> None:
        """Scan the notes folder in a thread worker and update the list when done.

        Args:
            keep: a note to reveal in the list afterwards (default: the open note).
        """
        self._scan(keep)

    @work(thread=True, exclusive=True, group="scan", exit_on_error=False)
    def _scan(self, keep: Path | None) -> None:
        from textual.worker import get_current_worker

        try:
            result = self.store.scan()
        except Exception as e:  # noqa: BLE001 - shown to the person, the app keeps running
            self.post_message(NotesScanned([], [], error=f"{type(e).__name__}: {e}"))
            return
        index = build_index(result.notes)
        if not get_current_worker().is_cancelled:
            self.post_message(NotesScanned(result.notes, result.problems, index=index, keep=keep))

    @on(NotesScanned)
    def _show_scan(self, message: NotesScanned) -> None:
        if message.error:
            self.notify(f"Could not read the notes folder {self.store.root}: {message.error}",
                        severity="error", markup=False, timeout=15)
            return
        self.notes, self.problems, self._index = message.notes, message.problems, message.index
        self._update_tags()
        self._apply_filter(keep=message.keep)
        pane = self.editor_pane
        if not self.notes and pane.mode in ("new", "empty") and not pane.dirty:
            from journal_tui.app.welcome import welcome_text

            pane.show_welcome(welcome_text(self.store.root))
        elif self.notes and pane.mode == "welcome":
            pane.start_new(dt.date.today())
        if len(self.problems) != self._problem_count:
            self._problem_count = len(self.problems)
            if self.problems:
                first = self.problems[0]
                self.notify(f"{len(self.problems)} file(s) could not be read and were left as they are, "
                            f"e.g. {first.path}: {first.reason}. `journal-tui notes check` lists them.",
                            severity="warning", markup=False, timeout=10)
        self.scanned = True

    def _update_tags(self) -> None:
        counts: dict[str, int] = {}
        for note in self.notes:
            for tag in note.tags:
                counts[tag] = counts.get(tag, 0) + 1
        tags = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        if tags == self._tags:
            return
        self._tags = tags
        select = self.query_one("#tag-filter", Select)
        current = select.value
        with self.prevent(Select.Changed):
            select.set_options([(f"#{t}  {n}", t) for t, n in tags])
            if current in counts:
                select.value = current

    def _apply_filter(self, keep: Path | None = None) -> None:
        words, tags = parse_query(self.query_one("#search", Input).value)
        tag = self.query_one("#tag-filter", Select).value
        if isinstance(tag, str):
            tags.append(tag)
        filtered = bool(words or tags)
        if filtered:
            notes = filter_notes(self._index, words, tags)
        else:
            notes = self.notes
        pane = self.editor_pane
        if keep is None and pane.note is not None:
            keep = pane.note.path
        empty = "No notes match" if filtered else "No notes yet: ctrl+n starts one"
        self.note_list.show_notes(notes, filtered=filtered, keep=keep, empty_text=empty)
        total = f"{len(self.notes)} note{'' if len(self.notes) == 1 else 's'}"
        status = f"{len(notes)} of {total}" if filtered else total
        if self.problems:
            status += f" · {len(self.problems)} unreadable"
        self.query_one("#list-status", Label).update(status)

    @on(Input.Changed, "#search")
    @on(Select.Changed, "#tag-filter")
    def _filter_changed(self) -> None:
        self._apply_filter()

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        """Enter in the search box opens the first match (the list keeps the rest)."""
        listed = self.note_list.listed_paths
        first = next((n for n in self.notes if listed and n.path == listed[0]), None)
        if first is None or not self.open_note(first):
            self.note_list.focus()

    # --- the list ------------------------------------------------------------------------

    @on(Tree.NodeHighlighted, "#note-list")
    def _highlighted(self, event: Tree.NodeHighlighted) -> None:
        data = event.node.data
        if isinstance(data, Note):
            self.selected_day = data.date
        elif isinstance(data, DayGroup):
            self.selected_day = data.day

    @on(Tree.NodeSelected, "#note-list")
    def _selected(self, event: Tree.NodeSelected) -> None:
        if isinstance(event.node.data, Note):
            self.open_note(event.node.data)

    def open_note(self, note: Note) -> bool:
        """Save the open note if needed, then open ``note`` (re-read from disk).

        Returns False when the open note could not be saved (it stays open, text kept) or
        ``note`` could not be read."""
        from journal_tui.notes.store import NoteError

        pane = self.editor_pane
        if pane.mode == "note" and pane.note is not None and pane.note.path == note.path:
            pane.editor.focus()
            return True
        if not pane.save(quiet=True):
            return False
        try:
            fresh = self.store.read(note.path)
        except (NoteError, OSError) as e:
            reason = getattr(e, "reason", None) or str(e)
            self.notify(f"Cannot open {note.path}: {reason}", severity="error", markup=False, timeout=10)
            return False
        pane.load_note(fresh)
        self.selected_day = fresh.date
        self.note_list.reveal(fresh.path)
        pane.editor.focus()
        return True

    @on(EditorPane.Saved)
    def _note_saved(self, message: EditorPane.Saved) -> None:
        self.selected_day = message.note.date
        self.refresh_notes(keep=message.note.path)
        self._start_watcher()

    # --- changes on disk -----------------------------------------------------------------

    def _start_watcher(self) -> None:
        if not self._watch or self._watcher is not None:
            return
        root = self.store.root
        if not root.is_dir():  # start-up creates nothing: wait for the folder to appear
            if self._watch_timer is None:
                self._watch_timer = self.set_interval(2.0, self._start_watcher)
            return
        from journal_tui.notes.watch import NotesWatcher

        watcher = NotesWatcher(root, self._disk_changed, debounce_s=0.3)
        try:
            watcher.start()
        except OSError as e:
            self.notify(f"Not following changes in {root}: {e}", severity="warning", markup=False)
            return
        self._watcher = watcher
        if self._watch_timer is not None:
            self._watch_timer.stop()
            self._watch_timer = None

    def _disk_changed(self, paths: set[Path]) -> None:
        """The watcher's callback (its own thread)."""
        self.post_message(NotesChanged(paths))

    @on(NotesChanged)
    def _notes_changed(self, message: NotesChanged) -> None:
        self.editor_pane.disk_changed(message.paths)
        self.refresh_notes()
        self.notes_changed_signal.publish(message.paths)

    # --- actions -------------------------------------------------------------------------

    def action_new_note(self) -> None:
        pane = self.editor_pane
        if pane.save(quiet=True):
            pane.start_new(dt.date.today())
            pane.editor.focus()

    def action_save(self) -> None:
        pane = self.editor_pane
        if pane.mode == "welcome":
            self.notify("The welcome note is not saved. ctrl+n starts a note of your own.")
        elif pane.mode == "new" and not pane.dirty:
            self.notify("Nothing to save yet: the note is empty.")
        elif pane.mode == "note" and not pane.dirty:
            self.notify("No changes to save.", timeout=2)
        else:
            pane.save()

    def action_save_as_new(self) -> None:
        self.editor_pane.save_as_new()

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_filter_tag(self) -> None:
        select = self.query_one("#tag-filter", Select)
        select.focus()
        if self._tags:
            select.action_show_overlay()
        else:
            self.notify("No tags yet: add #tags to a note's text or `tags:` to its front matter.")

    def action_clear_filter(self) -> None:
        self.query_one("#search", Input).value = ""
        self.query_one("#tag-filter", Select).clear()
        self._apply_filter()

    def action_focus_list(self) -> None:
        self.note_list.focus()

    def action_refresh_notes(self) -> None:
        self.refresh_notes()

    def action_help(self) -> None:
        from journal_tui.app.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def _target_note(self) -> Note | None:
        """The note an action applies to: the focused list's highlighted note, else the open one."""
        pane = self.editor_pane
        if self.focused is self.note_list and self.note_list.highlighted_note is not None:
            return self.note_list.highlighted_note
        return pane.note if pane.mode == "note" else None

    def action_delete_note(self) -> None:
        from journal_tui.app.screens.confirm import ConfirmScreen
        from journal_tui.app.widgets.note_list import note_heading

        note = self._target_note()
        if note is None:
            self.notify("No note to delete: open or highlight one first.")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._delete(note)

        self.push_screen(ConfirmScreen(f"Move “{note_heading(note)}” ({note.path.name}) to the trash?",
                                       confirm_label="Move to trash"), answered)

    def _delete(self, note: Note) -> None:
        pane = self.editor_pane
        is_open = pane.mode == "note" and pane.note is not None and pane.note.path == note.path
        if is_open and not pane.save(quiet=True):  # the trash gets the latest text
            return
        if is_open:
            note = pane.note
        neighbour = self._neighbour(note.path)
        from journal_tui.notes.store import NoteError

        try:
            trashed = self.store.delete(note)
        except (NoteError, OSError) as e:
            reason = getattr(e, "reason", None) or str(e)
            self.notify(f"Could not move {note.path} to the trash: {reason}", severity="error", markup=False)
            return
        self.notify(f"Moved to the trash: {trashed}", markup=False, timeout=6)
        if is_open and neighbour is not None and self.open_note(neighbour):
            self.refresh_notes(keep=neighbour.path)
            return
        if is_open:
            pane.start_new(dt.date.today())
        self.refresh_notes()

    def _neighbour(self, path: Path) -> Note | None:
        """The note listed after ``path`` (else before it): what to open once it is deleted."""
        listed = self.note_list.listed_paths
        if path not in listed:
            return None
        i = listed.index(path)
        for candidate in listed[i + 1:i + 2] or listed[max(0, i - 1):i]:
            return next((n for n in self.notes if n.path == candidate), None)
        return None

    def action_open_in_editor(self) -> None:
        from journal_tui.app.external_editor import edit_open_note

        edit_open_note(self)

    async def action_quit(self) -> None:
        """Save the open note, then quit. If saving fails the app stays open (text kept);
        a second ctrl+q quits without saving."""
        if self._quit_armed or self.editor_pane.save(quiet=True):
            self.exit(0)
            return
        self._quit_armed = True
        self.notify("The note was not saved (see above). Press ctrl+q again to quit without saving.",
                    severity="warning", timeout=15)

    # --- ML panels (app-ML engineer) ---

    @on(events.Mount)
    def _schedule_ml_panel(self) -> None:
        # The panel (chart, job runner) is built once the first frame is out: start-up stays fast.
        self.call_after_refresh(self._mount_ml_panel)

    async def _mount_ml_panel(self):
        """Mount the draft pane / train panel (journal_tui/app/ml.py) into ``#ml-panel`` (hidden
        until used or toggled with f2) and return it once mounted. Idempotent."""
        from journal_tui.app.ml import MLPanel

        found = self.query(MLPanel)
        if found:
            return found.first()
        panel = MLPanel(self.locations)
        await self.query_one("#ml-panel").mount(panel)
        return panel

    async def action_toggle_ml_panel(self) -> None:
        """Show or hide the train / draft panel."""
        await self._mount_ml_panel()
        self.query_one("#ml-panel").toggle_class("-visible")

    async def action_ml(self, name: str) -> None:
        """Run an ML panel command (train, cancel_train, draft, stop_draft, accept_draft, ...),
        showing the panel."""
        panel = await self._mount_ml_panel()
        self.query_one("#ml-panel").add_class("-visible")
        panel.run_command(name)

    @on(DraftAccepted)
    def _draft_accepted(self, message: DraftAccepted) -> None:
        self.refresh_notes(keep=message.note.path)

