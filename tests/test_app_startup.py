"""Start-up: no model libraries in the UI process, the CLI opens the app, help and palette."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from app_pilot import SIZE, make_app, seed, settle, type_text

from journal_tui.app.commands import app_commands
from journal_tui.app.screens.help import HelpScreen

HEAVY = ("torch", "transformers", "peft", "bitsandbytes", "datasets", "accelerate")


def _run_python(code: str, home) -> dict:
    env = {**os.environ, "JOURNAL_TUI_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_importing_the_app_imports_no_model_libraries(home):
    out = _run_python(f"""
        import json, sys
        import journal_tui.app.app
        print(json.dumps({{"heavy": [m for m in {HEAVY!r} if m in sys.modules]}}))
    """, home)
    assert out == {"heavy": []}


def test_running_the_app_imports_no_model_libraries(home):
    seed(home, ("2026-11-20T09:15:00", "Ran by the river. #running"))
    out = _run_python(f"""
        import asyncio, json, sys
        from journal_tui.locations import Locations
        from journal_tui.app.app import JournalApp

        async def main():
            app = JournalApp(Locations.resolve())
            async with app.run_test(size={SIZE!r}) as pilot:
                for _ in range(3):
                    await app.workers.wait_for_complete()
                    await pilot.pause()
                await pilot.press("ctrl+f", "r", "i", "v")
                await pilot.press("f1")
                await pilot.press("escape")
                listed = len(app.note_list.listed_paths)
                await pilot.press("ctrl+q")
            return listed

        listed = asyncio.run(main())
        print(json.dumps({{"listed": listed, "heavy": [m for m in {HEAVY!r} if m in sys.modules]}}))
    """, home)
    assert out == {"listed": 1, "heavy": []}


def test_cli_without_a_command_runs_the_app(home, monkeypatch):
    import journal_tui.app.app as app_module
    from journal_tui.cli import main

    calls = []
    monkeypatch.setattr(app_module, "run_app", lambda locations: calls.append(locations) or 7)
    assert main(["--home", str(home)]) == 7
    assert calls[0].notes == home.resolve() / "notes"
    assert not home.exists()  # resolving the home creates nothing


async def test_help_screen_lists_every_key(home):
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        from rich.console import Console

        console = Console(width=200, record=True, file=open(os.devnull, "w"))
        console.print(app.screen._table())
        shown = console.export_text()
        for cmd in app_commands(app):
            line = next((ln for ln in shown.splitlines() if cmd.title in ln), "")
            assert line, f"{cmd.title} missing from help"
            for key in cmd.keys:
                assert key in line
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        # ? opens it from the list (in the editor it types a question mark)
        app.note_list.focus()
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)


async def test_every_binding_is_a_palette_command_and_runs(home):
    app = make_app(home)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        commands = app_commands(app)
        actions = {c.action for c in commands}
        from textual.binding import Binding

        for b in Binding.make_bindings(type(app).BINDINGS):
            if b.description:
                assert b.action in actions
        assert {"new_note", "save", "search", "filter_tag", "open_in_editor", "delete_note", "help", "quit",
                "save_as_new", "refresh_notes", "clear_filter"} <= actions
        # run one through the real palette: type its name, press enter
        await pilot.press("ctrl+n")
        await type_text(pilot, "kept by the palette")
        await pilot.press("ctrl+p")
        await type_text(pilot, "Save as new note")
        await pilot.press("enter")
        await settle(pilot)
        assert app.editor_pane.mode == "note"
        assert "kept by the palette" in app.editor_pane.note.path.read_text(encoding="utf-8")
