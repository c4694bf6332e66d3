"""`hayhooks-gen build --watch`: rebuilds after an edit, reports errors and keeps watching,
stops cleanly on Ctrl-C. The watcher runs in a subprocess; every wait is bounded."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from hayhooks_gen.watch import WatchSettings, snapshot, watch
from support.servers import build_env

from ._helpers import ECHO_WRAPPER, write_wrapper

WAIT_S = 60.0
POLL_S = 0.05

UNANNOTATED = ECHO_WRAPPER.replace("def run_api(self, text: str)", "def run_api(self, text)")
TWO_FIELDS = ECHO_WRAPPER.replace("text: str)", "text: str, times: int = 1)")


class Watcher:
    """``hayhooks-gen build --watch`` in a subprocess, its output collected line by line."""

    def __init__(self, root: Path, *extra: str) -> None:
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hayhooks_gen",
                "build",
                "wrappers",
                "-o",
                "service",
                "--watch",
                "--interval",
                "0.05",
                "--debounce",
                "0.1",
                "--timeout",
                str(WAIT_S),
                *extra,
            ],
            cwd=root,
            env=build_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, predicate: Callable[[], bool]) -> None:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline and not predicate() and self.proc.poll() is None:
            time.sleep(POLL_S)
        assert predicate(), f"the watcher did not get there in time:\n{self.output}"

    def wait_for_line(self, text: str) -> None:
        self.wait_for(lambda: any(text in line for line in self.lines))

    def finish(self) -> int:
        try:
            code = self.proc.wait(timeout=WAIT_S)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(timeout=WAIT_S)
        self._reader.join(timeout=WAIT_S)
        return code


def test_watch_rebuilds_after_an_edit_and_survives_a_bad_one(tmp_path: Path) -> None:
    wrapper = write_wrapper(tmp_path / "wrappers", "echo")
    route = tmp_path / "service" / "app" / "routes" / "echo.py"
    watcher = Watcher(tmp_path, "--max-rebuilds", "2")
    watcher.wait_for_line("watching wrappers")
    assert route.is_file()
    started = re.compile(
        r"^\[\d\d:\d\d:\d\d\] start: service: 1 pipeline\(s\); \d+ file\(s\) written"
    )
    assert any(started.match(line) for line in watcher.lines), watcher.output

    wrapper.write_text(UNANNOTATED, encoding="utf-8")
    watcher.wait_for_line("build failed (exit 2); still watching")
    assert "wrappers/echo/pipeline_wrapper.py:8:23: error:" in watcher.output  # located
    assert "text" in route.read_text("utf-8") and "times" not in route.read_text("utf-8")

    wrapper.write_text(TWO_FIELDS, encoding="utf-8")
    assert watcher.finish() == 0, watcher.output  # --max-rebuilds 2 reached
    assert "times: int = Field(default=1" in route.read_text("utf-8")
    rebuilt = [line for line in watcher.lines if "] echo/pipeline_wrapper.py: service:" in line]
    assert len(rebuilt) == 1, watcher.output
    assert watcher.lines[-1] == "watch: stopped after 2 rebuild(s)"
    assert "Traceback" not in watcher.output


def test_watch_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    write_wrapper(tmp_path / "wrappers", "echo")
    watcher = Watcher(tmp_path)
    watcher.wait_for_line("watching wrappers")
    watcher.proc.send_signal(signal.SIGINT)
    assert watcher.finish() == 0, watcher.output
    assert watcher.lines[-1] == "watch: stopped"
    assert "Traceback" not in watcher.output
    assert not (tmp_path / "service" / ".hayhooks-gen.lock").exists()


def test_debounce_waits_for_a_burst_of_edits_to_settle(tmp_path: Path) -> None:
    """In-process with a fake clock: three edits in a row make one rebuild, not three."""
    root = tmp_path / "wrappers"
    wrapper = write_wrapper(root, "echo")
    edits = iter([ECHO_WRAPPER + "#1\n", ECHO_WRAPPER + "#12\n", ECHO_WRAPPER + "#123\n"])
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        text = next(edits, None)
        if text is not None:
            wrapper.write_text(text, encoding="utf-8")

    reasons: list[str] = []
    settings = WatchSettings(interval=0.2, debounce=0.1, max_rebuilds=1)
    assert watch(root, reasons.append, settings, sleep=sleep) == 1
    assert reasons == ["echo/pipeline_wrapper.py"]
    assert sleeps == [0.2, 0.1, 0.1, 0.1]  # one look, then the debounce until unchanged
    assert wrapper.read_text("utf-8").endswith("#123\n")


def test_snapshot_skips_bytecode_and_the_output_folder(tmp_path: Path) -> None:
    root = tmp_path / "wrappers"
    write_wrapper(root, "echo")
    (root / "echo" / "__pycache__").mkdir()
    (root / "echo" / "__pycache__" / "x.pyc").write_bytes(b"")
    (root / "service").mkdir()
    (root / "service" / "main.py").write_text("")
    assert sorted(snapshot(root, exclude=root / "service")) == ["echo/pipeline_wrapper.py"]
