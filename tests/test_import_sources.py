"""`journal-tui import` on the real sources in ../shared/data (read in place, never copied into
the repo). Counts come from each source's SOURCE.md (and, for jrnl, from reading the journals)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from journal_tui.cli import main


def snapshot(root: Path) -> dict[str, tuple]:
    """Every file and folder under root: relative path -> (sha256 of bytes, mtime_ns, mode)."""
    out: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            digest = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            out[str(p.relative_to(root))] = (digest, st.st_mtime_ns, st.st_mode)
    return out


def run_import(capsys, home: Path, *args: str) -> dict:
    capsys.readouterr()
    rc = main(["--home", str(home), "import", *args, "--json"])
    out = capsys.readouterr().out
    assert rc == 0, out
    return json.loads(out)


def store_notes(home: Path):
    from journal_tui.locations import Locations
    from journal_tui.notes.store import NoteStore

    res = NoteStore.from_locations(Locations.resolve(home)).scan()
    assert res.problems == []
    return res.notes


# jrnl and one .doentry carry no time zone and are read in the machine's: pin it to UTC
pytestmark = pytest.mark.usefixtures("utc_machine")


def test_pepys_366_days_as_entries(shared_data, tmp_path, capsys):
    src = shared_data / "pepys-diary-1660" / "entries"
    before = snapshot(src)
    home = tmp_path / "home"

    dry = run_import(capsys, home, str(src), "--kind", "entry", "--dry-run")
    assert dry["dry_run"] is True and dry["added"] == 366
    assert not (home / "notes").exists()  # a dry run writes nothing

    got = run_import(capsys, home, str(src), "--kind", "entry")
    assert got["added"] == 366 and got["days"] == 366 and got["skipped"] == [] and got["duplicates"] == 0
    assert got["by_format"] == {"folder": {"added": 366, "duplicates": 0, "skipped": 0}}

    notes = store_notes(home)
    assert len(notes) == 366
    assert {n.kind for n in notes} == {"entry"}
    days = sorted(n.date for n in notes)
    assert days[0] == dt.date(1660, 1, 1) and days[-1] == dt.date(1660, 12, 31)
    assert len(set(days)) == 366
    by_source = {Path(n.meta["source"]).name: n for n in notes}
    for name in ("1660-01-01.md", "1660-05-04.md", "1660-12-31.md"):
        n = by_source[name]
        assert n.date.isoformat() == name[:10]
        assert n.body.strip() == (src / name).read_text(encoding="utf-8").strip()
        assert n.meta["source_format"] == "folder"
        assert n.meta["content_sha256"] == hashlib.sha256(
            f"{name[:10]}\n{n.body.strip()}".encode()
        ).hexdigest()

    again = run_import(capsys, home, str(src), "--kind", "entry")
    assert again["added"] == 0 and again["duplicates"] == 366
    assert len(store_notes(home)) == 366
    assert snapshot(src) == before


def test_lab_notebook_136_posts_over_123_days(shared_data, tmp_path, capsys):
    src = shared_data / "cboettig-labnotebook-2013" / "_posts"
    before = snapshot(src)
    home = tmp_path / "home"
    got = run_import(capsys, home, str(src))
    assert got["added"] == 136 and got["days"] == 123 and got["skipped"] == []
    notes = store_notes(home)
    per_day = Counter(n.date for n in notes)
    assert len(notes) == 136 and len(per_day) == 123
    assert sum(1 for c in per_day.values() if c == 2) == 13
    assert per_day[dt.date(2013, 3, 19)] == 2
    titles = {n.title for n in notes if n.date == dt.date(2013, 3, 19)}
    assert "prosecutor fallacy as large deviations" in titles  # from the Jekyll slug
    quoted = [n for n in notes if Path(n.meta["source"]).name == "2013-06-10-mansucript-reviews-on-github.md"]
    assert quoted[0].title == "manuscript reviews on github?"  # front matter title wins
    assert {n.kind for n in notes} == {"note"}
    assert snapshot(src) == before


def _dayone_expected(path: Path) -> dict[str, dt.date]:
    """uuid -> local day, computed here from creationDate + timeZone."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    out = {}
    for e in doc["entries"]:
        utc = dt.datetime.fromisoformat(e["creationDate"].replace("Z", "+00:00"))
        out[e["uuid"]] = utc.astimezone(ZoneInfo(e["timeZone"])).date()
    return out


