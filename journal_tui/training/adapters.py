"""Trained adapters: ``home/adapters/RUN_ID/`` and the ``latest`` pointer.

Each adapter folder holds the PEFT files (``adapter_config.json``,
``adapter_model.safetensors``), ``manifest.json`` and ``events.jsonl``. A folder is written
under a hidden temp name and renamed into place, so a half-written adapter is never seen.
``adapters/latest`` is a text file holding one run id, written atomically; it moves only when a
run ends with a finite eval loss.

manifest.json::

    {"run_id", "created", "base_model": ModelSource.identity(), "quant",
     "lora": {"r", "alpha", "dropout", "target_modules"}, "template_version",
     "dataset": {"sha256": {file: sha}, "counts": {...}, "built_at"}, "max_length", "seed",
     "metrics": {"base_eval_loss", "best_eval_loss", "best_step", "steps", "tokens_per_s", ...},
     "versions": {"journal_tui", "torch", "transformers", "peft"}}

Loading checks the manifest against the base (architecture, weights fingerprint, GGUF hash or
hub revision; prompt template version) and that the saved adapter keys are exactly the ones the
model expects. A mismatch raises :class:`AdapterMismatchError`; there is no silent fallback to
the base model.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from journal_tui.training.errors import AdapterMismatchError, AdapterNotFoundError

RUN_ID_RE = re.compile(r"^\d{8}-\d{6}-[0-9a-f]{4}$")


@dataclass(frozen=True)
class AdapterInfo:
    """One adapter folder: ``run_id``, ``path`` (``home/adapters/RUN_ID``) and its parsed
    ``manifest``."""

    run_id: str
    path: Path
    manifest: dict

    def summary(self) -> dict:
        """The JSON shape of ``adapters list --json`` rows."""
        m = self.manifest.get("metrics", {})
        return {
            "run_id": self.run_id,
            "path": str(self.path),
            "created": self.manifest.get("created"),
            "base_model": (self.manifest.get("base_model") or {}).get("name"),
            "quant": self.manifest.get("quant"),
            "base_eval_loss": m.get("base_eval_loss"),
            "best_eval_loss": m.get("best_eval_loss"),
            "steps": m.get("steps"),
        }


def read_latest(locations) -> str | None:
    """The run id in ``adapters/latest``, or None when there is no pointer."""
    try:
        text = Path(locations.latest_adapter).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return text or None


def set_latest(locations, run_id: str | None) -> None:
    """Point ``adapters/latest`` at ``run_id`` (atomic write); ``None`` removes the pointer."""
    from journal_tui.fsutil import atomic_write_text

    if run_id is None:
        Path(locations.latest_adapter).unlink(missing_ok=True)
    else:
        atomic_write_text(Path(locations.latest_adapter), run_id + "\n")


def _load(path: Path) -> AdapterInfo | None:
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(manifest, dict):
        return None
    return AdapterInfo(path.name, path, manifest)


def list_adapters(locations) -> list[AdapterInfo]:
    """All complete adapters (folders with a readable manifest.json), newest first."""
    root = Path(locations.adapters)
    if not root.is_dir():
        return []
    infos = [i for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and (i := _load(p))]
    return sorted(infos, key=lambda i: (str(i.manifest.get("created", "")), i.run_id), reverse=True)


def resolve_adapter(locations, ref: str | None) -> AdapterInfo | None:
    """Find the adapter named by ``ref``.

    Args:
        ref: ``"latest"`` (the pointer; None when no adapter was ever promoted), ``"none"`` (None:
            use the base model), or a run id or unique prefix of one.

    Raises:
        AdapterNotFoundError: the run id is unknown or ambiguous, or ``latest`` points at a
            missing or broken folder.
    """
    if ref is None or ref == "none":
        return None
    root = Path(locations.adapters)
    if ref == "latest":
        run_id = read_latest(locations)
        if run_id is None:
            return None
        info = _load(root / run_id)
        if info is None:
            raise AdapterNotFoundError(
                f"{locations.latest_adapter} points at {run_id!r}, which has no readable adapter",
                "Run `journal-tui adapters list` and `journal-tui adapters use RUN_ID`, or retrain.",
            )
        return info
    info = _load(root / ref)
    if info is not None:
        return info
    matches = [i for i in list_adapters(locations) if i.run_id.startswith(ref)]
    if len(matches) == 1:
        return matches[0]
    why = "matches several adapters" if matches else "is not an adapter"
    raise AdapterNotFoundError(f"{ref!r} {why} in {root}", "Run `journal-tui adapters list` to see the run ids.")


def check_adapter_matches(info: AdapterInfo, source) -> None:
    """Check that adapter ``info`` was trained on base ``source`` with a template we can render.

    Compared: the architecture fields of config.json, the weights fingerprint, the GGUF sha256
    and the hub revision (each when both sides have it), and the template version (must be in
    ``dataset.template.SUPPORTED_VERSIONS``).

    Raises:
        AdapterMismatchError: naming the first difference and what to do.
    """
    from journal_tui.dataset.template import SUPPORTED_VERSIONS

    hint = "Draft with the base model it was trained on (--model), use another adapter, or retrain."
    base = info.manifest.get("base_model") or {}
    ident = source.identity()
    if base.get("arch") != ident["arch"]:
        raise AdapterMismatchError(
            f"adapter {info.run_id} was trained on {base.get('name')!r} ({base.get('arch')}), "
            f"not on {source.name!r} ({ident['arch']})",
            hint,
        )
    for key in ("sha256", "revision", "weights_fingerprint"):
        a, b = base.get(key), ident.get(key)
        if a and b and a != b:
            raise AdapterMismatchError(
                f"adapter {info.run_id} was trained on other weights than {source.name!r} "
                f"({key} {str(a)[:12]} vs {str(b)[:12]})",
                hint,
            )
    version = info.manifest.get("template_version")
    if version not in SUPPORTED_VERSIONS:
        raise AdapterMismatchError(
            f"adapter {info.run_id} uses prompt template {version!r}; this journal-tui renders "
            f"{', '.join(SUPPORTED_VERSIONS)}",
            "Retrain the adapter (journal-tui train) or upgrade journal-tui.",
        )


def load_adapter(model, info: AdapterInfo, *, is_trainable: bool = False):
    """Attach adapter ``info`` to ``model`` (a base from ``models.load_base_model``).

    Returns:
        A ``peft.PeftModel``.

    Raises:
        AdapterMismatchError: target modules absent from the model, or saved keys missing /
            unexpected compared with what the model expects.
    """
    from peft import PeftModel
    from peft.utils import get_peft_model_state_dict
    from safetensors import safe_open

    weights = info.path / "adapter_model.safetensors"
    if not weights.exists():
        raise AdapterNotFoundError(f"{weights}: missing", "Retrain, or remove the adapter folder.")
    try:
        peft_model = PeftModel.from_pretrained(model, info.path, is_trainable=is_trainable)
    except (ValueError, RuntimeError, KeyError) as e:
        raise AdapterMismatchError(f"adapter {info.run_id} does not fit this model: {e}", "Retrain.") from e
    with safe_open(str(weights), framework="pt") as f:
        saved = set(f.keys())
    expected = set(get_peft_model_state_dict(peft_model).keys())
    missing, unexpected = sorted(expected - saved), sorted(saved - expected)
    if missing or unexpected:
        raise AdapterMismatchError(
            f"adapter {info.run_id} keys do not match the model: {len(missing)} missing "
            f"({', '.join(missing[:3])}), {len(unexpected)} unexpected ({', '.join(unexpected[:3])})",
            "Retrain the adapter for this base model.",
        )
    return peft_model


def promote_staged(locations, staged: Path, run_id: str, *, make_latest: bool) -> AdapterInfo:
    """Rename a finished ``staged`` folder (hidden, inside ``adapters/``) to ``adapters/RUN_ID``
    and, when ``make_latest``, move ``latest`` to it. Returns the new AdapterInfo."""
    final = Path(locations.adapters) / run_id
    if final.exists():
        shutil.rmtree(final)
    Path(staged).rename(final)
    if make_latest:
        set_latest(locations, run_id)
    info = _load(final)
    assert info is not None, final
    return info


def remove_adapter(locations, run_id: str, *, force: bool = False) -> tuple[Path, str | None]:
    """Delete adapter ``run_id``. Removing the ``latest`` one needs ``force``; then ``latest``
    moves back to the newest remaining adapter (or is removed when none is left).

    Returns:
        (removed folder, new latest run id or None).

    Raises:
        AdapterNotFoundError: unknown run id. PermissionError: latest without ``force``.
    """
    info = resolve_adapter(locations, run_id)
    assert info is not None
    latest = read_latest(locations)
    new_latest = latest
    if latest == info.run_id:
        if not force:
            raise PermissionError(
                f"{info.run_id} is the latest adapter; pass --force to remove it (latest then moves back "
                "to the previous adapter)"
            )
        rest = [i for i in list_adapters(locations) if i.run_id != info.run_id]
        new_latest = rest[0].run_id if rest else None
        set_latest(locations, new_latest)
    shutil.rmtree(info.path)
    return info.path, new_latest
