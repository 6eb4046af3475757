"""Day One: JSON exports (Day One 2+, "Export -> JSON") and Day One Classic ``.doentry`` plists.

JSON export: ``{"metadata": {"version": "1.0"}, "entries": [...]}``; per entry we use ``text``,
``creationDate`` (UTC, ``2024-04-16T23:00:00Z``), ``timeZone`` (IANA name), ``tags``, ``starred``
and ``uuid``. ``richText`` (a second, JSON-in-a-string encoding of the same text) is ignored.

* The entry's day is the LOCAL date: ``creationDate`` converted to ``timeZone`` with
  :mod:`zoneinfo` (an all-day entry at ``2024-04-16T23:00:00Z`` in Europe/Dublin is 17 April).
  Without a usable ``timeZone`` the machine's local zone is used, as jrnl does.
* Day One writes Markdown with backslash-escaped punctuation (``\\.``, ``\\-``, ``\\(``, ``\\!``);
  the escapes are removed outside code spans and fenced code blocks (CommonMark escapes apply
  only to ASCII punctuation, https://spec.commonmark.org/0.31.2/#backslash-escapes). Zero-width
  spaces (U+200B) are removed. Media references (``![](dayone-moment://ID)``) stay as written.

``.doentry`` (Day One Classic, one entry per file in ``Journal.dayone/entries/``): an Apple XML
property list read with :mod:`plistlib`; keys ``Creation Date`` (UTC), ``Time Zone``,
``Entry Text``, ``Tags``, ``Starred``, ``UUID``. A file plistlib rejects is skipped ("invalid
plist"); so is an entry with no text.
"""

from __future__ import annotations

import datetime as dt
import json
import plistlib
import re
from pathlib import Path
from typing import Any

from journal_tui.notes.importers import (
    ImportItem,
    Skipped,
    clean_tags,
    json_entries,
    local_tz,
    normalise_text,
    sha256_bytes,
)

_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)")


def unescape_markdown(text: str) -> str:
    """Remove Markdown backslash escapes (``\\.`` -> ``.``) outside code spans and fenced blocks."""
    out: list[str] = []
    in_fence: str | None = None
    for line in text.split("\n"):
        m = _FENCE.match(line)
        if in_fence is not None:
            out.append(line)
            if m and m.group(1) == in_fence:
                in_fence = None
            continue
        if m:
            in_fence = m.group(1)
            out.append(line)
            continue
        pieces, last = [], 0
        for cm in _CODE_SPAN.finditer(line):
            pieces.append(_ESCAPE.sub(r"\1", line[last : cm.start()]))
            pieces.append(cm.group(0))
            last = cm.end()
        pieces.append(_ESCAPE.sub(r"\1", line[last:]))
        out.append("".join(pieces))
    return "\n".join(out)


def clean_text(text: str) -> str:
    """Day One text as a note body: escapes removed, U+200B removed, normalised."""
    return normalise_text(unescape_markdown(text.replace("\u200b", "")))


def to_local(created_utc: dt.datetime, tz_name: Any) -> tuple[dt.datetime, bool]:
    """``created_utc`` (aware) in ``tz_name``; returns ``(local_time, zone_known)``.

    An unknown or missing zone name falls back to the machine's local zone (``zone_known`` False).
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if isinstance(tz_name, str) and tz_name.strip():
        try:
            return created_utc.astimezone(ZoneInfo(tz_name.strip())), True
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return created_utc.astimezone(local_tz()), False


def parse_utc(s: Any) -> dt.datetime | None:
    """``2024-04-16T23:00:00Z`` (or with an offset) as an aware datetime; ``None`` if unreadable."""
    if not isinstance(s, str):
        return None
    try:
        t = dt.datetime.fromisoformat(s.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.timezone.utc)


def looks_like_dayone_json(head: str) -> bool:
    """Cheap check on the start of a ``.json`` file: Day One exports have ``creationDate`` keys."""
    return '"entries"' in head and ('"creationDate"' in head or '"metadata"' in head)


def parse_json_export(path: Path, data: bytes) -> list[ImportItem | Skipped]:
    """A Day One JSON export file."""
    src = str(path)
    entries = json_entries(path, data, "Day One JSON export")
    if isinstance(entries, Skipped):
        return [entries]
    return [_json_entry(src, n, e) for n, e in enumerate(entries, start=1)]


def _json_entry(src: str, n: int, e: Any) -> ImportItem | Skipped:
    uuid = e.get("uuid") if isinstance(e, dict) and isinstance(e.get("uuid"), str) else None
    pos = f"entry {n}" + (f" ({uuid})" if uuid else "")
    where = f"{src}#{pos}"
    if not isinstance(e, dict):
        return Skipped(where, "entry is not a JSON object")
    text = e.get("text", "")
    if not isinstance(text, str):
        return Skipped(where, f"text is not a string ({type(text).__name__})")
    created = parse_utc(e.get("creationDate"))
    if created is None:
        return Skipped(where, f"unparseable date (creationDate {e.get('creationDate')!r})")
    local, _ = to_local(created, e.get("timeZone"))
    body = clean_text(text)
    if not body:
        return Skipped(where, "empty entry")
    tags = e.get("tags") if isinstance(e.get("tags"), list) else []
    return ImportItem(
        day=local.date(),
        body=body,
        format="dayone",
        source=src,
        position=pos,
        created=local,
        tags=clean_tags(tags),
        starred=e.get("starred") is True,
        source_id=uuid,
        raw_sha256=sha256_bytes(json.dumps(e, sort_keys=True, ensure_ascii=False).encode("utf-8")),
    )


def parse_doentry(path: Path, data: bytes) -> list[ImportItem | Skipped]:
    """One Day One Classic ``.doentry`` file."""
    src = str(path)
    try:
        d = plistlib.loads(data)
    except Exception as e:  # plistlib raises InvalidFileException, ExpatError, ValueError...
        return [Skipped(src, f"invalid plist ({type(e).__name__}: {e}); open it in Day One and export again")]
    if not isinstance(d, dict):
        return [Skipped(src, "invalid plist (not a dictionary)")]
    uuid = d.get("UUID") if isinstance(d.get("UUID"), str) else None
    created = d.get("Creation Date")
    if not isinstance(created, dt.datetime):
        return [Skipped(src, "unparseable date (no Creation Date)")]
    if created.tzinfo is None:  # plistlib returns naive UTC
        created = created.replace(tzinfo=dt.timezone.utc)
    local, _ = to_local(created, d.get("Time Zone"))
    text = d.get("Entry Text", "")
    if not isinstance(text, str):
        return [Skipped(src, "Entry Text is not a string")]
    body = clean_text(text)
    if not body:
        return [Skipped(src, "empty entry (no Entry Text)")]
    tags = d.get("Tags") if isinstance(d.get("Tags"), list) else []
    return [
        ImportItem(
            day=local.date(),
            body=body,
            format="dayone",
            source=src,
            created=local,
            tags=clean_tags(tags),
            starred=d.get("Starred") is True,
            source_id=uuid,
            raw_sha256=sha256_bytes(data),
        )
    ]
