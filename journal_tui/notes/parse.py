"""Reading one note file: bytes -> text -> front matter + body -> day, created, kind, title, tags.

Layout of a note file (all parts optional)::

    [BOM]---
    created: 2026-11-29T09:15:00+01:00
    kind: note
    tags: [run, knee]
    title: Morning run
    ---
    The body, Markdown. #tags in the body count as tags.

Rules (issue 2):

* Text is UTF-8, with or without a BOM; CRLF files are read with ``\\n`` and written back with
  CRLF. NUL bytes mean a binary file; other undecodable bytes mean "not UTF-8". Both are
  :class:`ParseError`.
* Front matter is YAML between a first line ``---`` and the next ``---`` (or ``...``) line. It is
  loaded with python-frontmatter's :class:`~frontmatter.default_handlers.YAMLHandler` (safe
  loader). We split the fences ourselves because ``frontmatter.loads`` strips the body's
  surrounding whitespace and the body must survive a save byte for byte.
* Odd front matter is tolerated: unrendered template values such as ``created: {{date}}`` (not
  YAML: a nested flow mapping) are read as the string ``"{{date}}"``; wikilinks ``"[[Foo]]"``,
  keys with spaces, ``tags`` as a list, a comma string or one string, dates as YAML dates or
  strings. A fence pair holding a plain scalar (a Markdown thematic break, not metadata) means
  no front matter. Front matter that is still not YAML is a :class:`ParseError`.
* Day: front matter ``created``, else ``date``; else ``YYYY-MM-DD`` / ``YYYY_MM_DD`` (Logseq) in
  the file name; else a jrnl folder path ``YYYY/MM/DD.txt``; else the file's mtime (local time).
  A ``created`` with a UTC offset keeps the day as written in that offset.
* Tags: front matter ``tags`` (or ``tag``) plus ``#tags`` in the body, lower-cased, unique, in
  order. Body tags must hold a letter (``#1`` is an issue number), and are not looked for in
  fenced code, inline code, URLs, link targets or HTML tags; ``# Title`` is a heading (space
  after ``#``) and never a tag. Logseq's ``#[[two words]]`` is one tag.

Nothing here touches the disk except :func:`read_note_bytes`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from journal_tui.notes.index import NOTE_SUFFIXES, is_note_name  # noqa: F401  (re-exported)
from journal_tui.notes.model import KINDS

DEFAULT_MAX_BYTES = 2_000_000

class ParseError(Exception):
    """A file that cannot be read as a note. ``reason`` says what is wrong and what to do."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class ParsedText:
    """A note file split into its parts.

    Attributes:
        meta: the front matter mapping ({} when there is none).
        fm_text: the raw front matter between the fences with ``\\n`` line endings (``None``
            when the file has no front matter). Kept so a save can leave it as written.
        body: the text after the closing fence, ``\\n`` line endings, no BOM.
        bom: the file started with a UTF-8 BOM.
        newline: ``"\\r\\n"`` when the file used CRLF, else ``"\\n"``.
        repaired: front matter needed the ``{{template}}`` repair to load.
    """

    meta: dict[str, Any]
    fm_text: str | None
    body: str
    bom: bool = False
    newline: str = "\n"
    repaired: bool = False
    fences: tuple[str, str] = ("---\n", "---\n")

    def to_bytes(self, fm_text: str | None = None, body: str | None = None) -> bytes:
        """The file bytes with ``fm_text``/``body`` replaced (default: as read), keeping this
        file's BOM, line-ending style and fence lines."""
        fm = self.fm_text if fm_text is None else fm_text
        return compose(fm, self.body if body is None else body, bom=self.bom, newline=self.newline, fences=self.fences)


# --------------------------------------------------------------------------- bytes and text


