"""NoteStore: layout, permissions, atomic writes, conflicts, problem files left byte-identical,
trash, the cache, lookup and search."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
import stat
from pathlib import Path

import pytest

from journal_tui.notes import parse
from journal_tui.notes.store import ConflictError, NoteError, NoteStore

UTC = dt.timezone.utc


@pytest.fixture
def store(tmp_path) -> NoteStore:
    return NoteStore(tmp_path / "notes", trash=tmp_path / "trash", cache=tmp_path / "cache" / "idx.marshal")


def snapshot(root: Path) -> dict[str, tuple[bytes, int, int]]:
    """Every file and folder under root: bytes, mtime_ns and mode (folders: b"")."""
    out = {}
    for dirpath, dirnames, files in os.walk(root):
        for d in dirnames:
            p = Path(dirpath, d)
            out[str(p)] = (b"", p.stat().st_mtime_ns, p.stat().st_mode)
        for f in files:
            p = Path(dirpath, f)
            out[str(p)] = (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_mode)
    return out


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


# ---------------------------------------------------------------- add, layout, permissions


def test_add_layout_front_matter_and_permissions(store, tmp_path):
    created = dt.datetime(2026, 11, 29, 9, 15, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    note = store.add("Ran by the river. #run", tags=["Health"], title="Morning Run", created=created,
                     extra_meta={"mood": "good"})
    assert note.path == tmp_path / "notes/2026/11/2026-11-29-091500-morning-run.md"
    assert note.id == "2026/11/2026-11-29-091500-morning-run"
    assert note.date == dt.date(2026, 11, 29) and note.created == created
    assert note.kind == "note" and note.title == "Morning Run" and note.tags == ["health", "run"]
    assert note.body == "Ran by the river. #run\n"
    text = note.path.read_text()
    assert text.startswith("---\ncreated: 2026-11-29T09:15:00+01:00\nkind: note\ntags:\n- health\ntitle: Morning Run\nmood: good\n---\n")
    assert stat.S_IMODE(note.path.stat().st_mode) == 0o600
    for d in (tmp_path / "notes", tmp_path / "notes/2026", tmp_path / "notes/2026/11"):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700
    assert [p.name for p in note.path.parent.iterdir()] == [note.path.name]  # no temp file left


def test_add_never_overwrites_on_name_collision(store):
    created = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    a = store.add("first", created=created, title="Same")
    b = store.add("second", created=created, title="Same")
    assert a.path != b.path and b.path.name == "2026-01-02-030405-same-2.md"
    assert a.path.read_text().endswith("first\n") and b.path.read_text().endswith("second\n")


def test_add_with_day_and_validation(store):
    note = store.add("old day", day=dt.date(2025, 3, 4), kind="entry")
    # a past day with no time given: the time is unknown, never made up from the clock
    assert note.date == dt.date(2025, 3, 4) and note.kind == "entry" and note.created is None
    assert note.path.name == "2025-03-04-old-day.md"
    assert note.path.read_text().startswith("---\ndate: 2025-03-04\n")
    timed = store.add("timed", created=dt.datetime(2025, 3, 4, 9, 30, tzinfo=dt.timezone.utc))
    assert timed.created.hour == 9 and timed.path.name.startswith("2025-03-04-093000")
    with pytest.raises(ValueError):
        store.add("x", kind="diary")
    with pytest.raises(ValueError):
        store.add("x", extra_meta={"created": "now"})


def test_failed_write_mid_add_leaves_nothing(store, monkeypatch, tmp_path):
    def boom(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError):
        store.add("doomed", created=dt.datetime(2026, 1, 1, tzinfo=UTC))
    monkeypatch.undo()
    files = [p for p in (tmp_path / "notes").rglob("*") if p.is_file()]
    assert files == []


# ---------------------------------------------------------------- scanning


def test_scan_order_skips_hidden_and_creates_nothing(store, tmp_path):
    root = tmp_path / "notes"
    write(root / "2024-01-01.md", "new year")
    write(root / "deep/2024_01_03.md", "logseq day")
    write(root / "b.txt", "---\ncreated: 2024-01-02T18:00:00+00:00\n---\nevening")
    write(root / "a.md", "---\ncreated: 2024-01-02T08:00:00+00:00\n---\nmorning")
    jrnl = write(root / "2024/01/02.txt", "jrnl folder day")  # no time: ordered by its mtime
    t = dt.datetime(2024, 1, 2, 7, 0, tzinfo=UTC).timestamp()
    os.utime(jrnl, (t, t))
    for hidden in (".git/x.md", ".obsidian/y.md", ".trash/z.md", "sub/.hidden/w.md", ".dot.md", "a.md~",
                   "#a.md#", "a.md.swp", "image.png"):
        write(root / hidden, "hidden 2099-01-01")
    before = snapshot(root)
    result = store.scan()
    assert [n.id for n in result.notes] == ["deep/2024_01_03", "b", "a", "2024/01/02", "2024-01-01"]
    assert result.problems == []
    assert snapshot(root) == before
    assert (tmp_path / "cache/idx.marshal").exists()
    assert stat.S_IMODE((tmp_path / "cache/idx.marshal").stat().st_mode) == 0o600


def test_odd_names(store, tmp_path):
    for name in ("UPPER.MD", "folder.md/inside.md", "~tilde.md", "~$office-lock.md", "notes.TXT"):
        write(tmp_path / "notes" / name, "x")
    assert sorted(n.id for n in store.scan().notes) == ["UPPER", "folder.md/inside", "notes", "~tilde"]


def test_scan_of_missing_folder_creates_nothing(store, tmp_path):
    assert store.scan().notes == []
    assert not (tmp_path / "notes").exists()


def test_mtime_is_the_last_resort_for_the_day(store, tmp_path):
    p = write(tmp_path / "notes/undated.md", "no date anywhere")
    t = dt.datetime(2019, 7, 8, 12, 0).timestamp()
    os.utime(p, (t, t))
    (note,) = store.scan().notes
    assert note.date == dt.date(2019, 7, 8) and note.created is None


def test_same_stem_md_and_txt_get_distinct_ids(store, tmp_path):
    write(tmp_path / "notes/x.md", "md")
    write(tmp_path / "notes/x.txt", "txt")
    ids = sorted(n.id for n in store.scan().notes)
    assert ids == ["x.md", "x.txt"]
    assert store.read(tmp_path / "notes/x.md").id == "x.md"


# ---------------------------------------------------------------- problem files


PROBLEMS = {
    "bad-yaml.md": (b"---\ntitle: [oops\nkind: note\n---\nbody\n", "not valid YAML"),
    "latin1.txt": ("caf\u00e9 au lait".encode("latin-1"), "not UTF-8"),
    "binary.md": (b"PK\x03\x04\x00\x00binary", "binary"),
    "huge.md": (b"x" * 5000, "too large"),
}


def test_problem_files_are_reported_and_left_byte_identical(tmp_path):
    root = tmp_path / "notes"
    store = NoteStore(root, trash=tmp_path / "trash", cache=tmp_path / "cache/i", max_bytes=4000)
    for name, (data, _) in PROBLEMS.items():
        write(root / name, data)
    good = write(root / "fine.md", "fine")
    before = snapshot(root)
    result = store.scan()
    assert [n.path for n in result.notes] == [good]
    reasons = {p.path.name: p.reason for p in result.problems}
    assert set(reasons) == set(PROBLEMS)
    for name, (_, needle) in PROBLEMS.items():
        assert needle in reasons[name], reasons[name]
        with pytest.raises(NoteError) as e:
            store.read(root / name)
        assert needle in e.value.reason
    # a save aimed at a file that has since been broken by another program: kept, ours aside
    note = store.read(good)
    write(good, b"---\n: : bad\n  - [\n---\n")
    bad_bytes = good.read_bytes()
    with pytest.raises(ConflictError):
        store.save(note, "my new text")
    assert good.read_bytes() == bad_bytes
    del before[str(good)]
    after = snapshot(root)
    after.pop(str(good))
    # only conflict files may have been added next to it; every problem file is untouched
    assert {k: v for k, v in after.items() if ".conflict-" not in k} == before


def test_save_refuses_a_note_whose_file_does_not_parse(store, tmp_path):
    p = write(tmp_path / "notes/n.md", b"---\ntitle: [x\n---\nbody\n")
    fake = store.add("placeholder", created=dt.datetime(2020, 1, 1, tzinfo=UTC))
    fake.path = p
    fake.sha256 = hashlib.sha256(p.read_bytes()).hexdigest()  # as if read before it broke
    with pytest.raises(NoteError, match="not valid YAML"):
        store.save(fake, "overwrite attempt")
    assert p.read_bytes() == b"---\ntitle: [x\n---\nbody\n"


# ---------------------------------------------------------------- save


def test_save_keeps_front_matter_bom_and_crlf(store, tmp_path):
    original = (
        "\ufeff---\r\n# the person's comment\r\nzeta: 1\r\ncreated: {{date}}\r\nalpha: \"[[Link]]\"\r\n"
        "tags: [x]\r\n---\r\nold body\r\n"
    ).encode()
    p = write(tmp_path / "notes/2024-05-06 thing.md", original)
    note = store.read(p)
    saved = store.save(note, "new body\nsecond line\n")
    assert p.read_bytes() == original.replace(b"old body\r\n", b"new body\r\nsecond line\r\n")
    assert saved.body == "new body\nsecond line\n" and saved.date == dt.date(2024, 5, 6)
    # title and tag edits rewrite only those keys
    saved = store.save(saved, saved.body, title="A title", tags=["x", "y"])
    text = p.read_bytes().decode("utf-8-sig")
    assert text.startswith("---\r\n# the person's comment\r\nzeta: 1\r\ncreated: {{date}}\r\nalpha: \"[[Link]]\"\r\n")
    assert saved.title == "A title" and saved.tags == ["x", "y"]
    assert p.read_bytes().startswith(b"\xef\xbb\xbf")


def test_save_adds_front_matter_to_a_plain_file_only_when_needed(store, tmp_path):
    p = write(tmp_path / "notes/2024-02-02.txt", "just text\n")
    note = store.save(store.read(p), "just text, edited\n")
    assert p.read_text() == "just text, edited\n"  # still no front matter
    note = store.save(note, note.body, title="T", kind="entry")
    assert p.read_text() == "---\ntitle: T\nkind: entry\n---\njust text, edited\n"
    assert (note.title, note.kind, note.date) == ("T", "entry", dt.date(2024, 2, 2))


def test_save_unchanged_does_not_write(store, tmp_path):
    p = write(tmp_path / "notes/n.md", "same\n")
    os.utime(p, (1_000_000_000, 1_000_000_000))
    note = store.read(p)
    store.save(note, note.body, title=note.title, tags=note.tags, kind=note.kind)
    assert p.stat().st_mtime == 1_000_000_000


def test_save_body_tags_not_duplicated_in_front_matter(store):
    note = store.add("text #inbody", tags=["fm"], created=dt.datetime(2026, 2, 2, tzinfo=UTC))
    saved = store.save(note, note.body, tags=["fm", "inbody", "new"])
    assert saved.tags == ["fm", "new", "inbody"]
    assert "inbody" not in saved.path.read_text().split("---")[1]


def test_failed_write_mid_save_leaves_old_file_intact(store, monkeypatch):
    note = store.add("precious original", created=dt.datetime(2026, 3, 3, tzinfo=UTC))
    before = note.path.read_bytes()

    def boom(src, dst):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        store.save(note, "new text that fails to land")
    monkeypatch.undo()
    assert note.path.read_bytes() == before
    assert sorted(p.name for p in note.path.parent.iterdir()) == [note.path.name]  # temp file removed
    # and the same save works once the disk is back
    assert store.save(note, "new text that lands\n").body == "new text that lands\n"


def test_conflict_keeps_both_versions(store):
    note = store.add("v1", created=dt.datetime(2026, 4, 4, 10, 0, tzinfo=UTC))
    theirs = note.path.read_bytes().replace(b"v1", b"changed in another editor")
    note.path.write_bytes(theirs)
    with pytest.raises(ConflictError) as e:
        store.save(note, "my edit\n")
    err = e.value
    assert err.path == note.path and note.path.read_bytes() == theirs
    assert re.fullmatch(r"2026-04-04-100000-v1\.conflict-\d{8}-\d{6}\.md", err.conflict_path.name)
    assert err.conflict_path.read_text().endswith("---\nmy edit\n")
    assert stat.S_IMODE(err.conflict_path.stat().st_mode) == 0o600
    assert str(err.conflict_path) in str(err) and str(err.path) in str(err)
    bodies = sorted(n.body for n in store.scan().notes)
    assert bodies == ["changed in another editor\n", "my edit\n"]
    # a second conflict in the same second does not overwrite the first conflict file
    with pytest.raises(ConflictError) as e2:
        store.save(note, "another edit\n")
    assert e2.value.conflict_path != err.conflict_path
    assert err.conflict_path.read_text().endswith("my edit\n")


def test_conflict_when_file_vanished(store):
    note = store.add("v1", created=dt.datetime(2026, 4, 5, tzinfo=UTC))
    note.path.unlink()
    with pytest.raises(ConflictError) as e:
        store.save(note, "still mine\n")
    assert not note.path.exists() and e.value.conflict_path.read_text().endswith("still mine\n")


# ---------------------------------------------------------------- delete / trash


def test_delete_moves_to_trash_and_never_overwrites(store, tmp_path):
    created = dt.datetime(2026, 5, 5, 5, 5, 5, tzinfo=UTC)
    first = store.add("first", created=created)
    data1 = first.path.read_bytes()
    t1 = store.delete(first)
    assert t1 == tmp_path / "trash/2026/05/2026-05-05-050505-first.md"
    assert stat.S_IMODE((tmp_path / "trash").stat().st_mode) == 0o700
    assert t1.read_bytes() == data1 and not first.path.exists()
    # same relative path again: a new trash name, the first trash file untouched
    write(first.path, "second version")
    second = store.read(first.path)
    t2 = store.delete(second)
    assert t2 != t1 and t2.parent == t1.parent and ".deleted-" in t2.name
    assert t1.read_bytes() == data1 and t2.read_text() == "second version"
    assert store.scan().notes == []
    with pytest.raises(NoteError):
        store.delete(second)


# ---------------------------------------------------------------- cache


def test_cache_is_used_validated_and_rebuilt(store, tmp_path, monkeypatch):
    for i in range(5):
        store.add(f"note {i}", created=dt.datetime(2026, 6, 1 + i, tzinfo=UTC))
    first = store.scan()
    calls = []
    real = parse.parse_text
    monkeypatch.setattr(parse, "parse_text", lambda data: calls.append(1) or real(data))
    assert [n.to_json() for n in store.scan().notes] == [n.to_json() for n in first.notes]
    assert calls == []  # all five came from the cache
    # an edit made behind the store's back is seen (stat changed -> parsed again)
    target = first.notes[2]
    target.path.write_text(target.path.read_text().replace("note 2", "edited outside, longer"))
    bodies = [n.body for n in store.scan().notes]
    assert "edited outside, longer\n" in bodies and len(calls) == 1
    # a corrupt cache is ignored and rewritten
    cache = tmp_path / "cache/idx.marshal"
    cache.write_bytes(b"\x00garbage" * 10)
    assert len(store.scan().notes) == 5 and len(calls) == 6
    assert cache.read_bytes() != b"\x00garbage" * 10
    # a deleted file disappears even though the cache still lists it
    first.notes[0].path.unlink()
    assert len(store.scan().notes) == 4


def test_truncated_or_foreign_cache_is_ignored(tmp_path, monkeypatch):
    root = tmp_path / "notes"
    for i in range(3):
        write(root / f"2026-01-0{i + 1}.md", f"day {i} #t{i}")
    cache = tmp_path / "cache/idx"
    NoteStore(root, trash=tmp_path / "trash", cache=cache).scan()
    whole = cache.read_bytes()
    calls = []
    real = parse.parse_text
    monkeypatch.setattr(parse, "parse_text", lambda data: calls.append(1) or real(data))
    cache.write_bytes(whole[: len(whole) // 2])  # a torn write
    s = NoteStore(root, trash=tmp_path / "trash", cache=cache)
    assert [n.body for n in s.scan().notes] == ["day 2 #t2", "day 1 #t1", "day 0 #t0"] and len(calls) == 3
    assert cache.read_bytes() == whole  # rebuilt to the same content
    # the same cache file used for another notes folder is not trusted
    other = tmp_path / "other"
    write(other / "2026-02-02.md", "elsewhere")
    s2 = NoteStore(other, trash=tmp_path / "trash", cache=cache)
    assert [n.body for n in s2.scan().notes] == ["elsewhere"]
    # nor with another size limit (it changes which files are problems)
    s3 = NoteStore(other, trash=tmp_path / "trash", cache=cache, max_bytes=3)
    assert s3.scan().notes == [] and "too large" in s3.scan().problems[0].reason


def test_cache_keeps_front_matter_values(store, tmp_path):
    write(tmp_path / "notes/x.md", "---\nwhen: 2023-09-12\nat: 2023-09-12T10:00:00+02:00\nnums: [1, 2.5]\n"
          "set: !!set {a, b}\npairs: !!omap [{k: 2023-01-01}, {j: [x]}]\n2024-01-01: dated key\n---\nx")
    write(tmp_path / "notes/y.md", "---\nplain: [1, {a: b}]\n---\ny")
    pick = lambda notes: next(n.meta for n in notes if n.path.name == "x.md")
    fresh = pick(store.scan().notes)
    cached = pick(store.scan().notes)
    assert cached == fresh == {
        "when": dt.date(2023, 9, 12),
        "at": dt.datetime(2023, 9, 12, 10, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        "nums": [1, 2.5],
        "set": {"a", "b"},
        "pairs": [("k", dt.date(2023, 1, 1)), ("j", ["x"])],
        dt.date(2024, 1, 1): "dated key",
    }
    assert [n.meta for n in store.scan().notes if n.path.name == "y.md"] == [{"plain": [1, {"a": "b"}]}]


def test_yaml_alias_bomb_does_not_hang_the_cache(store, tmp_path):
    # each level holds ten references to the one before: ~10^7 list nodes if walked naively
    lines, prev = ['a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]'], "a"
    for name in "bcdefg":
        lines.append(f"{name}: &{name} [" + ", ".join(["*" + prev] * 10) + "]")
        prev = name
    write(tmp_path / "notes/bomb.md", "---\n" + "\n".join(lines) + "\n---\nstill a note #x\n")
    for _ in range(2):  # the second scan goes through the cache path as well
        (note,) = store.scan().notes
        assert note.body == "still a note #x\n" and note.tags == ["x"] and len(note.meta["g"]) == 10


def test_unwritable_cache_is_not_an_error(tmp_path):
    write(tmp_path / "notes/a.md", "a")
    blocker = write(tmp_path / "cache-is-a-file", "not a folder")
    s = NoteStore(tmp_path / "notes", trash=tmp_path / "trash", cache=blocker / "idx")
    assert [n.body for n in s.scan().notes] == ["a"]
    assert [n.body for n in s.scan().notes] == ["a"]
    assert blocker.read_text() == "not a folder"


# ---------------------------------------------------------------- get / search


def test_get_by_id_prefix_name_and_path(store, tmp_path):
    a = store.add("alpha text", title="Alpha", created=dt.datetime(2026, 7, 1, 8, 0, tzinfo=UTC))
    b = store.add("beta text", title="Beta", created=dt.datetime(2026, 7, 1, 9, 0, tzinfo=UTC))
    assert store.get(a.id).path == a.path
    assert store.get("2026-07-01-0800").path == a.path  # file name prefix
    assert store.get("2026/07/2026-07-01-09").path == b.path  # id prefix
    assert store.get("beta").path == b.path  # part of the file name
    assert store.get(str(a.path)).path == a.path
    assert store.get("2026/07/2026-07-01-080000-alpha.md").path == a.path
    with pytest.raises(KeyError, match="matches 2 notes"):
        store.get("2026-07-01")
    with pytest.raises(KeyError, match="no note matches"):
        store.get("nothing-like-this")


def test_search_filters(store):
    mk = lambda body, d, **kw: store.add(body, created=dt.datetime(2026, 8, d, 12, tzinfo=UTC), **kw)
    mk("Lunch with Sam at the café", 1, tags=["food"])
    mk("Run: knee fine #health", 2)
    mk("Dinner with SAM and Alex", 3, kind="entry")
    assert [n.date.day for n in store.search("sam")] == [3, 1]
    assert [n.date.day for n in store.search("sam alex")] == [3]
    assert [n.date.day for n in store.search("CAFÉ")] == [1]
    assert [n.date.day for n in store.search(tags=["#Health"])] == [2]
    assert [n.date.day for n in store.search(kind="entry")] == [3]
    assert [n.date.day for n in store.search(start=dt.date(2026, 8, 2))] == [3, 2]
    assert [n.date.day for n in store.search(start=dt.date(2026, 8, 2), end=dt.date(2026, 8, 2))] == [2]
    assert store.search("food") and store.search("nothing here") == []
    # tag filters are exact: "heal" is only a substring of "health"
    assert store.search(tags=["heal"]) == []
    assert [n.date.day for n in store.search("knee", tags=["health"])] == [2]


def test_external_vault_untouched_by_scan_search_get(tmp_path, shared_data):
    vault = tmp_path / "vault"
    shutil.copytree(shared_data / "obsidian-kepano-vault" / "vault", vault)
    before = snapshot(vault)
    s = NoteStore(vault, trash=tmp_path / "home/trash", cache=tmp_path / "home/cache/idx")
    result = s.scan()
    assert len(result.notes) == 100 and result.problems == []  # 100 .md files, .obsidian skipped
    assert {n.date for n in s.search("meeting")} >= {dt.date(2023, 9, 12)}
    s.get("Daily/2023-09-12")
    s.scan()
    assert snapshot(vault) == before
