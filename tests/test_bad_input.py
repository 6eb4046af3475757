"""Bad input gets a clear error (no traceback), nothing is lost, problem files stay untouched.

Regression tests for bugs found by poking the command line with bad config, bad dates, odd
folders and broken dataset files. Fast: no model is loaded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path

import pytest

from journal_tui.cli import main


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------------------- config.toml


def test_config_toml_that_is_a_folder_is_a_clear_error(home, capsys):
    (home / "config.toml").mkdir(parents=True)
    assert main(["notes", "list"]) == 2
    err = capsys.readouterr().err
    assert "config.toml" in err and "cannot be read" in err and "Traceback" not in err


def test_set_value_on_non_utf8_config_is_refused_and_kept(tmp_path):
    from journal_tui.config import ConfigError, set_value

    cfg = tmp_path / "config.toml"
    cfg.write_bytes(b"x = '\xff'\n")
    before = _sha(cfg)
    with pytest.raises(ConfigError, match="not valid TOML"):
        set_value(cfg, "train", "lora_r", 8)
    assert _sha(cfg) == before


@pytest.mark.parametrize("value", ["5", "true", "[1, 2]", '"a\\u0000b"'])
def test_notes_dir_of_the_wrong_type_is_named(home, capsys, value):
    home.mkdir(parents=True)
    (home / "config.toml").write_text(f"notes_dir = {value}\n", encoding="utf-8")
    assert main(["notes", "list"]) == 2
    err = capsys.readouterr().err
    assert "notes_dir" in err and "config.toml" in err
    assert not (home / "5").exists() and not (home / "True").exists()


def test_notes_dir_pointing_at_a_file_is_named(home, tmp_path, capsys):
    home.mkdir(parents=True)
    target = tmp_path / "diary.md"
    target.write_text("not a folder\n", encoding="utf-8")
    (home / "config.toml").write_text(f'notes_dir = "{target}"\n', encoding="utf-8")
    before = _sha(target)
    assert main(["notes", "add", "hello"]) == 2
    err = capsys.readouterr().err
    assert "notes_dir" in err and "not a folder" in err
    assert _sha(target) == before


# ---------------------------------------------------------------------------- notes add


def test_notes_add_on_the_first_day_of_the_calendar_is_an_error_not_a_traceback(home, capsys):
    assert main(["notes", "add", "x", "--date", "0001-01-01"]) == 2
    err = capsys.readouterr().err
    assert "0001-01-01" in err and "Traceback" not in err


def test_notes_add_keeps_the_day_of_a_year_below_1000(home, capsys):
    from journal_tui.locations import Locations
    from journal_tui.notes.store import NoteStore

    assert main(["notes", "add", "old news", "--date", "0226-11-29", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["date"] == "0226-11-29"
    assert Path(out["path"]).parent == home / "notes" / "0226" / "11"
    assert Path(out["path"]).name.startswith("0226-11-29")
    # read back from disk (mtime is today: the day must come from the file, not the mtime)
    store = NoteStore.from_locations(Locations.resolve(home))
    (note,) = store.scan().notes
    assert note.date == dt.date(226, 11, 29)


# ---------------------------------------------------------------------------- notes folder


def test_unreadable_subfolder_is_a_problem_not_silently_skipped(home, capsys, monkeypatch):
    notes = home / "notes"
    (notes / "2026" / "11").mkdir(parents=True)
    (notes / "2026" / "11" / "2026-11-01-a.md").write_text("a\n", encoding="utf-8")
    (notes / "2025").mkdir()
    (notes / "2025" / "2025-01-01-b.md").write_text("b\n", encoding="utf-8")
    locked = str(notes / "2025")
    real_open, real_scandir = os.open, os.scandir

    def fake_open(path, *a, **k):  # the test may run as root, where chmod 000 locks nothing
        if str(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *a, **k)

    def fake_scandir(path="."):
        if str(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "open", fake_open)
    monkeypatch.setattr(os, "scandir", fake_scandir)
    assert main(["notes", "check", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["notes"] == 1
    (problem,) = out["problems"]
    assert problem["path"] == locked and "Permission denied" in problem["reason"]


def test_notes_show_of_a_problem_file_says_what_is_wrong(home, capsys):
    notes = home / "notes"
    notes.mkdir(parents=True)
    bad = notes / "2026-11-01-bad.md"
    bad.write_bytes(b"---\ntitle: [unclosed\n---\nbody\n")
    before = _sha(bad)
    assert main(["notes", "show", "2026-11-01-bad"]) == 2
    err = capsys.readouterr().err
    assert "not valid YAML" in err and str(bad) in err
    assert main(["notes", "rm", "2026-11-01-bad"]) == 2
    assert _sha(bad) == before


# ---------------------------------------------------------------------------- dataset


def test_dataset_build_with_missing_external_notes_dir_keeps_the_dataset(home, tmp_path, capsys):
    (home / "notes").mkdir(parents=True)
    (home / "notes" / "2026-11-01-a.md").write_text("a note\n", encoding="utf-8")
    assert main(["dataset", "build"]) == 0
    datasets = home / "datasets"
    before = {p.name: _sha(p) for p in datasets.iterdir()}
    (home / "config.toml").write_text(f'notes_dir = "{tmp_path / "unmounted"}"\n', encoding="utf-8")
    capsys.readouterr()
    assert main(["dataset", "build"]) == 2
    err = capsys.readouterr().err
    assert "notes_dir" in err and "does not exist" in err
    assert {p.name: _sha(p) for p in datasets.iterdir()} == before


def test_dataset_status_with_a_corrupt_manifest_says_so(home, capsys):
    datasets = home / "datasets"
    datasets.mkdir(parents=True)
    (datasets / "manifest.json").write_text('{"half', encoding="utf-8")
    assert main(["dataset", "status"]) == 1
    err = capsys.readouterr().err
    assert "manifest.json" in err and "dataset build" in err
    assert main(["dataset", "status", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["built"] is False and "manifest.json" in out["error"]


# ---------------------------------------------------------------------------- permissions


def test_files_created_by_any_command_are_private(home, monkeypatch):
    """Libraries (PEFT, logging, the events tee) create files with plain open(): the CLI's
    umask makes them 0600/0700 too, and the caller's umask is restored afterwards."""
    import journal_tui.notes.cli as notes_cli

    made = {}

    def fake_add(args, locations):
        d = Path(locations.home) / "lib-folder"
        d.mkdir(parents=True)
        with open(d / "lib-file.json", "w") as f:
            f.write("{}")
        made["dir"], made["file"] = d, d / "lib-file.json"
        return 0

    monkeypatch.setattr(notes_cli, "cmd_add", fake_add)
    old = os.umask(0o022)
    try:
        assert main(["notes", "add", "x"]) == 0
        assert os.umask(0o022) == 0o022  # restored
    finally:
        os.umask(old)
    assert made["file"].stat().st_mode & 0o777 == 0o600
    assert made["dir"].stat().st_mode & 0o777 == 0o700


