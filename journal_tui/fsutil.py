"""Private, atomic file writes.

Every file journal-tui creates is 0600 and every folder 0700: notes are private.
Writes go to a temp file in the same folder, are fsynced, then renamed over the
target, so a reader sees either the old file or the new one, never half of one.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from pathlib import Path
from typing import Any

FILE_MODE = 0o600
DIR_MODE = 0o700


def ensure_dir(path: Path) -> Path:
    """Create ``path`` and any missing parents with mode 0700; return it.

    Existing folders keep their mode (the user's choice is theirs).
    """
    path = Path(path)
    missing = []
    p = path
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue
        os.chmod(d, DIR_MODE)  # mkdir's mode is masked by the umask
    return path


def atomic_write_bytes(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` atomically (temp file, fsync, rename).

    A new file gets ``mode`` (default 0600); an existing file keeps its mode.

    Raises:
        OSError: the folder is not writable, the disk is full, ... The target is
            then untouched and the temp file removed.
    """
    path = Path(path)
    ensure_dir(path.parent)
    if mode is None:
        try:
            mode = os.stat(path).st_mode & 0o777
        except FileNotFoundError:
            mode = FILE_MODE
    tmp = _write_temp(path, data, mode)
    try:
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise
    fsync_dir(path.parent)


def _write_temp(path: Path, data: bytes, mode: int) -> str:
    """Write ``data`` to a hidden, fsynced temp file beside ``path`` with ``mode``; return its path."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
    except BaseException:
        _unlink(tmp)
        raise
    return tmp


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def fsync_dir(folder: Path) -> None:
    """fsync a folder so a rename or link in it survives a crash (best effort)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


def create_new_file(path: Path, data: bytes, *, mode: int = 0o600) -> bool:
    """Write ``data`` to ``path`` only if ``path`` does not exist yet; atomically.

    The data goes to a hidden temp file in the same folder (fsynced, ``mode``), which is then
    hard-linked to ``path``: the link fails if ``path`` exists, so nothing is ever overwritten,
    even by a racing writer. Where hard links are not supported, falls back to check-then-rename.

    Returns:
        True when written; False when ``path`` already exists.

    Raises:
        OSError: the folder is not writable, the disk is full, ... (``path`` is then untouched).
    """
    path = Path(path)
    ensure_dir(path.parent)
    tmp = _write_temp(path, data, mode)
    try:
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError as e:
            if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOSYS):
                raise
            if os.path.lexists(path):
                return False
            os.replace(tmp, path)
        fsync_dir(path.parent)
        return True
    finally:
        _unlink(tmp)


def atomic_write_text(path: Path, text: str, *, mode: int | None = None) -> None:
    """UTF-8 text version of :func:`atomic_write_bytes`."""
    atomic_write_bytes(path, text.encode("utf-8"), mode=mode)


def atomic_write_json(path: Path, obj: Any, *, mode: int | None = None) -> None:
    """Write ``obj`` as indented UTF-8 JSON, atomically."""
    atomic_write_text(path, json.dumps(obj, ensure_ascii=False, indent=2) + "\n", mode=mode)


def atomic_write_jsonl(path: Path, rows, *, mode: int | None = None) -> None:
    """Write an iterable of dicts as JSON lines (one object per line), atomically."""
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    atomic_write_text(path, text, mode=mode)
