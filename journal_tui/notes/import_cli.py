"""``journal-tui import PATH [--format ...] [--kind note|entry] [--dry-run] [--json]``.

Imports a folder of Markdown/text notes, jrnl journals or Day One exports into the notes folder
(see :mod:`journal_tui.notes.importers`). The source is only read. Prints one line per added
note (``--dry-run``: per note it would add), one per duplicate and skipped item, then a summary;
with ``--json`` one object instead: ``{source, dry_run, added, duplicates, skipped: [{source,
reason}], by_format, days, notes}``.

Exit status 0 when the import ran (even if everything was skipped), 2 for a bad PATH or option.
Only argparse and the standard library are imported at module level.
"""

from __future__ import annotations

import argparse
import json
import sys

FORMAT_CHOICES = ("auto", "folder", "jrnl", "jrnl-json", "dayone")


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "import",
        help="import notes from a folder, a jrnl journal or a Day One export (the source is only read)",
        description=(
            "Import notes into the notes folder. PATH may be a folder of .md/.txt notes (Obsidian, "
            "Logseq, Jekyll, plain per-day files), a jrnl journal (.journal, or a YYYY/MM/DD.txt "
            "folder journal), a jrnl JSON export, a Day One JSON export or a Day One Classic "
            ".dayone folder. Each imported note records its source in front matter; importing "
            "the same thing again adds nothing."
        ),
    )
    p.add_argument("path", metavar="PATH", help="file or folder to import (never modified)")
    p.add_argument(
        "--format",
        choices=FORMAT_CHOICES,
        default="auto",
        help="how to read PATH (default auto: by each file's name and content)",
    )
    p.add_argument(
        "--kind",
        choices=("note", "entry"),
        default=None,
        help="import everything as notes or as journal entries (default: the source's own kind "
        "from front matter, else note)",
    )
    p.add_argument("--dry-run", action="store_true", help="show what would be imported; write nothing")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    p.set_defaults(handler=cmd_import)


def cmd_import(args: argparse.Namespace, locations) -> int:
    from journal_tui.cli import CliError
    from journal_tui.notes.importers import SourceError, run_import

    try:
        summary = run_import(locations, args.path, fmt=args.format, kind=args.kind, dry_run=args.dry_run)
    except SourceError as e:
        raise CliError(str(e)) from e
    except OSError as e:
        raise CliError(f"cannot write to the notes folder {locations.notes}: {e.strerror or e}") from e
    if args.json:
        print(json.dumps(summary.to_json(), ensure_ascii=False))
        return 0
    out = sys.stdout
    verb = "would add" if summary.dry_run else "added"
    for a in summary.added:
        where = a["path"] or a["source"]
        out.write(f"{verb:9} {a['day']} {a['kind']:5} {where}\n")
    for d in summary.duplicates:
        out.write(f"duplicate {d['day']} {d['source']}: same day and text as {d['duplicate_of']}\n")
    for s in summary.skipped:
        out.write(f"skipped   {s.source}: {s.reason}\n")
    data = summary.to_json()
    formats = ", ".join(f"{k}: {v['added']}" for k, v in sorted(summary.by_format.items()) if v["added"])
    out.write(
        f"{'dry run: would import' if summary.dry_run else 'imported'} {data['added']} notes over "
        f"{data['days']} days{f' ({formats})' if formats else ''}; {data['duplicates']} duplicates, "
        f"{len(summary.skipped)} skipped; into {locations.notes}\n"
    )
    return 0
