"""Which days are evaluation days: a deterministic hash of the ISO day.

A day's score is the first 8 bytes of ``sha256("YYYY-MM-DD")`` read as a big-endian integer and
divided by 2**64, a number in [0, 1) that depends on the day alone. A day is an eval day when
its score is below ``eval_fraction`` (default 0.1), so about 10% of days land in eval and adding
or removing other days never moves it.

Two corrections, applied only when there are two or more days:

* no day scores below ``eval_fraction``: the day with the smallest score becomes the eval day.
  This is the only way a day can move: when a new day with a still smaller score arrives (and
  no day qualifies on its own), the fallback moves to the new day;
* every day scores below ``eval_fraction`` (a tiny journal, or a fraction near 1): the day with
  the largest score goes back to training, so there is always something to train on.

All examples of a day go to the same file, so a day's notes never leak from train into eval.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Iterable

DEFAULT_EVAL_FRACTION = 0.1


def day_score(day: dt.date) -> float:
    """The day's position in [0, 1) (see the module docstring)."""
    digest = hashlib.sha256(day.isoformat().encode("ascii")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def eval_days(days: Iterable[dt.date], eval_fraction: float = DEFAULT_EVAL_FRACTION) -> set[dt.date]:
    """The eval days among ``days``.

    Args:
        days: the days that have examples (duplicates ignored).
        eval_fraction: share of days for evaluation, 0 <= eval_fraction < 1.

    Returns:
        The set of eval days; empty when there are fewer than two days or ``eval_fraction`` is 0.

    Raises:
        ValueError: ``eval_fraction`` outside [0, 1).
    """
    if not 0 <= eval_fraction < 1:
        raise ValueError(f"eval_fraction must be at least 0 and below 1, not {eval_fraction}")
    unique = set(days)
    if len(unique) < 2 or eval_fraction == 0:
        return set()
    scores = {d: day_score(d) for d in unique}
    chosen = {d for d, s in scores.items() if s < eval_fraction}
    if not chosen:
        chosen = {min(unique, key=lambda d: (scores[d], d))}
    elif len(chosen) == len(unique):
        chosen.discard(max(unique, key=lambda d: (scores[d], d)))
    return chosen
