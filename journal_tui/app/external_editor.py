"""Editing a note's text in the person's own editor (``$VISUAL``, else ``$EDITOR``).

The app saves the note first, writes its body to a private temp file (folder 0700, file
0600, removed afterwards), runs the editor on it while the app is suspended, and reads the
result back. The front matter never goes through the editor, so it cannot be damaged there.
An empty result, an unchanged one, or a non-zero exit status keeps the original.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping


class EditorNotFound(Exception):
    """No usable editor: the message says which variable to set or what was not found."""


def editor_command(env: Mapping[str, str] | None = None) -> list[str]:
    """The editor's argv from ``$VISUAL`` (preferred, as git does) or ``$EDITOR``.

    The value is split like a shell would (``"code --wait"`` works).

    Raises:
        EditorNotFound: neither is set, or the program is not on ``PATH``.
    """
    env = os.environ if env is None else env
    name = "VISUAL" if env.get("VISUAL", "").strip() else "EDITOR"
    raw = env.get(name, "").strip()
    if not raw:
        raise EditorNotFound("$EDITOR is not set. Set it (for example: export EDITOR=nano) and try again.")
    try:
        argv = shlex.split(raw)
    except ValueError as e:
        raise EditorNotFound(f"${name}={raw!r} cannot be split into a command ({e}).") from e
    if not argv or shutil.which(argv[0]) is None:
        raise EditorNotFound(f"${name} is {raw!r}, but {argv[0] if argv else raw!r} was not found on PATH.")
    return argv


@dataclass(frozen=True)
class EditResult:
    """What came back from the editor.

    Attributes:
        text: the new text, or ``None`` when the original is kept.
        reason: why the original was kept (empty when ``text`` is set).
    """

    text: str | None
    reason: str = ""


def edit_text(text: str, argv: list[str], *, suffix: str = ".md") -> EditResult:
    """Run ``argv + [tempfile]`` on a private copy of ``text`` and return the edited text.

    Blocks until the editor exits; the caller suspends the app around it.

    Raises:
        OSError: the temp file could not be written or the editor could not be started.
    """
    tmpdir = Path(tempfile.mkdtemp(prefix="journal-tui-edit-"))  # mode 0700
    try:
        path = tmpdir / f"note{suffix}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        status = subprocess.run([*argv, str(path)]).returncode
        if status != 0:
            return EditResult(None, f"the editor exited with status {status}; the note was left unchanged")
        try:
            new = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return EditResult(None, "the editor removed the file; the note was left unchanged")
        except UnicodeDecodeError:
            return EditResult(None, "the editor saved text that is not UTF-8; the note was left unchanged")
        new = new.replace("\r\n", "\n")
        if not new.strip():
            return EditResult(None, "the editor left the note empty; the original was kept")
        if new == text or new.rstrip("\n") == text.rstrip("\n"):
            return EditResult(None, "no changes")
        return EditResult(new)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def edit_open_note(app) -> None:
    """The App's ctrl+o: save the open note, run the editor on its body with the app suspended,
    then save what came back (through the usual conflict rules). Every outcome is notified.

    ``app`` is the JournalApp (``editor_pane``, ``notify``, ``suspend``). Headless (tests) there
    is no terminal to hand over, so the editor runs without suspending.
    """
    from contextlib import nullcontext

    from textual.app import SuspendNotSupported

    pane = app.editor_pane
    if pane.mode == "new" and pane.dirty and not pane.save(quiet=True):
        return
    if pane.mode != "note" or pane.note is None:
        app.notify("Open a note first (or type one and save it), then ctrl+o.")
        return
    try:
        argv = editor_command()
    except EditorNotFound as e:
        app.notify(str(e), title="No editor", severity="error", markup=False, timeout=10)
        return
    if not pane.save(quiet=True):
        return
    note = pane.note
    try:
        with nullcontext() if app.is_headless else app.suspend():
            result = edit_text(pane.text, argv)
    except SuspendNotSupported:
        app.notify("This terminal cannot hand over to another program.", severity="error")
        return
    except OSError as e:
        app.notify(f"Could not run {argv[0]}: {e}", severity="error", markup=False, timeout=10)
        return
    if result.text is None:
        app.notify(f"Kept the note as it was: {result.reason}.", markup=False)
        return
    if pane.note is note:  # still the same note: save what came back (conflict rules apply)
        pane.editor.load_text(result.text)
        pane.save()
