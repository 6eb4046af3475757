"""``journal-tui dataset build|watch|status``.

* ``dataset build [--json]``: full rebuild of ``home/datasets``; prints a summary line, or the
  BuildSummary as one JSON object with ``--json``.
* ``dataset watch [--events jsonl] [--debounce S]``: builds, then keeps the dataset current
  until Ctrl-C (or SIGTERM); one line per rebuild, or JSON lines (events ``watching``,
  ``build``, ``error``) with ``--events jsonl``.
* ``dataset status [--json]``: what the last build wrote (from ``manifest.json``).

Only argparse and the standard library are imported at module level.
"""

from __future__ import annotations

import json
import sys


def register(subparsers) -> None:
    p = subparsers.add_parser("dataset", help="build and watch the training dataset made from your notes")
    sub = p.add_subparsers(dest="dataset_command", metavar="COMMAND")

    b = sub.add_parser(
        "build", help="rebuild datasets/train.jsonl, eval.jsonl and manifest.json from all notes"
    )
    b.add_argument("--json", action="store_true", help="print the build summary as one JSON object")
    b.set_defaults(handler=cmd_build)

    w = sub.add_parser("watch", help="keep the dataset current while notes change (Ctrl-C stops)")
    w.add_argument(
        "--events",
        choices=["text", "jsonl"],
        default="text",
        help="jsonl: one JSON object per line (events watching, build, error)",
    )
    w.add_argument(
        "--debounce",
        type=float,
        default=0.2,
        metavar="S",
        help="seconds of quiet before a rebuild (default 0.2)",
    )
    w.set_defaults(handler=cmd_watch)

    s = sub.add_parser("status", help="show what the last build wrote")
    s.add_argument("--json", action="store_true", help='print manifest.json (or {"built": false})')
    s.set_defaults(handler=cmd_status)


def cmd_build(args, locations) -> int:
    from journal_tui.cli import CliError
    from journal_tui.dataset.build import build_dataset

    if locations.notes_is_external and not locations.notes.is_dir():
        # an unmounted drive or a typo must not turn the dataset into an empty one
        raise CliError(
            f"notes folder {locations.notes} (notes_dir in {locations.config_file}) does not exist: "
            f"create it or fix notes_dir; {locations.datasets} was left as it was"
        )
    try:
        summary = build_dataset(locations)
    except OSError as e:
        raise CliError(f"cannot write the dataset to {locations.datasets}: {e}; the previous files were kept") from e
    if args.json:
        print(json.dumps(summary.to_json(), ensure_ascii=False))
    else:
        print(f"dataset: {summary.line()}")
        for item in summary.skipped:
            print(f"  skipped {item['path']}: {item['reason']}")
        print(f"  wrote {summary.datasets_dir} in {summary.duration_s:.2f} s")
    return 0


def cmd_watch(args, locations) -> int:
    import signal
    import threading

    from journal_tui.cli import CliError
    from journal_tui.dataset.watch import DatasetWatcher
    from journal_tui.events import EventWriter
    from journal_tui.fsutil import ensure_dir

    if not locations.notes.is_dir():
        if locations.notes_is_external:
            raise CliError(
                f"notes folder {locations.notes} (notes_dir in {locations.config_file}) does not exist: "
                "create it or fix notes_dir"
            )
        ensure_dir(locations.notes)
    if not 0 <= args.debounce < float("inf"):  # also refuses nan
        raise CliError(f"--debounce {args.debounce}: give a number of seconds, 0 or more (default 0.2)")
    events = EventWriter() if args.events == "jsonl" else None

    def on_build(summary) -> None:
        if events:
            events.emit("build", **summary.to_json())
            return
        kind = "full" if summary.changed_days is None else f"{len(summary.changed_days)} day(s)"
        print(
            f"{summary.built_at[11:19]} rebuilt ({kind}, {summary.duration_s:.2f} s): {summary.line()}",
            flush=True,
        )

    def on_error(exc: BaseException) -> None:
        if events:
            events.emit(
                "error",
                kind=type(exc).__name__,
                message=str(exc),
                hint="the next change triggers a full rescan",
            )
        else:
            print(
                f"journal-tui: rebuild failed: {exc} (the next change triggers a full rescan)",
                file=sys.stderr,
                flush=True,
            )

    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    watcher = DatasetWatcher(locations, on_build=on_build, on_error=on_error, debounce_s=args.debounce)
    if events:
        events.emit("watching", notes_dir=str(locations.notes), datasets_dir=str(locations.datasets))
    else:
        print(f"watching {locations.notes} (Ctrl-C stops)", flush=True)
    try:
        watcher.start()
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    except OSError as e:  # e.g. ENOSPC: the inotify watch limit
        raise CliError(
            f"cannot watch {locations.notes} or write {locations.datasets}: {e} (on Linux, a large notes "
            "folder may need a higher fs.inotify.max_user_watches)"
        ) from e
    finally:
        watcher.stop()
        signal.signal(signal.SIGTERM, previous)
    return 0


def cmd_status(args, locations) -> int:
    from journal_tui.dataset.build import read_manifest

    from journal_tui.dataset.build import MANIFEST_FILE

    manifest = read_manifest(locations)
    broken = None
    if manifest is None and (locations.datasets / MANIFEST_FILE).exists():
        broken = (f"{locations.datasets / MANIFEST_FILE} cannot be read (not a JSON object): "
                  "run `journal-tui dataset build` to rebuild the dataset")
    if args.json:
        out = manifest if manifest is not None else {"built": False, **({"error": broken} if broken else {})}
        print(json.dumps(out, ensure_ascii=False))
        return 0
    if broken:
        print(f"journal-tui: {broken}", file=sys.stderr)
        return 1
    if manifest is None:
        print(f"no dataset yet in {locations.datasets}: run `journal-tui dataset build`")
        return 0
    c = manifest.get("counts", {})
    print(
        f"dataset in {locations.datasets} (template {manifest.get('template_version')}, built {manifest.get('built_at')})"
    )
    print(
        f"  pairs {c.get('pairs', 0)}, voice examples {c.get('voice', 0)}"
        f" ({'on' if manifest.get('voice_enabled') else 'off'})"
    )
    print(
        f"  train {c.get('train', 0)} / eval {c.get('eval', 0)} examples; "
        f"{c.get('days', 0)} days, {c.get('eval_days', 0)} for eval"
    )
    skipped = manifest.get("skipped") or []
    if skipped:
        print(f"  {len(skipped)} problem file(s):")
        for item in skipped:
            print(f"    {item.get('path')}: {item.get('reason')}")
    if manifest.get("message"):
        print(f"  {manifest['message']}")
    return 0
