"""Dataset status: what the next training run will learn from.

Shows, from ``datasets/manifest.json`` (written by ``journal_tui.dataset.build``): the number of
pair and voice examples, the train/eval split (examples and days), when it was last built and
the problem files the build skipped, with their reasons. The app refreshes it after every
(re)build; reading the manifest is a small JSON read, safe on the UI thread.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from textual.widgets import Static

#: how many skipped files are listed by name (the rest are counted)
MAX_PROBLEMS_SHOWN = 5


def read_manifest(locations) -> dict | None:
    """The dataset manifest, or None when there is none yet (or it cannot be parsed).

    Uses :func:`journal_tui.dataset.build.read_manifest` when that module is present.
    """
    try:
        from journal_tui.dataset.build import read_manifest as _read
    except ImportError:  # the dataset builder is not installed in this checkout
        _read = None
    if _read is not None:
        try:
            return _read(locations)
        except (OSError, ValueError):
            return None
    try:
        return json.loads((Path(locations.datasets) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _when(value) -> str:
    if not value:
        return "?"
    try:
        t = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if t.tzinfo is not None:
        t = t.astimezone()
    return t.strftime("%Y-%m-%d %H:%M")


def format_status(manifest: dict | None) -> str:
    """Rich-markup text of the status (pure; tested directly)."""
    if not manifest:
        return "[b]Dataset[/b]  not built yet — press [b]t[/b] to build it and train, or run `journal-tui dataset build`."
    c = manifest.get("counts") or {}
    lines = [
        f"[b]Dataset[/b]  {c.get('pairs', 0)} pairs · {c.get('voice', 0)} voice examples · "
        f"train {c.get('train', 0)} / eval {c.get('eval', 0)} examples "
        f"({c.get('days', 0)} days, {c.get('eval_days', 0)} eval days) · "
        f"template {manifest.get('template_version', '?')} · built {_when(manifest.get('built_at'))}"
    ]
    if not c.get("train"):
        lines.append("[yellow]No training examples yet: write some notes (and accept a few entries).[/yellow]")
    skipped = manifest.get("skipped") or []
    if skipped:
        lines.append(f"[yellow]{len(skipped)} problem file{'s' if len(skipped) != 1 else ''} skipped:[/yellow]")
        for item in skipped[:MAX_PROBLEMS_SHOWN]:
            from rich.markup import escape

            lines.append(f"  {escape(str(item.get('path', '?')))}: {escape(str(item.get('reason', '')))}")
        if len(skipped) > MAX_PROBLEMS_SHOWN:
            lines.append(f"  … and {len(skipped) - MAX_PROBLEMS_SHOWN} more (`journal-tui dataset status`)")
    return "\n".join(lines)


class DatasetStatus(Static):
    """One-glance dataset status; call :meth:`reload` after a build."""

    DEFAULT_CSS = """
    DatasetStatus { height: auto; padding: 0 1; }
    """

    def __init__(self, locations, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.locations = locations
        self.manifest: dict | None = None

    def on_mount(self) -> None:
        self.reload()

    def reload(self) -> None:
        """Re-read the manifest and redraw."""
        self.manifest = read_manifest(self.locations)
        self.update(format_status(self.manifest))
