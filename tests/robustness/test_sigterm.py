"""SIGTERM (what ``timeout``, a cancelled CI job and ``docker stop`` send) during a build:
OUT is left as it was, as on Ctrl-C, and the exit code is 143 (128 + SIGTERM)."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest

from ._helpers import (
    GOOD_WRAPPER,
    assert_no_traceback,
    assert_same_tree,
    build_ok,
    cli_in_process,
    snapshot,
    write_tree,
)

PIPELINES = 12


def _wrappers(root: Path, variant: str) -> Path:
    files = {
        f"p{i:02d}/pipeline_wrapper.py": GOOD_WRAPPER.replace('"""', f'"""{variant} ', 1)
        for i in range(PIPELINES)
    }
    return write_tree(root, files)


@pytest.mark.parametrize("at", ["first", "half", "last"])
def test_sigterm_while_moving_files_leaves_out_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, at: str
) -> None:
    a, b = _wrappers(tmp_path / "a", "A"), _wrappers(tmp_path / "b", "B")
    out = tmp_path / "out"
    build_ok(a, out)
    calls: list[int] = []
    real = os.replace

    def counting(src: Any, dst: Any) -> None:
        calls.append(1)
        real(src, dst)

    with monkeypatch.context() as m:  # how many moves a build of B over OUT makes
        probe = tmp_path / "probe"
        build_ok(a, probe)
        m.setattr("hayhooks_gen.emit.os.replace", counting)
        assert cli_in_process("build", b, "-o", probe).code == 0
    total = len(calls)
    assert total >= 2 * PIPELINES, total
    n = {"first": 1, "half": total // 2, "last": total}[at]
    before = snapshot(out)
    moves = 0

    def terminated_on_n(src: Any, dst: Any) -> None:
        nonlocal moves
        moves += 1
        if moves == n:
            os.kill(os.getpid(), signal.SIGTERM)  # the handler raises at the next bytecode
        real(src, dst)

    with monkeypatch.context() as m:
        m.setattr("hayhooks_gen.emit.os.replace", terminated_on_n)
        run = cli_in_process("build", b, "-o", out)
    assert run.code == 128 + signal.SIGTERM, run
    assert "terminated (SIGTERM)" in run.stderr
    assert_no_traceback(run)
    assert_same_tree(before, snapshot(out))
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # main() put the handler back
    build_ok(b, out)  # and the next build converges
