"""Issue 4, no loss: a failed build leaves OUT byte-identical, whatever stage fails.

Also: files the manifest does not list are never deleted or overwritten, the user-owned
``app/hooks.py`` survives rebuilds, ``--force`` is needed to adopt a non-empty folder without a
manifest, a tampered manifest is refused or handled safely, and two builds of the same OUT at
once never leave a mixed tree.

The scenario throughout: OUT holds a build of input A plus user files; the test then builds
input B (one pipeline changed, one removed, one added with data files), so a successful
build must write, create folders and delete.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hayhooks_gen.cli import app as cli_app
from support.servers import build_env

from ._helpers import (
    GOOD_WRAPPER,
    LOCK_MESSAGE,
    Run,
    assert_no_traceback,
    assert_same_tree,
    build_ok,
    cli,
    cli_in_process,
    copy_tree,
    snapshot,
    tree_diff,
    without_file_permission_bypass,
    wrapper,
    wrappers_of,
    write_tree,
)

MANIFEST = ".hayhooks-gen.json"
LOCK = ".hayhooks-gen.lock"
STAGING_PREFIX = ".hayhooks-gen-staging-"
USER_FILES = {
    "notes.txt": "my notes\n",
    "app/custom.py": "# my module, not generated\n",
    "data/big.csv": "a,b\n1,2\n",
    # a user file inside a folder of pipeline 'beta', which build B removes
    "app/pipelines/beta/MY_NOTES.md": "keep me\n",
}
HOOKS = "# my middleware, never overwritten\ndef configure(app):\n    pass\n"
CHANGED_ALPHA = GOOD_WRAPPER.replace("Echo the query.", "Echo the query, changed.")


def _input_a(root: Path) -> Path:
    return wrappers_of(
        root,
        {"alpha": GOOD_WRAPPER, "beta": GOOD_WRAPPER},
        extra=[f"beta/data/{i:02d}.txt" for i in range(5)],
    )


def _input_b(root: Path) -> Path:
    return wrappers_of(
        root,
        {"alpha": CHANGED_ALPHA, "gamma": wrapper("self, x: int", returns=" -> int")},
        extra=[f"gamma/assets/deep/{i:02d}.txt" for i in range(5)],
    )


def _with_user_files(out: Path) -> Path:
    write_tree(out, USER_FILES)
    (out / "app" / "hooks.py").write_text(HOOKS, encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Inputs A and B, a prebuilt OUT of A with user files, and clean builds of A and B."""
    root = tmp_path_factory.mktemp("inputs")
    a, b = _input_a(root / "a"), _input_b(root / "b")
    prebuilt = root / "prebuilt"
    build_ok(a, prebuilt)
    _with_user_files(prebuilt)
    clean_a, clean_b = root / "clean_a", root / "clean_b"
    build_ok(a, clean_a)
    build_ok(b, clean_b)
    return {"a": a, "b": b, "prebuilt": prebuilt, "clean_a": clean_a, "clean_b": clean_b}


@pytest.fixture
def out(tmp_path: Path, inputs: dict[str, Path]) -> Path:
    return copy_tree(inputs["prebuilt"], tmp_path / "out")


def _expected_b_tree(inputs: dict[str, Path]) -> dict[str, bytes | str]:
    """What a successful build of B over the prebuilt OUT must leave: clean B + user files."""
    tree = snapshot(inputs["clean_b"])
    for rel, content in USER_FILES.items():
        parts = rel.split("/")
        for i in range(1, len(parts)):
            tree["/".join(parts[:i])] = "<dir>"
        tree[rel] = content.encode()
    tree["app/hooks.py"] = HOOKS.encode()
    return dict(sorted(tree.items()))


def test_successful_build_b_over_a_is_clean_b_plus_user_files(
    out: Path, inputs: dict[str, Path]
) -> None:
    """The reference for every failure below: what success looks like."""
    run = build_ok(inputs["b"], out)
    assert_no_traceback(run)
    assert_same_tree(_expected_b_tree(inputs), snapshot(out))


# ------------------------------------------------------------------ failure at every stage


def test_parse_failure_leaves_out_identical(tmp_path: Path, out: Path) -> None:
    bad = wrappers_of(tmp_path / "bad", {"alpha": GOOD_WRAPPER, "broken": wrapper("self, q")})
    before = snapshot(out)
    run = cli("build", bad, "-o", out)
    assert run.code == 2, run
    assert_same_tree(before, snapshot(out))


def test_discover_failure_leaves_out_identical(tmp_path: Path, out: Path) -> None:
    bad = wrappers_of(tmp_path / "bad", {"alpha": GOOD_WRAPPER, "bad.name": GOOD_WRAPPER})
    before = snapshot(out)
    run = cli("build", bad, "-o", out)
    assert run.code == 2, run
    assert_same_tree(before, snapshot(out))


def _boom(*_args: Any, **_kwargs: Any) -> Any:
    raise RuntimeError("injected stage failure")


