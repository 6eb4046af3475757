"""Training examples from one day's notes: pair examples and voice examples.

An :class:`Example` is one JSONL line of ``datasets/train.jsonl`` / ``eval.jsonl``::

    {"id", "date": "YYYY-MM-DD", "kind": "pair" | "voice-entry" | "voice-note",
     "input": prompt text (dataset/template.py), "output": target text (template.render_output,
     no EOS), "sources": [note paths relative to the notes folder, POSIX], "template_version"}

Rules (the builder applies them per day, so a day can be recomputed on its own):

* **Pair**: a day with at least one non-empty note (any kind other than ``entry``) and at least
  one non-empty entry (``kind: entry``). Several entries the same day are joined in time order
  with a blank line: together they are that day's journal text. ``input`` =
  ``render_pair_prompt(day, notes)``, ``output`` = ``render_output(entries)``.
* **Voice** (the builder keeps them only while the number of pair days is below
  ``voice_until_pairs``): every entry gives a ``voice-entry`` example (the "(no notes)" prompt),
  every note a ``voice-note`` example (``render_voice_note_prompt(day, time)``).
* **Budget**: there is no tokenizer in the UI process, so the budget is in characters:
  ``max_example_chars`` (default 2000, about 500 tokens at the ~4 characters per token that
  English BPE vocabularies such as Phi-2's average). A target text longer than the budget is cut
  by :func:`split_text` into consecutive examples whose ids end ``-p1``, ``-p2``… For a pair, the
  first part keeps the notes prompt (kind ``pair``); later parts are ``voice-entry``
  continuations with the "(no notes)" prompt, kept whether or not voice examples are on. The
  notes section of a pair prompt holds at most ``max_example_chars`` characters of note text
  (:func:`fit_notes`): whole notes in time order, then the first part of the next note cut at a
  boundary; the rest of that day's notes is left out of the prompt. So one pair example is at
  most about two budgets plus the template's header.
* **Times**: a note's time is its ``created`` time when known; else its mtime when the mtime
  falls on the note's day; else unknown (rendered ``--:--``). A file date taken from a name such
  as ``2013-02-12-notes.md`` says nothing about the hour, and a copy's mtime is the day it was
  copied.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from journal_tui.dataset import template
from journal_tui.notes.model import Note

DEFAULT_MAX_EXAMPLE_CHARS = 2000
#: A pair prompt's last, partly kept note is dropped rather than cut to a stub shorter than this.
MIN_NOTE_PART_CHARS = 80

KIND_PAIR = "pair"
KIND_VOICE_ENTRY = "voice-entry"
KIND_VOICE_NOTE = "voice-note"
KINDS = (KIND_PAIR, KIND_VOICE_ENTRY, KIND_VOICE_NOTE)


@dataclass(frozen=True)
class Example:
    """One training example (one JSONL line); see the module docstring for the fields."""

    id: str
    date: dt.date
    kind: str
    input: str
    output: str
    sources: tuple[str, ...]

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "date": self.date.isoformat(),
            "kind": self.kind,
            "input": self.input,
            "output": self.output,
            "sources": list(self.sources),
            "template_version": template.TEMPLATE_VERSION,
        }

    def to_line(self) -> str:
        """The JSONL line (UTF-8 text, ends with ``\\n``)."""
        return json.dumps(self.to_json(), ensure_ascii=False) + "\n"


@dataclass
class DayExamples:
    """A day's examples. ``pair`` holds the pair and its continuations (always kept);
    ``voice`` the voice examples (kept only while voice examples are on)."""

    day: dt.date
    pair: list[Example] = field(default_factory=list)
    voice: list[Example] = field(default_factory=list)
    trimmed_prompt: bool = False  # the pair prompt left some note text out (fit_notes)

    @property
    def has_pair(self) -> bool:
        return bool(self.pair)


# ---------------------------------------------------------------------------- splitting

_PARA = re.compile(r"\n[ \t]*\n\s*")
# sentence end: . ! ? … (possibly several) and closing quotes/brackets, followed by whitespace;
# a single line break inside a paragraph (list items, verse) counts as a sentence boundary too.
_SENTENCE = re.compile(r"(?:[.!?…]+[\"'”’)\]]*[ \t]+|[ \t]*\n\s*)")
_SPACE = re.compile(r"\s+")
_ABBREV = frozenset("mr mrs ms dr st sr jr prof vs etc e.g i.e cf no vol fig p pp ca approx".split())


def _is_abbreviation(text: str, dot: int) -> bool:
    """True when the '.' at ``dot`` ends a known abbreviation or a single initial (``J.``)."""
    if text[dot] != ".":
        return False
    m = re.search(r"([\w.]+)$", text[max(0, dot - 12) : dot])
    if not m:
        return False
    word = m.group(1).lower().rstrip(".")
    return word in _ABBREV or (len(word) == 1 and word.isalpha())


def _cuts(text: str, pattern: re.Pattern, start: int, end: int, *, sentence: bool = False) -> int | None:
    """The last boundary ``pattern`` that ends in ``(start, end]``, as the index after it."""
    best = None
    for m in pattern.finditer(text, start, end + 1):
        if m.end() <= start + 1 or m.end() > end + 1:
            continue
        if sentence and m.group(0)[0] in ".!?…" and _is_abbreviation(text, m.start()):
            continue
        best = m.end()
    return best


def split_text(text: str, max_chars: int = DEFAULT_MAX_EXAMPLE_CHARS) -> list[str]:
    """Split ``text`` into consecutive parts of at most ``max_chars`` characters each.

    Each part ends at the last paragraph break (blank line) that fits; when none fits, at the
    last sentence end (``.``, ``!``, ``?``, ``…`` plus closing quotes, not after ``Mr.``-style
    abbreviations or initials; a line break also counts); when a single sentence is longer than
    the budget, at the last whitespace; and only a run of characters without any whitespace is
    cut hard. Parts are stripped; the text is :func:`template.normalise`-d first. Empty text gives
    ``[]``.

    Raises:
        ValueError: ``max_chars`` < 1.
    """
    if max_chars < 1:
        raise ValueError(f"max_example_chars must be at least 1, not {max_chars}")
    text = template.normalise(text)
    parts: list[str] = []
    start = 0
    n = len(text)
    while start < n:
        if n - start <= max_chars:
            parts.append(text[start:].strip())
            break
        end = start + max_chars  # the part is text[start:cut] with cut <= end
        cut = (
            _cuts(text, _PARA, start, end)
            or _cuts(text, _SENTENCE, start, end, sentence=True)
            or _cuts(text, _SPACE, start, end)
            or end
        )
        part = text[start:cut].strip()
        if part:
            parts.append(part)
        start = cut
        while start < n and text[start].isspace():
            start += 1
    return [p for p in parts if p]


# ---------------------------------------------------------------------------- days


def note_time(note: Note) -> dt.datetime | None:
    """When the note was written, for its ``[HH:MM]`` label (see the module docstring)."""
    if note.created is not None:
        return note.created
    if note.mtime:
        t = dt.datetime.fromtimestamp(note.mtime).astimezone()
        if t.date() == note.date:
            return t
    return None


def order_key(note: Note) -> tuple:
    """Sort key of a day's notes: unknown times first (as the template orders them), then time
    of day (:func:`note_time`), then path."""
    t = note_time(note)
    return (t is not None, t.strftime("%H:%M:%S.%f") if t else "", str(note.path))


_order_key = order_key


def pair_prompt(
    day: dt.date,
    notes: Iterable[Note],
    *,
    max_chars: int = DEFAULT_MAX_EXAMPLE_CHARS,
    version: str = template.TEMPLATE_VERSION,
) -> tuple[str, bool, list[Note]]:
    """The pair prompt of ``day`` exactly as a pair example's ``input`` is built, for drafting.

    Args:
        day: the journal day.
        notes: any notes; those of ``day`` that are not entries and not empty are used.
        max_chars: the ``[dataset] max_example_chars`` budget (:func:`fit_notes`).
        version: template version.

    Returns:
        ``(prompt, trimmed, used)``: the prompt text (ends ``<<entry>>\n``; the "(no notes)"
        prompt when no note qualifies), whether note text was left out, and the notes used in
        prompt order.

    Raises:
        ValueError: unsupported template version.
    """
    plain = sorted(
        (n for n in notes if n.date == day and n.kind != "entry" and template.normalise(n.body)), key=order_key
    )
    kept, trimmed = fit_notes([template.TimedText(note_time(n), n.body) for n in plain], max_chars)
    return template.render_pair_prompt(day, kept, version=version), trimmed, plain


def fit_notes(notes: Iterable[template.TimedText], max_chars: int = DEFAULT_MAX_EXAMPLE_CHARS):
    """Keep at most ``max_chars`` characters of note text for a pair prompt.

    Args:
        notes: ``template.TimedText`` items in the order they will be rendered.
        max_chars: budget for the note texts together (each text normalised).

    Returns:
        ``(kept, trimmed)``: the TimedText list to render and whether anything was left out.
        Whole notes are kept while they fit; the first one that does not is cut by
        :func:`split_text` to the room left (dropped if that is under
        :data:`MIN_NOTE_PART_CHARS` and something was already kept); later notes are left out.
        Drafting should apply the same rule so its prompts look like the training prompts.
    """
    kept: list[template.TimedText] = []
    used = 0
    items = [n for n in notes if template.normalise(n.text)]
    for n in items:
        text = template.normalise(n.text)
        if used + len(text) <= max_chars:
            kept.append(n)
            used += len(text)
            continue
        room = max_chars - used
        if room >= MIN_NOTE_PART_CHARS or not kept:
            head = split_text(text, max(room, 1))
            if head:
                kept.append(template.TimedText(n.time, head[0]))
        return kept, True
    return kept, False


def _rel(note: Note, root: Path | None) -> str:
    """The note's path relative to ``root``, POSIX separators (absolute when outside ``root``)."""
    path = str(note.path)
    if root is not None:
        prefix = str(root).rstrip("/\\") + os.sep
        if path.startswith(prefix):  # fast path: Path.relative_to costs ~20 us a call
            return path[len(prefix) :].replace(os.sep, "/")
        try:
            return Path(path).relative_to(root).as_posix()
        except ValueError:
            pass
    return Path(path).as_posix()


