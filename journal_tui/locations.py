"""Where journal-tui keeps things: the home layout.

With ``--home DIR`` or ``JOURNAL_TUI_HOME=DIR`` everything lives under DIR::

    DIR/config.toml  DIR/notes/  DIR/datasets/  DIR/adapters/  DIR/runs/
    DIR/cache/  DIR/logs/  DIR/trash/

Otherwise platformdirs chooses: data (notes, datasets, adapters, runs, trash) under
``user_data_dir("journal-tui")``, ``config.toml`` under ``user_config_dir``, the cache under
``user_cache_dir`` and logs under ``user_log_dir``.

``notes_dir`` in ``config.toml`` may point the notes folder anywhere (an Obsidian vault's daily
notes folder, say); ``~`` is expanded and a relative path is taken relative to the config file.

Nothing here creates files or folders: callers use :func:`journal_tui.fsutil.ensure_dir` when
they first write.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "journal-tui"
HOME_ENV = "JOURNAL_TUI_HOME"


@dataclass(frozen=True)
class Locations:
    """Resolved paths of one journal-tui home."""

    home: Path | None  # None when platformdirs chose the places
    config_file: Path
    notes: Path
    datasets: Path
    adapters: Path
    runs: Path
    cache: Path
    logs: Path
    trash: Path

    @classmethod
    def resolve(cls, home: str | os.PathLike | None = None, *, read_config: bool = True) -> "Locations":
        """Resolve the layout from ``home``, else ``$JOURNAL_TUI_HOME``, else platformdirs.

        When ``read_config`` is true, ``notes_dir`` from ``config.toml`` is honoured.

        Raises:
            journal_tui.config.ConfigError: config.toml exists but cannot be read or parsed,
                ``notes_dir`` is not a path or names a file, or ``home`` is a file.
        """
        home = home or os.environ.get(HOME_ENV) or None
        if home:
            root = Path(home).expanduser().resolve()
            if root.exists() and not root.is_dir():
                from journal_tui.config import ConfigError

                raise ConfigError(
                    f"the journal-tui home {root} (--home or ${HOME_ENV}) is a file, not a folder: "
                    "give a folder (it is created if missing)"
                )
            locs = cls(
                home=root,
                config_file=root / "config.toml",
                notes=root / "notes",
                datasets=root / "datasets",
                adapters=root / "adapters",
                runs=root / "runs",
                cache=root / "cache",
                logs=root / "logs",
                trash=root / "trash",
            )
        else:
            import platformdirs

            data = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
            locs = cls(
                home=None,
                config_file=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "config.toml",
                notes=data / "notes",
                datasets=data / "datasets",
                adapters=data / "adapters",
                runs=data / "runs",
                cache=Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
                logs=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
                trash=data / "trash",
            )
        if read_config and locs.config_file.exists():
            from journal_tui.config import load_config

            from journal_tui.config import ConfigError

            notes_dir = load_config(locs.config_file).get("notes_dir")
            if notes_dir is not None and (not isinstance(notes_dir, str) or "\0" in notes_dir):
                raise ConfigError(
                    f"{locs.config_file}: notes_dir = {notes_dir!r} should be a folder path in quotes, "
                    'e.g. notes_dir = "~/vault/Daily". Fix config.toml; it was left unchanged.'
                )
            if notes_dir:
                p = Path(notes_dir).expanduser()
                if not p.is_absolute():
                    p = locs.config_file.parent / p
                p = p.resolve()
                if p.exists() and not p.is_dir():
                    raise ConfigError(
                        f"{locs.config_file}: notes_dir = {notes_dir!r} is {p}, which is a file, not a folder. "
                        "Point notes_dir at the folder that holds your notes."
                    )
                locs = cls(**{**locs.__dict__, "notes": p})
                for name in ("datasets", "adapters", "runs", "cache", "logs", "trash"):
                    inner = getattr(locs, name)
                    try:
                        rel = inner.relative_to(p)
                    except ValueError:
                        continue
                    if not any(part.startswith(".") for part in rel.parts):  # hidden folders are not read
                        raise ConfigError(
                            f"{locs.config_file}: notes_dir = {notes_dir!r} contains journal-tui's own "
                            f"{name} folder {inner}, whose files (trashed notes, adapter READMEs, ...) would "
                            "be read as notes. Point notes_dir at a folder beside the journal-tui home, "
                            "or keep the home in a hidden folder (such as .journal-tui) inside it."
                        )
        return locs

    @property
    def notes_is_external(self) -> bool:
        """True when ``notes_dir`` points outside the home (read-mostly mode)."""
        default = (self.home / "notes") if self.home else self.datasets.parent / "notes"
        return self.notes != default

    @property
    def latest_adapter(self) -> Path:
        """The ``adapters/latest`` pointer (a text file holding the run id)."""
        return self.adapters / "latest"

    def as_dict(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.__dict__.items() if v is not None}