def read_note_bytes(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Read a note file, refusing one over ``max_bytes`` before reading it whole.

    Raises:
        ParseError: the file is too large or cannot be read (permissions, a folder, ...).
        FileNotFoundError: the file does not exist.
    """
    try:
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except FileNotFoundError:
        raise
    except OSError as e:
        raise ParseError(f"cannot be read ({e.strerror or e}): check its permissions") from e
    if len(data) > max_bytes:
        raise ParseError(
            f"too large (over {max_bytes / 1e6:g} MB, the notes size limit): split it into smaller notes"
        )
    return data


def decode(data: bytes) -> tuple[str, bool, str]:
    """Decode note bytes.

    Returns:
        (text with ``\\n`` line endings and no BOM, had_bom, newline style ``"\\n"``/``"\\r\\n"``).

    Raises:
        ParseError: NUL bytes (binary file) or bytes that are not UTF-8.
    """
    if b"\x00" in data:
        raise ParseError("binary file (contains NUL bytes): not a text note; move it out of the notes folder")
    bom = data.startswith(b"\xef\xbb\xbf")
    skip = 3 if bom else 0
    try:
        text = data[skip:].decode("utf-8")
    except UnicodeDecodeError as e:
        at = e.start + skip
        raise ParseError(
            f"not UTF-8 text (byte 0x{data[at:at + 1].hex()} at offset {at}): re-save it as UTF-8 in an editor"
        ) from e
    newline = "\n"
    if "\r\n" in text:
        newline = "\r\n"
        text = text.replace("\r\n", "\n")
    return text, bom, newline


# --------------------------------------------------------------------------- front matter

_OPEN = re.compile(r"---[ \t]*(?:\n|$)")
_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)
# `key: {{template}} ...` or `- {{template}}` with an unquoted value that starts with "{{"
_TEMPLATE_VALUE = re.compile(r"^(\s*(?:-\s+)?(?:[^\s#:{\[\"'-][^:#]*?:\s+|-\s+))(\{\{.*?)\s*$", re.MULTILINE)


def split_front_matter(text: str) -> tuple[str | None, str]:
    """Split ``text`` (``\\n`` endings, no BOM) into (front matter text or None, body).

    The body is everything after the closing fence's line end, unchanged. A file whose first
    line is ``---`` but that has no closing fence has no front matter.
    """
    parts = _split_fences(text)
    return (None, text) if parts is None else (parts[1], parts[3])


def _split_fences(text: str) -> tuple[str, str, str, str] | None:
    """(opening fence line, front matter, closing fence line, body), each exactly as in ``text``."""
    m = _OPEN.match(text)
    if not m:
        return None
    close = _CLOSE.search(text, m.end())
    if close is None:
        return None
    end = close.end()
    if text.startswith("\n", end):
        end += 1
    return text[: m.end()], text[m.end() : close.start()], text[close.start() : end], text[end:]


def _repair_templates(fm: str) -> str:
    return _TEMPLATE_VALUE.sub(lambda m: m.group(1) + json.dumps(m.group(2), ensure_ascii=False), fm)


def load_front_matter(fm: str) -> tuple[Any, bool]:
    """Load front matter YAML with python-frontmatter's YAMLHandler (safe loader).

    Returns:
        (the loaded value: usually a dict, None for an empty block, anything YAML allows;
        whether the ``{{template}}`` repair was needed).

    Raises:
        ParseError: not YAML even after the template repair; the reason gives the line
            (1 = the first line inside the fences).
    """
    import yaml
    from frontmatter.default_handlers import YAMLHandler

    handler = YAMLHandler()
    try:
        return handler.load(fm), False
    except yaml.YAMLError as first:
        if "{{" in fm:
            try:
                return handler.load(_repair_templates(fm)), True
            except yaml.YAMLError:
                pass
        mark = getattr(first, "problem_mark", None)
        where = f" (line {mark.line + 2} of the file)" if mark is not None else ""
        problem = getattr(first, "problem", None) or str(first).splitlines()[0]
        raise ParseError(
            f"front matter is not valid YAML{where}: {problem}; fix it in an editor (the file was left unchanged)"
        ) from first
    except (ValueError, TypeError, RecursionError) as e:  # e.g. a timestamp out of range
        raise ParseError(f"front matter cannot be read ({e}); fix it in an editor") from e


def parse_text(data: bytes) -> ParsedText:
    """Decode and split a note file's bytes.

    Raises:
        ParseError: binary, not UTF-8, or front matter that is not YAML.
    """
    text, bom, newline = decode(data)
    parts = _split_fences(text)
    fm, body = (None, text) if parts is None else (parts[1], parts[3])
    fences = (parts[0], parts[2]) if parts else ("---\n", "---\n")
    meta: dict[str, Any] = {}
    repaired = False
    if fm is not None:
        value, repaired = load_front_matter(fm)
        if value is None:
            meta = {}
        elif isinstance(value, dict):
            meta = value
        else:  # a plain scalar/list between two `---` lines: Markdown, not metadata
            fm, body, repaired = None, text, False
    return ParsedText(meta, fm, body, bom=bom, newline=newline, repaired=repaired, fences=fences)


def compose(
    fm_text: str | None,
    body: str,
    *,
    bom: bool = False,
    newline: str = "\n",
    fences: tuple[str, str] = ("---\n", "---\n"),
) -> bytes:
    """The file bytes for front matter text + body (inverse of :func:`parse_text`).

    ``fm_text=None`` writes no front matter. ``newline="\\r\\n"`` writes CRLF line endings."""
    if fm_text is None:
        text = body
    else:
        opening, closing = fences
        if not opening.endswith("\n"):
            opening += "\n"
        if fm_text and not fm_text.endswith("\n"):
            fm_text += "\n"
        if not closing.endswith("\n") and body:
            closing += "\n"
        text = opening + fm_text + closing + body
    if newline == "\r\n":
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    data = text.encode("utf-8")
    return b"\xef\xbb\xbf" + data if bom else data


def dump_yaml(meta: dict[str, Any]) -> str:
    """YAML text for a mapping (keys in the given order, block style, Unicode kept), ending in
    ``\\n``; ``""`` for an empty mapping. Uses python-frontmatter's YAMLHandler.export."""
    if not meta:
        return ""
    from frontmatter.default_handlers import YAMLHandler

    return YAMLHandler().export(meta, sort_keys=False, width=10_000) + "\n"


def _key_line(key: str) -> re.Pattern[str]:
    k = re.escape(key)
    return re.compile(rf"^(?:{k}|\"{k}\"|'{k}')[ \t]*:(?:[ \t]|$)")


def update_front_matter(fm_text: str | None, changes: dict[str, Any]) -> str:
    """Set (or, for value ``None``, remove) top-level keys in front matter text, leaving every
    other line as the person wrote it (comments, order, quoting). A new key goes at the end.

    Each changed key's block (its line plus indented or ``- `` continuation lines) is replaced.
    The result is checked by loading it; if the other keys did not survive (an unusual layout),
    the whole mapping is re-dumped instead, keeping key order but not comments.

    Raises:
        ParseError: ``fm_text`` is not YAML (callers never rewrite such a file).
    """
    if not changes:
        return fm_text or ""
    old_meta: dict[str, Any] = {}
    if fm_text:
        value, _ = load_front_matter(fm_text)
        old_meta = value if isinstance(value, dict) else {}
    lines = (fm_text or "").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for key, value in changes.items():
        pat = _key_line(key)
        start = next((i for i, line in enumerate(lines) if pat.match(line)), None)
        new = dump_yaml({key: value}).rstrip("\n").split("\n") if value is not None else []
        if start is None:
            lines.extend(new)
            continue
        end = start + 1
        while end < len(lines) and (lines[end][:1] in (" ", "\t") or lines[end].startswith("-") and not lines[end].startswith("---")):
            end += 1
        lines[start:end] = new
    result = "\n".join(lines) + ("\n" if lines else "")
    expected = {k: v for k, v in old_meta.items() if k not in changes}
    expected.update({k: v for k, v in changes.items() if v is not None})
    try:
        got, _ = load_front_matter(result)
    except ParseError:
        got = None
    if got != expected and not (got is None and not expected):
        merged = dict(old_meta)
        for k, v in changes.items():
            if v is None:
                merged.pop(k, None)
            else:
                merged[k] = v
        result = dump_yaml(merged)
    return result


# --------------------------------------------------------------------------- dates

_NAME_DATE = re.compile(r"(?<!\d)(\d{4})([-_])(\d{2})\2(\d{2})(?:[-_T ](\d{2})(\d{2})(\d{2}))?(?!\d)")
_WIKILINK = re.compile(r"^\[\[(.*?)(?:\|.*)?\]\]$")


def _unlink(s: str) -> str:
    s = s.strip()
    m = _WIKILINK.match(s)
    return m.group(1).strip() if m else s


def coerce_when(value: Any) -> dt.datetime | dt.date | None:
    """A front matter date value as an aware datetime, a date, or None (not a date).

    Accepts YAML timestamps (naive ones are taken as local time), YAML dates, and strings in
    ISO 8601 (``2026-11-29``, ``2026-11-29T09:15:00+01:00``, ``...Z``), optionally wrapped in a
    wikilink ``[[...]]``. Unrendered templates (``{{date}}``) and other text give None.
    """
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.astimezone()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        return None
    s = _unlink(value)
    if not s or not s[:4].isdigit():
        return None
    try:
        if len(s) == 10:
            return dt.date.fromisoformat(s)
        d = dt.datetime.fromisoformat(s)
    except ValueError:
        return None
    return d if d.tzinfo else d.astimezone()


def date_from_name(name: str) -> tuple[dt.date, dt.datetime | None] | None:
    """The first valid ``YYYY-MM-DD`` or ``YYYY_MM_DD`` in a file name, with the time when it is
    followed by ``-HHMMSS`` (our own naming; taken as local time). None if there is none."""
    for m in _NAME_DATE.finditer(name):
        try:
            day = dt.date(int(m.group(1)), int(m.group(3)), int(m.group(4)))
        except ValueError:
            continue
        created = None
        if m.group(5):
            try:
                created = dt.datetime.combine(
                    day, dt.time(int(m.group(5)), int(m.group(6)), int(m.group(7)))
                ).astimezone()
            except ValueError:
                created = None
        return day, created
    return None


def date_from_folders(parts: tuple[str, ...]) -> dt.date | None:
    """jrnl's folder journal: ``.../YYYY/MM/DD.txt`` (``parts`` = the path's parts)."""
    if len(parts) < 3:
        return None
    y, m, d = parts[-3], parts[-2], parts[-1].rsplit(".", 1)[0]
    if len(y) == 4 and len(m) == 2 and len(d) == 2 and (y + m + d).isdigit():
        try:
            return dt.date(int(y), int(m), int(d))
        except ValueError:
            return None
    return None


def resolve_day(
    meta: dict[str, Any], rel_parts: tuple[str, ...], mtime: float
) -> tuple[dt.date, dt.datetime | None]:
    """(day, created) of a note: front matter ``created`` then ``date``; the file name; a jrnl
    ``YYYY/MM/DD`` path; the mtime (local). ``created`` is an aware datetime or None."""
    for key in ("created", "date"):
        when = coerce_when(meta.get(key))
        if isinstance(when, dt.datetime):
            return when.date(), when
        if isinstance(when, dt.date):
            return when, None
    named = date_from_name(rel_parts[-1]) if rel_parts else None
    if named:
        return named
    folder = date_from_folders(rel_parts)
    if folder:
        return folder, None
    return dt.date.fromtimestamp(mtime), None


# --------------------------------------------------------------------------- kind, title, tags


def resolve_kind(meta: dict[str, Any]) -> str:
    """``kind`` from front matter when it is one of KINDS (any case), else ``"note"``."""
    k = meta.get("kind")
    if isinstance(k, str) and k.strip().lower() in KINDS:
        return k.strip().lower()
    return "note"


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")


def _strip_fences(body: str) -> list[str]:
    """Body lines outside fenced code blocks."""
    out, fence = [], None
    for line in body.split("\n"):
        m = _FENCE.match(line)
        if fence is None:
            if m:
                fence = m.group(1)[0] * len(m.group(1))
                continue
            out.append(line)
        elif m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) and not line.strip()[len(m.group(1)):].strip():
            fence = None
    return out