def test_dayone_example_54_entries_on_local_days(shared_data, tmp_path, capsys):
    src = shared_data / "dayone-json-exports" / "ergebnis-day-one-to-obsidian-converter" / "demo" / "day-one" / "Example.json"
    before = snapshot(src.parent)
    home = tmp_path / "home"
    got = run_import(capsys, home, str(src))
    assert got["added"] == 54 and got["skipped"] == [] and got["by_format"]["dayone"]["added"] == 54

    notes = store_notes(home)
    assert len(notes) == 54
    by_uuid = {n.meta["source_id"]: n for n in notes}
    expected = _dayone_expected(src)
    assert {u: n.date for u, n in by_uuid.items()} == expected
    raw = {e["uuid"]: e for e in json.loads(src.read_text(encoding="utf-8"))["entries"]}
    utc_days = {u: dt.date.fromisoformat(e["creationDate"][:10]) for u, e in raw.items()}
    assert sum(expected[u] != utc_days[u] for u in raw) > 0  # bucketing by UTC would be wrong here

    # known entries, worked out by hand from creationDate + timeZone
    first = by_uuid["2E542464666C4ACE91E83539FF114A76"]  # 2004-10-13T00:38:16Z, America/Boise (UTC-6)
    assert first.date == dt.date(2004, 10, 12)
    assert first.created.isoformat() == "2004-10-12T18:38:16-06:00"
    assert "unhappy." in first.body and "unhappy\\." not in first.body
    assert "\u200b" not in first.body
    assert by_uuid["AED1E7D94603407693F2AE91142F9089"].date == dt.date(2008, 1, 1)  # 07:01Z Boise -> 00:01

    # escapes removed everywhere (23 entries had them), tags and starred kept
    escaped = [u for u, e in raw.items() if re.search(r"\\[.\-!()]", e["text"])]
    assert len(escaped) == 23
    for u in escaped:  # outside code, where a backslash is literal (CommonMark)
        prose = re.sub(r"```.*?```|`[^`\n]*`", "", by_uuid[u].body, flags=re.S)
        assert not re.search(r"\\[.\-!()]", prose), u
    syntax = by_uuid["B3D8951E78A34EB09A5B26C92B06B673"].body  # "Day One Markdown Syntax"
    assert "[example](http://dayoneapp.com/markdown)." in syntax
    assert "```\nPreformatted text block using a tab\\\\\\.\n```" in syntax  # code kept as written
    for u, e in raw.items():
        assert by_uuid[u].tags[: len(e["tags"])] == [t.lower() for t in e["tags"]]
        assert bool(by_uuid[u].meta.get("starred")) == e["starred"]
    assert sum(bool(n.meta.get("starred")) for n in notes) == 7
    assert snapshot(src.parent) == before


