"""``config.toml``: settings shared by the CLI and the app.

Layout (every key optional; keys are named like the CLI flags, with underscores)::

    notes_dir = "~/vault/Daily"      # where notes live (default: home/notes)
    allow_downloads = false          # let transformers fetch a base model from the Hub

    [model]
    base = "microsoft/phi-2"         # hub id (local cache), HF folder, or .gguf file
    quant = "auto"                   # auto | nf4 | int8 | none  (auto: nf4 on CUDA, none on CPU)

    [dataset]
    voice_until_pairs = 10           # emit voice examples while pairs < this
    max_example_chars = 2000         # longer texts are split at paragraph/sentence bounds
    eval_fraction = 0.1

    [train]  epochs, max_steps, learning_rate, lora_r, lora_alpha, lora_dropout,
             target_modules, eval_steps, patience, warmup_ratio, seed, profile, ...
    [draft]  max_new_tokens, temperature, top_p, repetition_penalty, seed, adapter

Reading uses the standard library's ``tomllib``; editing uses ``tomlkit`` so the person's
comments and layout survive. A file that does not parse is never rewritten.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

DEFAULTS: dict[str, Any] = {
    "notes_dir": None,
    "allow_downloads": False,
    "model": {"base": "microsoft/phi-2", "quant": "auto"},
    "dataset": {"voice_until_pairs": 10, "max_example_chars": 2000, "eval_fraction": 0.1},
    "train": {
        "epochs": 3,
        "max_steps": None,
        "learning_rate": 2e-4,
        "lora_r": 32,
        "lora_alpha": 64,
        "lora_dropout": 0.0,
        "target_modules": None,  # None: per-architecture default
        "eval_steps": None,  # None: about 10 evals per run
        "patience": 3,
        "warmup_ratio": 0.05,
        "seed": 42,
        "profile": "auto",  # auto | low-memory
        "token_budget": None,  # padded tokens per micro-batch (None: from free memory)
        "step_tokens": None,  # padded tokens per optimizer step (None: ~1/16 epoch, <= 8192)
    },
    "draft": {
        "adapter": "latest",
        "max_new_tokens": 400,
        "temperature": 0.7,
        "top_p": 0.9,
        "repetition_penalty": 1.1,
        "seed": None,
    },
}


class ConfigError(ValueError):
    """config.toml cannot be read or holds a bad value. The message names the file and key."""


def load_config(path: Path) -> dict[str, Any]:
    """Return the raw TOML of ``path`` as a dict ({} when the file does not exist).

    Raises:
        ConfigError: the file is not valid TOML or not UTF-8.
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        return {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid TOML ({e}). Fix or remove the file; it was left unchanged.") from e


def settings(path: Path) -> dict[str, Any]:
    """``config.toml`` merged over :data:`DEFAULTS`, with types checked.

    Returns a dict of the same shape as DEFAULTS (sections are dicts).

    Raises:
        ConfigError: unparsable file, a section that is not a table, or a value whose type does
            not match the default's (the message names file, section and key).
    """
    raw = load_config(path)
    out: dict[str, Any] = {}
    for key, default in DEFAULTS.items():
        if isinstance(default, dict):
            section = raw.get(key, {})
            if not isinstance(section, dict):
                raise ConfigError(f"{path}: [{key}] must be a table, not {type(section).__name__}.")
            merged = dict(default)
            for k, v in section.items():
                merged[k] = _check(path, f"{key}.{k}", default.get(k), v)
            out[key] = merged
        else:
            out[key] = _check(path, key, default, raw.get(key, default))
    return out


def _check(path: Path, name: str, default: Any, value: Any) -> Any:
    if default is None or value is None:
        return value
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, (int, float)):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    else:
        ok = isinstance(value, type(default))
    if not ok:
        raise ConfigError(
            f"{path}: {name} = {value!r} should be a {type(default).__name__} (default {default!r})."
        )
    return value


def set_value(path: Path, section: str | None, key: str, value: Any) -> None:
    """Set ``[section] key = value`` in ``path`` (top level when section is None), keeping the
    person's comments and formatting. ``value=None`` removes the key. Written atomically, 0600.

    Raises:
        ConfigError: the existing file does not parse (it is then left untouched).
    """
    import tomlkit

    from journal_tui.fsutil import atomic_write_text

    path = Path(path)
    if path.exists():
        text = path.read_text(encoding="utf-8")
        try:
            doc = tomlkit.parse(text)
        except Exception as e:  # tomlkit raises several error types
            raise ConfigError(f"{path}: not valid TOML ({e}); not rewritten.") from e
    else:
        doc = tomlkit.document()
    table = doc
    if section:
        if section not in doc:
            doc[section] = tomlkit.table()
        table = doc[section]
    if value is None:
        table.pop(key, None)
    else:
        table[key] = value
    atomic_write_text(path, tomlkit.dumps(doc))
