"""``journal-tui notes add|list|show|check|rm``: output shapes, exit statuses, errors, stdin,
import-lightness, and an external notes_dir left untouched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from journal_tui.cli import main

ROOT = Path(__file__).resolve().parent.parent
JSON_FIELDS = ["id", "path", "date", "created", "kind", "title", "tags", "body"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def child(home: Path, *argv: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "JOURNAL_TUI_HOME": str(home), "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "journal_tui", *argv], input=stdin, capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=60)


def test_add_list_show_json_shapes(home, capsys):
    code, out, _ = run(capsys, "notes", "add", "Ran by the river #run", "--date", "2026-11-01", "--tag", "Health",
                       "--title", "Morning run")
    assert code == 0
    note_id, path = out.strip().split("\t")
    assert note_id.startswith("2026/11/2026-11-01-") and note_id.endswith("-morning-run")
    assert Path(path).is_file() and Path(path).is_relative_to(home / "notes")
    run(capsys, "notes", "add", "Second note", "--date", "2026-11-02", "--kind", "entry")

    code, out, _ = run(capsys, "notes", "list", "--json")
    items = json.loads(out)
    assert code == 0 and [list(i) for i in items] == [JSON_FIELDS, JSON_FIELDS]
    assert [i["date"] for i in items] == ["2026-11-02", "2026-11-01"]
    first = items[1]
    assert first["id"] == note_id and first["path"] == path and first["kind"] == "note"
    assert first["title"] == "Morning run" and first["tags"] == ["health", "run"]
    assert first["body"] == "Ran by the river #run\n" and first["created"] is None  # past day, no time given

    code, out, _ = run(capsys, "notes", "show", note_id, "--json")
    assert json.loads(out) == first
    code, out, _ = run(capsys, "notes", "show", "morning-run")
    assert code == 0 and f"id:      {note_id}" in out and out.endswith("Ran by the river #run\n")

    code, out, _ = run(capsys, "notes", "list")
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["DATE", "TIME", "KIND", "ID"]
    assert "2026-11-02" in lines[1] and "entry" in lines[1] and "Second note" in lines[1]
    assert "Morning run" in lines[2] and "#health #run" in lines[2]


def test_list_filters(home, capsys):
    run(capsys, "notes", "add", "Lunch with Sam", "--date", "2026-10-01", "--tag", "food")
    run(capsys, "notes", "add", "Run with sam", "--date", "2026-10-02")
    run(capsys, "notes", "add", "Quiet day", "--date", "2026-10-03", "--kind", "entry")
    dates = lambda *a: [i["date"][-2:] for i in json.loads(run(capsys, "notes", "list", "--json", *a)[1])]
    assert dates("--search", "SAM") == ["02", "01"]
    assert dates("--tag", "food") == ["01"]
    assert dates("--kind", "entry") == ["03"]
    assert dates("--date", "2026-10-02") == ["02"]
    assert dates("--from", "2026-10-02") == ["03", "02"]
    assert dates("--from", "2026-10-01", "--to", "2026-10-02") == ["02", "01"]
    assert dates("--limit", "1") == ["03"]
    code, out, err = run(capsys, "notes", "list", "--search", "nobody")
    assert code == 0 and out == "" and "no notes match" in err


def test_bad_dates_give_clear_errors(home, capsys):
    with pytest.raises(SystemExit) as e:
        main(["notes", "list", "--date", "2026-13-01"])
    assert e.value.code == 2
    assert "'2026-13-01' is not a date: use YYYY-MM-DD" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["notes", "add", "x", "--date", "29/11/2026"])
    assert "is not a date" in capsys.readouterr().err
    code, _, err = run(capsys, "notes", "list", "--date", "2026-01-01", "--from", "2026-01-01")
    assert code == 2 and "either --date or --from/--to" in err
    code, _, err = run(capsys, "notes", "list", "--from", "2026-02-01", "--to", "2026-01-01")
    assert code == 2 and "is after --to" in err
    assert not (home / "notes").exists()  # nothing was written


def test_show_unknown_and_empty_add(home, capsys):
    code, _, err = run(capsys, "notes", "show", "nope")
    assert code == 2 and err.startswith("journal-tui: no note matches 'nope'")
    code, _, err = run(capsys, "notes", "add", "   ")
    assert code == 2 and "the text is empty" in err


def test_check_exit_status_and_problem_files_untouched(home, capsys):
    run(capsys, "notes", "add", "fine")
    code, _, err = run(capsys, "notes", "check")
    assert code == 0 and "1 notes read, 0 problem" in err
    bad = home / "notes" / "broken.md"
    bad.write_bytes(b"---\ntitle: [x\n---\n\xff")
    code, out, _ = run(capsys, "notes", "check")
    assert code == 1 and str(bad) in out and "not UTF-8" in out
    bad.write_bytes(b"---\ntitle: [x\n---\nok")
    code, out, _ = run(capsys, "notes", "check", "--json")
    report = json.loads(out)
    assert code == 1 and report["notes"] == 1
    assert report["problems"] == [{"path": str(bad), "reason": report["problems"][0]["reason"]}]
    assert "not valid YAML" in report["problems"][0]["reason"]
    assert bad.read_bytes() == b"---\ntitle: [x\n---\nok"
    _, _, err = run(capsys, "notes", "list")
    assert "1 file(s) could not be read" in err


def test_rm_moves_to_trash(home, capsys):
    _, out, _ = run(capsys, "notes", "add", "to delete", "--date", "2026-09-09")
    note_id, path = out.strip().split("\t")
    data = Path(path).read_bytes()
    code, out, _ = run(capsys, "notes", "rm", note_id)
    assert code == 0 and not Path(path).exists()
    trashed = home / "trash" / Path(path).relative_to(home / "notes")
    assert trashed.read_bytes() == data and str(trashed) in out
    code, _, err = run(capsys, "notes", "rm", note_id)
    assert code == 2 and "no note matches" in err


def test_stdin_add_and_import_light_list(home):
    r = child(home, "notes", "add", "-", "--title", "From stdin", stdin="line one\r\nline two #piped\r\n")
    assert r.returncode == 0, r.stderr
    note_id, path = r.stdout.strip().split("\t")
    assert Path(path).read_text().endswith("---\nline one\nline two #piped\n")
    probe = (
        "import sys; from journal_tui.cli import main; rc = main(['notes', 'list', '--search', 'piped', '--json']);"
        "heavy = sorted(m for m in ('torch', 'transformers', 'peft', 'bitsandbytes', 'datasets', 'accelerate', "
        "'textual', 'yaml', 'frontmatter') if m in sys.modules); print(heavy, file=sys.stderr); sys.exit(rc)"
    )
    env = {**os.environ, "JOURNAL_TUI_HOME": str(home), "PYTHONPATH": str(ROOT)}
    for _ in range(2):  # the first run builds the cache (parses YAML); the second reads the cache only
        p = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
        assert p.returncode == 0, p.stderr
        assert [n["id"] for n in json.loads(p.stdout)] == [note_id]
    assert p.stderr.strip() == "[]"  # warm: not even the YAML parser is imported


def test_external_notes_dir_untouched_by_list_search_show_check(home, capsys, tmp_path, shared_data):
    import shutil

    vault = tmp_path / "vault"
    shutil.copytree(shared_data / "cboettig-labnotebook-2013" / "_posts", vault)
    (vault / "bad.md").write_bytes(b"---\ntitle: [x\n---\n")
    home.mkdir()
    (home / "config.toml").write_text(f'notes_dir = "{vault}"\n')

    def snap():
        return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(vault.rglob("*"))}

    before = snap()
    code, out, _ = run(capsys, "notes", "list", "--json")
    items = json.loads(out)
    assert code == 0 and len(items) == 136 and items[0]["date"] == "2013-12-10"
    assert all(Path(i["path"]).is_relative_to(vault) for i in items)
    assert [i["date"] for i in items] == sorted((i["date"] for i in items), reverse=True)
    run(capsys, "notes", "list", "--search", "gaussian process")
    run(capsys, "notes", "list", "--tag", "ropensci")
    run(capsys, "notes", "show", "2013-03-19-prosecutor")
    assert run(capsys, "notes", "check")[0] == 1
    assert snap() == before
    assert (home / "cache" / "notes-index.marshal").exists()
