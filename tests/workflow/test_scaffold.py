"""`hayhooks-gen init` and `new` (copier templates), then build and check the result."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import pytest

from hayhooks_gen.render import templates_dir

from ._helpers import cli, git_commit_all, git_env, ok, run

pytest.importorskip("copier")
yaml = pytest.importorskip("yaml")

SERVICE_SMOKE = """\
from fastapi.testclient import TestClient

from app.main import app

with TestClient(app) as client:
    status = client.get("/status")
    assert status.status_code == 200, status.text
    assert status.json()["pipelines"] == ["hello", "summarize"], status.json()
    run = client.post("/summarize/run", json={"text": "hi"})
    assert run.status_code == 200 and run.json() == {"result": {"text": "hi"}}, run.text
print("ok")
"""


def _values(data: Any) -> list[Any]:
    if isinstance(data, dict):
        return [v for value in data.values() for v in _values(value)]
    if isinstance(data, list):
        return [v for value in data for v in _values(value)]
    return [data]


def _assert_portable(answers_file: Path, tmp_path: Path) -> dict[str, Any]:
    text = answers_file.read_text(encoding="utf-8")
    assert str(tmp_path) not in text and os.sep + "site-packages" not in text
    data = yaml.safe_load(text)
    assert isinstance(data, dict)
    for value in _values(data):
        if isinstance(value, str):
            assert not PurePosixPath(value).is_absolute(), f"{answers_file}: {value}"
            assert not PureWindowsPath(value).is_absolute(), f"{answers_file}: {value}"
    return data


def test_init_new_build_check_serve(tmp_path: Path) -> None:
    repo = tmp_path / "my-pipelines"
    created = ok(cli("init", str(repo), cwd=tmp_path))
    for rel in (
        "README.md",
        ".gitattributes",
        ".gitignore",
        ".pre-commit-config.yaml",
        ".github/workflows/hayhooks-gen.yml",
        "wrappers/hello/pipeline_wrapper.py",
    ):
        assert (repo / rel).is_file(), rel
        assert f"created: {rel}" in created.stdout
    ok(cli("new", "summarize", "--description", "Summarize a text.", cwd=repo))
    wrapper = (repo / "wrappers" / "summarize" / "pipeline_wrapper.py").read_text("utf-8")
    assert '"""Summarize a text.' in wrapper

    # The scaffold's README command, which names the service after the project.
    readme = (repo / "README.md").read_text("utf-8")
    build = next(
        line.split("#")[0].split()
        for line in readme.splitlines()
        if line.strip().startswith("hayhooks-gen build") and "--watch" not in line
    )
    assert build == ["hayhooks-gen", "build", "wrappers", "-o", "service", "--name", "my-pipelines"]
    ok(cli(*build[1:], cwd=repo))
    check = ok(cli("check", "wrappers", "-o", "service", "--name", "my-pipelines", cwd=repo))
    assert "up to date" in check.stdout
    pyproject = (repo / "service" / "pyproject.toml").read_text("utf-8")
    assert '\nname = "my-pipelines"\n' in pyproject
    # hidden answers files stay in the wrappers folder: they are not copied into the service
    assert not list((repo / "service").rglob(".copier-answers.yml"))

    smoke = ok(run([sys.executable, "-c", SERVICE_SMOKE], repo / "service"))
    assert smoke.stdout.strip() == "ok"

    answers = sorted(repo.rglob(".copier-answers.yml"))
    assert [a.relative_to(repo).as_posix() for a in answers] == [
        ".copier-answers.yml",
        "wrappers/hello/.copier-answers.yml",
        "wrappers/summarize/.copier-answers.yml",
    ]
    data = [_assert_portable(a, tmp_path) for a in answers]
    assert data[0]["project_name"] == "my-pipelines"
    assert data[0]["_hayhooks_gen_template"] == "scaffold"
    assert data[2]["pipeline_name"] == "summarize"