def test_dayone_dev_journals_and_bad_exports(shared_data, tmp_path, capsys):
    root = shared_data / "dayone-json-exports"
    before = snapshot(root)
    home = tmp_path / "home"
    dev = root / "MarcDonald-obsidian-day-one-importer" / "test" / "__test_data__" / "day-one-in" / "Dev Journal.json"
    got = run_import(capsys, home, str(dev))
    assert got["added"] == 5
    by_uuid = {n.meta["source_id"]: n for n in store_notes(home)}
    # all-day entry at 2024-04-16T23:00:00Z in Europe/Dublin is local 2024-04-17 00:00 (SOURCE.md)
    allday = by_uuid["DF8B32A3FE25400BBBB3A7BBFCD23CE7"]
    assert allday.date == dt.date(2024, 4, 17) and allday.created.hour == 0
    assert by_uuid["1461153D91EC48C180C606C853FBFD83"].date == dt.date(2024, 4, 18)  # 23:00Z, BST
    hyph = by_uuid["876E72B228F847379F296B1698CA3F61"].body
    assert "This-text-is-hyphenated" in hyph and "(This text is in parentheses)" in hyph
    assert set(allday.tags) >= {"another-dev-testing-tag", "dev-testing-tag"} and allday.meta["starred"] is True

    # the whole folder: the invalid variants are reported, the repeated entries are duplicates
    got = run_import(capsys, home, str(root))
    reasons = {Path(s["source"].split("#")[0]).name + ("#" if "#" in s["source"] else ""): s["reason"] for s in got["skipped"]}
    assert reasons["Journal.json"].startswith("not valid JSON")  # not-json/Journal.json
    assert reasons["Empty.json"] == "export holds no entries"
    assert "text is not a string" in reasons["Dev Journal One Invalid.json#"]
    assert "no \"entries\"" in reasons["schema.json"]
    assert got["duplicates"] >= 5 + 1  # Dev Journal again, and Example.json's first entry in the schema-breaking file
    assert got["added"] + got["duplicates"] == 54 + 5 + 5 + 1
    dev_dups = [d for d in got["duplicate_notes"] if "/Dev Journal.json#" in d["source"]]
    assert len(dev_dups) == 5 and {d["duplicate_of"] for d in dev_dups} == {"a note already in the notes folder"}
    same_run = [d for d in got["duplicate_notes"] if "Example.json" in d["duplicate_of"]]
    assert [d["source"].rsplit("/", 1)[-1] for d in same_run] == ["Journal.json#entry 1 (2E542464666C4ACE91E83539FF114A76)"]
    assert snapshot(root) == before


JRNL_ENTRIES = {  # entries per journal file, counted by reading each file
    "basic_onefile.journal": 3,
    "brackets.journal": 1,
    "deletion.journal": 3,
    "deletion_filters.journal": 5,
    "little_endian_dates.journal": 2,
    "markdown-headings-335.journal": 1,
    "mostlyreadabledates.journal": 3,
    "multiline-tags.journal": 1,
    "multiline.journal": 1,
    "simple.journal": 2,
    "simple_jrnl-1-9-5.journal": 3,
    "simple_jrnl-1-9-5_little_endian_dates.journal": 3,
    "tags-216.journal": 1,
    "tags-237.journal": 1,
    "tags.journal": 2,
    "unreadabledates.journal": 0,
    "work.journal": 0,
}


