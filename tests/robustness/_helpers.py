"""Shared helpers of the issue-4 robustness suites: wrapper sources, trees, CLI runs.

Every subprocess here has a timeout, and every helper that starts a process waits for it.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.servers import BUILD_TIMEOUT_S, build_env

# A located error line, compiler style: ``path:line:col: error: message``.
ERROR_LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+):(?P<col>\d+): error: (?P<message>.+)$")
LOCK_MESSAGE = "another hayhooks-gen build is writing this folder"

GOOD_WRAPPER = '''\
from hayhooks import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, query: str, top_k: int = 3) -> dict:
        """Echo the query.

        Args:
            query: The query text.
        """
        return {"query": query, "top_k": top_k}
'''


def wrapper(signature: str, returns: str = " -> dict", *, head: str = "", body: str = "") -> str:
    """A wrapper module whose ``run_api`` has ``signature`` (inside the parentheses).

    ``run_api`` is always on line ``8 + head.count("\\n")``.
    """
    return (
        "from hayhooks import BasePipelineWrapper\n"
        f"{head}"
        "\n\n"
        "class PipelineWrapper(BasePipelineWrapper):\n"
        "    def setup(self) -> None:\n"
        "        self.pipeline = None\n"
        "\n"
        f"    def run_api({signature}){returns}:\n"
        f"        {body or 'return {}'}\n"
    )


def write_tree(root: Path, files: Mapping[str, str | bytes]) -> Path:
    """Write ``{relative path: text or bytes}`` under ``root``; return ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return root


def snapshot(root: Path) -> dict[str, bytes | str]:
    """Every entry below ``root``: file bytes, ``<dir>`` for folders, ``-> target`` for links.

    An absent ``root`` is ``{}``. Used to prove a folder is byte-identical before and after.
    """
    if not root.exists():
        return {}
    tree: dict[str, bytes | str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                tree[rel] = f"-> {os.readlink(path)}"
            elif path.is_dir():
                tree[rel] = "<dir>"
            else:
                tree[rel] = path.read_bytes()
    return dict(sorted(tree.items()))


def tree_diff(before: Mapping[str, bytes | str], after: Mapping[str, bytes | str]) -> list[str]:
    """Readable differences between two snapshots (empty when identical)."""
    out = [f"removed: {p}" for p in sorted(set(before) - set(after))]
    out += [f"added: {p}" for p in sorted(set(after) - set(before))]
    out += [f"changed: {p}" for p in sorted(set(before) & set(after)) if before[p] != after[p]]
    return out


def assert_same_tree(before: Mapping[str, bytes | str], after: Mapping[str, bytes | str]) -> None:
    diffs = tree_diff(before, after)
    assert not diffs, "output folder changed:\n  " + "\n  ".join(diffs[:50])


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def __str__(self) -> str:
        return f"exit {self.code}\n--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"


def cli(
    *args: str | os.PathLike[str],
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = BUILD_TIMEOUT_S,
    prefix: Sequence[str] = (),
) -> Run:
    """``python -m hayhooks_gen ARGS`` in a subprocess (the real entry point), run through
    ``prefix`` (a command such as ``setpriv ... --``) when given.

    A run that outlives ``timeout`` is killed and reported as exit code -9.
    """
    full_env = build_env()
    if env:
        full_env.update(env)
    try:
        proc = subprocess.run(
            [*prefix, sys.executable, "-m", "hayhooks_gen", *map(os.fspath, args)],
            cwd=os.fspath(cwd) if cwd else None,
            env=full_env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:  # subprocess.run has killed it
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else ""
        err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else ""
        return Run(-9, out, err + f"\n<killed after {timeout} s>")
    return Run(proc.returncode, proc.stdout, proc.stderr)


def cli_in_process(*args: str | os.PathLike[str]) -> Run:
    """``hayhooks_gen.cli.main()`` in this process, with ``sys.argv`` set: monkeypatches apply."""
    from hayhooks_gen import cli as cli_module

    out, err = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = ["hayhooks-gen", *map(os.fspath, args)]
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                cli_module.main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = argv
    return Run(code, out.getvalue(), err.getvalue())


def error_lines(text: str) -> list[re.Match[str]]:
    """The located ``path:line:col: error:`` lines of ``text``."""
    return [m for m in map(ERROR_LINE.match, text.splitlines()) if m]


def assert_no_traceback(run: Run) -> None:
    assert "Traceback" not in run.output, f"traceback in output:\n{run}"
    assert 'File "' not in run.output, f"stack frame in output:\n{run}"


def copy_tree(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True)
    return target


@contextlib.contextmanager
def chdir(path: Path) -> Iterator[None]:
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def build_ok(wrappers: Path, out: Path, *extra: str) -> Run:
    run = cli("build", wrappers, "-o", out, *extra)
    assert run.code == 0, f"build of {wrappers} failed:\n{run}"
    return run


def wrappers_of(root: Path, pipelines: Mapping[str, str], extra: Sequence[str] = ()) -> Path:
    """A wrappers folder with one ``pipeline_wrapper.py`` per pipeline name."""
    files: dict[str, str | bytes] = {f"{n}/pipeline_wrapper.py": s for n, s in pipelines.items()}
    for rel in extra:
        files[rel] = f"data {rel}\n"
    return write_tree(root, files)


def without_file_permission_bypass() -> list[str]:
    """A command prefix that runs without root's power to read and write any file (for
    permission tests; the test is skipped where that cannot be had)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv is not installed")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]
