"""The list of days and their notes, newest first.

A :class:`textual.widgets.Tree` whose top-level nodes are days; a day's notes are added to
the tree only when the day is expanded (the newest days are expanded: at least
:attr:`NoteList.EXPAND_NEWEST`, and more while they hold fewer than
:attr:`NoteList.EXPAND_NOTES` notes in all). At most :attr:`NoteList.DAYS_PAGE` days are
listed at first; a last line "N older days" lists the next page when selected. Adding a Tree
node costs about 0.1 ms (its label is processed), so 10,000 notes (3,334 days) would cost
0.35 s per rebuild without the page (measured with benchmarks/startup.py's notes). Tree nodes are not widgets:
the Tree renders only the visible lines.
"""

from __future__ import annotations

import datetime as dt
import gc
from contextlib import contextmanager
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
    """Group notes by ``note.date``, days newest first, keeping the notes' order within a day.

    Notes come newest first from ``NoteStore.scan`` (and filtering keeps that order), so runs
    of one day are consecutive and one pass suffices; any other order is sorted first."""
    groups: list[DayGroup] = []
    last: DayGroup | None = None
    ordered = True
    for note in notes:
        day = note.date
        if last is None or day != last.day:
            if last is not None and day > last.day:
                ordered = False
                break
            last = DayGroup(day)
            groups.append(last)
        last.notes.append(note)
    if ordered:
        return groups
    by_day: dict[dt.date, DayGroup] = {}
    for note in notes:
        by_day.setdefault(note.date, DayGroup(note.date)).notes.append(note)
    return sorted(by_day.values(), key=lambda g: g.day, reverse=True)


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


@contextmanager
def _gc_paused():
    """Pause the cyclic GC while building thousands of small objects: with 10,000 notes in
    memory each collection it triggers walks them all (measured: 0.17 s of a 0.2 s rebuild)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


#: data of the "older days" line
MORE = object()


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
    EXPAND_FILTERED = 20
    #: days listed at first, and added by each "older days" line
    DAYS_PAGE = 200

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("notes", id=id)
        self.show_root = False
        self.guide_depth = 2
        self._day_of: dict[Path, dt.date] = {}
        self._day_nodes: dict[dt.date, TreeNode[object]] = {}
        self._groups: list[DayGroup] = []
        self._notes: list[Note] | None = None
        self._filtered = False
        self.day_limit = self.DAYS_PAGE

    def show_notes(self, notes: list[Note], *, filtered: bool = False, keep: Path | None = None,
                   empty_text: str = "No notes yet: ctrl+n starts one") -> None:
        """Replace the list with ``notes`` (newest first).

        Args:
            notes: the notes to list.
            filtered: a search/tag filter is active, so more matching days are expanded.
            keep: path of a note to reveal and put the cursor on, if listed.
            empty_text: the line shown when ``notes`` is empty.
        """
        with _gc_paused():
            if notes is not self._notes:  # the same list again (a cleared search): reuse the groups
                self._notes = notes
                self._day_of = {n.path: n.date for n in notes}
                self._groups = group_by_day(notes)
            self._filtered = filtered
            self._empty_text = empty_text
            self._rebuild()
        if keep is not None:
            self.reveal(keep)

    def _rebuild(self) -> None:
        today = dt.date.today()
        expanded_days = {d for d, n in self._day_nodes.items() if n.is_expanded}
        self.clear()
        self._day_nodes = {}
        if not self._groups:
            self.root.add_leaf(Text(self._empty_text, style="dim italic"), data=None)
            return
        limit = self.EXPAND_FILTERED if self._filtered else self.EXPAND_NEWEST
        shown = 0
        for i, group in enumerate(self._groups[: self.day_limit]):
            node = self.root.add(day_label(group, today), data=group, allow_expand=True)
            self._day_nodes[group.day] = node
            if i < limit or shown + len(group.notes) <= self.EXPAND_NOTES or group.day in expanded_days:
                self._fill(node)
                node.expand()
                shown += len(group.notes)
        hidden = len(self._groups) - self.day_limit
        if hidden > 0:
            label = Text(f"… {hidden} older day{'s' if hidden > 1 else ''}: enter lists {min(hidden, self.DAYS_PAGE)} more",
                         style="dim italic")
            self.root.add_leaf(label, data=MORE)

    def show_more(self, days: int | None = None) -> None:
        """List ``days`` more older days (default :attr:`DAYS_PAGE`), keeping the cursor's line."""
        line = self.cursor_line
        self.day_limit += days or self.DAYS_PAGE
        self._rebuild()
        _ = self.last_line
        self.cursor_line = max(line, 0)

    def on_tree_node_selected(self, event: Tree.NodeSelected) -> None:
        if event.node.data is MORE:
            event.stop()
            self.show_more()

    def _fill(self, node: TreeNode[object]) -> None:
        group = node.data
        if isinstance(group, DayGroup) and not node.children:
            for note in group.notes:
                node.add_leaf(note_label(note), data=note)

    def on_tree_node_expanded(self, event: Tree.NodeExpanded) -> None:
        self._fill(event.node)

    def node_for(self, path: Path) -> TreeNode[object] | None:
        """The leaf of the note at ``path`` (its day is filled in first, older days are listed
        if it is among them), or None if the note is not in the list."""
        day = self._day_of.get(path)
        if day is None:
            return None
        if day not in self._day_nodes:  # behind the "older days" line: list up to its day
            index = next(i for i, g in enumerate(self._groups) if g.day == day)
            self.show_more(index + 1 - self.day_limit)
        day_node = self._day_nodes.get(day)
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
        """Paths of all notes in the list, newest first (including those of collapsed days
        and of days behind the "older days" line)."""
        return list(self._day_of)

    @property
    def highlighted_note(self) -> Note | None:
        node = self.cursor_node
        return node.data if node is not None and isinstance(node.data, Note) else None
