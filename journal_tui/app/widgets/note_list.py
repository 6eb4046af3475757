"""The list of days and their notes, newest first.

A :class:`textual.widgets.Tree` whose top-level nodes are days; a day's notes are added to
the tree only when the day is expanded, so 10,000 notes cost one node per day at start-up
(the newest days are expanded: at least :attr:`NoteList.EXPAND_NEWEST`, and more while they
hold fewer than :attr:`NoteList.EXPAND_NOTES` notes in all). Tree nodes are not widgets:
the Tree renders only the visible lines.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from journal_tui.notes.model import Note

TITLE_CHARS = 60


@dataclass
class DayGroup:
    """One day of notes, newest note first."""

    day: dt.date
    notes: list[Note] = field(default_factory=list)


def group_by_day(notes: list[Note]) -> list[DayGroup]:
    """Group notes (already newest first, as ``NoteStore.scan`` returns them) by ``note.date``,
    keeping their order; days come out newest first."""
    groups: dict[dt.date, DayGroup] = {}
    for note in notes:
        g = groups.get(note.date)
        if g is None:
            g = groups[note.date] = DayGroup(note.date)
        g.notes.append(note)
    return sorted(groups.values(), key=lambda g: g.day, reverse=True)


def note_heading(note: Note) -> str:
    """The title, else the first non-empty body line (without leading ``#``), cut to 60 characters."""
    title = note.title.strip()
    if not title:
        for line in note.body.splitlines():
            line = line.strip().lstrip("#").strip()
            if line:
                title = line
                break
    title = title or "(empty)"
    return title if len(title) <= TITLE_CHARS else title[: TITLE_CHARS - 1] + "…"


def day_label(group: DayGroup, today: dt.date) -> Text:
    if group.day == today:
        name = "Today"
    elif group.day == today - dt.timedelta(days=1):
        name = "Yesterday"
    else:
        name = group.day.strftime("%a %d %b %Y")
    label = Text(name, style="bold")
    label.append(f"  {len(group.notes)}", style="dim")
    return label


def note_label(note: Note) -> Text:
    label = Text()
    if note.created is not None:
        label.append(note.created.astimezone().strftime("%H:%M "), style="dim")
    if note.kind == "entry":
        label.append("entry ", style="italic")
    label.append(note_heading(note))
    return label


class NoteList(Tree[object]):
    """Days (``DayGroup`` data) with their notes (``Note`` data) as leaves.

    Selecting a note (enter or click) posts ``Tree.NodeSelected`` with a ``Note`` as
    ``event.node.data``; the App opens it.
    """

    BINDINGS = [
        Binding("delete", "app.delete_note", "Delete", show=False),
        Binding("question_mark", "app.help", "Help", show=False),
    ]

    #: days always expanded when the list is (re)built without a filter
    EXPAND_NEWEST = 3
    #: further newest days are expanded while fewer than this many notes are shown
    EXPAND_NOTES = 60
    #: with a search or tag filter, at most this many days are expanded
    EXPAND_FILTERED = 50

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("notes", id=id)
        self.show_root = False
        self.guide_depth = 2
        self._day_of: dict[Path, dt.date] = {}
        self._day_nodes: dict[dt.date, TreeNode[object]] = {}

    def show_notes(self, notes: list[Note], *, filtered: bool = False, keep: Path | None = None,
                   empty_text: str = "No notes yet: ctrl+n starts one") -> None:
        """Replace the list with ``notes`` (newest first).

        Args:
            notes: the notes to list.
            filtered: a search/tag filter is active, so more matching days are expanded.
            keep: path of a note to reveal and put the cursor on, if listed.
            empty_text: the line shown when ``notes`` is empty.
        """
        today = dt.date.today()
        expanded_days = {d for d, n in self._day_nodes.items() if n.is_expanded}
        self.clear()
        self._day_of = {n.path: n.date for n in notes}
        self._day_nodes = {}
        if not notes:
            self.root.add_leaf(Text(empty_text, style="dim italic"), data=None)
            return
        limit = self.EXPAND_FILTERED if filtered else self.EXPAND_NEWEST
        shown = 0
        for i, group in enumerate(group_by_day(notes)):
            node = self.root.add(day_label(group, today), data=group, allow_expand=True)
            self._day_nodes[group.day] = node
            if i < limit or shown + len(group.notes) <= self.EXPAND_NOTES or group.day in expanded_days:
                self._fill(node)
                node.expand()
                shown += len(group.notes)
        if keep is not None:
            self.reveal(keep)

    def _fill(self, node: TreeNode[object]) -> None:
        group = node.data
        if isinstance(group, DayGroup) and not node.children:
            for note in group.notes:
                node.add_leaf(note_label(note), data=note)

    def on_tree_node_expanded(self, event: Tree.NodeExpanded) -> None:
        self._fill(event.node)

    def node_for(self, path: Path) -> TreeNode[object] | None:
        """The leaf of the note at ``path`` (its day is filled in first), or None if not listed."""
        day = self._day_of.get(path)
        day_node = self._day_nodes.get(day) if day is not None else None
        if day_node is None:
            return None
        self._fill(day_node)
        for child in day_node.children:
            if isinstance(child.data, Note) and child.data.path == path:
                return child
        return None

    def reveal(self, path: Path) -> bool:
        """Expand the note's day and move the cursor to it. Returns False if it is not listed."""
        node = self.node_for(path)
        if node is None:
            return False
        if node.parent is not None:
            node.parent.expand()
        _ = self.last_line  # rebuild the line index so the node's line is known
        self.move_cursor(node)
        return True

    @property
    def listed_paths(self) -> list[Path]:
        """Paths of all listed notes (including those of collapsed days), newest first."""
        return list(self._day_of)

    @property
    def highlighted_note(self) -> Note | None:
        node = self.cursor_node
        return node.data if node is not None and isinstance(node.data, Note) else None
