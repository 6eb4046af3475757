"""A day's notes -> the drafting prompt.

The prompt is built exactly like the ``input`` of a pair training example
(:func:`journal_tui.dataset.examples.day_examples`): the day's non-empty notes of any kind other
than ``entry``, each labelled with :func:`~journal_tui.dataset.examples.note_time`, kept within
``[dataset] max_example_chars`` by :func:`~journal_tui.dataset.examples.fit_notes`, rendered by
:func:`~journal_tui.dataset.template.render_pair_prompt` with the template version the adapter
was trained with (its manifest's ``template_version``; the current version without an adapter).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from journal_tui.drafting.errors import BadRequestError, NoNotesError, TemplateMismatchError


@dataclass(frozen=True)
class DraftPrompt:
    """The rendered prompt of one day.

    Attributes:
        day: the journal day.
        text: the prompt, ending with ``"<<entry>>\\n"``.
        template_version: the template it was rendered with.
        sources: paths of the notes used, in prompt order.
        trimmed: True when some note text was left out to fit ``max_example_chars``.
    """

    day: dt.date
    text: str
    template_version: str
    sources: tuple[str, ...]
    trimmed: bool = False


def parse_day(value: str | dt.date | None) -> dt.date:
    """``None``/"today" -> today (local time); ``YYYY-MM-DD`` -> that day.

    Raises:
        BadRequestError: not a valid date.
    """
    if value is None or value == "" or value == "today":
        return dt.date.today()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise BadRequestError(
            f"--date {value!r} is not a date", "Give the day as YYYY-MM-DD, e.g. --date 2026-11-29."
        ) from None


def prompt_from_notes(day: dt.date, notes, *, template_version: str, max_chars: int = 2000,
                      root: Path | None = None) -> DraftPrompt:
    """Render the prompt of ``day`` from ``notes`` (Note objects of any days and kinds).

    Raises:
        NoNotesError: no non-empty note of kind other than ``entry`` falls on ``day``.
        TemplateMismatchError: unsupported template version (kind ``adapter_mismatch``).
    """
    from journal_tui.dataset import template
    from journal_tui.dataset.examples import fit_notes, note_time

    def order(n):
        t = note_time(n)
        return (t is not None, t.strftime("%H:%M:%S.%f") if t else "", str(n.path))

    plain = sorted(
        (n for n in notes if n.date == day and n.kind != "entry" and template.normalise(n.body)), key=order
    )
    if not plain:
        raise NoNotesError(
            f"no notes on {day.isoformat()} ({day.strftime('%A')}) to draft from",
            f"Write a few notes for that day first: in the app, or `journal-tui notes add \"...\"` "
            f"(add --date {day.isoformat()} for another day).",
        )
    timed = [template.TimedText(note_time(n), n.body) for n in plain]
    kept, trimmed = fit_notes(timed, max_chars)
    try:
        text = template.render_pair_prompt(day, kept, version=template_version)
    except ValueError as e:
        raise TemplateMismatchError(str(e), "Retrain the adapter (journal-tui train) or upgrade journal-tui.") from e

    def rel(n):
        try:
            return Path(n.path).relative_to(root).as_posix() if root else str(n.path)
        except ValueError:
            return str(n.path)

    return DraftPrompt(day, text, template_version, tuple(rel(n) for n in plain), trimmed)


def build_prompt(locations, day: dt.date, *, template_version: str, store=None) -> DraftPrompt:
    """The prompt of ``day`` from the notes folder of ``locations``.

    Args:
        store: a NoteStore (default ``NoteStore.from_locations(locations)``); its ``scan()`` is
            used, so unreadable files are skipped (they are reported by ``notes check``).

    Raises:
        NoNotesError, TemplateMismatchError: see :func:`prompt_from_notes`.
        journal_tui.config.ConfigError: bad ``[dataset] max_example_chars``.
    """
    from journal_tui.dataset.build import dataset_settings

    if store is None:
        from journal_tui.notes.store import NoteStore

        store = NoteStore.from_locations(locations)
    max_chars = dataset_settings(locations)["max_example_chars"]
    notes = store.scan().notes if Path(locations.notes).is_dir() else []
    return prompt_from_notes(day, notes, template_version=template_version, max_chars=max_chars,
                             root=Path(locations.notes))
