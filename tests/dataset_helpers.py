"""Helpers shared by the dataset and watcher tests: write notes into a test home."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

from journal_tui.locations import Locations

TZ = dt.timezone(dt.timedelta(hours=1))


def write_note(root: Path, rel: str, body: str, *, kind: str = "note", day: dt.date | None = None,
               at: tuple[int, int] = (9, 0)) -> Path:
    """Write a note file with ``created``/``kind`` front matter (the day from ``day`` or the name)."""
    path = Path(root) / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if day is None:
        day = dt.date.fromisoformat(Path(rel).name[:10])
    created = dt.datetime.combine(day, dt.time(*at), TZ).isoformat()
    path.write_text(f"---\ncreated: {created}\nkind: {kind}\n---\n{body}\n", encoding="utf-8")
    return path


def locations_for(home: Path) -> Locations:
    return Locations.resolve(home)


def with_datasets(locs: Locations, folder: Path) -> Locations:
    """The same home but another datasets folder (a second, independent build)."""
    return dataclasses.replace(locs, datasets=Path(folder))


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]
