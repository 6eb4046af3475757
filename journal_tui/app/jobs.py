"""Model work from the app: child processes whose JSON-line events become Textual Messages.

The UI process never imports torch & co. (see the architecture map). Instead it runs the same
CLI commands a person can run, as children of the app:

* ``journal-tui [--home H] dataset build --json``   (when the dataset is missing or stale)
* ``journal-tui [--home H] train --events jsonl``     (one run; cancelled with SIGTERM)
* ``journal-tui [--home H] draft --serve --events jsonl``  (warm between drafts; requests on stdin)

Each child's stdout is read line by line in a Textual *thread* worker; every line goes through
:func:`journal_tui.events.parse_event_line` and is posted to a target widget as a typed
:class:`TrainEvent` / :class:`DraftEvent` message, ending with :class:`JobExited`. stderr goes to
``home/logs/<job>-<time>.log`` (the pipe can never fill up); its tail is attached to
:class:`JobExited` so a crash without an ``error`` event still reaches the person.

One GPU job at a time: :class:`MLJobs` owns at most one train run and one draft server, and
shuts the draft server down (``quit``, then SIGTERM, then SIGKILL after timeouts) before a
train run starts. The server is started again lazily by the next draft.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from textual.message import Message

from journal_tui.events import parse_event_line
from journal_tui.fsutil import ensure_dir

#: seconds the draft server gets to exit after ``{"cmd": "quit"}`` before SIGTERM, then SIGKILL
QUIT_TIMEOUT_S = 10.0
TERM_TIMEOUT_S = 5.0


# ----------------------------------------------------------------------------- messages


class JobEvent(Message):
    """One JSON event from a child. ``event`` is the parsed dict; ``name`` its ``"event"`` field."""

    def __init__(self, job: str, event: dict[str, Any]) -> None:
        super().__init__()
        self.job = job
        self.event = event
        self.name = str(event.get("event", ""))


class TrainEvent(JobEvent):
    """An event of ``train --events jsonl`` (start, log, eval, checkpoint, done, error, warning)."""


class DraftEvent(JobEvent):
    """An event of the draft server other than ``token`` (ready, start, done, error).

    Token deltas are not posted one by one: they are appended to a :class:`TextBuffer` that the
    draft pane drains on a timer.
    """


class BuildEvent(JobEvent):
    """The JSON summary printed by ``dataset build --json`` (posted with ``name == "summary"``)."""


class JobExited(Message):
    """A child exited. ``returncode`` as from :meth:`subprocess.Popen.wait` (negative: signal).

    ``stderr_tail``: the last ~2,000 characters of its log file; ``log_path``: that file.
    ``saw_error``: an ``error`` event was already posted for this child.
    """

    def __init__(self, job: str, returncode: int, stderr_tail: str, log_path: Path | None, saw_error: bool) -> None:
        super().__init__()
        self.job = job
        self.returncode = returncode
        self.stderr_tail = stderr_tail
        self.log_path = log_path
        self.saw_error = saw_error


class JobFailed(Message):
    """A job could not even start (e.g. the dataset build failed). ``message``/``hint`` as in an error event."""

    def __init__(self, job: str, kind: str, message: str, hint: str = "") -> None:
        super().__init__()
        self.job = job
        self.kind = kind
        self.message = message
        self.hint = hint


# ----------------------------------------------------------------------------- helpers


class TextBuffer:
    """Thread-safe accumulator of streamed text deltas (written by a reader thread, drained by the UI)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._parts: list[str] = []
        self.appends = 0  # deltas received in all (a count for tests and benchmarks)

    def append(self, text: str) -> None:
        with self._lock:
            self._parts.append(text)
            self.appends += 1

    def drain(self) -> str:
        """Return everything appended since the last drain ("" when nothing)."""
        with self._lock:
            text = "".join(self._parts)
            self._parts.clear()
        return text


def cli_argv(locations, *args: str, prefix: list[str] | None = None) -> list[str]:
    """``[python, -m, journal_tui, (--home H), *args]`` for a child that uses the app's home.

    ``prefix`` replaces ``[python, -m, journal_tui]`` (tests point it at a stand-in CLI)."""
    argv = list(prefix) if prefix else [sys.executable, "-m", "journal_tui"]
    if getattr(locations, "home", None) is not None:
        argv += ["--home", str(locations.home)]
    return argv + list(args)


def child_env() -> dict[str, str]:
    """The app's environment plus unbuffered, UTF-8 stdout for the child."""
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def tail(path: Path | None, chars: int = 2000) -> str:
    """Last ``chars`` characters of a text file ("" when it cannot be read)."""
    if path is None:
        return ""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - chars * 4))
            return f.read().decode("utf-8", errors="replace")[-chars:]
    except OSError:
        return ""


