"""Helpers for the drafting tests: notes for a day and a LoRA adapter in journal-tui's format."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

DAY = dt.date(2026, 11, 29)
RUN_ID = "20261129-120000-abcd"


def add_notes(home: Path, day: dt.date = DAY, texts=("Went for a run by the river.", "Lunch with Sam.")) -> None:
    from journal_tui.locations import Locations
    from journal_tui.notes.store import NoteStore

    store = NoteStore.from_locations(Locations.resolve(home))
    for i, text in enumerate(texts):
        created = dt.datetime.combine(day, dt.time(9 + i, 15)).astimezone()
        store.add(text, day=day, created=created)


def make_adapter(home: Path, model_dir: Path, run_id: str = RUN_ID, *, arch_change: dict | None = None,
                 template_version: str = "jt-1", latest: bool = True, seed: int = 0) -> Path:
    """Save a random (non-zero) LoRA adapter for the model in ``model_dir`` as
    ``home/adapters/RUN_ID`` with a manifest like training writes; point ``latest`` at it."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from journal_tui.locations import Locations
    from journal_tui.training.models import resolve_model_source

    locs = Locations.resolve(home)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    cfg = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "k_proj", "v_proj", "dense", "fc1", "fc2"],
                     init_lora_weights=False, task_type="CAUSAL_LM")
    peft_model = get_peft_model(model, cfg)
    with torch.no_grad():  # make the update large enough to change greedy choices
        for name, p in peft_model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)
    out = Path(locs.adapters) / run_id
    peft_model.save_pretrained(out)
    identity = resolve_model_source(str(model_dir), locs).identity()
    if arch_change:
        identity["arch"] = {**identity["arch"], **arch_change}
    manifest = {"run_id": run_id, "created": "2026-11-29T12:00:00+00:00", "base_model": identity,
                "quant": "none", "template_version": template_version,
                "lora": {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": cfg.target_modules and sorted(cfg.target_modules)}}
    (out / "manifest.json").write_text(json.dumps(manifest))
    if latest:
        (Path(locs.adapters) / "latest").write_text(run_id + "\n")
    return out


def events_of(text: str) -> list[dict]:
    from journal_tui.events import parse_event_line

    lines = [ln for ln in text.splitlines() if ln.strip()]
    evs = [parse_event_line(ln) for ln in lines]
    assert all(e is not None for e in evs), f"stdout had non-event lines: {lines}"
    return evs