def day_examples(
    day: dt.date,
    notes: Iterable[Note],
    *,
    root: Path | None = None,
    max_chars: int = DEFAULT_MAX_EXAMPLE_CHARS,
    voice: bool = True,
) -> DayExamples:
    """All examples of ``day`` from the notes whose ``date`` is ``day``.

    Args:
        day: the journal day.
        notes: that day's notes and entries, in any order (notes of other days are ignored).
        root: the notes folder; ``sources`` are paths relative to it.
        max_chars: the character budget (see the module docstring).
        voice: also make the voice examples (False leaves ``voice`` empty, to save time when
            the builder will not use them).

    Returns:
        A :class:`DayExamples`; empty lists when the day has no non-empty text.
    """
    day_notes = sorted((n for n in notes if n.date == day and template.normalise(n.body)), key=_order_key)
    entries = [n for n in day_notes if n.kind == "entry"]
    plain = [n for n in day_notes if n.kind != "entry"]
    iso = day.isoformat()
    out = DayExamples(day)

    if entries and plain:
        prompt, out.trimmed_prompt, _ = pair_prompt(day, plain, max_chars=max_chars)
        entry_text = "\n\n".join(template.normalise(e.body) for e in entries)
        parts = split_text(entry_text, max_chars)
        sources = tuple(_rel(n, root) for n in plain + entries)
        no_notes = template.render_pair_prompt(day, [])
        for i, part in enumerate(parts):
            suffix = f"-p{i + 1}" if len(parts) > 1 else ""
            out.pair.append(
                Example(
                    id=f"pair-{iso}{suffix}",
                    date=day,
                    kind=KIND_PAIR if i == 0 else KIND_VOICE_ENTRY,
                    input=prompt if i == 0 else no_notes,
                    output=template.render_output(part),
                    sources=sources,
                )
            )

    if not voice:
        return out
    for n in entries:
        out.voice.extend(_voice(n, KIND_VOICE_ENTRY, template.render_pair_prompt(day, []), root, max_chars))
    for n in plain:
        prompt = template.render_voice_note_prompt(day, note_time(n))
        out.voice.extend(_voice(n, KIND_VOICE_NOTE, prompt, root, max_chars))
    return out


def _voice(note: Note, kind: str, prompt: str, root: Path | None, max_chars: int) -> list[Example]:
    parts = split_text(note.body, max_chars)
    rel = _rel(note, root)
    base = f"{kind}-{rel}"
    return [
        Example(
            id=base + (f"-p{i + 1}" if len(parts) > 1 else ""),
            date=note.date,
            kind=kind,
            input=prompt,
            output=template.render_output(part),
            sources=(rel,),
        )
        for i, part in enumerate(parts)
    ]
