"""Opening the current note in $EDITOR (ctrl+o): real editor scripts run on a temp copy."""

from __future__ import annotations

import stat
import sys

from app_pilot import SIZE, make_app, open_via_list, record_notifications, seed, settle, to_line_end, type_text

from journal_tui.app.external_editor import EditorNotFound, editor_command

NOTE = ("2026-11-20T09:15:00", "Ran by the river, knee fine.")


def _script(tmp_path, name: str, body: str):
    """An executable Python 'editor' that receives the file path as argv[1]."""
    path = tmp_path / name
    path.write_text(f"#!{sys.executable}\nimport sys, pathlib\np = pathlib.Path(sys.argv[1])\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


async def _run_editor(home, monkeypatch, editor: str | None, *, type_first: str = ""):
    (run,) = seed(home, NOTE)
    monkeypatch.delenv("VISUAL", raising=False)
    if editor is None:
        monkeypatch.delenv("EDITOR", raising=False)
    else:
        monkeypatch.setenv("EDITOR", editor)
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        seen = record_notifications(app)
        await settle(pilot)
        await open_via_list(pilot, run)
        if type_first:
            await to_line_end(pilot)
            await type_text(pilot, type_first)
        await pilot.press("ctrl+o")
        await settle(pilot)
        return run, app.editor_pane.text, seen


async def test_editor_changes_are_saved_and_shown(home, tmp_path, monkeypatch):
    script = _script(tmp_path, "append.py", "p.write_text(p.read_text() + 'Added in my editor.\\n')")
    run, text, _ = await _run_editor(home, monkeypatch, str(script), type_first=" Typed first.")
    on_disk = run.read_text(encoding="utf-8")
    # the typed text was saved before the editor ran, and the editor's change after
    assert "knee fine. Typed first." in on_disk and "Added in my editor." in on_disk
    assert "Added in my editor." in text
    assert on_disk.startswith("---\n")  # the front matter never went through the editor


async def test_editor_with_arguments_in_EDITOR(home, tmp_path, monkeypatch):
    # $EDITOR may carry arguments ("code --wait"): they come first, our file last
    script = _script(tmp_path, "tag.py", "p = pathlib.Path(sys.argv[-1])\np.write_text(p.read_text() + sys.argv[1])")
    run, _, _ = await _run_editor(home, monkeypatch, f"{script} ' #from-editor'")
    assert "#from-editor" in run.read_text(encoding="utf-8")


async def test_empty_result_keeps_the_original(home, tmp_path, monkeypatch):
    script = _script(tmp_path, "empty.py", "p.write_text('')")
    run, text, seen = await _run_editor(home, monkeypatch, str(script))
    assert "Ran by the river, knee fine." in run.read_text(encoding="utf-8")
    assert "Ran by the river, knee fine." in text
    assert any("left the note empty" in msg for _, msg in seen)


async def test_editor_failure_status_keeps_the_original(home, tmp_path, monkeypatch):
    script = _script(tmp_path, "fail.py", "p.write_text('garbage')\nsys.exit(1)")
    run, text, seen = await _run_editor(home, monkeypatch, str(script))
    assert "garbage" not in run.read_text(encoding="utf-8") and "garbage" not in text
    assert any("exited with status 1" in msg for _, msg in seen)


async def test_missing_editor_is_a_clear_message(home, monkeypatch):
    run, text, seen = await _run_editor(home, monkeypatch, "no-such-editor-xyz --wait")
    assert any(sev == "error" and "'no-such-editor-xyz' was not found on PATH" in msg for sev, msg in seen)
    assert "knee fine" in text


async def test_unset_editor_is_a_clear_message(home, monkeypatch):
    _, _, seen = await _run_editor(home, monkeypatch, None)
    assert any(sev == "error" and "$EDITOR is not set" in msg for sev, msg in seen)


def test_editor_command_prefers_visual_and_splits_like_a_shell(tmp_path):
    script = _script(tmp_path, "ed.py", "pass")
    assert editor_command({"VISUAL": f"'{script}' --wait", "EDITOR": "nano"}) == [str(script), "--wait"]
    assert editor_command({"EDITOR": str(script)}) == [str(script)]
    for env in ({}, {"EDITOR": "  "}, {"EDITOR": "'unclosed"}):
        try:
            editor_command(env)
        except EditorNotFound:
            continue
        raise AssertionError(f"{env} should raise EditorNotFound")