def test_scaffold_config_files_are_what_they_claim(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    # "1.0" would be a number in YAML unquoted: the hook's arguments must stay strings.
    ok(cli("init", str(repo), "--name", "1.0", "-d", "service_dir=api", cwd=tmp_path))
    workflow = yaml.safe_load((repo / ".github/workflows/hayhooks-gen.yml").read_text("utf-8"))
    steps = workflow["jobs"]["check"]["steps"]
    check = "hayhooks-gen check wrappers -o api --name 1.0 --color always"
    assert any(s.get("run") == check for s in steps)
    attributes = (repo / ".gitattributes").read_text("utf-8").splitlines()
    assert "api/** linguist-generated=true" in attributes
    assert "api/app/hooks.py -linguist-generated" in attributes
    config = yaml.safe_load((repo / ".pre-commit-config.yaml").read_text("utf-8"))
    hook = config["repos"][0]["hooks"][0]
    assert hook["id"] == "hayhooks-gen-check"
    assert hook["args"] == ["wrappers", "-o", "api", "--name", "1.0"]

    ok(cli("build", "wrappers", "-o", "api", "--name", "1.0", cwd=repo))
    git_commit_all(repo)
    attr = ok(
        run(
            [
                "git",
                "check-attr",
                "linguist-generated",
                "--",
                "api/app/main.py",
                "api/app/hooks.py",
                "wrappers/hello/pipeline_wrapper.py",
            ],
            repo,
        )
    ).stdout
    assert attr.splitlines() == [
        "api/app/main.py: linguist-generated: true",
        "api/app/hooks.py: linguist-generated: unset",
        "wrappers/hello/pipeline_wrapper.py: linguist-generated: unspecified",
    ]
    if shutil.which("git") and _has_pre_commit():
        env = git_env()
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")
        ok(run([sys.executable, "-m", "pre_commit", "run", "--all-files"], repo, env))


@pytest.mark.parametrize("folder", ["pipelines-", "my_pipelines.", "_private"])
def test_init_names_the_project_after_its_folder_only_when_that_is_a_project_name(
    tmp_path: Path, folder: str
) -> None:
    ok(cli("init", str(tmp_path / folder), cwd=tmp_path))
    answers = yaml.safe_load((tmp_path / folder / ".copier-answers.yml").read_text("utf-8"))
    assert answers["project_name"] == "hayhooks-service"


@pytest.mark.parametrize("name", ["svc-", ".svc", "my svc", "é"])
def test_init_refuses_a_name_that_is_no_project_name(tmp_path: Path, name: str) -> None:
    refused = cli("init", str(tmp_path / "repo"), "--name", name, cwd=tmp_path)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert f"error: project name {name!r}: use letters, digits" in refused.stderr
    assert "starting and ending with a letter or digit" in refused.stderr
    assert not (tmp_path / "repo").exists()


def _has_pre_commit() -> bool:
    try:
        import pre_commit  # noqa: F401
    except ImportError:
        return False
    return True


def test_copier_update_works_from_a_git_template_with_relative_src_path(tmp_path: Path) -> None:
    template = tmp_path / "templates" / "scaffold"
    shutil.copytree(templates_dir() / "scaffold", template)
    git_commit_all(template, "v1")
    ok(run(["git", "tag", "v0.1.0"], template))
    repo = tmp_path / "repo"
    ok(cli("init", str(repo), "--template", str(template), cwd=tmp_path))
    data = _assert_portable(repo / ".copier-answers.yml", tmp_path)
    assert data["_src_path"] == "../templates/scaffold" and data["_commit"] == "v0.1.0"
    git_commit_all(repo, "scaffold")

    readme = template / "README.md.jinja"
    readme.write_text(readme.read_text("utf-8") + "\nAdded in v0.2.0.\n", encoding="utf-8")
    git_commit_all(template, "v2")
    ok(run(["git", "tag", "v0.2.0"], template))
    ok(run([sys.executable, "-m", "copier", "update", "--defaults"], repo))
    assert (repo / "README.md").read_text("utf-8").endswith("Added in v0.2.0.\n")
    assert _assert_portable(repo / ".copier-answers.yml", tmp_path)["_commit"] == "v0.2.0"


def test_build_and_check_never_import_copier(tmp_path: Path) -> None:
    wrappers = tmp_path / "wrappers"
    ok(cli("init", str(tmp_path / "r"), cwd=tmp_path))
    shutil.copytree(tmp_path / "r" / "wrappers", wrappers)
    script = (
        "import sys\n"
        "from hayhooks_gen.cli import app\n"
        "for args in (['build', 'wrappers', '-o', 'out'], ['check', 'wrappers', '-o', 'out'],"
        " ['inspect', 'wrappers']):\n"
        "    try:\n"
        "        app(args)\n"
        "    except SystemExit as exc:\n"
        "        assert exc.code in (0, None), (args, exc.code)\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('copier', 'yaml', 'rich'))\n"
        "print('loaded:', heavy)\n"
    )
    proc = ok(run([sys.executable, "-c", script], tmp_path))
    assert proc.stdout.strip().splitlines()[-1] == "loaded: []"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["new", "bad name"], "use letters, digits"),
        (["new", "status"], "reserved"),
        (["new", "hello"], "already exists"),
        (["new", "x", "--wrappers", "missing"], "wrappers folder not found"),
        (["new", "x", "--description", 'say """hi"""'], "must not contain"),
        (["init", "."], "folder is not empty"),
        (["init", "fresh", "-d", "colour=blue"], "unknown answer(s) colour"),
        (["init", "fresh", "-d", "service_dir=../out"], "relative folder path"),
        (["init", "fresh", "-d", "oops"], "expected KEY=VALUE"),
    ],
)
def test_bad_scaffold_input_is_exit_2_and_writes_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    repo = tmp_path / "repo"
    ok(cli("init", str(repo), cwd=tmp_path))
    before = sorted(p.relative_to(repo) for p in repo.rglob("*"))
    proc = cli(*args, cwd=repo)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert sorted(p.relative_to(repo) for p in repo.rglob("*")) == before


def test_init_without_copier_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from hayhooks_gen.diagnostics import UsageError
    from hayhooks_gen.scaffold import init_repository

    monkeypatch.setitem(sys.modules, "copier", None)  # makes `import copier` fail
    with pytest.raises(UsageError, match=r"pip install 'hayhooks-gen\[scaffold\]'"):
        init_repository(tmp_path / "repo")
    assert not (tmp_path / "repo").exists()
