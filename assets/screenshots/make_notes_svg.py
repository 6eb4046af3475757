"""Regenerate assets/screenshots/notes.svg: the main screen with a few sample notes.

    .venv/bin/python assets/screenshots/make_notes_svg.py

Builds a temp home with made-up notes (written by us for this picture), runs the app headless
at 140x36, opens one note and saves an SVG screenshot next to this script.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
TODAY = dt.date.today()
SAMPLES = [
    (0, "07:40", "# Morning run\nFive kilometres along the canal before work. Knee held up fine;"
                 " the cold made the first kilometre slow. #running"),
    (0, "12:55", "Lunch with Sam at the Turkish place. We talked about the move, and whether the new flat"
                 " is worth the longer commute. #friends"),
    (0, "21:10", "Finished the second part of the book. Too tired to start the next chapter. #books"),
    (1, "09:05", "Standup ran long. Wrote the migration plan and sent it round. #work"),
    (1, "18:30", "Bread dough did not rise. Kitchen too cold? Try the oven with the light on next time. #baking"),
    (2, "08:15", "Rain all morning. Took the bus instead of cycling and read on the way."),
    (3, "20:45", "# Sunday\nCalled my sister. She is coming to visit at the end of the month. #family"),
]


async def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from journal_tui.app.app import JournalApp
    from journal_tui.locations import Locations
    from journal_tui.notes.store import NoteStore

    with tempfile.TemporaryDirectory() as tmp:
        locations = Locations.resolve(Path(tmp) / "journal")
        store = NoteStore.from_locations(locations)
        paths = []
        for days_ago, hm, body in SAMPLES:
            day = TODAY - dt.timedelta(days=days_ago)
            created = dt.datetime.combine(day, dt.time.fromisoformat(hm)).astimezone()
            paths.append(store.add(body, created=created).path)
        app = JournalApp(locations, watch=False)
        async with app.run_test(size=(140, 36)) as pilot:
            for _ in range(3):
                await app.workers.wait_for_complete()
                await pilot.pause()
            app.open_note(store.read(paths[1]))
            await pilot.pause()
            app.sub_title = "~/.local/share/journal-tui/notes"
            await pilot.pause()
            app.save_screenshot(str(HERE / "notes.svg"))
    print(HERE / "notes.svg")


if __name__ == "__main__":
    asyncio.run(main())
