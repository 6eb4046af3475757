"""Folders of ``.md``/``.txt`` notes: Obsidian, Logseq, Jekyll posts, plain per-day files.

One file becomes one item. Its day comes from, in order:

1. front matter ``created`` or ``date`` (a YAML date/datetime or an ISO string);
2. a date in the file name: ``YYYY-MM-DD`` (Obsidian, Jekyll ``YYYY-MM-DD-slug``, plain files) or
   ``YYYY_MM_DD`` (Logseq);
3. a folder path ``YYYY/MM/DD.txt`` (jrnl's folder layout, read as plain text here).

A file without any of these is skipped ("no date"); so is a page with no text (Logseq's lone
``-``) and an unrendered template (``created: {{date}}``, no date elsewhere).

Front matter, dates, titles and tags are read with the store's own rules
(:mod:`journal_tui.notes.parse`: python-frontmatter's YAML handler, unrendered ``{{date}}`` values
read as text, wikilinks in values, keys with spaces, ``tags`` as a comma string). Where that
parser gives up (YAML that still does not load), a simple line reader takes ``key: value`` pairs
and ``- item`` lists instead, so the file is still imported. Unlike the store, an import never
dates a note by its file's mtime (copies and checkouts reset mtimes): undated files are skipped.
Nothing is ever written back.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from journal_tui.notes.importers import (
    ImportItem,
    Skipped,
    clean_tags,
    is_empty_page,
    normalise_text,
    sha256_bytes,
)

_NAME_DATE = re.compile(r"(?<!\d)(\d{4})([-_])(\d{2})\2(\d{2})(?!\d)")
_TEMPLATE = re.compile(r"\{\{.*?\}\}")
_KV = re.compile(r"^([^\s:#-][^:]*?)\s*:(?:\s+(.*))?$")
_LIST_ITEM = re.compile(r"^\s+-\s+(.*)$|^-\s+(.*)$")

DATE_KEYS = ("created", "date")


def read_front_matter(text: str) -> tuple[dict[str, Any], str, str | None]:
    """Split and load front matter with the store's parser (:mod:`journal_tui.notes.parse`),
    falling back to a line reader when the YAML does not load even after the template repair.

    Args:
        text: decoded file text (``\\n`` line endings, no BOM).

    Returns:
        ``(meta, body, note)``: ``note`` is ``None`` when YAML loaded, else why the line reader
        was used.
    """
    from journal_tui.notes import parse

    fm, body = parse.split_front_matter(text)
    if fm is None:
        return {}, text, None
    try:
        value, _ = parse.load_front_matter(fm)
    except parse.ParseError as e:
        return _line_reader(fm), body, e.reason
    if value is None:
        return {}, body, None
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items()}, body, None
    return {}, text, None  # a Markdown thematic break pair, not metadata


def _line_reader(fm: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    key: str | None = None
    for line in fm.split("\n"):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        item = _LIST_ITEM.match(line)
        if item and key is not None:
            val = _unquote((item.group(1) or item.group(2) or "").strip())
            cur = out.get(key)
            if not isinstance(cur, list):
                cur = [] if cur in (None, "") else [cur]
            cur.append(val)
            out[key] = cur
            continue
        kv = _KV.match(line)
        if kv:
            key = kv.group(1).strip()
            out[key] = _unquote((kv.group(2) or "").strip())
    return out


def _unquote(v: str) -> str:
    if len(v) >= 2 and v[0] == v[-1] and v[0] in ("'", '"'):
        return v[1:-1]
    return v


def meta_day(meta: dict[str, Any]) -> tuple[dt.date | None, dt.datetime | None, str | None]:
    """The day (and time when given) from front matter ``created``/``date`` (read with
    :func:`journal_tui.notes.parse.coerce_when`).

    Returns:
        ``(day, created, problem)``: ``created`` is timezone-aware or ``None`` for a date alone;
        ``problem`` names an unrendered template or an unreadable value when no key gave a day.
    """
    from journal_tui.notes import parse

    problem = None
    for key in DATE_KEYS:
        if key not in meta:
            continue
        v = meta[key]
        if isinstance(v, list) and len(v) == 1:
            v = v[0]
        when = parse.coerce_when(v)
        if isinstance(when, dt.datetime):
            return when.date(), when, None
        if isinstance(when, dt.date):
            return when, None, None
        shown = str(v).strip() if v is not None else ""
        if _TEMPLATE.search(shown) or isinstance(v, dict):
            problem = problem or f"unrendered template ({key}: {shown})"
        elif shown:
            problem = problem or f"unparseable date ({key}: {shown})"
    return None, None, problem


def name_day(path: Path) -> tuple[dt.date | None, dt.datetime | None, str]:
    """A day from the file name (``YYYY-MM-DD``/``YYYY_MM_DD`` anywhere in it) or from a jrnl
    ``YYYY/MM/DD.txt`` path. Returns ``(day, created, rest)``; ``rest`` is the stem without the
    date (a Jekyll slug, Obsidian's ``Meeting with Steph``)."""
    from journal_tui.notes import parse

    named = parse.date_from_name(path.name)
    if named:
        m = _NAME_DATE.search(path.stem)
        rest = (path.stem[: m.start()] + " " + path.stem[m.end() :]).strip(" -_.") if m else ""
        return named[0], named[1], rest
    folder_day = parse.date_from_folders(path.parts)
    if folder_day:
        return folder_day, None, ""
    return None, None, path.stem


def title_of(meta: dict[str, Any], rest_of_stem: str, dated_by_name: bool) -> str | None:
    """Front matter ``title``; else what follows the date in the file name (a Jekyll slug with
    dashes turned into spaces; Obsidian's ``2023-09-12 Meeting with Steph``); else ``None``."""
    from journal_tui.notes import parse

    t = meta.get("title")
    if isinstance(t, str) and t.strip() and not _TEMPLATE.search(t):
        return parse.resolve_title({"title": t}, "") or None
    if dated_by_name and rest_of_stem:
        return rest_of_stem.replace("-", " ").replace("_", " ").strip() or None
    return None


def parse_file(path: Path, data: bytes) -> list[ImportItem | Skipped]:
    """Parse one ``.md``/``.txt`` file (bytes already read) into one item, or one skip."""
    from journal_tui.notes import parse

    src = str(path)
    try:
        text, _, _ = parse.decode(data)
    except parse.ParseError as e:
        return [Skipped(src, e.reason)]
    text = text.replace("\r", "\n")
    meta, body, _ = read_front_matter(text)
    body = normalise_text(body)

    day, created, problem = meta_day(meta)
    nday, ncreated, rest = name_day(path)
    by_name = nday is not None and _NAME_DATE.search(path.stem) is not None
    if day is None and nday is not None:
        day, created = nday, ncreated
    if day is None and problem and problem.startswith("unrendered template"):
        return [Skipped(src, problem + "; no date in the file name either")]
    if is_empty_page(body):
        return [Skipped(src, "empty page")]
    if day is None:
        if problem:
            return [Skipped(src, problem + "; no date in the file name either")]
        return [Skipped(src, "no date: neither front matter created/date nor the file name (YYYY-MM-DD) gives a day")]
    return [
        ImportItem(
            day=day,
            body=body,
            format="folder",
            source=src,
            created=created,
            kind=parse.resolve_kind(meta) if "kind" in meta else None,
            title=title_of(meta, rest, by_name),
            tags=clean_tags(parse.front_matter_tags(meta)),
            starred=meta.get("starred") is True,
            raw_sha256=sha256_bytes(data),
        )
    ]