def resolve_title(meta: dict[str, Any], body: str) -> str:
    """Front matter ``title`` (as text), else the first ATX heading outside code, else ``""``."""
    t = meta.get("title")
    if t is not None and not isinstance(t, (dict, list)):
        t = str(t).strip()
        if t:
            return _unlink(t)
    for line in _strip_fences(body):
        m = _HEADING.match(line)
        if m and m.group(1).strip():
            return m.group(1).strip()
    return ""


def _norm_tag(t: Any) -> str:
    if t is None or isinstance(t, (dict, list)):
        return ""
    s = _unlink(str(t)).strip().lstrip("#").strip()
    return s.lower()


def front_matter_tags(meta: dict[str, Any]) -> list[str]:
    """Tags from front matter ``tags`` (else ``tag``): a list, a comma-separated string, or one
    string (space-separated when it has no comma). Lower-cased, ``#`` and ``[[ ]]`` removed."""
    raw = meta.get("tags", meta.get("tag"))
    if raw is None:
        return []
    if isinstance(raw, str):
        items = raw.split(",") if "," in raw else raw.split()
    elif isinstance(raw, (list, tuple, set)):
        items = list(raw)
    else:
        items = [raw]
    return [t for t in (_norm_tag(i) for i in items) if t]


_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
_URL = re.compile(r"<?[A-Za-z][A-Za-z0-9+.-]*://[^\s>)]*>?|\bwww\.\S+")
_LINK_TARGET = re.compile(r"\]\([^)\n]*\)")
_HTML_TAG = re.compile(r"</?[A-Za-z][^>\n]*>")
_BODY_TAG = re.compile(r"(?<![^\s(\[{,;:!?*_~>\"'])#(?:\[\[([^\]\n]+)\]\]|([\w][\w/-]*))")


def body_tags(body: str) -> list[str]:
    """``#tags`` in a Markdown body (see the module docstring for what does not count)."""
    if "#" not in body:
        return []
    out: list[str] = []
    for line in _strip_fences(body):
        if "#" not in line:
            continue
        line = _INLINE_CODE.sub(" ", line)
        line = _URL.sub(" ", line)
        line = _LINK_TARGET.sub("] ", line)
        line = _HTML_TAG.sub(" ", line)
        for m in _BODY_TAG.finditer(line):
            tag = (m.group(1) or m.group(2) or "").strip().rstrip("/-").lower()
            if tag and any(c.isalpha() for c in tag) and tag not in out:
                out.append(tag)
    return out


def merge_tags(*groups: list[str]) -> list[str]:
    """Concatenate tag lists, keeping the first of each."""
    out: list[str] = []
    for g in groups:
        for t in g:
            if t not in out:
                out.append(t)
    return out


def slugify(text: str, *, max_words: int = 6, max_len: int = 40) -> str:
    """A file-name slug: ASCII lower-case words joined by ``-`` (``""`` when nothing is left)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())[:max_words]
    slug = "-".join(words)[:max_len].strip("-")
    return slug
