"""``journal-tui adapters list|use|rm`` and adapter resolution (no training needed)."""

from __future__ import annotations

import json

import pytest

from journal_tui.cli import main
from journal_tui.locations import Locations
from journal_tui.training import adapters
from journal_tui.training.errors import AdapterNotFoundError


def fake_adapter(home, run_id: str, created: str, loss: float = 2.0):
    d = home / "adapters" / run_id
    d.mkdir(parents=True)
    manifest = {"run_id": run_id, "created": created, "base_model": {"name": "microsoft/phi-2"}, "quant": "nf4",
                "template_version": "jt-1", "metrics": {"base_eval_loss": 3.0, "best_eval_loss": loss, "steps": 10}}
    (d / "manifest.json").write_text(json.dumps(manifest))
    return d


@pytest.fixture
def three(home):
    ids = ["20261101-100000-aaaa", "20261102-100000-bbbb", "20261103-100000-cccc"]
    for n, rid in enumerate(ids):
        fake_adapter(home, rid, f"2026-11-0{n + 1}T10:00:00+00:00", loss=2.0 - n / 10)
    (home / "adapters" / ".20261104-100000-dddd.tmp").mkdir()  # a staging folder is never listed
    adapters.set_latest(Locations.resolve(home), ids[2])
    return ids


def test_list_newest_first_marks_latest(three, capsys):
    assert main(["adapters", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["run_id"] for r in rows] == three[::-1]
    assert [r["latest"] for r in rows] == [True, False, False]
    assert rows[0]["best_eval_loss"] == pytest.approx(1.8) and rows[0]["base_model"] == "microsoft/phi-2"
    assert main(["adapters", "list"]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith("* 20261103-100000-cccc")


def test_use_moves_latest_and_accepts_prefix(three, home, capsys):
    assert main(["adapters", "use", "20261101"]) == 0
    assert (home / "adapters" / "latest").read_text().strip() == three[0]
    assert (home / "adapters" / "latest").stat().st_mode & 0o777 == 0o600
    assert main(["adapters", "use", "2026110"]) == 2  # ambiguous prefix
    assert "several" in capsys.readouterr().err
    assert main(["adapters", "use", "nope"]) == 2
    assert (home / "adapters" / "latest").read_text().strip() == three[0]


def test_rm_latest_needs_force_and_moves_latest_back(three, home, capsys):
    assert main(["adapters", "rm", three[2]]) == 2
    assert "--force" in capsys.readouterr().err and (home / "adapters" / three[2]).exists()
    assert main(["adapters", "rm", three[0]]) == 0  # not the latest: no --force needed
    assert not (home / "adapters" / three[0]).exists()
    assert main(["adapters", "rm", three[2], "--force"]) == 0
    assert (home / "adapters" / "latest").read_text().strip() == three[1]
    assert main(["adapters", "rm", three[1], "--force"]) == 0
    assert not (home / "adapters" / "latest").exists()
    assert main(["adapters", "list"]) == 0
    assert "no adapters" in capsys.readouterr().out


def test_resolve_latest_none_and_broken_pointer(home):
    locs = Locations.resolve(home)
    assert adapters.resolve_adapter(locs, "latest") is None  # nothing trained yet: draft with the base
    assert adapters.resolve_adapter(locs, "none") is None
    adapters.set_latest(locs, "20261109-000000-ffff")
    with pytest.raises(AdapterNotFoundError, match="20261109-000000-ffff"):
        adapters.resolve_adapter(locs, "latest")
    with pytest.raises(AdapterNotFoundError):
        adapters.resolve_adapter(locs, "20990101")
