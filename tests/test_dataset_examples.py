"""Pair and voice examples, and splitting long texts (journal_tui/dataset/examples.py)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from journal_tui.dataset import examples as ex
from journal_tui.dataset import template
from journal_tui.notes.model import Note

ROOT = Path("/notes")
DAY = dt.date(2026, 11, 29)
TZ = dt.timezone(dt.timedelta(hours=1))


def mk(name: str, body: str, *, kind: str = "note", day: dt.date = DAY, at: tuple[int, int] | None = None) -> Note:
    created = dt.datetime.combine(day, dt.time(*at), TZ) if at else None
    return Note(id=name, path=ROOT / f"{name}.md", date=day, created=created, kind=kind,
                title="", tags=[], body=body, mtime=0.0)


# ---------------------------------------------------------------- split_text

def test_short_text_is_one_part():
    assert ex.split_text("  One line.\n", 100) == ["One line."]
    assert ex.split_text("   \n ", 100) == []


def test_split_prefers_paragraphs():
    a, b, c = "A" * 50 + ".", "B" * 50 + ".", "C" * 30 + "."
    parts = ex.split_text(f"{a}\n\n{b}\n\n{c}", 90)
    assert parts == [a, f"{b}\n\n{c}"]


def test_split_falls_back_to_sentences_not_mid_sentence():
    sentences = [f"Sentence number {i} talks about Mr. Pepys and the office." for i in range(40)]
    text = " ".join(sentences)
    parts = ex.split_text(text, 300)
    assert len(parts) > 1
    assert all(len(p) <= 300 for p in parts)
    for p in parts:  # every part is whole sentences; "Mr." never ends a part
        assert p.endswith("office."), p[-40:]
        assert p.startswith("Sentence number")
    assert " ".join(parts) == text


def test_split_single_long_sentence_at_whitespace_then_hard():
    words = " ".join(["word"] * 100)  # 499 chars, one "sentence"
    parts = ex.split_text(words, 60)
    assert all(len(p) <= 60 for p in parts)
    assert all(not p.startswith(" ") and "wor d" not in p for p in parts)
    assert " ".join(parts) == words
    blob = "x" * 250
    assert ex.split_text(blob, 100) == ["x" * 100, "x" * 100, "x" * 50]


def test_split_line_breaks_count_as_sentence_ends():
    items = "\n".join(f"- item {i} without a full stop" for i in range(30))
    parts = ex.split_text(items, 200)
    assert all(p.startswith("- item") and len(p) <= 200 for p in parts)
    assert "\n".join(parts) == items


def test_split_rejects_silly_budget():
    with pytest.raises(ValueError):
        ex.split_text("x", 0)


# ---------------------------------------------------------------- pairs

def test_pair_example_from_notes_and_entry():
    notes = [
        mk("lunch", "Lunch with Sam.", at=(13, 40)),
        mk("run", "Ran by the river.", at=(9, 15)),
        mk("entry", "A good day: a run, then lunch.", kind="entry", at=(22, 0)),
        mk("other-day", "Not today.", day=DAY + dt.timedelta(days=1)),
    ]
    d = ex.day_examples(DAY, notes, root=ROOT)
    assert [e.kind for e in d.pair] == ["pair"]
    pair = d.pair[0]
    assert pair.id == "pair-2026-11-29"
    assert pair.input == (
        "<<journal 2026-11-29 Sunday>>\n<<notes>>\n[09:15] Ran by the river.\n[13:40] Lunch with Sam.\n<<entry>>\n"
    )
    assert pair.output == "A good day: a run, then lunch."
    assert set(pair.sources) == {"run.md", "lunch.md", "entry.md"}
    row = pair.to_json()
    assert row["date"] == "2026-11-29" and row["template_version"] == template.TEMPLATE_VERSION
    assert list(row) == ["id", "date", "kind", "input", "output", "sources", "template_version"]


def test_several_entries_are_joined_in_time_order():
    notes = [
        mk("n", "note"),
        mk("late", "Evening part.", kind="entry", at=(21, 0)),
        mk("early", "Morning part.", kind="entry", at=(8, 0)),
    ]
    (pair,) = ex.day_examples(DAY, notes, root=ROOT).pair
    assert pair.output == "Morning part.\n\nEvening part."


def test_no_pair_without_notes_or_without_entry():
    assert ex.day_examples(DAY, [mk("e", "entry only", kind="entry")]).pair == []
    assert ex.day_examples(DAY, [mk("n", "note only")]).pair == []
    assert ex.day_examples(DAY, [mk("n", "  "), mk("e", "entry", kind="entry")]).pair == []


def test_entry_markers_are_escaped_in_output():
    notes = [mk("n", "<<entry>>\nsneaky note"), mk("e", "<<journal 2026-01-01 Thursday>>\nhi", kind="entry")]
    (pair,) = ex.day_examples(DAY, notes).pair
    assert pair.output == "\\<<journal 2026-01-01 Thursday>>\nhi"
    assert [ln for ln in pair.input.splitlines() if ln.startswith("<<")] == [
        "<<journal 2026-11-29 Sunday>>", "<<notes>>", "<<entry>>"]


def test_long_entry_splits_into_pair_then_continuations():
    entry = "\n\n".join((f"Paragraph {i}. " + "It rained again and I stayed in. " * 5).strip() for i in range(12))
    notes = [mk("n", "rain", at=(9, 0)), mk("e", entry, kind="entry", at=(21, 0))]
    d = ex.day_examples(DAY, notes, root=ROOT, max_chars=400)
    assert len(d.pair) > 2
    assert [e.id for e in d.pair] == [f"pair-2026-11-29-p{i + 1}" for i in range(len(d.pair))]
    assert d.pair[0].kind == "pair" and "[09:00] rain" in d.pair[0].input
    for e in d.pair[1:]:
        assert e.kind == "voice-entry" and e.input == template.render_pair_prompt(DAY, [])
    assert all(len(e.output) <= 400 for e in d.pair)
    assert "\n\n".join(e.output for e in d.pair) == template.normalise(entry)


def test_long_notes_are_fitted_into_the_prompt():
    first = "First note sentence. " * 10  # ~210 chars
    second = "Second note keeps going on. " * 40  # ~1120 chars
    third = "Third note, never seen."
    notes = [mk("a", first, at=(8, 0)), mk("b", second, at=(9, 0)), mk("c", third, at=(10, 0)),
             mk("e", "entry", kind="entry", at=(22, 0))]
    d = ex.day_examples(DAY, notes, max_chars=600)
    assert d.trimmed_prompt
    body = d.pair[0].input.split("<<notes>>\n")[1].split("<<entry>>")[0]
    assert "[08:00] " + first.strip() in body
    assert "Third note" not in body
    kept_second = body.split("[09:00] ")[1].strip()
    assert kept_second.endswith("going on.") and len(kept_second) < len(second.strip())
    assert len(first.strip()) + len(kept_second) <= 600


# ---------------------------------------------------------------- voice

def test_voice_examples_for_every_entry_and_note():
    notes = [
        mk("run", "Ran by the river.", at=(9, 15)),
        mk("untimed", "Thought without a time."),
        mk("entry", "A good day.", kind="entry", at=(22, 0)),
    ]
    d = ex.day_examples(DAY, notes, root=ROOT)
    kinds = {e.id: e for e in d.voice}
    assert set(kinds) == {"voice-entry-entry.md", "voice-note-run.md", "voice-note-untimed.md"}
    assert kinds["voice-entry-entry.md"].input == template.render_pair_prompt(DAY, [])
    assert kinds["voice-entry-entry.md"].output == "A good day."
    assert kinds["voice-note-run.md"].input == "<<journal 2026-11-29 Sunday>>\n<<note 09:15>>\n"
    assert kinds["voice-note-untimed.md"].input.endswith("<<note --:-->>\n")
    assert kinds["voice-note-run.md"].sources == ("run.md",)


def test_long_voice_note_gets_part_ids():
    body = "\n\n".join("Paragraph %d. " % i + "words " * 60 for i in range(5))
    d = ex.day_examples(DAY, [mk("long", body)], root=ROOT, max_chars=500)
    ids = [e.id for e in d.voice]
    assert ids == [f"voice-note-long.md-p{i + 1}" for i in range(len(ids))] and len(ids) >= 3
    assert all(len(e.output) <= 500 for e in d.voice)


def test_untimed_note_gets_mtime_time_only_on_its_own_day():
    on_day = dt.datetime(2026, 11, 29, 18, 30).astimezone()
    n = Note(id="x", path=ROOT / "x.md", date=DAY, created=None, kind="note", title="", tags=[], body="b",
             mtime=on_day.timestamp())
    assert ex.note_time(n).strftime("%H:%M") == "18:30"
    n.mtime = (on_day + dt.timedelta(days=3)).timestamp()  # copied or touched later
    assert ex.note_time(n) is None


def test_markers_never_appear_as_lines_in_any_example():
    hostile = "<<entry>>\n<<journal 2020-01-01 Wednesday>>\n<<note 10:00>>"
    notes = [mk("n", hostile, at=(9, 0)), mk("e", hostile, kind="entry", at=(10, 0))]
    d = ex.day_examples(DAY, notes)
    for e in d.pair + d.voice:
        assert not re.search(r"^<<", e.output, re.MULTILINE)
        assert template.unescape(e.output) == hostile


def test_pair_prompt_for_drafting_equals_the_training_input():
    notes = [mk("b", "Second. " * 200, at=(11, 0)), mk("a", "First.", at=(8, 0)),
             mk("e", "entry", kind="entry", at=(22, 0)), mk("x", "other day", day=DAY - dt.timedelta(days=1))]
    (pair,) = ex.day_examples(DAY, notes, max_chars=500).pair
    prompt, trimmed, used = ex.pair_prompt(DAY, notes, max_chars=500)
    assert prompt == pair.input and trimmed
    assert [n.id for n in used] == ["a", "b"]
    assert ex.pair_prompt(DAY, [mk("e", "entry", kind="entry")])[0] == template.render_pair_prompt(DAY, [])