def dataset_is_stale(locations) -> bool:
    """True when ``datasets/manifest.json`` is missing or older than some note file.

    Compares file mtimes of ``*.md``/``*.txt`` under the notes folder (hidden folders skipped)
    with the manifest's mtime; a cheap check, so the build only runs when it can change something.
    """
    manifest = Path(locations.datasets) / "manifest.json"
    try:
        built = manifest.stat().st_mtime
    except OSError:
        return True
    notes = Path(locations.notes)
    if not notes.is_dir():
        return False
    for dirpath, dirnames, filenames in os.walk(notes):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        # a deleted or renamed note moves its folder's mtime
        names = [""] + [n for n in filenames if n.endswith((".md", ".txt")) and not n.startswith(".")]
        for name in names:
            try:
                if os.stat(os.path.join(dirpath, name) if name else dirpath).st_mtime > built:
                    return True
            except OSError:
                continue
    return False


# ----------------------------------------------------------------------------- one child


class ChildJob:
    """One child process speaking JSON lines on stdout.

    Args:
        name: short job name (``train``, ``draft``, ``build``) used in messages and log names.
        argv: the command line.
        logs: folder for the stderr log (created 0700; the log file is 0600).
        stdin: open a pipe to the child's stdin (the draft server reads requests there).
    """

    def __init__(self, name: str, argv: list[str], *, logs: Path, stdin: bool = False) -> None:
        self.name = name
        self.argv = argv
        self.logs = Path(logs)
        self.want_stdin = stdin
        self.proc: subprocess.Popen | None = None
        self.log_path: Path | None = None
        self.saw_error = False
        self._stdin_lock = threading.Lock()

    def start(self) -> None:
        """Spawn the child. Raises OSError when it cannot be started."""
        ensure_dir(self.logs)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self.log_path = self.logs / f"{self.name}-{stamp}-{os.getpid()}.log"
        fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "ab") as err:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE if self.want_stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=err,
                env=child_env(),
                text=True,
                encoding="utf-8",
                errors="replace",
                bufsize=1,
            )

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def send(self, obj: dict[str, Any]) -> bool:
        """Write one JSON request line to the child's stdin; False when the child is gone."""
        if not self.running or self.proc.stdin is None:
            return False
        try:
            with self._stdin_lock:
                self.proc.stdin.write(json.dumps(obj, ensure_ascii=False) + "\n")
                self.proc.stdin.flush()
            return True
        except (BrokenPipeError, OSError, ValueError):
            return False

    def read_events(self, on_event: Callable[[dict], None]) -> int:
        """Blocking: feed each event line to ``on_event`` until EOF; return the exit status.

        Lines that are not events are ignored (they belong in the log, not on stdout).
        """
        assert self.proc is not None and self.proc.stdout is not None
        stream: IO[str] = self.proc.stdout
        for line in stream:
            event = parse_event_line(line)
            if event is None:
                continue
            if event.get("event") == "error":
                self.saw_error = True
            on_event(event)
        return self.proc.wait()

    def signal(self, sig: int = signal.SIGTERM) -> None:
        """Send ``sig`` to the child if it still runs."""
        if self.running:
            try:
                self.proc.send_signal(sig)
            except ProcessLookupError:
                pass

    def shutdown(self, *, quit_request: dict | None = None, quit_timeout: float = QUIT_TIMEOUT_S,
                 term_timeout: float = TERM_TIMEOUT_S) -> int | None:
        """Stop the child politely, then firmly: ``quit_request`` on stdin (and stdin closed),
        SIGTERM after ``quit_timeout`` s, SIGKILL after ``term_timeout`` more. Blocking; returns
        the exit status (None when never started)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None and quit_request is not None:
            self.send(quit_request)
        if self.proc.stdin is not None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        for sig, timeout in ((None, quit_timeout if quit_request else 0.0), (signal.SIGTERM, term_timeout),
                             (signal.SIGKILL, None)):
            if sig is not None:
                self.signal(sig)
            try:
                return self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                continue
        return self.proc.returncode


# ----------------------------------------------------------------------------- the manager


class MLJobs:
    """The app's model jobs: at most one train run and one warm draft server, never both.

    Args:
        app: the Textual App (runs the thread workers).
        target: the widget that receives the messages (TrainEvent, DraftEvent, BuildEvent,
            JobExited, JobFailed).
        locations: the journal-tui home.
        token_sink: receives the draft server's ``token`` deltas (a :class:`TextBuffer`).
        cli_prefix: the command that runs journal-tui (default ``[python, -m, journal_tui]``).
    """

    def __init__(self, app, target, locations, token_sink: TextBuffer, cli_prefix: list[str] | None = None) -> None:
        self.cli_prefix = cli_prefix
        self.app = app
        self.target = target
        self.locations = locations
        self.token_sink = token_sink
        self.train: ChildJob | None = None
        self.draft: ChildJob | None = None
        self.draft_ready = False
        self.drafting = False
        self._training_flow = False  # build + train in progress (also during the build step)
        self._lock = threading.Lock()

    def _argv(self, *args: str) -> list[str]:
        return cli_argv(self.locations, *args, prefix=self.cli_prefix)

    # -- state

    @property
    def training(self) -> bool:
        return self._training_flow

    # -- train

    def start_train(self, extra_args: list[str] | None = None) -> bool:
        """Start build-if-stale + train in a thread worker. False when a run is already going."""
        with self._lock:
            if self._training_flow:
                return False
            self._training_flow = True
        self.app.run_worker(lambda: self._train_flow(list(extra_args or [])), thread=True,
                            name="ml-train", group="ml-train", exit_on_error=False)
        return True

    def _train_flow(self, extra_args: list[str]) -> None:
        post = self.target.post_message
        try:
            self.stop_draft_server()  # one GPU job at a time
            if dataset_is_stale(self.locations):
                if not self._build_dataset():
                    return
            job = ChildJob("train", self._argv("train", "--events", "jsonl", *extra_args),
                           logs=self.locations.logs)
            try:
                job.start()
            except OSError as e:
                post(JobFailed("train", "internal", f"could not start the train command: {e}",
                               "check that journal-tui is installed in this Python"))
                return
            self.train = job
            rc = job.read_events(lambda ev: post(TrainEvent("train", ev)))
            post(JobExited("train", rc, tail(job.log_path), job.log_path, job.saw_error))
        except Exception as e:  # keep the app alive whatever happens in the flow
            post(JobFailed("train", "internal", f"{type(e).__name__}: {e}", "see home/logs/ for details"))
        finally:
            self._training_flow = False

    def _build_dataset(self) -> bool:
        """Run ``dataset build --json``; post its summary; False (and JobFailed) on failure."""
        post = self.target.post_message
        job = ChildJob("build", self._argv("dataset", "build", "--json"), logs=self.locations.logs)
        job.start()
        out = job.proc.stdout.read() if job.proc.stdout else ""
        rc = job.proc.wait()
        summary = None
        for line in out.splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    summary = json.loads(line)
                except json.JSONDecodeError:
                    pass
        if rc != 0:
            err = tail(job.log_path, 600).strip().splitlines()
            post(JobFailed("build", "bad_dataset", f"dataset build failed (exit {rc}): "
                           + (err[-1] if err else "no message"),
                           f"see {job.log_path}; fix or move the files it names"))
            return False
        post(BuildEvent("build", {"event": "summary", **(summary or {})}))
        return True

    def cancel_train(self) -> bool:
        """SIGTERM the train child: it stops at the next step, keeps the partial run in
        ``runs/``, emits ``error`` kind ``cancelled`` and exits non-zero. False when none runs."""
        if self.train is not None and self.train.running:
            self.train.signal(signal.SIGTERM)
            return True
        return False

    # -- draft

    def request_draft(self, request: dict[str, Any]) -> str | None:
        """Send a draft request, starting the warm server first if needed (in a thread worker).

        Returns None when sent/scheduled, else the reason it was refused (training running,
        a draft already streaming)."""
        if self._training_flow:
            return "a training run is using the GPU; draft when it has finished (one GPU job at a time)"
        if self.drafting:
            return "a draft is already being written; stop it first"
        self.drafting = True
        req = {"cmd": "draft", **request}
        if self.draft is not None and self.draft.running:
            if self.draft.send(req):
                return None
        self.app.run_worker(lambda: self._draft_server_flow(req), thread=True, name="ml-draft-server",
                            group="ml-draft", exit_on_error=False)
        return None

    def _draft_server_flow(self, first_request: dict) -> None:
        post = self.target.post_message
        job = ChildJob("draft", self._argv("draft", "--serve", "--events", "jsonl"),
                       logs=self.locations.logs, stdin=True)
        try:
            job.start()
        except OSError as e:
            self.drafting = False
            post(JobFailed("draft", "internal", f"could not start the draft server: {e}", ""))
            return
        self.draft = job
        self.draft_ready = False
        job.send(first_request)  # queued in the pipe; the server reads it once ready

        def on_event(ev: dict) -> None:
            name = ev.get("event")
            if name == "token":
                self.token_sink.append(str(ev.get("text", "")))
                return
            if name == "ready":
                self.draft_ready = True
            elif name in ("done", "error"):
                self.drafting = False
            post(DraftEvent("draft", ev))

        try:
            rc = job.read_events(on_event)
        except Exception as e:
            rc = -1
            post(JobFailed("draft", "internal", f"{type(e).__name__}: {e}", ""))
        self.drafting = False
        self.draft_ready = False
        if self.draft is job:
            self.draft = None
        post(JobExited("draft", rc, tail(job.log_path), job.log_path, job.saw_error))

    def stop_draft(self) -> bool:
        """Ask the server to cancel the current draft (it answers ``done`` finish_reason cancelled)."""
        if self.draft is not None and self.drafting:
            return self.draft.send({"cmd": "stop"})
        return False

    def stop_draft_server(self) -> None:
        """Blocking: quit the warm draft server (then SIGTERM/SIGKILL), freeing the GPU."""
        job = self.draft
        if job is not None:
            job.shutdown(quit_request={"cmd": "quit"})
            self.draft = None
            self.draft_ready = False
            self.drafting = False

    # -- app exit

    def shutdown_all(self) -> None:
        """Blocking: stop every child (a running train run is cancelled and kept in ``runs/``)."""
        if self.train is not None and self.train.running:
            self.train.shutdown(quit_request=None, quit_timeout=0, term_timeout=TERM_TIMEOUT_S)
        self.stop_draft_server()
