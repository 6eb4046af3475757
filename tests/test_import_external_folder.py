"""Issue 8 part 2: pointing ``notes_dir`` at an existing folder is read-mostly.

A copy (in tmp) of the Obsidian vault becomes the notes folder. Listing, searching, checking and
building the dataset must leave every path, byte, mode and mtime in it as it was; adding notes
(here: an import) only adds files.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from journal_tui.cli import build_parser, main
from test_import_sources import snapshot


def _writable_copy(src: Path, dst: Path) -> Path:
    """Copy a read-only shared folder and make the copy writable, as a person's vault would be."""
    shutil.copytree(src, dst)
    for dirpath, _dirnames, filenames in os.walk(dst):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            os.chmod(Path(dirpath) / name, 0o644)
    # copytree keeps mtimes (copy2): push them into the past so a rewrite would show
    for dirpath, dirnames, filenames in os.walk(dst, topdown=False):
        for name in filenames + dirnames:
            os.utime(Path(dirpath) / name, (1_600_000_000, 1_600_000_000), follow_symlinks=False)
    os.utime(dst, (1_600_000_000, 1_600_000_000))
    return dst


def _commands() -> set[tuple[str, ...]]:
    parser = build_parser()
    out: set[tuple[str, ...]] = set()
    for action in parser._subparsers._group_actions:  # noqa: SLF001 - argparse has no public walk
        for name, sub in action.choices.items():
            out.add((name,))
            for a in sub._actions:
                if a.__class__.__name__ == "_SubParsersAction":
                    out.update((name, s) for s in a.choices)
    return out


def test_external_notes_dir_is_read_mostly(shared_data, tmp_path, capsys, monkeypatch):
    commands = _commands()
    if ("notes", "list") not in commands:
        pytest.skip("journal-tui notes list is not registered yet")
    vault = _writable_copy(shared_data / "obsidian-kepano-vault" / "vault", tmp_path / "vault")
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(f'notes_dir = "{vault}"\n', encoding="utf-8")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    before = snapshot(vault)
    assert stat.S_IMODE(os.stat(vault / "Daily" / "2023-09-12.md").st_mode) == 0o644

    def run(*args: str) -> tuple[int, str]:
        capsys.readouterr()
        rc = main(["--home", str(home), *args])
        return rc, capsys.readouterr().out

    rc, out = run("notes", "list", "--json")
    assert rc == 0
    listed = json.loads(out)
    assert any(n["path"].endswith("Daily/2023-09-12.md") for n in listed)
    rc, out = run("notes", "list", "--search", "Kyoto", "--json")
    assert rc == 0 and json.loads(out)
    rc, out = run("notes", "check")
    assert rc in (0, 1)  # 1: files it cannot read are listed, never changed
    if ("dataset", "build") in commands:
        rc, out = run("dataset", "build", "--json")
        assert rc == 0, out
        assert (home / "datasets" / "manifest.json").exists()
    assert snapshot(vault) == before  # nothing in the vault changed: paths, bytes, modes, mtimes

    # adding notes (an import) only adds files; what was there stays byte-identical
    other = tmp_path / "other"
    other.mkdir()
    (other / "2024-05-01.md").write_text("Walked to the harbour.\n", encoding="utf-8")
    rc, out = run("import", str(other), "--json")
    assert rc == 0 and json.loads(out)["added"] == 1
    after = snapshot(vault)
    assert {k: v for k, v in after.items() if k in before} == before
    new = sorted(set(after) - set(before))
    assert any(k.endswith(".md") and k.startswith("2024") for k in new)
    # the only new entries are the new note and the folders it needed
    assert all(k.startswith("2024") for k in new)
