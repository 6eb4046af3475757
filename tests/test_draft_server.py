"""``journal-tui draft --serve`` as the app runs it: a child process fed JSON lines."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading

from draft_helpers import DAY, RUN_ID, add_notes, make_adapter
from journal_tui.events import parse_event_line

TIMEOUT = 120  # seconds per awaited event: a hang fails the test instead of blocking the suite


class Server:
    def __init__(self, home, model_dir, *extra):
        env = {**os.environ, "JOURNAL_TUI_HOME": str(home), "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "journal_tui", "draft", "--serve", "--model", str(model_dir), *extra],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        self.lines: queue.Queue = queue.Queue()
        self.stray: list[str] = []
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for line in self.proc.stdout:
            ev = parse_event_line(line)
            if ev is None:
                self.stray.append(line)
            else:
                self.lines.put(ev)
        self.lines.put(None)

    def send(self, obj):
        self.proc.stdin.write(json.dumps(obj) + "\n")
        self.proc.stdin.flush()

    def next(self):
        ev = self.lines.get(timeout=TIMEOUT)
        assert ev is not None, f"server exited early: {self.proc.wait()} {self.proc.stderr.read()[-2000:]}"
        return ev

    def until(self, name):
        seen = []
        while True:
            ev = self.next()
            seen.append(ev)
            if ev["event"] in (name, "error"):
                return seen


def test_serve_ready_draft_stop_quit(home, tiny_model_dir):
    add_notes(home)
    make_adapter(home, tiny_model_dir)
    srv = Server(home, tiny_model_dir)
    try:
        ready = srv.next()
        assert ready["event"] == "ready" and ready["adapter"] == RUN_ID and ready["device"] == "cpu"
        assert ready["ready_s"] > 0

        # a whole draft: start, token..., done
        srv.send({"cmd": "draft", "date": DAY.isoformat(), "seed": 2, "max_new_tokens": 40, "id": 1})
        evs = srv.until("done")
        names = [e["event"] for e in evs]
        assert names[0] == "start" and names[-1] == "done", names
        assert set(names[1:-1]) <= {"token"}
        done = evs[-1]
        assert all(e.get("id") == 1 for e in evs)
        assert "".join(e["text"] for e in evs if e["event"] == "token") == done["text"] + done["retracted"]
        assert done["adapter"] == RUN_ID and done["finish_reason"] in ("eos", "stop", "length")

        # the same request again reproduces the text (seeded, and the warm state does not leak)
        srv.send({"cmd": "draft", "date": DAY.isoformat(), "seed": 2, "max_new_tokens": 40, "id": 2})
        assert srv.until("done")[-1]["text"] == done["text"]

        # stop mid-draft: ignore_eos keeps it going for ~400 tokens unless cancelled
        srv.send({"cmd": "draft", "date": DAY.isoformat(), "seed": 1, "max_new_tokens": 400, "ignore_eos": True,
                  "id": 3})
        assert srv.next()["event"] == "start"
        first = srv.next()
        assert first["event"] == "token"
        srv.send({"cmd": "stop"})
        evs = srv.until("done")
        done = evs[-1]
        assert done["event"] == "done" and done["finish_reason"] == "cancelled"
        assert done["new_tokens"] < 400

        # a bad request is an error event; the server lives on
        srv.send({"cmd": "draft", "date": "2026-11-28"})
        err = srv.next()
        assert err["event"] == "error" and err["kind"] == "no_notes"
        srv.send({"cmd": "draft", "date": "yesterday-ish"})
        assert srv.next()["kind"] == "bad_request"

        srv.send({"cmd": "quit"})
        assert srv.proc.wait(timeout=TIMEOUT) == 0
        assert srv.stray == []
    finally:
        if srv.proc.poll() is None:
            srv.proc.kill()


def test_serve_batch_from_a_file_runs_every_request_then_exits(home, tiny_model_dir):
    """End of stdin (not quit): the queued drafts all run, then the server exits 0."""
    add_notes(home)
    reqs = "".join(json.dumps({"cmd": "draft", "date": DAY.isoformat(), "seed": s, "max_new_tokens": 5, "id": s})
                   + "\n" for s in range(3))
    env = {**os.environ, "JOURNAL_TUI_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    r = subprocess.run([sys.executable, "-m", "journal_tui", "draft", "--serve", "--model", str(tiny_model_dir),
                        "--adapter", "none"], input=reqs, capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    evs = [parse_event_line(ln) for ln in r.stdout.splitlines()]
    assert all(e is not None for e in evs)
    assert [e["id"] for e in evs if e["event"] == "done"] == [0, 1, 2]
    assert evs[0]["event"] == "ready" and evs[0]["adapter"] is None


def test_quit_answers_every_queued_draft(home, tiny_model_dir):
    """Drafts queued behind a quit are answered (finish_reason cancelled), never left hanging."""
    add_notes(home)
    srv = Server(home, tiny_model_dir)
    try:
        assert srv.next()["event"] == "ready"
        for i in range(3):
            srv.send({"cmd": "draft", "date": DAY.isoformat(), "max_new_tokens": 400, "ignore_eos": True, "id": i})
        srv.send({"cmd": "quit"})
        assert srv.proc.wait(timeout=TIMEOUT) == 0
        events = []
        while (ev := srv.lines.get(timeout=TIMEOUT)) is not None:
            events.append(ev)
        answered = {e["id"]: e for e in events if e["event"] in ("done", "error")}
        assert sorted(answered) == [0, 1, 2], events
        assert all(e["event"] == "done" for e in answered.values())
        assert answered[2]["finish_reason"] == "cancelled" and answered[2]["new_tokens"] == 0
    finally:
        if srv.proc.poll() is None:
            srv.proc.kill()
