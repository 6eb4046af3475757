"""Eval-day choice (journal_tui/dataset/split.py)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from journal_tui.dataset import split

START = dt.date(2024, 1, 1)


def days(n: int, start: dt.date = START) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range(n)]


def test_score_is_sha256_of_iso_day():
    d = dt.date(2026, 11, 29)
    expected = int(hashlib.sha256(b"2026-11-29").hexdigest()[:16], 16) / 2**64
    assert split.day_score(d) == expected
    assert 0 <= expected < 1


def test_about_ten_percent_of_days():
    chosen = split.eval_days(days(1000), 0.1)
    assert 60 <= len(chosen) <= 140
    assert all(split.day_score(d) < 0.1 for d in chosen)


def test_adding_days_never_moves_an_old_day():
    old = days(300)
    before = split.eval_days(old, 0.1)
    more = old + days(400, START + dt.timedelta(days=300)) + [dt.date(1999, 5, 5)]
    after = split.eval_days(more, 0.1)
    assert before == {d for d in after if d in set(old)}
    # and removing days does not move the others either
    assert split.eval_days(old[::2], 0.1) == {d for d in before if d in set(old[::2])}


def test_at_least_one_eval_day_from_two_days():
    pool = [d for d in days(400) if split.day_score(d) >= 0.1]
    pair = pool[:2]
    chosen = split.eval_days(pair, 0.1)
    assert chosen == {min(pair, key=split.day_score)}
    assert split.eval_days(pair[:1], 0.1) == set()
    assert split.eval_days([], 0.1) == set()


def test_never_every_day_in_eval():
    pool = [d for d in days(400) if split.day_score(d) < 0.1][:3]
    chosen = split.eval_days(pool, 0.1)
    assert len(chosen) == 2 and max(pool, key=split.day_score) not in chosen


def test_fraction_bounds():
    assert split.eval_days(days(10), 0.0) == set()
    with pytest.raises(ValueError):
        split.eval_days(days(10), 1.0)
    with pytest.raises(ValueError):
        split.eval_days(days(10), -0.1)