def test_jrnl_journals_count_per_file(shared_data, tmp_path, capsys):
    from journal_tui.notes.importers import ImportItem, collect

    root = shared_data / "jrnl-test-journals" / "journals"
    before = snapshot(root)
    for name, n in JRNL_ENTRIES.items():
        items, skipped = collect(root / name)
        assert len(items) == n, name
        assert all(isinstance(i, ImportItem) and i.format == "jrnl" for i in items)
    days = lambda name: [i.day.isoformat() for i in collect(root / name)[0]]  # noqa: E731
    assert days("little_endian_dates.journal") == ["2013-06-09", "2013-07-10"]  # day-first
    assert days("mostlyreadabledates.journal") == ["2019-07-18", "2019-07-19", "2019-07-01"]  # as jrnl reads it
    assert days("simple_jrnl-1-9-5_little_endian_dates.journal") == ["2010-06-10", "2013-06-10", "2019-08-03"]
    brackets = collect(root / "brackets.journal")[0][0]
    assert brackets.body == "Entry subject\n[1] line starting with 1"
    tags = collect(root / "multiline-tags.journal")[0][0].tags
    assert tags == ("line", "tags", "punctuation", "tagonlinealonewithoutpunctuation",
                    "tagonlinealonewithpunctuation", "tag", "hi")
    assert collect(root / "tags-216.journal")[0][0].tags == ("os/2", "c++", "c#")
    assert collect(root / "tags-237.journal")[0][0].tags == ("newline", "email")  # e-mail addresses are not tags
    starred = [i.starred for i in collect(root / "basic_onefile.journal")[0]]
    assert starred == [False, True, False]
    assert collect(root / "basic_onefile.journal")[0][1].body.startswith("A second entry in what I hope to be a long series.\n")

    home = tmp_path / "home"
    got = run_import(capsys, home, str(root))
    reasons = [(Path(s["source"].split("#")[0]).name, s["reason"]) for s in got["skipped"]]
    assert sorted(r for _, r in reasons if r.startswith("unparseable date")) == [
        "unparseable date [ashasd7zdskhz7asdkjasd]",
        "unparseable date [sadfhakjsdf88sdf7sdff]",
    ]
    assert ("work.journal", "empty journal") in reasons
    assert sum("not named YYYY/MM/DD.txt" in r for n, r in reasons if n == "should-be-ignored.txt") == 3
    assert any(n == "B40EE704E15846DE8D45C44118A4D512.doentry" and r.startswith("invalid plist") for n, r in reasons)
    assert any(n == "48A25033B34047C591160A4480197D8B.doentry" and "empty" in r for n, r in reasons)
    assert len(reasons) == 10
    by_fmt = got["by_format"]
    # 32 journal entries + 3 folder-journal day files; 8 readable .doentry entries
    assert by_fmt["jrnl"]["added"] + by_fmt["jrnl"]["duplicates"] == 35
    assert by_fmt["dayone"]["added"] + by_fmt["dayone"]["duplicates"] == 8
    notes = store_notes(home)
    assert len(notes) == got["added"]
    folder_day = [n for n in notes if n.meta["source"].endswith("basic_folder/2020/08/31.txt")][0]
    assert folder_day.created.isoformat() == "2020-08-31T14:32:00+00:00" and folder_day.meta["starred"] is True
    doentry = [n for n in notes if n.meta.get("source_id") == "044F3747A38546168B572C2E3F217FA2"]
    assert len(doentry) == 1
    assert snapshot(root) == before


def test_logseq_only_pages_with_text(shared_data, tmp_path, capsys):
    src = shared_data / "logseq-docs-journals" / "journals"
    home = tmp_path / "home"
    got = run_import(capsys, home, str(src))
    assert got["added"] == 4
    assert Counter(s["reason"] for s in got["skipped"]) == {"empty page": 71}
    notes = store_notes(home)
    assert sorted(n.date.isoformat() for n in notes) == ["2020-09-23", "2020-10-02", "2021-02-20", "2021-02-26"]
    done = [n for n in notes if n.date == dt.date(2021, 2, 20)][0]
    assert "DONE Write changelog for v0.0.9" in done.body and "done:: 1614350275750" in done.body


def test_obsidian_vault_daily_notes(shared_data, tmp_path, capsys):
    vault = shared_data / "obsidian-kepano-vault" / "vault"
    before = snapshot(vault)
    home = tmp_path / "home"
    got = run_import(capsys, home, str(vault / "Daily"))
    assert got["added"] == 2
    assert sorted(n["day"] for n in got["notes"]) == ["2023-09-12", "2023-09-30"]

    got = run_import(capsys, home, str(vault))
    assert got["duplicates"] == 2  # the daily notes again
    sources = {Path(n["source"]).relative_to(vault).as_posix() for n in got["notes"]}
    assert "Notes/2023-09-12 Meeting with Steph.md" in sources
    assert not any(s.startswith(("Templates/", ".obsidian/")) for s in sources)
    skipped = {Path(s["source"]).relative_to(vault).as_posix(): s["reason"] for s in got["skipped"]}
    assert not any(s.startswith(".obsidian/") for s in skipped)
    assert skipped["Templates/Journal Template.md"].startswith("unrendered template (created: {{date}})")
    assert skipped["Notes/2023 Japan Trip.md"] == "empty page"
    assert skipped["Readme.md"].startswith("no date")
    assert len(sources) + len(skipped) + 2 == 103 - 3  # every .md file accounted for (3 are .obsidian json)
    meeting = [n for n in store_notes(home) if n.meta["source"].endswith("Meeting with Steph.md")][0]
    assert meeting.title == "Meeting with Steph" and meeting.date == dt.date(2023, 9, 12)
    assert snapshot(vault) == before
