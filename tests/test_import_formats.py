"""Importer behaviour on small hand-made sources: odd front matter, Day One escapes and local
days, jrnl JSON exports, duplicates across formats, dry runs, errors, originals untouched."""

from __future__ import annotations

import datetime as dt
import json
import os
import plistlib
from pathlib import Path

import pytest

from journal_tui.cli import main
from journal_tui.notes.importers import collect, content_sha256
from journal_tui.notes.importers.dayone import unescape_markdown
from test_import_sources import snapshot


# jrnl and one .doentry carry no time zone and are read in the machine's: pin it to UTC
pytestmark = pytest.mark.usefixtures("utc_machine")


def imp(capsys, home: Path, *args: str) -> tuple[int, dict | str, str]:
    capsys.readouterr()
    rc = main(["--home", str(home), "import", *args])
    cap = capsys.readouterr()
    out = cap.out
    if "--json" in args and rc == 0:
        return rc, json.loads(out), cap.err
    return rc, out, cap.err


def notes_of(home: Path):
    from journal_tui.locations import Locations
    from journal_tui.notes.store import NoteStore

    return NoteStore.from_locations(Locations.resolve(home)).scan().notes


def write(p: Path, text: str) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p


def test_odd_front_matter_is_tolerated(tmp_path, capsys):
    src = tmp_path / "vault"
    write(src / "Daily" / "2024-03-05.md",
          "---\ncreated: {{date}}\ntags: run, knee\nmy mood: \"[[Happy]]\"\nrelated:\n  - [[Sam]]\n---\nRan by the river.\n")
    write(src / "Notes" / "Broken.md", "---\ndate: 2024-03-06\ntitle: [unclosed\ntags: [a\n---\nStill readable.\n")
    write(src / "Templates" / "Daily.md", "---\ncreated: {{date:YYYY-MM-DD}}\ntags: [daily]\n---\n## Notes\n")
    write(src / "Daily" / "2024-03-07.md", "---\ntitle: Mar 7th, 2024\n---\n-\n")
    write(src / "journals" / "2024_03_08.md", "- DONE call the plumber\n  done:: 1709900000000")
    write(src / "_posts" / "2024-03-08-a-long-walk.md", "---\nlayout: post\ndate: 2024-03-09 10:15:00\n---\nWalked.\n")
    write(src / "loose.txt", "No date anywhere.\n")
    write(src / ".obsidian" / "2024-03-10.md", "hidden folder\n")
    (src / "2024-03-11.md").write_bytes(b"caf\xe9\n")

    rc, got, _ = imp(capsys, tmp_path / "home", str(src), "--json")
    assert rc == 0
    added = {Path(n["source"]).relative_to(src).as_posix(): n for n in got["notes"]}
    assert set(added) == {"Daily/2024-03-05.md", "Notes/Broken.md", "journals/2024_03_08.md", "_posts/2024-03-08-a-long-walk.md"}
    skipped = {Path(s["source"]).relative_to(src).as_posix(): s["reason"] for s in got["skipped"]}
    assert skipped["Templates/Daily.md"].startswith("unrendered template (created: {{date:YYYY-MM-DD}})")
    assert skipped["Daily/2024-03-07.md"] == "empty page"
    assert skipped["loose.txt"].startswith("no date")
    assert skipped["2024-03-11.md"].startswith("not UTF-8")
    assert not any(k.startswith(".obsidian") for k in {**added, **skipped})

    notes = {Path(n.meta["source"]).name: n for n in notes_of(tmp_path / "home")}
    daily = notes["2024-03-05.md"]
    assert daily.date == dt.date(2024, 3, 5) and daily.tags[:2] == ["run", "knee"]
    assert daily.body.strip() == "Ran by the river."
    broken = notes["Broken.md"]  # YAML that never loads: read line by line
    assert broken.date == dt.date(2024, 3, 6) and broken.body.strip() == "Still readable."
    post = notes["2024-03-08-a-long-walk.md"]  # front matter date wins over the file name
    assert post.date == dt.date(2024, 3, 9) and post.title == "a long walk"
    assert post.created is not None and post.created.hour == 10 and post.created.minute == 15
    assert notes["2024_03_08.md"].date == dt.date(2024, 3, 8)
    for n in notes.values():
        assert n.meta["source_format"] == "folder"
        assert n.meta["content_sha256"] == content_sha256(n.date, n.body)


