"""The published pre-commit hooks, run by pre-commit itself (from PyPI) on sample repositories.

pre-commit installs hayhooks-gen from a git repository into its own virtualenv with pip (so
it needs PyPI for hatchling and the dependencies: each install takes some seconds). The
repository is a fresh commit of this working tree, so what is tested is what is on disk.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from support.servers import REPO_ROOT

from ._helpers import cli, copy_hook_repository, git_commit_all, git_env, ok, run, write_wrapper

pytest.importorskip("pre_commit")

PRE_COMMIT_TIMEOUT_S = 600.0


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit")


@pytest.fixture(scope="module")
def hook_repo(workspace: Path) -> Path:
    return copy_hook_repository(workspace / "hayhooks-gen")


@pytest.fixture(scope="module")
def pre_commit_env(workspace: Path) -> dict[str, str]:
    env = git_env()
    env.pop("PYTHONPATH", None)  # the hooks must run the hayhooks-gen that pre-commit installed
    env["PRE_COMMIT_HOME"] = str(workspace / "pre-commit-home")
    return env


def _sample(root: Path, name: str) -> Path:
    repo = root / name
    write_wrapper(repo / "wrappers", "echo")
    ok(cli("build", "wrappers", "-o", "service", cwd=repo))
    git_commit_all(repo)
    return repo


def _pre_commit(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "pre_commit", *args], repo, env, PRE_COMMIT_TIMEOUT_S)


def _head(repo: Path) -> str:
    return ok(run(["git", "rev-parse", "HEAD"], repo)).stdout.strip()


def test_manifest_is_valid() -> None:
    ok(
        run(
            [sys.executable, "-m", "pre_commit", "validate-manifest", ".pre-commit-hooks.yaml"],
            REPO_ROOT,
        )
    )


def test_try_repo_check_hook_passes_on_an_up_to_date_repository(
    hook_repo: Path, pre_commit_env: dict[str, str], workspace: Path
) -> None:
    repo = _sample(workspace, "sample-try-repo")
    proc = _pre_commit(
        repo, pre_commit_env, "try-repo", str(hook_repo), "hayhooks-gen-check", "--all-files"
    )
    ok(proc)
    assert "hayhooks-gen check" in proc.stdout and "Passed" in proc.stdout


def test_configured_hooks_catch_drift_and_regenerate(
    hook_repo: Path, pre_commit_env: dict[str, str], workspace: Path
) -> None:
    repo = _sample(workspace, "sample-config")
    (repo / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        f"  - repo: {hook_repo.as_posix()}\n"
        f"    rev: {_head(hook_repo)}\n"
        "    hooks:\n"
        "      - id: hayhooks-gen-check\n"
        "      - id: hayhooks-gen-build\n"
        "        args: [wrappers, -o, service]\n"
        "        stages: [manual]\n",
        encoding="utf-8",
    )
    git_commit_all(repo, "pre-commit config")
    ok(_pre_commit(repo, pre_commit_env, "run", "hayhooks-gen-check", "--all-files"))

    main = repo / "service" / "app" / "main.py"
    main.write_text(main.read_text(encoding="utf-8") + "# edited by hand\n", encoding="utf-8")
    drift = _pre_commit(repo, pre_commit_env, "run", "hayhooks-gen-check", "--all-files")
    assert drift.returncode == 1, drift.stdout + drift.stderr
    assert "Failed" in drift.stdout and "changed: app/main.py" in drift.stdout
    assert "-# edited by hand" in drift.stdout

    write_wrapper(repo / "wrappers", "second")
    build = _pre_commit(
        repo, pre_commit_env, "run", "hayhooks-gen-build", "--all-files", "--hook-stage", "manual"
    )
    assert build.returncode == 1, build.stdout + build.stderr  # files changed: commit stops
    assert "files were modified by this hook" in build.stdout
    assert (repo / "service" / "app" / "routes" / "second.py").is_file()
    assert "# edited by hand" not in main.read_text(encoding="utf-8")
    ok(cli("check", "wrappers", "-o", "service", cwd=repo))
    ok(_pre_commit(repo, pre_commit_env, "run", "hayhooks-gen-check", "--all-files"))