@pytest.mark.parametrize(
    "target",
    [
        # build.py binds these names at import: patch them where build.generate looks them up.
        "hayhooks_gen.build.render",
        "hayhooks_gen.build.format_python",
        "hayhooks_gen.build.parse",
        "hayhooks_gen.emit.plan",
    ],
)
def test_stage_crash_leaves_out_identical(
    target: str, out: Path, inputs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot(out)
    monkeypatch.setattr(target, _boom)
    result = CliRunner().invoke(cli_app, ["build", os.fspath(inputs["b"]), "-o", os.fspath(out)])
    assert result.exit_code != 0
    assert isinstance(result.exception, RuntimeError), result.output
    assert_same_tree(before, snapshot(out))
    # The real entry point turns the crash into exit 3 and one line, no traceback.
    run = cli_in_process("build", inputs["b"], "-o", out)
    assert run.code == 3, run
    assert_no_traceback(run)
    assert run.stderr.strip() == (
        "hayhooks-gen: internal error: RuntimeError: injected stage failure"
    ), run
    assert_same_tree(before, snapshot(out))


def test_failing_ruff_leaves_out_identical(
    tmp_path: Path, out: Path, inputs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real format-stage failure: the formatter exits non-zero."""
    fake = tmp_path / "ruff"
    fake.write_text("#!/bin/sh\necho 'ruff: simulated crash' >&2\nexit 2\n")
    fake.chmod(0o755)
    monkeypatch.setattr("hayhooks_gen.fmt.find_ruff_bin", lambda: os.fspath(fake))
    monkeypatch.setenv("XDG_CACHE_HOME", os.fspath(tmp_path / "empty-cache"))  # ruff must run
    before = snapshot(out)
    run = cli_in_process("build", inputs["b"], "-o", out)
    assert run.code == 3, run
    assert_no_traceback(run)
    assert "ruff failed on generated code" in run.stderr, run
    assert_same_tree(before, snapshot(out))


def _replaces_of_a_build(
    wrappers: Path, out: Path, probe: Path, monkeypatch: pytest.MonkeyPatch
) -> int:
    """How many os.replace calls a successful build of ``wrappers`` over a copy of ``out``
    (made at ``probe``, which is left built) makes."""
    copy_tree(out, probe)
    calls = 0
    real = os.replace

    def counting(src: Any, dst: Any) -> None:
        nonlocal calls
        calls += 1
        real(src, dst)

    with monkeypatch.context() as m:
        m.setattr("hayhooks_gen.emit.os.replace", counting)
        run = cli_in_process("build", wrappers, "-o", probe)
    assert run.code == 0, run
    return calls


def _count_replaces(
    inputs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> int:
    """How many os.replace calls a successful build of B over the prebuilt OUT makes."""
    probe = tmp_path / "probe"
    calls = _replaces_of_a_build(inputs["b"], inputs["prebuilt"], probe, monkeypatch)
    assert_same_tree(_expected_b_tree(inputs), snapshot(probe))
    return calls


def _failing_on(n: int, exc: BaseException) -> Callable[[Any, Any], None]:
    real = os.replace
    calls = 0

    def replace(src: Any, dst: Any) -> None:
        nonlocal calls
        calls += 1
        if calls == n:
            raise exc
        real(src, dst)

    return replace


def test_crash_while_moving_files_into_place_rolls_back(
    tmp_path: Path, out: Path, inputs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """os.replace fails on call N, for N from the first move to the manifest (the last)."""
    total = _count_replaces(inputs, tmp_path, monkeypatch)
    assert total >= 20, total  # writes, creates, deletes and the manifest, each moved aside
    before = snapshot(out)
    failures: list[str] = []
    for n in sorted({1, 2, 3, total // 3, total // 2, total - 2, total - 1, total}):
        with monkeypatch.context() as m:
            m.setattr("hayhooks_gen.emit.os.replace", _failing_on(n, OSError(28, "No space left")))
            run = cli_in_process("build", inputs["b"], "-o", out)
        if run.code == 0:
            failures.append(f"N={n}: build succeeded although a move failed")
        if "Traceback" in run.output:
            failures.append(f"N={n}: traceback\n{run}")
        diffs = tree_diff(before, snapshot(out))
        if diffs:
            failures.append(f"N={n} of {total}: OUT changed: {diffs[:10]}")
            break
    assert not failures, "\n".join(failures)
    # and the same OUT still builds afterwards
    build_ok(inputs["b"], out)
    assert_same_tree(_expected_b_tree(inputs), snapshot(out))


def test_interrupt_while_moving_files_rolls_back(
    tmp_path: Path, out: Path, inputs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """KeyboardInterrupt (Ctrl-C) in the middle of the moves is rolled back too."""
    total = _count_replaces(inputs, tmp_path, monkeypatch)
    before = snapshot(out)
    with monkeypatch.context() as m:
        m.setattr("hayhooks_gen.emit.os.replace", _failing_on(total // 2, KeyboardInterrupt()))
        run = cli_in_process("build", inputs["b"], "-o", out)
    assert run.code in (1, 130), run  # click's answer to Ctrl-C
    assert_no_traceback(run)
    assert_same_tree(before, snapshot(out))


@pytest.mark.parametrize("second", [signal.SIGINT, signal.SIGTERM])
def test_a_second_signal_during_the_rollback_does_not_cut_it_short(
    tmp_path: Path,
    out: Path,
    inputs: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    second: signal.Signals,
) -> None:
    """Ctrl-C twice: the second one landed in the undo, left OUT mixed (17 of 20 tries) and
    the backups in a staging folder the next build deleted."""
    total = _count_replaces(inputs, tmp_path, monkeypatch)
    before = snapshot(out)
    real = os.replace
    moves = 0
    undoing = False

    def replace(src: Any, dst: Any) -> None:
        nonlocal moves, undoing
        moves += 1
        if moves == total // 2:
            undoing = True
            raise KeyboardInterrupt
        if undoing and Path(src).name.startswith("old-"):
            undoing = False
            os.kill(os.getpid(), second)  # at the first undo step
        real(src, dst)

    with monkeypatch.context() as m:
        m.setattr("hayhooks_gen.emit.os.replace", replace)
        run = cli_in_process("build", inputs["b"], "-o", out)
    assert run.code in (1, 130), run
    assert_no_traceback(run)
    assert_same_tree(before, snapshot(out))
    assert [p for p in out.iterdir() if p.name.startswith(".hayhooks-gen-")] == []


def test_a_signal_once_every_file_is_in_place_finishes_the_build(
    tmp_path: Path, out: Path, inputs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A SIGTERM while the build removed its scratch folder exited 143 ("OUT as it was")
    with OUT fully built and the scratch folder, holding the old files, left in it."""
    real = shutil.rmtree

    def rmtree(path: Any, *args: Any, **kwargs: Any) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        real(path, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr("hayhooks_gen.emit.shutil.rmtree", rmtree)
        run = cli_in_process("build", inputs["b"], "-o", out)
    assert run.code == 0, run
    assert_same_tree(_expected_b_tree(inputs), snapshot(out))
    assert [p for p in out.iterdir() if p.name.startswith(".hayhooks-gen-")] == []


@pytest.mark.parametrize("at", ["first", "half", "last"])
def test_sigterm_while_moving_files_leaves_out_as_it_was(
    tmp_path: Path, out: Path, inputs: dict[str, Path], monkeypatch: pytest.MonkeyPatch, at: str
) -> None:
    """SIGTERM (``timeout``, a cancelled CI job, ``docker stop``) is rolled back as Ctrl-C is,
    with exit code 143 (128 + SIGTERM)."""
    total = _count_replaces(inputs, tmp_path, monkeypatch)
    n = {"first": 1, "half": total // 2, "last": total}[at]
    before = snapshot(out)
    real = os.replace
    moves = 0

    def terminated_on_n(src: Any, dst: Any) -> None:
        nonlocal moves
        moves += 1
        if moves == n:
            os.kill(os.getpid(), signal.SIGTERM)  # the handler raises at the next bytecode
        real(src, dst)

    with monkeypatch.context() as m:
        m.setattr("hayhooks_gen.emit.os.replace", terminated_on_n)
        run = cli_in_process("build", inputs["b"], "-o", out)
    assert run.code == 128 + signal.SIGTERM, run
    assert "terminated (SIGTERM)" in run.stderr
    assert_no_traceback(run)
    assert_same_tree(before, snapshot(out))
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # main() put the handler back
    build_ok(inputs["b"], out)  # and the next build converges


def test_crash_while_staging_leaves_out_identical(
    out: Path, inputs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Disk full while writing the staged copies (the third one), before any move."""
    before = snapshot(out)
    injected: list[str] = []
    real_write_bytes = Path.write_bytes
    real_fsync = os.fsync

    def fail_third(where: str) -> None:
        injected.append(where)
        if len(injected) == 3:
            raise OSError(28, "No space left on device")

    def write_bytes(self: Path, data: Any) -> int:
        if self.parent.name.startswith(STAGING_PREFIX):
            fail_third(self.name)
        return real_write_bytes(self, data)

    def fsync(fd: int) -> None:  # older emit.apply wrote with open() + fsync
        fail_third(f"fd {fd}")
        real_fsync(fd)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    monkeypatch.setattr("hayhooks_gen.emit.os.fsync", fsync)
    run = cli_in_process("build", inputs["b"], "-o", out)
    assert len(injected) >= 3, f"no staged write was intercepted: {injected}"
    assert run.code != 0, run
    assert_no_traceback(run)
    assert_same_tree(before, snapshot(out))


_KILLER = """
import os, sys
import hayhooks_gen.emit as emit
from hayhooks_gen.cli import main
real, calls, kill_at = os.replace, 0, int(sys.argv[1])
def replace(src, dst):
    global calls
    calls += 1
    if calls == kill_at:
        os._exit(9)  # like SIGKILL or a power cut: no cleanup, no rollback
    real(src, dst)
emit.os.replace = replace
sys.argv = ["hayhooks-gen", "build", sys.argv[2], "-o", sys.argv[3]]
main()
"""


def test_hard_kill_mid_move_keeps_user_files_and_next_build_converges(
    tmp_path: Path, out: Path, inputs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A kill -9 cannot be rolled back; it must still lose nothing the user owns, and the next
    build takes over the dead build's lock, removes its staging folder and converges."""
    total = _count_replaces(inputs, tmp_path, monkeypatch)
    proc = subprocess.run(
        [sys.executable, "-c", _KILLER, str(total // 2), os.fspath(inputs["b"]), os.fspath(out)],
        env=build_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 9, proc.stderr
    for rel, content in USER_FILES.items():
        assert (out / rel).read_text() == content, rel
    assert (out / "app" / "hooks.py").read_text() == HOOKS
    assert (out / LOCK).is_file()  # left behind, naming the dead process
    assert any(p.name.startswith(STAGING_PREFIX) for p in out.iterdir())
    build_ok(inputs["b"], out)
    assert not (out / LOCK).exists()
    assert_same_tree(_expected_b_tree(inputs), snapshot(out))


# ------------------------------------------------------------------ files the build must not own


def test_user_files_survive_a_build_that_removes_their_folder(
    out: Path, inputs: dict[str, Path]
) -> None:
    build_ok(inputs["b"], out)
    for rel, content in USER_FILES.items():
        assert (out / rel).read_text() == content, rel
    # beta's generated files are gone, the user's note in its folder is not
    assert not (out / "app" / "routes" / "beta.py").exists()
    assert sorted(p.name for p in (out / "app" / "pipelines" / "beta").iterdir()) == ["MY_NOTES.md"]


def test_unlisted_file_at_a_generated_path_is_never_overwritten(
    out: Path, inputs: dict[str, Path]
) -> None:
    """B generates app/routes/gamma.py; the user already has one: refuse, change nothing."""
    mine = out / "app" / "routes" / "gamma.py"
    mine.write_text("# my own gamma route\n")
    before = snapshot(out)
    for extra in ((), ("--force",)):
        run = cli("build", inputs["b"], "-o", out, *extra)
        assert run.code == 2, run
        assert_no_traceback(run)
        assert "refusing to overwrite" in run.stderr and "app/routes/gamma.py" in run.stderr, run
        assert_same_tree(before, snapshot(out))


def test_unlisted_folder_at_a_generated_path_is_refused(out: Path, inputs: dict[str, Path]) -> None:
    (out / "app" / "routes" / "gamma.py").mkdir()
    before = snapshot(out)
    run = cli("build", inputs["b"], "-o", out)
    assert run.code == 2, run
    assert_no_traceback(run)
    assert_same_tree(before, snapshot(out))


def test_hooks_survive_every_rebuild_and_come_back_when_deleted(
    out: Path, inputs: dict[str, Path]
) -> None:
    hooks = out / "app" / "hooks.py"
    for source in ("b", "a", "b"):
        build_ok(inputs[source], out)
        assert hooks.read_text() == HOOKS, source
    hooks.unlink()
    build_ok(inputs["b"], out)
    assert hooks.read_bytes() == (inputs["clean_b"] / "app" / "hooks.py").read_bytes()
    hooks.write_text(HOOKS)
    assert cli("check", inputs["b"], "-o", out).code == 0


def test_edited_stale_generated_file_is_kept_with_a_warning(
    out: Path, inputs: dict[str, Path]
) -> None:
    """beta's route is no longer generated by B; the user edited it: keep it, say so."""
    route = out / "app" / "routes" / "beta.py"
    route.write_text(route.read_text() + "# my tweak\n")
    run = build_ok(inputs["b"], out)
    assert route.read_text().endswith("# my tweak\n")
    assert "app/routes/beta.py: no longer generated, but edited" in run.stderr, run


# ------------------------------------------------------------------ --force


def test_non_empty_folder_without_manifest_needs_force(
    tmp_path: Path, inputs: dict[str, Path]
) -> None:
    out = write_tree(tmp_path / "out", {"README.md": "my project\n", "src/x.py": "x = 1\n"})
    before = snapshot(out)
    run = cli("build", inputs["a"], "-o", out)
    assert run.code == 2, run
    assert_no_traceback(run)
    assert "--force" in run.stderr and MANIFEST in run.stderr, run
    assert_same_tree(before, snapshot(out))
    # with --force: generated files are added, but README.md (generated name!) is the user's
    run = cli("build", inputs["a"], "-o", out, "--force")
    assert run.code == 2, run
    assert "refusing to overwrite" in run.stderr and "README.md" in run.stderr, run
    assert_same_tree(before, snapshot(out))
    (out / "README.md").rename(out / "MY_README.md")
    build_ok(inputs["a"], out, "--force")
    assert (out / "MY_README.md").read_text() == "my project\n"
    assert (out / "src" / "x.py").read_text() == "x = 1\n"
    assert (out / MANIFEST).is_file()
    assert cli("check", inputs["a"], "-o", out).code == 0


def test_force_adopts_a_previous_build_whose_manifest_was_lost(
    out: Path, inputs: dict[str, Path]
) -> None:
    """Without a manifest, --force overwrites only files carrying the generated header.

    Wrapper copies under app/pipelines/ are byte for byte (no header), so a changed wrapper
    copy is refused even with --force; the same input as the lost build is adopted.
    """
    (out / MANIFEST).unlink()
    before = snapshot(out)
    run = cli("build", inputs["b"], "-o", out)
    assert run.code == 2 and "--force" in run.stderr, run
    assert_same_tree(before, snapshot(out))
    run = cli("build", inputs["b"], "-o", out, "--force")
    assert run.code == 2, run
    assert "refusing to overwrite" in run.stderr, run
    assert "app/pipelines/alpha/pipeline_wrapper.py" in run.stderr, run
    assert_same_tree(before, snapshot(out))
    build_ok(inputs["a"], out, "--force")
    build_ok(inputs["b"], out)
    assert_same_tree(_expected_b_tree(inputs), snapshot(out))
    assert cli("check", inputs["b"], "-o", out).code == 0


def test_empty_existing_folder_needs_no_force(tmp_path: Path, inputs: dict[str, Path]) -> None:
    out = tmp_path / "out"
    out.mkdir()
    build_ok(inputs["a"], out)
    assert_same_tree(snapshot(inputs["clean_a"]), snapshot(out))


# ------------------------------------------------------------------ tampered manifest


def _manifest(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / MANIFEST).read_text())
    return data


def _write_manifest(out: Path, data: dict[str, Any] | str) -> None:
    text = data if isinstance(data, str) else json.dumps(data, indent=2)
    (out / MANIFEST).write_text(text)


def _assert_refused(out: Path, inputs: dict[str, Path], *needles: str) -> Run:
    before = snapshot(out)
    for command in ("build", "check"):
        run = cli(command, inputs["b"], "-o", out)
        assert run.code == 2, f"{command}: {run}"
        assert_no_traceback(run)
        assert f"{MANIFEST}" in run.stderr, run
        for needle in needles:
            assert needle in run.stderr, run
        assert_same_tree(before, snapshot(out))
    return run


@pytest.mark.parametrize(
    "text",
    ["{not json", "[]", '{"generator": "hayhooks-gen"}', '{"generator": "x", "files": {}}', ""],
    ids=["bad_json", "a_list", "no_files", "other_generator", "empty"],
)
def test_unreadable_manifest_is_refused(text: str, out: Path, inputs: dict[str, Path]) -> None:
    _write_manifest(out, text)
    _assert_refused(out, inputs)


@pytest.mark.parametrize(
    "path",
    ["../victim.txt", "/etc/hostname", "app/../../victim.txt", "app\\..\\..\\victim.txt", ""],
    ids=["dotdot", "absolute", "inner_dotdot", "backslashes", "empty_path"],
)
def test_manifest_paths_outside_out_are_refused(
    path: str, out: Path, inputs: dict[str, Path]
) -> None:
    victim = out.parent / "victim.txt"
    victim.write_text("outside OUT\n")
    data = _manifest(out)
    data["files"][path] = hashlib.sha256(victim.read_bytes()).hexdigest()
    _write_manifest(out, data)
    _assert_refused(out, inputs, "manifest was modified")
    assert victim.read_text() == "outside OUT\n"


def test_manifest_with_wrong_types_is_refused(out: Path, inputs: dict[str, Path]) -> None:
    data = _manifest(out)
    data["files"] = sorted(data["files"])
    _write_manifest(out, data)
    _assert_refused(out, inputs)


def test_hand_edited_hash_of_a_generated_file_is_repaired(
    out: Path, inputs: dict[str, Path]
) -> None:
    """Handled safely: the file is regenerated and the manifest gets its true hash back."""
    data = _manifest(out)
    data["files"]["app/main.py"] = "0" * 64
    _write_manifest(out, data)
    build_ok(inputs["b"], out)
    assert_same_tree(_expected_b_tree(inputs), snapshot(out))


def test_hand_edited_hash_of_a_stale_file_keeps_the_file(
    out: Path, inputs: dict[str, Path]
) -> None:
    """Handled safely: a stale file whose listed hash does not match is not deleted."""
    data = _manifest(out)
    data["files"]["app/routes/beta.py"] = "f" * 64
    _write_manifest(out, data)
    run = build_ok(inputs["b"], out)
    assert (out / "app" / "routes" / "beta.py").is_file()
    assert "app/routes/beta.py: no longer generated, but edited" in run.stderr, run


def test_hand_added_manifest_entry_cannot_delete_a_user_file(
    out: Path, inputs: dict[str, Path]
) -> None:
    notes = out / "notes.txt"
    data = _manifest(out)
    data["files"]["notes.txt"] = hashlib.sha256(notes.read_bytes()).hexdigest()
    _write_manifest(out, data)
    run = cli("build", inputs["b"], "-o", out)
    assert notes.is_file(), f"notes.txt was deleted\n{run}"
    # Only files that are provably generated are removed; this one is kept, with a warning.
    assert run.code == 0 and "notes.txt" in run.stderr and "left in place" in run.stderr, run


# ------------------------------------------------------------------ concurrency

CONCURRENT_ROUNDS = 4
CONCURRENT_TIMEOUT_S = 120.0


@pytest.fixture(scope="module")
def heavy_inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two different inputs with many files each, so their write phases take a while."""
    root = tmp_path_factory.mktemp("heavy")
    a = wrappers_of(
        root / "a",
        {f"a{i}": GOOD_WRAPPER for i in range(4)},
        extra=[f"a0/data/{i:03d}.txt" for i in range(150)],
    )
    b = wrappers_of(
        root / "b",
        {f"b{i}": CHANGED_ALPHA for i in range(4)},
        extra=[f"b1/data/{i:03d}.txt" for i in range(150)],
    )
    clean_a, clean_b = root / "clean_a", root / "clean_b"
    build_ok(a, clean_a)
    build_ok(b, clean_b)
    return {"a": a, "b": b, "clean_a": clean_a, "clean_b": clean_b}


def _start_build(wrappers: Path, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "hayhooks_gen", "build", os.fspath(wrappers), "-o", os.fspath(out)],
        env=build_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen[str]) -> Run:
    try:
        stdout, stderr = proc.communicate(timeout=CONCURRENT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate(timeout=10)
    return Run(proc.returncode, stdout, stderr)


@pytest.mark.parametrize("start", ["missing", "empty", "prebuilt_a"])
def test_two_concurrent_builds_never_mix(
    start: str, tmp_path: Path, heavy_inputs: dict[str, Path]
) -> None:
    clean = {name: snapshot(heavy_inputs[f"clean_{name}"]) for name in ("a", "b")}
    outcomes: list[str] = []
    for round_ in range(CONCURRENT_ROUNDS):
        out = tmp_path / f"out{round_}"
        if start == "empty":
            out.mkdir()
        elif start == "prebuilt_a":
            copy_tree(heavy_inputs["clean_a"], out)
        first, second = ("a", "b") if round_ % 2 == 0 else ("b", "a")
        procs = {first: _start_build(heavy_inputs[first], out)}
        procs[second] = _start_build(heavy_inputs[second], out)
        runs = {name: _finish(proc) for name, proc in procs.items()}
        for name, run in runs.items():
            assert_no_traceback(run)
            assert run.code in (0, 2), f"{name}: {run}"
            if run.code == 2:
                assert LOCK_MESSAGE in run.stderr, f"{name}: {run}"
        assert any(r.code == 0 for r in runs.values()), runs
        final = snapshot(out)
        matches = [name for name in ("a", "b") if final == clean[name]]
        assert matches, (
            f"round {round_}: mixed tree; vs a: {tree_diff(clean['a'], final)[:8]}; "
            f"vs b: {tree_diff(clean['b'], final)[:8]}"
        )
        winners = [n for n, r in runs.items() if r.code == 0]
        if len(winners) == 1:
            assert matches == winners, (matches, winners)
        outcomes.append(f"{'+'.join(winners)}->{matches[0]}")
    print("OUTCOMES", start, outcomes)
    assert len(outcomes) == CONCURRENT_ROUNDS


def test_lock_is_released_after_success_and_failure(
    tmp_path: Path, inputs: dict[str, Path]
) -> None:
    out = tmp_path / "out"
    build_ok(inputs["a"], out)
    assert not (out / LOCK).exists()
    bad = wrappers_of(tmp_path / "bad", {"alpha": wrapper("self, q")})
    assert cli("build", bad, "-o", out).code == 2
    assert not (out / LOCK).exists()
    assert not [p for p in out.iterdir() if p.name.startswith(STAGING_PREFIX)]


def test_a_held_lock_blocks_with_a_clear_message(tmp_path: Path, inputs: dict[str, Path]) -> None:
    out = tmp_path / "out"
    build_ok(inputs["a"], out)
    (out / LOCK).write_text(f"{os.getpid()}\n")  # a live process: this test run
    before = snapshot(out)
    run = cli("build", inputs["b"], "-o", out)  # fails at once (cli has a timeout), no waiting
    assert run.code == 2, run
    assert LOCK_MESSAGE in run.stderr and LOCK in run.stderr, run
    assert_same_tree(before, snapshot(out))


@pytest.mark.parametrize(("age_s", "taken_over"), [(60.0, True), (0.0, False)])
def test_an_empty_lock_is_taken_over_once_old(
    tmp_path: Path, inputs: dict[str, Path], age_s: float, taken_over: bool
) -> None:
    # A build killed between creating the lock and writing its pid left an empty lock that
    # read as pid 0, "alive": every later build was refused until someone deleted it.
    out = tmp_path / "out"
    build_ok(inputs["a"], out)
    (out / LOCK).write_text("")
    stamp = time.time() - age_s
    os.utime(out / LOCK, (stamp, stamp))
    run = cli("build", inputs["b"], "-o", out)
    if taken_over:
        assert run.code == 0, run
        assert not (out / LOCK).exists()
        assert cli("check", inputs["b"], "-o", out).code == 0
    else:  # a build that has just made it and is writing its pid
        assert run.code == 2 and LOCK_MESSAGE in run.stderr, run


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.parametrize("command", ["build", "check"])
def test_a_fifo_where_a_generated_file_goes_is_refused(
    tmp_path: Path, inputs: dict[str, Path], command: str
) -> None:
    # Reading it to compare waited forever.
    out = tmp_path / "out"
    build_ok(inputs["a"], out)
    target = out / "app" / "main.py"
    target.unlink()
    os.mkfifo(target)
    run = cli(command, inputs["a"], "-o", out)
    assert run.code in ((2,) if command == "build" else (1, 2)), run
    assert_no_traceback(run)
    assert stat.S_ISFIFO(os.lstat(target).st_mode)


# ------------------------------------------------------------------ audit findings


def test_user_file_where_a_generated_folder_goes_is_refused(
    out: Path, inputs: dict[str, Path]
) -> None:
    """B adds pipeline gamma; the user has a file app/pipelines/gamma: refuse before any move."""
    (out / "app" / "pipelines" / "gamma").write_text("user data\n")
    before, wrappers_before = snapshot(out), snapshot(inputs["b"])
    for extra in ((), ("--force",)):
        run = cli("build", inputs["b"], "-o", out, *extra)
        assert run.code == 2, run
        assert_no_traceback(run)
        assert "refusing to replace files" in run.stderr, run
        assert "app/pipelines/gamma (a folder is needed for app/pipelines/gamma/" in run.stderr
        assert_same_tree(before, snapshot(out))
        assert_same_tree(wrappers_before, snapshot(inputs["b"]))


@pytest.mark.parametrize("pipeline", ["alpha", "beta"], ids=["rewritten", "deleted"])
def test_symlink_inside_out_is_never_written_or_deleted_through(
    pipeline: str, tmp_path: Path, out: Path, inputs: dict[str, Path]
) -> None:
    """A pipeline copy in OUT replaced by a link to the user's wrapper folder: B rewrites
    alpha's copy and deletes beta's; neither may reach through the link."""
    wrappers = copy_tree(inputs["b"], tmp_path / "w")
    elsewhere = copy_tree(out / "app" / "pipelines" / pipeline, tmp_path / "elsewhere")
    target = wrappers / "alpha" if pipeline == "alpha" else elsewhere
    copy = out / "app" / "pipelines" / pipeline
    for child in sorted(copy.rglob("*"), reverse=True):
        child.rmdir() if child.is_dir() else child.unlink()
    copy.rmdir()
    copy.symlink_to(os.path.relpath(target, copy.parent))
    before, outside_before = snapshot(out), snapshot(tmp_path)
    run = cli("build", wrappers, "-o", out)
    assert run.code == 2, run
    assert_no_traceback(run)
    assert "through symlinks" in run.stderr and f"app/pipelines/{pipeline}\n" in run.stderr, run
    assert_same_tree(before, snapshot(out))
    assert_same_tree(outside_before, snapshot(tmp_path))  # the wrappers and the link's target


@pytest.mark.parametrize(
    "alias",
    [
        "app/routes/./alpha.py",
        "app//routes/alpha.py",
        "./app/routes/alpha.py",
        "app/routes/alpha.py/",
    ],
    ids=["dot", "empty_part", "leading_dot", "trailing_slash"],
)
def test_manifest_alias_of_a_generated_path_is_refused(
    alias: str, out: Path, inputs: dict[str, Path]
) -> None:
    """An alias of app/routes/alpha.py (generated by B) would make the build delete it."""
    data = _manifest(out)
    data["files"][alias] = data["files"]["app/routes/alpha.py"]
    _write_manifest(out, data)
    wrappers_before = snapshot(inputs["b"])
    _assert_refused(out, inputs, "manifest was modified", repr(alias), "normal form")
    assert_same_tree(wrappers_before, snapshot(inputs["b"]))


def test_manifest_listing_a_path_twice_is_refused(out: Path, inputs: dict[str, Path]) -> None:
    text = (out / MANIFEST).read_text()
    line = next(ln for ln in text.splitlines() if '"app/main.py"' in ln)
    _write_manifest(out, text.replace(line, f"{line.rstrip(',')},\n{line}", 1))
    _assert_refused(out, inputs, "duplicate key 'app/main.py'")
    data = _manifest(out)
    data["user_owned"] = [*data["user_owned"], "app/main.py"]
    _write_manifest(out, data)
    _assert_refused(out, inputs, "'app/main.py' is listed twice")


@pytest.mark.parametrize("extra", [(), ("--force",)], ids=["plain", "force"])
def test_a_user_folder_named_like_the_manifest_is_refused(
    extra: tuple[str, ...], tmp_path: Path, inputs: dict[str, Path]
) -> None:
    """A folder at the manifest's path is the user's: never moved aside to write the manifest."""
    out = write_tree(tmp_path / "out", {f"{MANIFEST}/notes.txt": "precious\n"})
    before = snapshot(out)
    for command, args in (("build", extra), ("check", ())):
        run = cli(command, inputs["a"], "-o", out, *args)
        assert run.code == 2, f"{command}: {run}"
        assert_no_traceback(run)
        assert "the manifest path exists but is not a regular file" in run.stderr, run
        assert_same_tree(before, snapshot(out))


def test_a_dangling_link_at_a_user_owned_path_is_left_alone(
    tmp_path: Path, inputs: dict[str, Path]
) -> None:
    """Dockerfile and app/hooks.py are created once, when absent; a link, even to nothing,
    is present: build leaves it, check does not report it missing."""
    out = tmp_path / "out"
    build_ok(inputs["a"], out)
    for rel, target in (("Dockerfile", "/nowhere"), ("app/hooks.py", "../missing_hooks.py")):
        (out / rel).unlink()
        (out / rel).symlink_to(target)
    before = snapshot(out)
    run = build_ok(inputs["a"], out)
    assert "up to date" in run.stdout, run
    assert_same_tree(before, snapshot(out))
    assert os.readlink(out / "Dockerfile") == "/nowhere"
    run = cli("check", inputs["a"], "-o", out)
    assert run.code == 0, run


@pytest.mark.parametrize("rel", ["app/runtime.py", MANIFEST, "app/routes"])
def test_check_refuses_a_symlink_inside_out_as_build_does(
    rel: str, tmp_path: Path, inputs: dict[str, Path]
) -> None:
    """A generated file, the manifest or a folder replaced by a link to an identical copy:
    build refuses (exit 2), so check must not say "up to date"; it gives build's message."""
    out = tmp_path / "out"
    build_ok(inputs["a"], out)
    copy = tmp_path / "elsewhere"
    (out / rel).rename(copy)
    (out / rel).symlink_to(copy)
    before, outside = snapshot(out), snapshot(copy)
    runs = {command: cli(command, inputs["a"], "-o", out) for command in ("build", "check")}
    for command, run in runs.items():
        assert run.code == 2, f"{command}: {run}"
        assert_no_traceback(run)
        assert "refusing to write or delete through symlinks" in run.stderr, run
        assert f"  {rel}\n" in run.stderr, run
    assert runs["check"].stderr == runs["build"].stderr
    assert_same_tree(before, snapshot(out))
    assert_same_tree(outside, snapshot(copy))


@pytest.fixture(scope="module")
def folder_to_file(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A wrapper data folder (with a subfolder) that the next input turns into a file."""
    root = tmp_path_factory.mktemp("folder_to_file")
    before = wrappers_of(
        root / "before", {"alpha": GOOD_WRAPPER}, extra=["alpha/data/x.txt", "alpha/data/sub/y.txt"]
    )
    after = wrappers_of(root / "after", {"alpha": GOOD_WRAPPER}, extra=["alpha/data"])
    clean_after = root / "clean_after"
    build_ok(after, clean_after)
    return {"before": before, "after": after, "clean_after": clean_after}


def test_a_folder_of_stale_copies_becomes_a_generated_file(
    tmp_path: Path, folder_to_file: dict[str, Path]
) -> None:
    out = tmp_path / "out"
    build_ok(folder_to_file["before"], out)
    run = build_ok(folder_to_file["after"], out)
    assert_no_traceback(run)
    assert_same_tree(snapshot(folder_to_file["clean_after"]), snapshot(out))
    assert cli("check", folder_to_file["after"], "-o", out).code == 0


@pytest.mark.parametrize(
    "mine",
    ["data/mine.txt", "data/sub/mine.txt", "data/empty/", "data/sub/link"],
    ids=["user_file", "nested_user_file", "user_folder", "link"],
)
def test_a_folder_holding_anything_of_the_user_is_not_replaced_by_a_file(
    mine: str, tmp_path: Path, folder_to_file: dict[str, Path]
) -> None:
    out = tmp_path / "out"
    build_ok(folder_to_file["before"], out)
    target = out / "app" / "pipelines" / "alpha" / mine
    if mine.endswith("/"):
        target.mkdir()
    elif mine.endswith("link"):
        target.symlink_to("y.txt")
    else:
        target.write_text("mine\n")
    before = snapshot(out)
    for extra in ((), ("--force",)):
        run = cli("build", folder_to_file["after"], "-o", out, *extra)
        assert run.code == 2, run
        assert_no_traceback(run)
        assert "refusing to overwrite" in run.stderr, run
        assert "  app/pipelines/alpha/data\n" in run.stderr, run
        assert_same_tree(before, snapshot(out))


@pytest.mark.parametrize("at", ["first_write", "last"])
def test_a_failure_after_a_folder_was_replaced_by_a_file_puts_the_folder_back(
    at: str, tmp_path: Path, folder_to_file: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deletions (2 moves aside), the folders removed, then the writes; the manifest last."""
    out = tmp_path / "out"
    build_ok(folder_to_file["before"], out)
    (out / "app" / "pipelines" / "alpha" / "data" / "sub").chmod(0o750)
    before = snapshot(out)
    modes = {p: p.stat().st_mode for p in out.rglob("*") if p.is_dir()}
    calls = _replaces_of_a_build(folder_to_file["after"], out, tmp_path / "probe", monkeypatch)
    n = {"first_write": 3, "last": calls}[at]
    with monkeypatch.context() as m:
        m.setattr("hayhooks_gen.emit.os.replace", _failing_on(n, OSError(28, "No space left")))
        run = cli_in_process("build", folder_to_file["after"], "-o", out)
    assert run.code != 0, run
    assert_no_traceback(run)
    assert_same_tree(before, snapshot(out))
    assert {p: p.stat().st_mode for p in out.rglob("*") if p.is_dir()} == modes


@pytest.fixture(scope="module")
def pipeline_removed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An input with pipelines alpha and beta, then one without beta (its folder goes)."""
    root = tmp_path_factory.mktemp("pipeline_removed")
    both = wrappers_of(root / "both", {"alpha": GOOD_WRAPPER, "beta": GOOD_WRAPPER})
    alpha = wrappers_of(root / "alpha", {"alpha": GOOD_WRAPPER})
    clean_alpha = root / "clean_alpha"
    build_ok(alpha, clean_alpha)
    return {"both": both, "alpha": alpha, "clean_alpha": clean_alpha}


@pytest.mark.parametrize(
    ("folder", "why"),
    [
        ("app/pipelines", "to remove the empty folder app/pipelines/beta"),
        ("app/routes", "to delete app/routes/beta.py"),
    ],
    ids=["emptied_folder", "deleted_file"],
)
def test_a_folder_the_build_cannot_change_is_refused_before_anything_moves(
    folder: str, why: str, tmp_path: Path, pipeline_removed: dict[str, Path]
) -> None:
    """Without write permission on app/pipelines, beta's emptied folder cannot be removed:
    that was found after every file was in place (internal error, OUT already rewritten)."""
    prefix = without_file_permission_bypass()
    out = tmp_path / "out"
    build_ok(pipeline_removed["both"], out)
    (out / folder).chmod(0o555)
    try:
        before = snapshot(out)
        run = cli("build", pipeline_removed["alpha"], "-o", out, prefix=prefix)
        assert run.code == 2, run
        assert_no_traceback(run)
        assert "folders the build must change are not writable" in run.stderr, run
        assert f"  {folder} ({why})\n" in run.stderr, run
        assert_same_tree(before, snapshot(out))
    finally:
        (out / folder).chmod(0o755)
    build_ok(pipeline_removed["alpha"], out)
    assert_same_tree(snapshot(pipeline_removed["clean_alpha"]), snapshot(out))


def test_a_failure_removing_an_emptied_folder_rolls_the_whole_build_back(
    tmp_path: Path, pipeline_removed: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Removing beta's emptied folder is a step of the build, before the manifest: when it
    fails (a mount point, a race), every file is put back and the exit is 2, not 3."""
    out = tmp_path / "out"
    build_ok(pipeline_removed["both"], out)
    before = snapshot(out)
    real_rmdir = Path.rmdir

    def rmdir(self: Path) -> None:
        if self.name == "beta":
            raise OSError(16, "Device or resource busy", os.fspath(self))
        real_rmdir(self)

    with monkeypatch.context() as m:
        m.setattr(Path, "rmdir", rmdir)
        run = cli_in_process("build", pipeline_removed["alpha"], "-o", out)
    assert run.code == 2, run
    assert_no_traceback(run)
    assert "Device or resource busy" in run.stderr, run
    assert_same_tree(before, snapshot(out))
    build_ok(pipeline_removed["alpha"], out)
    assert_same_tree(snapshot(pipeline_removed["clean_alpha"]), snapshot(out))