# ---------------------------------------------------------------------------- train / draft


def test_train_in_an_unwritable_home_is_an_error_event_not_a_traceback(home, capfd):
    home.mkdir(parents=True)
    (home / "logs").write_text("a file where the logs folder should be", encoding="utf-8")
    assert main(["train", "--model", str(home / "nope"), "--events", "jsonl"]) == 1
    captured = capfd.readouterr()
    ev = json.loads(captured.out.strip().splitlines()[-1])
    assert "Traceback" not in captured.err
    assert ev["event"] == "error" and "logs" in ev["message"]


def test_draft_checks_sampling_flags_before_loading_a_model(home, capsys):
    # the model path does not exist: the flag error must come first, before any load
    assert main(["draft", "--model", str(home / "no-model"), "--top-p", "5"]) == 2
    err = capsys.readouterr().err
    assert "top_p" in err and "no-model" not in err


def test_notes_add_with_non_utf8_text_is_a_clear_error(home, capsys, monkeypatch):
    import io

    bad = b"caf\xe9".decode("utf-8", "surrogateescape")  # what Python makes of such argv bytes
    assert main(["notes", "add", bad]) == 2
    err = capsys.readouterr().err
    assert "not UTF-8" in err and "Traceback" not in err
    monkeypatch.setattr("sys.stdin", io.StringIO(bad))
    assert main(["notes", "add", "-"]) == 2
    assert "stdin" in capsys.readouterr().err
    assert not (home / "notes").exists() or not any((home / "notes").rglob("*.md"))


def test_saving_a_symlinked_note_writes_through_the_link(tmp_path):
    from journal_tui.notes.store import NoteStore

    notes, outside = tmp_path / "notes", tmp_path / "elsewhere"
    notes.mkdir()
    outside.mkdir()
    real = outside / "real.md"
    real.write_text("---\nkind: note\n---\noriginal\n", encoding="utf-8")
    link = notes / "2026-11-01-link.md"
    link.symlink_to(real)
    store = NoteStore(notes, trash=tmp_path / "trash")
    note = store.save(store.get("2026-11-01-link"), "edited\n")
    assert note.body == "edited\n"
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text(encoding="utf-8") == "---\nkind: note\n---\nedited\n"