def test_dayone_escapes_local_day_tags_starred(tmp_path, capsys):
    export = {
        "metadata": {"version": "1.0"},
        "entries": [
            {  # 02:30 UTC on the 2nd is still the 1st in Chicago
                "uuid": "A1", "creationDate": "2024-01-02T02:30:00Z", "timeZone": "America/Chicago",
                "text": "Dinner at 8\\. Great\\-ish \\(really\\)\\! Keep `a\\.b` and\n```\nx\\.y\n```\n\\# not a heading",
                "tags": ["Food", "Friends"], "starred": True, "richText": "{\"meta\":{}}",
            },
            {  # 23:30 UTC on the 1st is the 2nd in Tokyo
                "uuid": "B2", "creationDate": "2024-01-01T23:30:00Z", "timeZone": "Asia/Tokyo",
                "text": "Hello", "tags": [], "starred": False,
            },
            {"uuid": "C3", "creationDate": "not a date", "text": "x"},
            {"uuid": "D4", "creationDate": "2024-01-03T10:00:00Z", "timeZone": "UTC", "text": "   "},
        ],
    }
    path = tmp_path / "Journal.json"
    path.write_text(json.dumps(export).replace("America/Chicago", "America\\/Chicago"), encoding="utf-8")
    rc, got, _ = imp(capsys, tmp_path / "home", str(path), "--json")
    assert rc == 0 and got["added"] == 2
    reasons = {s["source"].split("#")[1]: s["reason"] for s in got["skipped"]}
    assert reasons["entry 3 (C3)"].startswith("unparseable date")
    assert reasons["entry 4 (D4)"] == "empty entry"
    notes = {n.meta["source_id"]: n for n in notes_of(tmp_path / "home")}
    a, b = notes["A1"], notes["B2"]
    assert a.date == dt.date(2024, 1, 1) and a.created.isoformat() == "2024-01-01T20:30:00-06:00"
    assert b.date == dt.date(2024, 1, 2)
    assert a.body.strip() == "Dinner at 8. Great-ish (really)! Keep `a\\.b` and\n```\nx\\.y\n```\n# not a heading"
    assert a.tags[:2] == ["food", "friends"] and a.meta["starred"] is True
    assert "starred" not in b.meta


def test_unescape_markdown_rules():
    assert unescape_markdown(r"a\.b\-c\!d\\e\*f") == r"a.b-c!d\e*f"
    assert unescape_markdown(r"\a \1 \é") == r"\a \1 \é"  # only ASCII punctuation is escapable
    assert unescape_markdown("`x\\.` y\\.") == "`x\\.` y."


def test_doentry_plists(tmp_path, capsys):
    pkg = tmp_path / "Journal.dayone" / "entries"
    pkg.mkdir(parents=True)
    good = {
        "Creation Date": dt.datetime(2013, 10, 27, 2, 27, 27), "Entry Text": "Late walk\\.",
        "Time Zone": "America/Los_Angeles", "Tags": ["Walk"], "Starred": True, "UUID": "U1",
    }
    (pkg / "U1.doentry").write_bytes(plistlib.dumps(good))
    (pkg / "U2.doentry").write_text("<dict><key>Entry Text</key><string>no wrapper</string></dict>", encoding="utf-8")
    (pkg / "notes.txt").write_text("placeholder", encoding="utf-8")
    rc, got, _ = imp(capsys, tmp_path / "home", str(tmp_path / "Journal.dayone"), "--json")
    assert rc == 0 and got["added"] == 1
    reasons = {Path(s["source"]).name: s["reason"] for s in got["skipped"]}
    assert reasons["U2.doentry"].startswith("invalid plist")
    assert "not a .doentry" in reasons["notes.txt"]
    (n,) = notes_of(tmp_path / "home")
    assert n.date == dt.date(2013, 10, 26)  # 02:27 UTC is the evening before in Los Angeles
    assert n.body.strip() == "Late walk." and n.meta["starred"] is True and n.meta["source_id"] == "U1"


