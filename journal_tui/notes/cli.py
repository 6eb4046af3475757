"""``journal-tui notes add|list|show|check|rm``: the notes store from the command line.

Import-light on purpose (argparse and stdlib at module level; the store is imported inside the
handlers): ``notes list --search`` must answer in well under 100 ms over 10,000 notes, python
start-up included (see ``benchmarks/notes_search.py``).

JSON output (``--json``) uses :meth:`journal_tui.notes.model.Note.to_json`, whose fields are
stable: ``id, path, date, created, kind, title, tags, body``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

KIND_CHOICES = ("note", "entry")


def parse_day(text: str) -> dt.date:
    """``YYYY-MM-DD``, ``today`` or ``yesterday`` -> date (argparse ``type=``).

    Raises:
        argparse.ArgumentTypeError: anything else (argparse prints it and exits with 2).
    """
    s = text.strip().lower()
    if s == "today":
        return dt.date.today()
    if s == "yesterday":
        return dt.date.today() - dt.timedelta(days=1)
    try:
        if len(s) != 10:
            raise ValueError
        return dt.date.fromisoformat(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: use YYYY-MM-DD (or today, yesterday)") from None


def register(subparsers) -> None:
    p = subparsers.add_parser("notes", help="add, list, search, show, check and delete notes",
                              description="Work with the notes folder (Markdown files).")
    sub = p.add_subparsers(dest="notes_command", metavar="ACTION")

    a = sub.add_parser("add", help="write a new note", description="Write a new note and print its id and path.")
    a.add_argument("text", metavar="TEXT", help="the note's text; - reads it from stdin")
    a.add_argument("--date", type=parse_day, metavar="YYYY-MM-DD", help="the note's day (default: today)")
    a.add_argument("--kind", choices=KIND_CHOICES, default="note", help="entry = the day's journal entry")
    a.add_argument("--tag", action="append", default=[], metavar="T", help="a tag (repeatable)")
    a.add_argument("--title", metavar="T", help="a title (also names the file)")
    a.add_argument("--json", action="store_true", help="print the note as JSON")
    a.set_defaults(handler=cmd_add)

    ls = sub.add_parser("list", help="list or search notes, newest first",
                        description="List notes newest first, optionally filtered.")
    ls.add_argument("--date", type=parse_day, metavar="D", help="only this day")
    ls.add_argument("--from", dest="start", type=parse_day, metavar="D", help="from this day (inclusive)")
    ls.add_argument("--to", dest="end", type=parse_day, metavar="D", help="to this day (inclusive)")
    ls.add_argument("--tag", action="append", default=[], metavar="T", help="only notes with this tag (repeatable: all of them)")
    ls.add_argument("--search", metavar="Q", help="only notes containing every word of Q (case-insensitive)")
    ls.add_argument("--kind", choices=KIND_CHOICES, help="only notes or only entries")
    ls.add_argument("--limit", type=int, metavar="N", help="at most N notes")
    ls.add_argument("--json", action="store_true", help="print a JSON array of notes")
    ls.set_defaults(handler=cmd_list)

    sh = sub.add_parser("show", help="print one note", description="Print one note.")
    sh.add_argument("id", metavar="ID", help="note id, unique id prefix, file name prefix, or path")
    sh.add_argument("--json", action="store_true", help="print the note as JSON")
    sh.set_defaults(handler=cmd_show)

    ck = sub.add_parser("check", help="list files that cannot be read as notes (exit 1 if any)",
                        description="List files in the notes folder that cannot be read, with the reason. "
                        "They are never changed. Exit status 1 if there are any.")
    ck.add_argument("--json", action="store_true", help="print {notes, problems} as JSON")
    ck.set_defaults(handler=cmd_check)

    rm = sub.add_parser("rm", help="move a note to the trash", description="Move a note into home/trash/.")
    rm.add_argument("id", metavar="ID", help="note id, unique prefix, or path")
    rm.set_defaults(handler=cmd_rm)


def _store(locations):
    from journal_tui.notes.store import NoteStore

    return NoteStore.from_locations(locations)


def _get(store, ref: str):
    from journal_tui.cli import CliError
    from journal_tui.notes.store import NoteError

    try:
        return store.get(ref)
    except KeyError as e:
        raise CliError(str(e.args[0]) if e.args else f"no note matches {ref!r}") from None
    except NoteError as e:
        raise CliError(f"{e}; see `journal-tui notes check`") from None


def _print_json(obj) -> None:
    import json

    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def cmd_add(args, locations) -> int:
    from journal_tui.cli import CliError

    text = sys.stdin.read() if args.text == "-" else args.text
    if not text.strip():
        raise CliError("nothing to add: the text is empty")
    for what, value in (("text", text), ("--title", args.title or ""), *(("--tag", t) for t in args.tag)):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as e:  # undecodable bytes from argv or stdin (surrogate escapes)
            where = "read from stdin" if what == "text" and args.text == "-" else "on the command line"
            raise CliError(f"the note's {what} is not UTF-8 ({where}, character {e.start}): "
                           "convert it to UTF-8 first, e.g. with iconv; nothing was written") from None
    store = _store(locations)
    try:
        note = store.add(text, day=args.date, kind=args.kind, tags=args.tag, title=args.title)
    except OSError as e:
        raise CliError(f"could not write the note into {store.root}: {e.strerror or e}") from None
    except (ValueError, OverflowError) as e:  # e.g. a day at the very edge of the calendar
        if args.date is None or isinstance(e, UnicodeError):
            raise
        raise CliError(f"cannot add a note on {args.date}: {e}; give a day between 0002-01-01 and 9998-12-31") from None
    if args.json:
        _print_json(note.to_json())
    else:
        print(f"{note.id}\t{note.path}")
    return 0


def _summary(note) -> str:
    if note.title:
        return note.title
    for line in note.body.split("\n"):
        line = line.strip().lstrip("#-*> ").strip()
        if line:
            return " ".join(line.split())
    return ""


def _width() -> int:
    import os

    cols = os.environ.get("COLUMNS", "")
    if cols.isdigit() and int(cols) > 0:
        return int(cols)
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns
    except (OSError, ValueError):
        return 120


def _table(notes) -> str:
    """A compact table: day, time, kind, id (never shortened: it is what show/rm take), then
    the title or first line and the tags, cut to the terminal width."""
    width = _width()
    rows = []
    for n in notes:
        time = n.created.strftime("%H:%M") if n.created else ""
        tags = " ".join("#" + t for t in n.tags)
        rows.append((n.date.isoformat(), time, n.kind, n.id, _summary(n), tags))
    id_w = min(max((len(r[3]) for r in rows), default=2), 60)
    out = [f"{'DATE':<10}  {'TIME':<5}  {'KIND':<5}  {'ID':<{id_w}}  TITLE / FIRST LINE"]
    for d, t, k, i, s, tags in rows:
        rest = s + (f"  {tags}" if tags else "")
        room = max(width - (10 + 2 + 5 + 2 + 5 + 2 + max(id_w, len(i)) + 2), 20)
        if len(rest) > room:
            rest = rest[: room - 1] + "…"
        out.append(f"{d:<10}  {t:<5}  {k:<5}  {i:<{id_w}}  {rest}")
    return "\n".join(out)


def cmd_list(args, locations) -> int:
    from journal_tui.cli import CliError

    if args.date and (args.start or args.end):
        raise CliError("use either --date or --from/--to, not both")
    start, end = (args.date, args.date) if args.date else (args.start, args.end)
    if start and end and start > end:
        raise CliError(f"--from {start} is after --to {end}")
    if args.limit is not None and args.limit < 0:
        raise CliError("--limit must be 0 or more")
    store = _store(locations)
    notes = store.search(args.search, tags=args.tag, kind=args.kind, start=start, end=end)
    if args.limit is not None:
        notes = notes[: args.limit]
    if args.json:
        _print_json([n.to_json() for n in notes])
    elif notes:
        print(_table(notes))
    else:
        print("no notes match" if (args.search or args.tag or args.kind or start or end) else
              f"no notes yet in {store.root}: add one with `journal-tui notes add TEXT`", file=sys.stderr)
    if store.last_problems:
        print(f"journal-tui: {store.last_problems} file(s) could not be read as notes: "
              "see `journal-tui notes check`", file=sys.stderr)
    return 0


def cmd_show(args, locations) -> int:
    note = _get(_store(locations), args.id)
    if args.json:
        _print_json(note.to_json())
        return 0
    print(f"id:      {note.id}")
    print(f"path:    {note.path}")
    print(f"date:    {note.date.isoformat()}")
    print(f"created: {note.created.isoformat() if note.created else '-'}")
    print(f"kind:    {note.kind}")
    if note.title:
        print(f"title:   {note.title}")
    if note.tags:
        print(f"tags:    {', '.join(note.tags)}")
    print()
    sys.stdout.write(note.body if note.body.endswith("\n") or not note.body else note.body + "\n")
    return 0


def cmd_check(args, locations) -> int:
    result = _store(locations).scan()
    if args.json:
        _print_json({"notes": len(result.notes), "problems": [p.to_json() for p in result.problems]})
    else:
        for p in result.problems:
            print(f"{p.path}\n    {p.reason}")
        print(f"{len(result.notes)} notes read, {len(result.problems)} problem file(s)"
              + (" (left unchanged)" if result.problems else ""), file=sys.stderr)
    return 1 if result.problems else 0


def cmd_rm(args, locations) -> int:
    from journal_tui.cli import CliError
    from journal_tui.notes.store import NoteError

    store = _store(locations)
    note = _get(store, args.id)
    try:
        where = store.delete(note)
    except (NoteError, OSError) as e:
        raise CliError(f"could not move {note.path} to the trash: {e}") from None
    print(f"moved {note.id} to the trash: {where}")
    return 0
