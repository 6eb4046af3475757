"""Past training runs: finished adapters (``home/adapters/RUN_ID/``) and runs in progress or
cancelled (``home/runs/RUN_ID/``), newest first. Selecting one posts :class:`RunList.RunChosen`
so the train panel can reload its loss curves from the run's ``events.jsonl``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option


@dataclass
class RunInfo:
    """One run folder. ``status``: ``adapter`` (promoted, usable) or ``partial`` (in runs/,
    in progress or cancelled; resumable with ``train --resume RUN_ID``)."""

    run_id: str
    path: Path
    status: str
    best_eval_loss: float | None
    base_model: str
    mtime: float
    latest: bool = False

    @property
    def events_path(self) -> Path:
        return self.path / "events.jsonl"


def _best_from_events(path: Path) -> float | None:
    best = None
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if '"eval"' not in line and '"done"' not in line:
                    continue
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                v = ev.get("best_eval_loss") if ev.get("event") == "done" else ev.get("eval_loss")
                if isinstance(v, (int, float)) and (best is None or v < best):
                    best = float(v)
    except OSError:
        return None
    return best


def latest_run_id(locations) -> str | None:
    """The run id in ``adapters/latest`` (None when missing or empty)."""
    try:
        text = Path(locations.latest_adapter).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text or None


def scan_runs(locations) -> list[RunInfo]:
    """All run folders under adapters/ and runs/, newest first (by folder mtime).

    A run id present in both places is listed once, as the adapter."""
    latest = latest_run_id(locations)
    found: dict[str, RunInfo] = {}
    for folder, status in ((Path(locations.adapters), "adapter"), (Path(locations.runs), "partial")):
        if not folder.is_dir():
            continue
        for d in folder.iterdir():
            if not d.is_dir() or d.name.startswith(".") or d.name in found:
                continue
            manifest: dict = {}
            try:
                manifest = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                pass
            best = manifest.get("best_eval_loss")
            if not isinstance(best, (int, float)):
                best = _best_from_events(d / "events.jsonl")
            base = manifest.get("base_model") or manifest.get("model") or ""
            try:
                mtime = d.stat().st_mtime
            except OSError:
                mtime = 0.0
            found[d.name] = RunInfo(d.name, d, status, best, str(base), mtime, latest == d.name)
    return sorted(found.values(), key=lambda r: (r.mtime, r.run_id), reverse=True)


def describe(run: RunInfo) -> str:
    best = f"best eval_loss {run.best_eval_loss:.3f}" if run.best_eval_loss is not None else "no eval yet"
    state = "latest adapter" if run.latest else ("adapter" if run.status == "adapter" else "partial run (resumable)")
    return f"{run.run_id}  ·  {best}  ·  {state}"


class RunList(OptionList):
    """Selectable list of past runs; :meth:`reload` rescans the folders."""

    DEFAULT_CSS = """
    RunList { height: auto; max-height: 8; }
    """

    class RunChosen(Message):
        """The person picked a run: ``run`` is its :class:`RunInfo`."""

        def __init__(self, run: RunInfo) -> None:
            super().__init__()
            self.run = run

    def __init__(self, locations, **kwargs) -> None:
        super().__init__(**kwargs)
        self.locations = locations
        self.runs: list[RunInfo] = []

    def on_mount(self) -> None:
        self.reload()

    def reload(self) -> None:
        self.runs = scan_runs(self.locations)
        self.clear_options()
        if self.runs:
            self.add_options([Option(describe(r), id=r.run_id) for r in self.runs])
        else:
            self.add_option(Option("No training runs yet.", id="__none__", disabled=True))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        for r in self.runs:
            if r.run_id == event.option.id:
                self.post_message(self.RunChosen(r))
                return
