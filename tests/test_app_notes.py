"""Headless Pilot tests of the notes UI: write, save, search, tag filter, delete, autosave,
welcome note, external changes and failed writes."""

from __future__ import annotations

import errno
from datetime import date, timedelta

import pytest
from app_pilot import (
    SIZE,
    make_app,
    open_via_list,
    record_notifications,
    seed,
    settle,
    to_line_end,
    type_text,
    wait_until,
)

from journal_tui.app.screens.confirm import ConfirmScreen
from journal_tui.notes.store import NoteStore
from journal_tui.locations import Locations


def _files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def test_first_launch_shows_welcome_and_creates_no_files(home):
    app = make_app(home, watch=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.editor_pane
        assert pane.mode == "welcome"
        assert "Welcome to journal-tui" in pane.text and "ctrl+n" in pane.text
        assert pane.editor.read_only
        await pilot.press("x")  # typing into the welcome note does nothing
        assert not pane.dirty
        await pilot.press("ctrl+q")
    assert not home.exists() or _files(home) == []


async def test_write_and_save_puts_the_text_on_disk(home):
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+n")
        assert app.editor_pane.mode == "new" and app.focused is app.editor_pane.editor
        await type_text(pilot, "Walked to the harbour\nCold wind")
        await pilot.press("ctrl+s")
        await settle(pilot)
        pane = app.editor_pane
        assert pane.mode == "note" and not pane.dirty
        path = pane.note.path
        assert path.is_file() and path.is_relative_to(home / "notes")
        assert "Walked to the harbour\nCold wind" in path.read_text(encoding="utf-8")
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        assert app.note_list.listed_paths == [path]
        # editing again and saving rewrites the same file
        await type_text(pilot, " today")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Cold wind today" in path.read_text(encoding="utf-8")
        assert _files(home / "notes") == [path.relative_to(home / "notes").as_posix()]


async def test_empty_new_note_writes_nothing(home):
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+n")
        await pilot.press("ctrl+s")
        await pilot.press("ctrl+q")
    assert _files(home / "notes") == []


NOTES = (
    ("2026-11-20T09:15:00", "# Run\nRan by the river, knee fine. #running"),
    ("2026-11-21T13:40:00", "Lunch with Sam about the move. #food"),
    ("2026-11-22T21:00:00", "Read two chapters before bed. #books #evening"),
)


async def test_search_and_tag_filter(home):
    run, lunch, read = seed(home, *NOTES)
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.note_list.listed_paths == [read, lunch, run]  # newest first
        await pilot.press("ctrl+f")
        await type_text(pilot, "river")
        assert app.note_list.listed_paths == [run]
        await pilot.press(*["backspace"] * 5)
        await type_text(pilot, "CHAPTERS bed")  # words, any case, all must match
        assert app.note_list.listed_paths == [read]
        await pilot.press(*["backspace"] * 12)
        await type_text(pilot, "#food")
        assert app.note_list.listed_paths == [lunch]
        await pilot.press("enter")  # Enter opens the first match
        await pilot.pause()
        assert app.editor_pane.mode == "note" and app.editor_pane.note.path == lunch
        await pilot.press("ctrl+f")
        await pilot.press(*["backspace"] * 5)
        await type_text(pilot, "nothing-like-this")
        assert app.note_list.listed_paths == []
        app.action_clear_filter()
        await pilot.pause()
        assert len(app.note_list.listed_paths) == 3
        # the tag select
        from textual.widgets import Select

        select = app.query_one("#tag-filter", Select)
        assert {v for _, v in select._options if isinstance(v, str)} == {"running", "food", "books", "evening"}
        select.value = "books"
        await pilot.pause()
        assert app.note_list.listed_paths == [read]


async def test_open_note_from_list_and_autosave_when_switching(home):
    run, lunch, _ = seed(home, *NOTES)
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_via_list(pilot, run)
        assert app.editor_pane.note.path == run and app.focused is app.editor_pane.editor
        assert app.selected_day.isoformat() == "2026-11-20"
        await to_line_end(pilot)
        await type_text(pilot, " Stretched after.")
        await open_via_list(pilot, lunch)
        assert app.editor_pane.note.path == lunch
        assert "Stretched after." in run.read_text(encoding="utf-8")


async def test_autosave_on_quit(home):
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+n")
        await type_text(pilot, "Typed then quit")
        await pilot.press("ctrl+q")
        await pilot.pause()
    files = _files(home / "notes")
    assert len(files) == 1
    assert "Typed then quit" in (home / "notes" / files[0]).read_text(encoding="utf-8")


async def test_delete_asks_then_moves_to_trash(home):
    run, lunch, _ = seed(home, *NOTES)
    original = run.read_bytes()
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_via_list(pilot, run)
        await pilot.press("f8")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # cancel keeps it
        assert not isinstance(app.screen, ConfirmScreen) and run.exists()
        await pilot.press("f8")
        await pilot.press("y")
        await settle(pilot)
        assert not run.exists()
        trashed = home / "trash" / run.relative_to(home / "notes")
        assert trashed.read_bytes() == original
        assert run not in app.note_list.listed_paths and lunch in app.note_list.listed_paths
        # the editor moves on to a neighbouring note rather than a blank page
        assert app.editor_pane.mode == "note" and app.editor_pane.note.path != run
        assert app.editor_pane.note.path in app.note_list.listed_paths


async def test_failed_write_keeps_text_and_tells_the_user(home, monkeypatch):
    (run,) = seed(home, NOTES[0])
    before = run.read_bytes()
    app = make_app(home)

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    async with app.run_test(size=SIZE) as pilot:
        seen = record_notifications(app)
        await settle(pilot)
        await open_via_list(pilot, run)
        monkeypatch.setattr(app.store, "save", full_disk)
        monkeypatch.setattr(app.store, "add", full_disk)
        await to_line_end(pilot)
        await type_text(pilot, " precious words")
        typed = app.editor_pane.text
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.editor_pane.text == typed and app.editor_pane.dirty
        assert any(sev == "error" and "No space left on device" in msg for sev, msg in seen)
        assert run.read_bytes() == before
        # leaving the note must not lose it either: the app stays on it
        await pilot.press("ctrl+n")
        assert app.editor_pane.mode == "note" and app.editor_pane.text == typed
        # quitting: the first ctrl+q refuses (text kept), a second one quits without saving
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app.is_running and app.editor_pane.text == typed
        assert any("ctrl+q again" in msg for _, msg in seen)
        await pilot.press("ctrl+q")
    assert run.read_bytes() == before


async def test_external_change_while_typing_keeps_both(home):
    (run,) = seed(home, NOTES[0])
    app = make_app(home, watch=True)
    async with app.run_test(size=SIZE) as pilot:
        seen = record_notifications(app)
        await settle(pilot)
        await open_via_list(pilot, run)
        await to_line_end(pilot)
        await type_text(pilot, " My local words.")
        typed = app.editor_pane.text
        # someone else (another editor, a sync tool) rewrites the file
        theirs = run.read_text(encoding="utf-8").replace("knee fine", "knee sore")
        run.write_text(theirs, encoding="utf-8")
        assert await wait_until(pilot, lambda: app.editor_pane.external_change)
        assert app.editor_pane.text == typed
        assert any(sev == "warning" and "changed on disk while you were typing" in msg for sev, msg in seen)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert run.read_text(encoding="utf-8") == theirs  # their version untouched
        copies = sorted(run.parent.glob(f"{run.stem}.conflict-*.md"))
        assert len(copies) == 1 and "My local words." in copies[0].read_text(encoding="utf-8")
        assert any("Both versions are kept" in msg and copies[0].name in msg for _, msg in seen)
        assert app.editor_pane.text == typed and not app.editor_pane.dirty
        assert app.editor_pane.note.path == copies[0]  # further saves go to our copy
        assert await wait_until(pilot, lambda: copies[0] in app.note_list.listed_paths)


async def test_external_change_without_edits_reloads(home):
    (run,) = seed(home, NOTES[0])
    app = make_app(home, watch=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_via_list(pilot, run)
        theirs = run.read_text(encoding="utf-8").replace("knee fine", "knee sore")
        run.write_text(theirs, encoding="utf-8")
        assert await wait_until(pilot, lambda: "knee sore" in app.editor_pane.text)
        assert not app.editor_pane.dirty and not app.editor_pane.external_change


async def test_list_follows_new_files_on_disk(home):
    seed(home, NOTES[0])
    app = make_app(home, watch=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert len(app.note_list.listed_paths) == 1
        seen = []
        app.notes_changed_signal.subscribe(app, lambda paths: seen.append(paths))
        made = home / "notes" / "2026-11-25 hand made.md"
        made.write_text("Written in another program.\n", encoding="utf-8")
        assert await wait_until(pilot, lambda: made in app.note_list.listed_paths)
        assert seen and made in seen[-1]


async def test_large_folder_builds_day_nodes_lazily(home):
    from journal_tui.app.widgets.note_list import MORE, DayGroup

    notes = home / "notes"
    notes.mkdir(parents=True)
    days = 450
    for d in range(days):
        day = date(2020, 1, 1) + timedelta(days=d)
        for k in range(5):
            (notes / f"{day.isoformat()}-{k}.md").write_text(f"note {k} of day {d}\n", encoding="utf-8")
    oldest = notes / "2020-01-01-0.md"
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        tree = app.note_list
        assert len(tree.listed_paths) == days * 5
        children = list(tree.root.children)
        day_nodes = [n for n in children if isinstance(n.data, DayGroup)]
        # one page of days, then an "older days" line
        assert len(day_nodes) == tree.DAYS_PAGE and children[-1].data is MORE
        assert str(children[-1].label).startswith(f"… {days - tree.DAYS_PAGE} older days")
        # only the newest days hold note nodes; the rest are filled when expanded
        filled = [n for n in day_nodes if n.children]
        assert filled == day_nodes[: max(tree.EXPAND_NEWEST, tree.EXPAND_NOTES // 5)]
        day_nodes[-1].expand()
        await pilot.pause()
        assert len(day_nodes[-1].children) == 5
        # enter on the "older days" line lists the next page
        tree.focus()
        tree.move_cursor(children[-1])
        await pilot.press("enter")
        await pilot.pause()
        assert len([n for n in tree.root.children if isinstance(n.data, DayGroup)]) == 2 * tree.DAYS_PAGE
        # revealing a note behind the line lists its day
        assert tree.reveal(oldest)
        assert tree.cursor_node.data.path == oldest
        assert tree.root.children[-1].data is not MORE


def test_store_contract_used_by_the_app(home):
    """The app relies on NoteStore.from_locations scanning an absent folder without creating it."""
    store = NoteStore.from_locations(Locations.resolve(home))
    assert store.scan().notes == [] and not home.exists()


@pytest.mark.parametrize("query,words,tags", [("river #Run knee", ["river", "knee"], ["run"]), ("#", ["#"], [])])
def test_parse_query(query, words, tags):
    from journal_tui.app.search import parse_query

    assert parse_query(query) == (words, tags)
