"""Helpers for the app's headless Pilot tests (tests/test_app_*.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from journal_tui.locations import Locations
from journal_tui.notes.store import NoteStore

SIZE = (160, 40)


def locations_for(home: Path) -> Locations:
    return Locations.resolve(home)


def seed(home: Path, *notes: tuple[str, str]) -> list[Path]:
    """Write notes through the real store: each ``(iso datetime, body)``; returns their paths."""
    store = NoteStore.from_locations(locations_for(home))
    out = []
    for when, body in notes:
        created = dt.datetime.fromisoformat(when)
        if created.tzinfo is None:
            created = created.astimezone()
        out.append(store.add(body, created=created).path)
    return out


def make_app(home: Path, *, watch: bool = False):
    from journal_tui.app.app import JournalApp

    return JournalApp(locations_for(home), watch=watch)


def record_notifications(app) -> list[tuple[str, str]]:
    """Wrap ``app.notify`` so the test sees ``(severity, message)`` of every notification
    (the real notify still runs)."""
    seen: list[tuple[str, str]] = []
    real = app.notify

    def notify(message, *, title="", severity="information", timeout=None, markup=True):
        seen.append((severity, f"{title}: {message}" if title else message))
        return real(message, title=title, severity=severity, timeout=timeout, markup=markup)

    app.notify = notify
    return seen


async def settle(pilot) -> None:
    """Wait for the scan worker and the messages it posts (no sleeps)."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def wait_until(pilot, condition, *, tries: int = 200, step: float = 0.05) -> bool:
    """Pump the app until ``condition()`` holds (for events from the disk watcher's thread).
    Returns the final value; the test asserts it. Bounded, not a timing assertion."""
    for _ in range(tries):
        if condition():
            return True
        await pilot.pause(step)
        await pilot.app.workers.wait_for_complete()
    return bool(condition())


async def open_via_list(pilot, path: Path) -> None:
    """Open a note the way a person does: cursor onto it in the list, then enter."""
    app = pilot.app
    app.note_list.focus()
    await pilot.pause()
    assert app.note_list.reveal(path), f"{path} is not listed"
    await pilot.press("enter")
    await pilot.pause()


async def to_line_end(pilot, line: int = 0) -> None:
    """Put the editor's cursor at the end of a document line (the End key stops at the end of
    a soft-wrapped row, which depends on the width)."""
    editor = pilot.app.editor_pane.editor
    editor.move_cursor((line, len(editor.document.get_line(line))))
    await pilot.pause()


async def type_text(pilot, text: str) -> None:
    """Type ``text`` into the focused widget key by key (newlines as enter)."""
    keys = []
    for ch in text:
        keys.append({"\n": "enter", " ": "space"}.get(ch, ch))
    await pilot.press(*keys)
