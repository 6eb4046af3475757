"""journal-tui: a terminal journal that learns to write like the person using it."""

__version__ = "0.1.0"
