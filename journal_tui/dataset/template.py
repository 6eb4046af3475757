"""The one versioned prompt template, shared by training and drafting.

Version ``jt-1``. A pair example (a day's notes -> that day's journal entry) renders as::

    <<journal 2026-11-29 Sunday>>
    <<notes>>
    [09:15] Ran by the river, knee fine.
    [13:40] Lunch with Sam.
    Talked about the move.
    <<entry>>
    {entry text}{EOS}

Everything up to and including ``<<entry>>\\n`` is the prompt (``input``); the entry is the
``output``. Training text is input + output + EOS and the loss covers output + EOS only.
Drafting renders the same prompt and lets the model write the entry; it stops at EOS or at
:data:`STOP_STRINGS` (the start of a new ``<<...>>`` section).

Voice examples teach the person's voice while there are few pairs:

* an entry on its own renders as a pair whose notes section reads ``(no notes)``;
* a note on its own renders as ``<<journal DAY>>\\n<<note HH:MM>>\\n`` + the note.

Markers are lines that start with ``<<``. User text that has such a line is escaped by one
backslash (``\\<<``), and a line that already starts with backslashes + ``<<`` gets one more, so
:func:`unescape` restores the text exactly. A note can therefore never open a section.

Changing the rendered text in any way needs a new :data:`TEMPLATE_VERSION`; adapters record the
version they were trained with and drafting refuses a version it cannot render.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

TEMPLATE_VERSION = "jt-1"
SUPPORTED_VERSIONS = ("jt-1",)

#: A generated entry ends where a new section would start.
STOP_STRINGS: tuple[str, ...] = ("\n<<",)

NO_NOTES = "(no notes)"
_MARKER_LINE = re.compile(r"^(\\*)<<", re.MULTILINE)
_ESCAPED_LINE = re.compile(r"^\\(\\*)<<", re.MULTILINE)


@dataclass(frozen=True)
class TimedText:
    """One note as the template sees it: when it was written (``None`` if unknown) and its text."""

    time: dt.datetime | dt.time | None
    text: str


def escape(text: str) -> str:
    """Neutralise template markers in user text: a line starting with ``\\``* + ``<<`` gets one
    more leading backslash. Inverse: :func:`unescape`."""
    return _MARKER_LINE.sub(lambda m: "\\" + m.group(1) + "<<", normalise(text))


def unescape(text: str) -> str:
    """Undo :func:`escape` (used on generated drafts before they are shown or saved)."""
    return _ESCAPED_LINE.sub(lambda m: m.group(1) + "<<", text)


def normalise(text: str) -> str:
    """CRLF/CR to LF, BOM removed, trailing whitespace of the whole text removed."""
    return text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff").strip()


def day_header(day: dt.date) -> str:
    return f"<<journal {day.isoformat()} {day.strftime('%A')}>>\n"


def _clock(t: dt.datetime | dt.time | None) -> str:
    return t.strftime("%H:%M") if t is not None else "--:--"


def render_pair_prompt(day: dt.date, notes: list[TimedText], version: str = TEMPLATE_VERSION) -> str:
    """The prompt for drafting ``day``'s entry from its notes (also a pair example's ``input``).

    Args:
        day: the journal day.
        notes: the day's notes; they are put in time order (unknown times first, stable).
        version: template version; only :data:`SUPPORTED_VERSIONS` render.

    Returns:
        The prompt text, ending with ``"<<entry>>\\n"``.

    Raises:
        ValueError: unknown template version.
    """
    _check_version(version)
    ordered = sorted(notes, key=lambda n: (n.time is not None, _sort_key(n.time)))
    lines = [f"[{_clock(n.time)}] {escape(n.text)}" for n in ordered if normalise(n.text)]
    body = "\n".join(lines) if lines else NO_NOTES
    return f"{day_header(day)}<<notes>>\n{body}\n<<entry>>\n"


def render_voice_note_prompt(day: dt.date, time: dt.datetime | dt.time | None, version: str = TEMPLATE_VERSION) -> str:
    """The prompt of a voice example made from a single note written at ``time`` on ``day``."""
    _check_version(version)
    return f"{day_header(day)}<<note {_clock(time)}>>\n"


def render_output(text: str) -> str:
    """A target text (entry or note) as it appears after the prompt: normalised and escaped.
    The EOS token is appended by the tokenizer-side code, not here."""
    return escape(text)


def _sort_key(t: dt.datetime | dt.time | None):
    if t is None:
        return ""
    if isinstance(t, dt.datetime):
        return t.strftime("%H:%M:%S.%f")
    return t.isoformat()


def _check_version(version: str) -> None:
    if version not in SUPPORTED_VERSIONS:
        raise ValueError(
            f"prompt template {version!r} is not supported by this journal-tui "
            f"(supported: {', '.join(SUPPORTED_VERSIONS)}); retrain the adapter or upgrade journal-tui"
        )
