"""jrnl journals: single-file plain text, folder journals ``YYYY/MM/DD.txt``, JSON exports.

Plain-text format (https://jrnl.sh, file format of jrnl 2+)::

    [2020-08-31 14:32] A second entry in what I hope to be a long series. *
    Body lines ...

An entry starts at a line ``[DATE] first line``; the first sentence is jrnl's title, a trailing
`` *`` on the header line stars the entry, ``@tags`` anywhere in the text are tags (an ``@`` inside a
word, as in an e-mail address, is not). Its text runs to the next header. The header dates we
read (jrnl writes the journal's ``timeformat``):

* ``YYYY-MM-DD HH:MM`` (default), with ``:SS`` and/or ``AM``/``PM`` (folder journals);
* ``DD.MM.YYYY HH:MM`` (day-first ``%d.%m.%Y``, as in jrnl's little-endian test config);
* ``YYYY-MM HH:MM``: a month without a day; jrnl reads it as the 1st of the month and so do we;
* jrnl 1.x headers without brackets (``2010-06-10 15:00 Title``).

A bracketed blob that is not one of these (``[1] line starting with 1``) is body text when the
file has readable headers, exactly as jrnl reads it. A file with no readable header at all has its
bracketed headers reported as skipped ("unparseable date"). Times are local wall-clock times;
they get the machine's time zone.

JSON export (``jrnl --export json``): ``{"tags": {...}, "entries": [{"title", "body", "date":
"YYYY-MM-DD", "time": "HH:MM", "tags": ["@tag"], "starred"}]}``. The note text is the title, a new
line, then the body (jrnl splits one text into those two).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from journal_tui.notes.importers import (
    ImportItem,
    Skipped,
    clean_tags,
    decode_text,
    json_entries,
    local_tz,
    normalise_text,
    sha256_bytes,
)

_BRACKET_HEADER = re.compile(r"^\[([^\]\n]+)\][ \t]?(.*)$")
_LEGACY_HEADER = re.compile(r"^(\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}|\d{2}\.\d{2}\.\d{4} \d{1,2}:\d{2}) (.*)$")
_TAG = re.compile(r"(?:(?<=\s)|^)@([\w][-+*#/\w]*)", re.UNICODE)
_DAY_FILE = re.compile(r"(\d{4})/(\d{2})/(\d{2})\.txt$")

_FORMATS = (
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %I:%M:%S %p",
    "%Y-%m-%d %I:%M %p",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%Y-%m-%d",
    "%d.%m.%Y",
    "%Y-%m %H:%M",  # month only: jrnl reads the 1st (its "mostly readable dates" test)
)


def parse_header_date(blob: str) -> dt.datetime | None:
    """A jrnl header date (naive local time), or ``None`` if it is not one of the formats above."""
    blob = " ".join(blob.split())
    for fmt in _FORMATS:
        try:
            return dt.datetime.strptime(blob, fmt)
        except ValueError:
            continue
    return None


def header_date(line: str) -> dt.datetime | None:
    """The date of a jrnl entry header line (bracketed or jrnl 1.x), else ``None``."""
    h = _header(line)
    return h[0] if h else None


def _header(line: str) -> tuple[dt.datetime, str] | None:
    """(date, text after the date) of a header line, else ``None``."""
    m = _BRACKET_HEADER.match(line)
    if m:
        date = parse_header_date(m.group(1))
        if date is not None:
            return date, m.group(2)
    lm = _LEGACY_HEADER.match(line)
    if lm:
        date = parse_header_date(lm.group(1))
        if date is not None:
            return date, lm.group(2)
    return None


def tags_in(text: str) -> tuple[str, ...]:
    """jrnl ``@tags`` in ``text``: ``@OS/2`` -> ``os/2``, ``@C++`` -> ``c++``; trailing punctuation
    (``@tag.``) is not part of the tag; ``kyla@example.org`` is not a tag."""
    return clean_tags(m.group(1).rstrip("-/") for m in _TAG.finditer(text))


def _split_entries(text: str) -> tuple[list[tuple[int, dt.datetime, str]], list[tuple[int, str]]]:
    """Return ``(entries, unreadable)``: entries as (line number, date, text from the header on);
    unreadable headers (line number, blob) found only when no header is readable."""
    lines = text.split("\n")
    starts: list[tuple[int, dt.datetime, str]] = []
    for i, line in enumerate(lines):
        h = _header(line)
        if h is not None:
            starts.append((i, h[0], h[1]))
    entries = []
    for n, (i, date, rest) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        entries.append((i + 1, date, "\n".join([rest, *lines[i + 1 : end]])))
    unreadable: list[tuple[int, str]] = []
    if not starts:
        for i, line in enumerate(lines):
            m = _BRACKET_HEADER.match(line)
            if m and (i == 0 or not lines[i - 1].strip()):
                unreadable.append((i + 1, m.group(1)))
    return entries, unreadable


def _entry_item(src: str, position: str, date: dt.datetime, raw: str, fmt: str) -> ImportItem | Skipped:
    first, _, rest = raw.partition("\n")
    starred = False
    if first.rstrip().endswith("*") and (first.rstrip() == "*" or first.rstrip()[-2:-1].isspace()):
        starred = True
        first = first.rstrip()[:-1].rstrip()
    body = normalise_text(first + ("\n" + rest if rest else ""))
    if not body:
        return Skipped(f"{src}#{position}", "empty entry")
    return ImportItem(
        day=date.date(),
        body=body,
        format=fmt,
        source=src,
        position=position,
        created=date.replace(tzinfo=local_tz()),
        tags=tags_in(body),
        starred=starred,
        raw_sha256=sha256_bytes(raw.encode("utf-8")),
    )


def parse_text(src: str, text: str, *, fmt: str = "jrnl") -> list[ImportItem | Skipped]:
    """Parse jrnl plain text (already decoded) into items and skips."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        return [Skipped(src, "empty journal")]
    entries, unreadable = _split_entries(text)
    out: list[ImportItem | Skipped] = []
    if not entries:
        if unreadable:
            for line_no, blob in unreadable:
                out.append(Skipped(f"{src}#line {line_no}", f"unparseable date [{blob}]"))
        else:
            out.append(Skipped(src, "no jrnl entry header ([YYYY-MM-DD HH:MM] ...) found"))
        return out
    lead = text.split("\n")[: entries[0][0] - 1]
    if any(line.strip() for line in lead):
        out.append(Skipped(f"{src}#line 1", "text before the first entry header (no date)"))
    for n, (line_no, date, raw) in enumerate(entries, start=1):
        out.append(_entry_item(src, f"entry {n}, line {line_no}", date, raw, fmt))
    return out


