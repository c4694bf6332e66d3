"""Colour and tables only on a terminal, and never with NO_COLOR: CI logs stay plain text."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hayhooks_gen.term import ColorMode, color_diff, use_color

from ._helpers import ANSI_ESCAPE, cli, env_without, ok, write_wrapper

PTY_TIMEOUT_S = 60.0


def _drifted(root: Path) -> Path:
    write_wrapper(root / "wrappers", "echo")
    ok(cli("build", "wrappers", "-o", "service", cwd=root))
    main = root / "service" / "app" / "main.py"
    main.write_text(main.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    return root


def _on_terminal(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    """Run the CLI with stdout on a pseudo-terminal; return (exit code, what it printed)."""
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "hayhooks_gen", *args],
        cwd=cwd,
        env={**env, "TERM": "xterm", "COLUMNS": "200"},
        stdin=subprocess.DEVNULL,
        stdout=secondary,
        stderr=subprocess.DEVNULL,
    )
    os.close(secondary)
    chunks: list[bytes] = []
    deadline = time.monotonic() + PTY_TIMEOUT_S
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([primary], [], [], 1.0)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(primary, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        code = proc.wait(timeout=PTY_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(primary)
    return code, b"".join(chunks).decode("utf-8", errors="replace")


def test_check_diff_is_plain_when_not_on_a_terminal(tmp_path: Path) -> None:
    root = _drifted(tmp_path)
    for env in (env_without("NO_COLOR"), {**env_without("NO_COLOR"), "NO_COLOR": "1"}):
        proc = cli("check", "wrappers", "-o", "service", cwd=root, env=env)
        assert proc.returncode == 1
        assert "-# edited" in proc.stdout and "changed: app/main.py" in proc.stdout
        assert ANSI_ESCAPE not in proc.stdout + proc.stderr


def test_check_diff_is_coloured_on_a_terminal_unless_no_color(tmp_path: Path) -> None:
    root = _drifted(tmp_path)
    args = ["check", "wrappers", "-o", "service"]
    code, out = _on_terminal(args, root, env_without("NO_COLOR"))
    assert code == 1
    assert "\x1b[31m-# edited\x1b[0m" in out  # the removed line, in red
    code, out = _on_terminal(args, root, {**env_without("NO_COLOR"), "NO_COLOR": "1"})
    assert code == 1 and "-# edited" in out
    assert ANSI_ESCAPE not in out


def test_color_option_overrides_detection(tmp_path: Path) -> None:
    root = _drifted(tmp_path)
    always = cli("check", "wrappers", "-o", "service", "--color", "always", cwd=root)
    assert always.returncode == 1 and "\x1b[32m+++ " not in always.stdout
    assert "\x1b[1m+++ b/app/main.py\x1b[0m" in always.stdout
    code, out = _on_terminal(
        ["check", "wrappers", "-o", "service", "--color", "never"], root, env_without("NO_COLOR")
    )
    assert code == 1 and "-# edited" in out and ANSI_ESCAPE not in out
    no_diff = cli("check", "wrappers", "-o", "service", "--no-diff", cwd=root)
    assert no_diff.returncode == 1
    assert "changed: app/main.py" in no_diff.stdout and "@@" not in no_diff.stdout


def test_inspect_table_is_rich_on_a_terminal_and_plain_otherwise(tmp_path: Path) -> None:
    write_wrapper(tmp_path / "wrappers", "echo")
    plain = ok(cli("inspect", "wrappers", cwd=tmp_path, env=env_without("NO_COLOR")))
    assert ANSI_ESCAPE not in plain.stdout
    lines = plain.stdout.splitlines()
    assert lines[0].split() == [
        "pipeline",
        "route",
        "method",
        "request",
        "fields",
        "body",
        "response",
        "class",
    ]
    assert lines[2].split()[:4] == ["echo", "POST", "/echo/run", "run_api"]

    code, out = _on_terminal(["inspect", "wrappers"], tmp_path, env_without("NO_COLOR"))
    assert code == 0 and ANSI_ESCAPE in out and "┃" in out and "/echo/run" in out
    code, out = _on_terminal(
        ["inspect", "wrappers"], tmp_path, {**env_without("NO_COLOR"), "NO_COLOR": "1"}
    )
    assert code == 0 and ANSI_ESCAPE not in out and "┃" not in out
    assert out.replace("\r\n", "\n").splitlines() == lines


@pytest.mark.parametrize(
    ("mode", "no_color", "term", "expected"),
    [
        (ColorMode.auto, None, "xterm", True),
        (ColorMode.auto, "1", "xterm", False),
        (ColorMode.auto, "", "xterm", True),  # NO_COLOR counts only when not empty
        (ColorMode.auto, None, "dumb", False),
        (ColorMode.never, None, "xterm", False),
        (ColorMode.always, "1", "dumb", True),
    ],
)
def test_use_color_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
    mode: ColorMode,
    no_color: str | None,
    term: str,
    expected: bool,
) -> None:
    class Terminal:
        def isatty(self) -> bool:
            return True

    if no_color is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", no_color)
    monkeypatch.setenv("TERM", term)
    assert use_color(Terminal(), mode) is expected  # type: ignore[arg-type]


def test_color_diff_keeps_the_text_and_line_ends() -> None:
    diff = "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+new\n context\n"
    colored = color_diff(diff)
    assert colored.count("\n") == diff.count("\n")
    assert (
        colored.replace("\x1b[0m", "")
        .replace("\x1b[1m", "")
        .replace("\x1b[36m", "")
        .replace("\x1b[31m", "")
        .replace("\x1b[32m", "")
        == diff
    )
