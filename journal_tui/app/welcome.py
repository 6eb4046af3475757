"""The welcome note shown on first launch (an empty notes folder).

It is shown read-only in the editor and never written to disk: start-up creates no files.
"""

from __future__ import annotations

from pathlib import Path

WELCOME_TITLE = "Welcome to journal-tui"


def welcome_text(notes_dir: Path) -> str:
    """The welcome note as Markdown, naming the folder new notes will go to."""
    return f"""# {WELCOME_TITLE}

Your notes are plain Markdown files on your own disk, in {notes_dir}
Nothing is written there until you save your first note.

## Keys
- ctrl+n  new note (saved on ctrl+s, on leaving it, on quit)
- ctrl+s  save the note
- ctrl+f  search by words or #tag
- ctrl+t  filter by tag
- ctrl+o  open the note in $EDITOR
- f8      move the note to the trash (asks first)
- escape  go to the list; enter opens a note
- ctrl+p  command palette: every action by name
- f1      help: all keys
- ctrl+q  save and quit

Notes you write, and files you put in the folder, appear on the left, newest day first.
This note goes away once you have one of your own.
"""