@pytest.mark.parametrize(
    "toml, named",
    [
        ("[train]\nlorr_r = 8\n", "train.lorr_r"),  # a typo is not silently ignored
        ("[bogus]\nx = 1\n", "bogus"),
        ("[train]\nlora_r = 1.5\n", "train.lora_r"),
        ("[train]\ntarget_modules = \"q_proj\"\n", "train.target_modules"),  # not split into letters
        ("[train]\nmax_steps = \"ten\"\n", "train.max_steps"),
        ("[draft]\nseed = 1.5\n", "draft.seed"),
    ],
)
def test_bad_config_keys_are_named(tmp_path, toml, named):
    from journal_tui.config import ConfigError, settings

    cfg = tmp_path / "config.toml"
    cfg.write_text(toml, encoding="utf-8")
    before = _sha(cfg)
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        settings(cfg)
    assert _sha(cfg) == before


def test_config_keys_read_outside_defaults_are_still_accepted(tmp_path):
    from journal_tui.config import settings

    cfg = tmp_path / "config.toml"
    cfg.write_text('[train]\nepochs = 2.5\nmax_grad_norm = 0.5\nquant = "none"\ntarget_modules = ["q_proj"]\n'
                   '[draft]\nquant = "auto"\n', encoding="utf-8")
    s = settings(cfg)
    assert s["train"]["epochs"] == 2.5 and s["train"]["target_modules"] == ["q_proj"]
    assert s["draft"]["quant"] == "auto"


@pytest.mark.parametrize("value", ["nan", "-1"])
def test_dataset_watch_refuses_a_bad_debounce(home, capsys, value):
    assert main(["dataset", "watch", "--debounce", value]) == 2
    assert "--debounce" in capsys.readouterr().err


def test_adapter_with_a_corrupt_manifest_is_named_not_hidden(home, capsys):
    run_id = "20261101-120000-abcd"
    folder = home / "adapters" / run_id
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text("{broken", encoding="utf-8")
    assert main(["adapters", "list"]) == 0
    assert run_id in capsys.readouterr().err
    for cmd in (["adapters", "use", run_id], ["adapters", "rm", run_id]):
        assert main(cmd) == 2
        err = capsys.readouterr().err
        assert "manifest.json" in err and str(folder) in err
    assert (folder / "manifest.json").read_text(encoding="utf-8") == "{broken"


def test_home_that_is_a_file_is_named(tmp_path, capsys):
    f = tmp_path / "home"
    f.write_text("not a folder", encoding="utf-8")
    assert main(["--home", str(f), "dataset", "build"]) == 2
    err = capsys.readouterr().err
    assert str(f) in err and "not a folder" in err
    assert f.read_text(encoding="utf-8") == "not a folder"


def test_notes_dir_containing_the_home_is_refused(home, capsys):
    (home / "trash").mkdir(parents=True)
    (home / "trash" / "2026-11-01-deleted.md").write_text("a deleted note\n", encoding="utf-8")
    (home / "config.toml").write_text('notes_dir = "."\n', encoding="utf-8")
    assert main(["notes", "list", "--json"]) == 2
    err = capsys.readouterr().err
    assert "notes_dir" in err and "would be read as notes" in err


def test_notes_dir_around_a_hidden_home_is_fine(tmp_path, capsys):
    vault = tmp_path / "vault"
    home = vault / ".journal-tui"
    home.mkdir(parents=True)
    (home / "config.toml").write_text('notes_dir = ".."\n', encoding="utf-8")
    (vault / "2026-11-01.md").write_text("vault note\n", encoding="utf-8")
    assert main(["--home", str(home), "notes", "list", "--json"]) == 0
    (note,) = json.loads(capsys.readouterr().out)
    assert note["body"] == "vault note\n"


def test_empty_home_flag_does_not_fall_back_to_the_default_journal(capsys):
    assert main(["--home", "", "notes", "list"]) == 2
    assert "--home is empty" in capsys.readouterr().err


def test_jrnl_json_entry_without_a_valid_time_gets_no_made_up_midnight(home, tmp_path, capsys):
    src = tmp_path / "export.json"
    src.write_text(json.dumps({"tags": {}, "entries": [
        {"date": "2026-01-01", "time": "25:00", "title": "bad time", "body": "x"},
        {"date": "2026-01-03", "title": "no time", "body": "y"},
        {"date": "2026-01-04", "time": "09:30", "title": "timed", "body": "z"},
    ]}), encoding="utf-8")
    assert main(["import", str(src)]) == 0
    capsys.readouterr()
    from journal_tui.locations import Locations
    from journal_tui.notes.store import NoteStore

    got = {n.date.isoformat(): n.created for n in NoteStore.from_locations(Locations.resolve(home)).scan().notes}
    assert got["2026-01-01"] is None and got["2026-01-03"] is None
    assert got["2026-01-04"] is not None and got["2026-01-04"].strftime("%H:%M") == "09:30"
    assert main(["import", str(src)]) == 0  # importing again adds nothing
    assert "imported 0 notes" in capsys.readouterr().out
