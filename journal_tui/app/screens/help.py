"""The help screen (f1 or ?): every key of the app, the editor's main keys, and where notes live."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from journal_tui.app.commands import app_commands

#: keys of the editor (Textual's TextArea) worth knowing; the full list is Textual's.
EDITOR_KEYS: tuple[tuple[str, str], ...] = (
    ("ctrl+z / ctrl+y", "undo / redo"),
    ("ctrl+x / ctrl+c / ctrl+v", "cut / copy / paste"),
    ("f7", "select all"),
    ("ctrl+w", "delete the word to the left"),
    ("tab / shift+tab", "move focus between list, search and editor"),
)


class HelpScreen(ModalScreen[None]):
    """A modal listing the app's commands with their keys (from the App's BINDINGS).

    Closed with escape, q, f1 or ?.
    """

    BINDINGS = [Binding("escape,q,f1,question_mark", "close", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog", classes="dialog"):
            yield Static(self._table(), id="help-keys")

    def _table(self) -> Table:
        table = Table(title="journal-tui keys", expand=True, box=None, title_justify="left", pad_edge=False)
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("action")
        for cmd in app_commands(self.app):
            keys = " / ".join(cmd.keys) if cmd.keys else "(palette)"
            table.add_row(keys, Text(f"{cmd.title}: {cmd.help}" if cmd.help != cmd.title else cmd.title))
        table.add_row("", "")
        table.add_row(Text("In the editor", style="italic"), "")
        for key, what in EDITOR_KEYS:
            table.add_row(key, what)
        table.add_row("", "")
        table.add_row("ctrl+p", "command palette: every action above by name")
        notes = getattr(getattr(self.app, "locations", None), "notes", None)
        if notes is not None:
            table.add_row("", "")
            table.add_row(Text("notes folder", style="italic"), Text(str(notes)))
        return table

    def action_close(self) -> None:
        self.dismiss(None)