def parse_journal_file(path: Path, data: bytes) -> list[ImportItem | Skipped]:
    """A single-file jrnl journal (``*.journal``, or a ``.txt`` read with ``--format jrnl``)."""
    try:
        text = decode_text(data)
    except UnicodeDecodeError as e:
        return [Skipped(str(path), f"not UTF-8 text (byte {e.start}); an encrypted jrnl journal must be decrypted first")]
    return parse_text(str(path), text)


def parse_folder_day_file(path: Path, data: bytes, *, root: Path) -> list[ImportItem | Skipped]:
    """One day file of a jrnl folder journal. Files not named ``YYYY/MM/DD.txt`` under ``root``
    are skipped, as jrnl ignores them; entries whose header day differs from the path's day keep
    the header's day."""
    rel = path.relative_to(root).as_posix()
    m = _DAY_FILE.fullmatch(rel)
    if not m:
        return [Skipped(str(path), "inside a jrnl folder journal but not named YYYY/MM/DD.txt; jrnl ignores it")]
    try:
        dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return [Skipped(str(path), f"folder journal path {rel} is not a real date")]
    return parse_journal_file(path, data)


def looks_like_jrnl_json(head: str) -> bool:
    """Cheap check on the start of a ``.json`` file: an ``entries`` list of objects with jrnl's keys."""
    return '"entries"' in head and '"title"' in head and '"time"' in head and '"creationDate"' not in head


def parse_json_export(path: Path, data: bytes) -> list[ImportItem | Skipped]:
    """A ``jrnl --export json`` file."""
    src = str(path)
    entries = json_entries(path, data, "jrnl JSON export")
    if isinstance(entries, Skipped):
        return [entries]
    out: list[ImportItem | Skipped] = []
    for n, e in enumerate(entries, start=1):
        pos = f"entry {n}"
        out.append(_json_entry(src, pos, e))
    return out


def _json_entry(src: str, pos: str, e: Any) -> ImportItem | Skipped:
    where = f"{src}#{pos}"
    if not isinstance(e, dict):
        return Skipped(where, "entry is not a JSON object")
    title, body = e.get("title", ""), e.get("body", "")
    if not isinstance(title, str) or not isinstance(body, str):
        return Skipped(where, "title/body is not text")
    date_s, time_s = e.get("date"), e.get("time")
    if not isinstance(date_s, str):
        return Skipped(where, "no date")
    # no time, or one that does not parse ("25:00"): the day only, not a made-up midnight
    timed = parse_header_date(f"{date_s} {time_s}") if isinstance(time_s, str) and time_s.strip() else None
    when = timed or parse_header_date(date_s)
    if when is None:
        return Skipped(where, f"unparseable date {date_s!r} {time_s!r}")
    text = normalise_text(title + ("\n" + body if body.strip() else ""))
    if not text:
        return Skipped(where, "empty entry")
    tags = e.get("tags") if isinstance(e.get("tags"), list) else []
    return ImportItem(
        day=when.date(),
        body=text,
        format="jrnl-json",
        source=src,
        position=pos,
        created=timed.replace(tzinfo=local_tz()) if timed else None,
        tags=clean_tags([*tags, *tags_in(text)]),
        starred=e.get("starred") is True,
        raw_sha256=sha256_bytes(json.dumps(e, sort_keys=True, ensure_ascii=False).encode("utf-8")),
    )