def test_jrnl_json_export_and_duplicates_across_formats(tmp_path, capsys):
    journal = write(tmp_path / "src" / "life.journal",
                    "[2013-06-09 15:39] My first entry.\nEverything is alright\n\n"
                    "[2013-06-10 15:40] Life is good. *\nBut I'm better. @mood\n")
    export = {
        "tags": {"@mood": 1},
        "entries": [
            {"title": "My first entry.", "body": "Everything is alright", "date": "2013-06-09",
             "time": "15:39", "tags": [], "starred": False},
            {"title": "A new one.", "body": "Only in the export. @extra", "date": "2013-06-11",
             "time": "08:00", "tags": ["@extra"], "starred": True},
            {"title": "Bad date", "body": "", "date": "sometime", "time": "", "tags": [], "starred": False},
        ],
    }
    exp = write(tmp_path / "src" / "export.json", json.dumps(export, indent=2))
    home = tmp_path / "home"
    before = snapshot(tmp_path / "src")

    rc, got, _ = imp(capsys, home, str(journal), "--format", "jrnl", "--json")
    assert got["added"] == 2 and got["by_format"]["jrnl"]["added"] == 2
    rc, got, _ = imp(capsys, home, str(exp), "--json")  # auto-detected as jrnl-json
    assert got["by_format"] == {"jrnl-json": {"added": 1, "duplicates": 1, "skipped": 1}}
    assert got["added"] == 1 and got["duplicates"] == 1
    assert got["duplicate_notes"][0]["duplicate_of"] == "a note already in the notes folder"
    assert any("unparseable date" in s["reason"] for s in got["skipped"])
    notes = {n.date.isoformat(): n for n in notes_of(home)}
    assert set(notes) == {"2013-06-09", "2013-06-10", "2013-06-11"}
    assert notes["2013-06-10"].meta["starred"] is True and "mood" in notes["2013-06-10"].tags
    assert notes["2013-06-10"].body.strip() == "Life is good.\nBut I'm better. @mood"
    assert notes["2013-06-11"].meta["source_format"] == "jrnl-json" and notes["2013-06-11"].tags[0] == "extra"
    assert notes["2013-06-09"].created.strftime("%H:%M") == "15:39"

    # a third time, as a whole folder: nothing new
    rc, got, _ = imp(capsys, home, str(tmp_path / "src"), "--json")
    assert got["added"] == 0 and got["duplicates"] == 4
    assert snapshot(tmp_path / "src") == before


def test_jrnl_default_journal_txt_is_detected(tmp_path, capsys):
    write(tmp_path / "jrnl" / "journal.txt", "\n[2024-01-05 09:00] Coffee first. @cafe\nThen work.\n\n[2024-01-06 10:30 PM] Late.\n")
    write(tmp_path / "jrnl" / "2024-01-07.txt", "[09:00] A plain day file, not a jrnl header.\n")
    items, skipped = collect(tmp_path / "jrnl")
    assert skipped == []
    assert [(i.format, i.day.isoformat(), i.created.strftime("%H:%M") if i.created else None) for i in items] == [
        ("folder", "2024-01-07", None),
        ("jrnl", "2024-01-05", "09:00"),
        ("jrnl", "2024-01-06", "22:30"),
    ]
    assert items[1].tags == ("cafe",)


def test_dry_run_text_output_writes_nothing(tmp_path, capsys):
    src = write(tmp_path / "src" / "2024-02-01.md", "First.\n").parent
    write(src / "empty.md", "")
    home = tmp_path / "home"
    rc, out, _ = imp(capsys, home, str(src), "--dry-run", "--kind", "entry")
    assert rc == 0
    assert "would add 2024-02-01 entry" in out and "skipped" in out and "empty page" in out
    assert "dry run: would import 1 notes over 1 days" in out
    assert not home.exists() or not (home / "notes").exists()
    rc, out, _ = imp(capsys, home, str(src), "--kind", "entry")
    assert "imported 1 notes" in out
    (n,) = notes_of(home)
    assert n.kind == "entry"

    # a dry run against a home with notes still writes nothing (not even the notes cache)
    write(src / "2024-02-02.md", "Second.\n")
    for f in (home / "cache").glob("*"):
        f.unlink()  # a scan that caches would write it again
    before = snapshot(home)
    rc, out, _ = imp(capsys, home, str(src), "--dry-run")
    assert "would add 2024-02-02 note" in out and "duplicate 2024-02-01" in out
    assert snapshot(home) == before


def test_bad_paths_are_clear_errors(tmp_path, capsys):
    home = tmp_path / "home"
    rc, _, err = imp(capsys, home, str(tmp_path / "nope"))
    assert rc == 2 and "no such file or folder" in err
    write(home / "notes" / "2024" / "a.md", "x\n")
    rc, _, err = imp(capsys, home, str(home / "notes"))
    assert rc == 2 and "inside the notes folder" in err
    rc, _, err = imp(capsys, home, str(home))
    assert rc == 2 and "contains the notes folder" in err


def test_sources_are_only_read(tmp_path, capsys):
    src = tmp_path / "src"
    write(src / "2024-04-01.md", "---\ntags: a\n---\nOne.\n")
    write(src / "j.journal", "[2024-04-02 09:00] Two.\n")
    os.utime(src / "j.journal", (1_500_000_000, 1_500_000_000))
    before = snapshot(src)
    rc, got, _ = imp(capsys, tmp_path / "home", str(src), "--json")
    assert rc == 0 and got["added"] == 2
    assert snapshot(src) == before
    items, _ = collect(src)
    assert len(items) == 2
