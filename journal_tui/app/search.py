"""Search and tag filtering of the scanned notes, in memory.

The scan worker builds the index (each note with its lower-cased text) off the UI thread; a
keystroke then filters it: every word must occur in the note's title, tags, file name or
body (case-insensitive substring), and every ``#tag`` must be one of the note's tags.
On 10,000 generated notes a keystroke (filter + list rebuild) takes about 0.02-0.1 s on the
dev machine (benchmarks/startup.py, ``search_keystroke_s``).
"""

from __future__ import annotations

from journal_tui.notes.model import Note


def parse_query(query: str) -> tuple[list[str], list[str]]:
    """Split a search into lower-cased words and ``#tags`` (without the ``#``).

    ``"river #Run knee"`` -> ``(["river", "knee"], ["run"])``; a lone ``#`` is a word."""
    words, tags = [], []
    for token in query.lower().split():
        if token.startswith("#") and len(token) > 1:
            tags.append(token[1:])
        else:
            words.append(token)
    return words, tags


def haystack(note: Note) -> str:
    """What a text search looks in: title, tags, file name and body, lower-cased."""
    return "\n".join((note.title, " ".join(note.tags), note.path.name, note.body)).lower()


def build_index(notes: list[Note]) -> list[tuple[Note, str]]:
    """``(note, haystack(note))`` for each note, in the notes' order."""
    return [(n, haystack(n)) for n in notes]


def filter_notes(index: list[tuple[Note, str]], words: list[str], tags: list[str]) -> list[Note]:
    """Notes of ``index`` (order kept) holding every word and every tag."""
    return [n for n, hay in index if all(w in hay for w in words) and all(t in n.tags for t in tags)]
