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
    except OSError as e:  # a folder, no read permission, ...
        raise ConfigError(
            f"{path}: cannot be read ({e.strerror or e}). Make it a readable file, or remove it."
        ) from e


def settings(path: Path) -> dict[str, Any]:
    """``config.toml`` merged over :data:`DEFAULTS`, with types checked.

    Returns a dict of the same shape as DEFAULTS (sections are dicts).

    Raises:
        ConfigError: unparsable file, a section that is not a table, an unknown key (a typo
            would otherwise be ignored), or a value whose type does not match the default's (the
            message names file, section and key).
    """
    raw = load_config(path)
    for key in raw:
        if key not in DEFAULTS:
            _unknown(path, key, list(DEFAULTS))
    out: dict[str, Any] = {}
    for key, default in DEFAULTS.items():
        if isinstance(default, dict):
            section = raw.get(key, {})
            if not isinstance(section, dict):
                raise ConfigError(f"{path}: [{key}] must be a table, not {type(section).__name__}.")
            merged = dict(default)
            known = [*default, *_EXTRA_KEYS.get(key, {})]
            for k, v in section.items():
                if k not in known:
                    _unknown(path, f"{key}.{k}", [f"{key}.{n}" for n in known])
                merged[k] = _check(path, f"{key}.{k}", default.get(k, _EXTRA_KEYS.get(key, {}).get(k)), v)
            out[key] = merged
        else:
            out[key] = _check(path, key, default, raw.get(key, default))
    return out


#: keys read from config.toml that are not in DEFAULTS (with an example value of their type)
_EXTRA_KEYS: dict[str, dict[str, Any]] = {
    "train": {"quant": "auto", "model": "microsoft/phi-2", "max_grad_norm": 1.0, "allow_downloads": False},
    "draft": {"quant": "auto"},
}

#: the type of keys whose default (None, or a whole number that may also be a fraction) does not say it
_TYPES: dict[str, str] = {
    "notes_dir": "text",
    "train.max_steps": "int", "train.eval_steps": "int", "train.token_budget": "int", "train.step_tokens": "int",
    "train.lora_r": "int", "train.lora_alpha": "int", "train.patience": "int", "train.seed": "int",
    "train.target_modules": "list of text",
    "draft.max_new_tokens": "int", "draft.seed": "int",
    "dataset.voice_until_pairs": "int", "dataset.max_example_chars": "int",
}


def _unknown(path: Path, name: str, known: list[str]) -> None:
    import difflib

    close = difflib.get_close_matches(name, known, n=1)
    hint = f" Did you mean {close[0]}?" if close else f" Known: {', '.join(known)}."
    raise ConfigError(f"{path}: unknown setting {name}.{hint} Fix config.toml; it was left unchanged.")


def _check(path: Path, name: str, default: Any, value: Any) -> Any:
    if value is None:
        return value
    kind = _TYPES.get(name)
    if kind is not None:
        if kind == "int":
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif kind == "text":
            ok = isinstance(value, str)
        else:  # list of text
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        if not ok:
            example = {"int": "a whole number", "text": 'text in quotes', "list of text": 'a list such as ["q_proj", "v_proj"]'}[kind]
            raise ConfigError(f"{path}: {name} = {value!r} should be {example}"
                              + (f" (default {default!r})." if default is not None else "."))
        return value
    if default is None:
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
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            raise ConfigError(f"{path}: not valid TOML ({e}); not rewritten.") from e
        except OSError as e:
            raise ConfigError(f"{path}: cannot be read ({e.strerror or e}); not rewritten.") from e
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
