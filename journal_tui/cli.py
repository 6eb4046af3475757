"""The one command tree. The app runs these same commands as child processes.

``journal-tui`` with no subcommand opens the app. Subcommands are registered by small
``cli`` modules next to the code they drive, each exposing ``register(subparsers)``; each
subparser sets ``handler=callable(args, locations) -> int``. Registration modules import
only argparse-level things, so ``journal-tui notes list`` never pays for torch.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from journal_tui import __version__

#: modules that expose ``register(subparsers)``, in help order
COMMAND_MODULES = (
    "journal_tui.notes.cli",  # notes add|list|show|check|rm
    "journal_tui.notes.import_cli",  # import PATH
    "journal_tui.dataset.cli",  # dataset build|watch|status
    "journal_tui.training.cli",  # train, adapters list|use|rm
    "journal_tui.drafting.cli",  # draft
)


class CliError(Exception):
    """A user-facing error: printed as ``journal-tui: <message>`` with exit status 2 (or ``code``)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="journal-tui",
        description="A terminal journal that learns to write like you. With no command, opens the app.",
    )
    parser.add_argument("--version", action="version", version=f"journal-tui {__version__}")
    parser.add_argument(
        "--home",
        metavar="DIR",
        help="keep notes, datasets, adapters, config.toml, logs and cache under DIR "
        "(default: $JOURNAL_TUI_HOME, else the platform's user folders)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name == name:  # not written yet
                continue
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``journal-tui`` and ``python -m journal_tui``. Returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    import os

    from journal_tui.config import ConfigError
    from journal_tui.locations import Locations

    # Files and folders that libraries create (PEFT's adapter_config.json, log files, event
    # logs, model caches) are private too: 0600 / 0700, whatever the shell's umask.
    old_umask = os.umask(0o077)
    try:
        if args.home is not None and not args.home.strip():
            # `--home "$DIR"` with DIR unset must not fall back to the real journal
            raise CliError("--home is empty: give a folder (or leave --home out to use the default one)")
        locations = Locations.resolve(args.home)
        handler = getattr(args, "handler", None)
        if handler is None:
            if args.command:  # a group such as "notes" without its subcommand
                parser.parse_args([*(argv if argv is not None else sys.argv[1:]), "--help"])
            from journal_tui.app.app import run_app

            return run_app(locations)
        return int(handler(args, locations) or 0)
    except (CliError, ConfigError) as e:
        print(f"journal-tui: {e}", file=sys.stderr)
        return getattr(e, "code", 2)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    finally:
        os.umask(old_umask)


if __name__ == "__main__":
    raise SystemExit(main())
