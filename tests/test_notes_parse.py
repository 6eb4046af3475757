"""Parsing one note file: encodings, front matter (including odd real-world front matter), day
resolution order, tags, and exact round trips over the shared real-data folders."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from journal_tui.notes import parse
from journal_tui.notes.parse import ParseError


def test_bom_and_crlf_read_correctly_and_round_trip():
    data = "\ufeff---\r\ntitle: Ünïcode\r\ntags: a, b\r\n---\r\nline one\r\nline two #tag\r\n".encode()
    p = parse.parse_text(data)
    assert p.meta == {"title": "Ünïcode", "tags": "a, b"}
    assert p.body == "line one\nline two #tag\n"
    assert p.bom and p.newline == "\r\n"
    assert p.to_bytes() == data
    # a changed body is written back with the file's BOM and CRLF
    assert p.to_bytes(body="new\nbody\n") == "\ufeff---\r\ntitle: Ünïcode\r\ntags: a, b\r\n---\r\nnew\r\nbody\r\n".encode()


def test_body_is_kept_exactly():
    data = b"---\nkind: note\n---\n\n\n  indented start\n\ntrailing spaces   \n\n"
    p = parse.parse_text(data)
    assert p.body == "\n\n  indented start\n\ntrailing spaces   \n\n"
    assert p.to_bytes() == data


@pytest.mark.parametrize(
    "data, needle",
    [
        (b"abc\x00def", "binary"),
        (b"caf\xe9 latin-1", "not UTF-8"),
        (b"---\ntitle: [unclosed\n---\nbody", "not valid YAML (line 3 of the file)"),
        (b"---\na: 1\n  b: 2\n---\n", "not valid YAML"),
    ],
)
def test_unparsable_files_raise_with_reason(data, needle):
    with pytest.raises(ParseError) as e:
        parse.parse_text(data)
    assert needle in e.value.reason


def test_non_utf8_reason_gives_offset():
    with pytest.raises(ParseError) as e:
        parse.parse_text(b"\xef\xbb\xbfok \xff")
    assert "0xff at offset 6" in e.value.reason


def test_size_limit(tmp_path):
    f = tmp_path / "big.md"
    f.write_bytes(b"x" * 101)
    with pytest.raises(ParseError, match="too large"):
        parse.read_note_bytes(f, max_bytes=100)
    assert parse.read_note_bytes(f, max_bytes=101) == b"x" * 101


def test_unrendered_template_front_matter_is_tolerated():
    data = b"---\ncategories:\n  - \"[[Books]]\"\ncreated: {{date}}\nlast: {{date}} later\nrating: 7\n---\nBody\n"
    p = parse.parse_text(data)
    assert p.repaired
    assert p.meta == {"categories": ["[[Books]]"], "created": "{{date}}", "last": "{{date}} later", "rating": 7}
    assert p.to_bytes() == data  # the raw front matter is kept, not the repaired one
    # an unrendered created date is not a date: the day falls back to the file name
    day, created = parse.resolve_day(p.meta, ("Book 2024-02-03.md",), 0.0)
    assert (day, created) == (dt.date(2024, 2, 3), None)


def test_odd_front_matter_values():
    p = parse.parse_text(b"---\nmy key: value\ntags: journal\ndate: \"[[2023-09-12]]\"\n---\n")
    assert p.meta["my key"] == "value"
    assert parse.front_matter_tags(p.meta) == ["journal"]
    assert parse.resolve_day(p.meta, ("x.md",), 0.0) == (dt.date(2023, 9, 12), None)


def test_thematic_break_pair_is_not_front_matter():
    data = b"---\nJust a line between rules\n---\nmore\n"
    p = parse.parse_text(data)
    assert p.meta == {} and p.fm_text is None and p.body == data.decode()
    # no closing fence: no front matter either
    p = parse.parse_text(b"---\nkey: v\nno close")
    assert p.fm_text is None and p.body == "---\nkey: v\nno close"


@pytest.mark.parametrize(
    "raw, expected",
    [
        (["A", "#b", "[[C]]", None, 3], ["a", "b", "c", "3"]),
        ("work, Side Project,  ", ["work", "side project"]),
        ("daily journal", ["daily", "journal"]),
        ("#solo", ["solo"]),
    ],
)
def test_front_matter_tag_forms(raw, expected):
    assert parse.front_matter_tags({"tags": raw}) == expected


def test_singular_tag_key():
    assert parse.front_matter_tags({"tag": "ecology"}) == ["ecology"]


def test_body_tags_rules():
    body = "\n".join(
        [
            "# Heading is not a tag",
            "##Also not a heading: #Work and #work again, (#paren) #nested/deep",
            "Issue #12 is a number; C# is a language; x#y is not a tag",
            "See https://example.com/page#fragment and [link](#section) and <span style='color:#fff'>",
            "Inline `#code` is skipped, #[[Two Words]] is one tag",
            "```",
            "#notatag in a fence",
            "```",
            "~~~python",
            "# comment #alsonot",
            "~~~",
            "end #last.",
        ]
    )
    assert parse.body_tags(body) == ["work", "paren", "nested/deep", "two words", "last"]


def test_title_from_front_matter_then_heading():
    assert parse.resolve_title({"title": "FM"}, "# Heading\n") == "FM"
    assert parse.resolve_title({}, "```\n# in code\n```\n\n## Real heading ##\n") == "Real heading"
    assert parse.resolve_title({}, "no heading\n") == ""


def test_kind():
    assert parse.resolve_kind({"kind": "Entry"}) == "entry"
    assert parse.resolve_kind({"kind": "meeting"}) == "note"
    assert parse.resolve_kind({}) == "note"


def test_day_resolution_order():
    mtime = dt.datetime(2020, 5, 6, 12, 0).timestamp()
    name = ("2021-01-02-093000-x.md",)
    both = {"created": dt.datetime(2022, 3, 4, 5, 6, tzinfo=dt.timezone.utc), "date": dt.date(2023, 1, 1)}
    assert parse.resolve_day(both, name, mtime)[0] == dt.date(2022, 3, 4)
    assert parse.resolve_day({"date": "2023-01-01"}, name, mtime) == (dt.date(2023, 1, 1), None)
    day, created = parse.resolve_day({}, name, mtime)
    assert day == dt.date(2021, 1, 2) and created.time() == dt.time(9, 30) and created.tzinfo is not None
    assert parse.resolve_day({}, ("2020_09_14.md",), mtime) == (dt.date(2020, 9, 14), None)  # Logseq
    assert parse.resolve_day({}, ("2020", "08", "29.txt"), mtime) == (dt.date(2020, 8, 29), None)  # jrnl folder
    assert parse.resolve_day({}, ("2021-02-30 bad.md",), mtime) == (dt.date(2020, 5, 6), None)  # invalid -> mtime
    assert parse.resolve_day({"created": "{{date}}"}, ("notes.md",), mtime) == (dt.date(2020, 5, 6), None)


def test_created_keeps_the_day_as_written_in_its_offset():
    # 23:30 at UTC-8 is already the next day in UTC; the writer's day wins
    p = parse.parse_text(b"---\ncreated: 2026-11-29T23:30:00-08:00\n---\n")
    day, created = parse.resolve_day(p.meta, ("x.md",), 0.0)
    assert day == dt.date(2026, 11, 29)
    assert created.utcoffset() == dt.timedelta(hours=-8)
    # an ISO string with Z works as well
    assert parse.resolve_day({"created": "2026-11-29T10:00:00Z"}, ("x.md",), 0.0)[0] == dt.date(2026, 11, 29)


def test_update_front_matter_keeps_other_lines():
    fm = "# my comment\ntitle: Old\nrating: 7   # inline\ntags:\n  - a\n  - b\nmood: ok\n"
    out = parse.update_front_matter(fm, {"tags": ["x"], "title": "New title", "kind": "entry"})
    assert out == "# my comment\ntitle: New title\nrating: 7   # inline\ntags:\n- x\nmood: ok\nkind: entry\n"
    assert parse.update_front_matter(out, {"mood": None}).count("mood") == 0


def test_update_front_matter_falls_back_to_full_dump_for_odd_layouts():
    # a block scalar with a blank line inside: line surgery would break it, so the whole mapping
    # is re-dumped (order kept) and the other values survive
    fm = "note: |\n  first\n\n  second\ntitle: T\n"
    out = parse.update_front_matter(fm, {"note": "short"})
    import yaml

    assert yaml.safe_load(out) == {"note": "short", "title": "T"}
    assert list(yaml.safe_load(out)) == ["note", "title"]


def test_is_note_name():
    assert parse.is_note_name("a.md") and parse.is_note_name("B.TXT")
    for bad in (".hidden.md", "a.md~", "#a.md#", "a.md.swp", "a.png", ".a.md.123.tmp"):
        assert not parse.is_note_name(bad), bad


def test_slugify():
    assert parse.slugify("Café: a Morning run, by the river!") == "cafe-a-morning-run-by-the"
    assert parse.slugify("日本語") == ""


def test_every_shared_data_file_parses_or_is_a_problem_and_round_trips(shared_data):
    seen = 0
    for folder, _, files in os.walk(shared_data):
        for name in files:
            if not parse.is_note_name(name):
                continue
            data = (Path(folder) / name).read_bytes()
            try:
                p = parse.parse_text(data)
            except ParseError as e:
                pytest.fail(f"{folder}/{name}: {e.reason}")
            assert p.to_bytes() == data, f"{folder}/{name} does not round-trip"
            seen += 1
    assert seen > 600


def test_shared_obsidian_templates_and_logseq_names(shared_data):
    t = shared_data / "obsidian-kepano-vault/vault/Templates/Journal Template.md"
    p = parse.parse_text(t.read_bytes())
    assert p.repaired and p.meta["created"] == "{{date}}"
    assert "journal" in parse.front_matter_tags(p.meta)
    lq = shared_data / "logseq-docs-journals/journals/2020_09_23.md"
    p = parse.parse_text(lq.read_bytes())
    assert parse.resolve_day(p.meta, (lq.name,), 0.0)[0] == dt.date(2020, 9, 23)
    assert parse.resolve_title(p.meta, p.body) == "Sep 23rd, 2020"
