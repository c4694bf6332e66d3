"""Writing, checking and protecting the output folder (emit stage)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from hayhooks_gen.build import generate
from hayhooks_gen.diagnostics import UsageError
from hayhooks_gen.emit import MANIFEST, RollbackError, apply, check, plan, read_manifest
from hayhooks_gen.render import HEADER

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "wrappers"


def _build(out: Path) -> None:
    out.mkdir(exist_ok=True)
    apply(out, plan(out, generate(EXAMPLES)))


def _snapshot(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()
    }


def test_build_then_check_is_clean_and_rebuild_is_byte_identical(tmp_path: Path) -> None:
    out = tmp_path / "svc"
    _build(out)
    first = _snapshot(out)
    assert check(out, generate(EXAMPLES)).clean
    _build(out)
    assert _snapshot(out) == first


def test_check_reports_edits_deletions_and_stale_files(tmp_path: Path) -> None:
    out = tmp_path / "svc"
    _build(out)
    main = out / "app" / "main.py"
    main.write_text(main.read_text() + "# edit\n")
    (out / "app" / "runtime.py").unlink()
    drift = check(out, generate(EXAMPLES))
    assert drift.changed == ["app/main.py"] and drift.missing == ["app/runtime.py"]
    assert "+# edit" not in drift.diff and "-# edit" in drift.diff


def test_user_files_survive_and_are_never_overwritten(tmp_path: Path) -> None:
    out = tmp_path / "svc"
    _build(out)
    hooks = out / "app" / "hooks.py"
    hooks.write_text("# mine\n")
    (out / "notes.txt").write_text("mine")
    _build(out)
    assert hooks.read_text() == "# mine\n" and (out / "notes.txt").read_text() == "mine"


def test_stale_generated_files_are_removed_only_when_unedited(tmp_path: Path) -> None:
    out = tmp_path / "svc"
    _build(out)
    manifest = json.loads((out / MANIFEST).read_text())
    old = f"{HEADER}\nx = 1\n".encode()
    (out / "old.py").write_bytes(old)
    manifest["files"]["old.py"] = hashlib.sha256(old).hexdigest()
    (out / "notes.txt").write_text("mine\n")  # listed with its true hash, but not ours
    manifest["files"]["notes.txt"] = hashlib.sha256(b"mine\n").hexdigest()
    manifest["files"]["edited.py"] = "0" * 64
    (out / "edited.py").write_text("y = 2\n")
    (out / MANIFEST).write_text(json.dumps(manifest))
    _build(out)
    assert not (out / "old.py").exists()
    assert (out / "edited.py").read_text() == "y = 2\n"
    assert (out / "notes.txt").read_text() == "mine\n"


def test_non_empty_folder_without_manifest_needs_force_and_user_files_still_win(
    tmp_path: Path,
) -> None:
    out = tmp_path / "svc"
    (out / "app").mkdir(parents=True)
    (out / "app" / "main.py").write_text("# my own app\n")
    with pytest.raises(UsageError, match="--force"):
        plan(out, generate(EXAMPLES))
    with pytest.raises(UsageError, match="refusing to overwrite"):
        plan(out, generate(EXAMPLES), force=True)
    assert (out / "app" / "main.py").read_text() == "# my own app\n"


def test_tampered_manifest_is_reported(tmp_path: Path) -> None:
    out = tmp_path / "svc"
    _build(out)
    (out / MANIFEST).write_text(
        json.dumps({"generator": "hayhooks-gen", "files": {"../escape": "x"}})
    )
    with pytest.raises(UsageError, match="manifest was modified"):
        plan(out, generate(EXAMPLES))
    (out / MANIFEST).write_text("{not json")
    with pytest.raises(UsageError, match="not valid"):
        plan(out, generate(EXAMPLES))


def test_a_crash_while_moving_files_into_place_rolls_everything_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "svc"
    _build(out)
    (out / "app" / "main.py").write_text(f"{HEADER}\n# will be replaced\n")
    manifest = json.loads((out / MANIFEST).read_text())
    stale = f"{HEADER}\nold = 1\n".encode()
    manifest["files"]["stale.py"] = hashlib.sha256(stale).hexdigest()
    (out / MANIFEST).write_text(json.dumps(manifest))
    (out / "stale.py").write_bytes(stale)
    before = _snapshot(out)
    todo = plan(out, generate(EXAMPLES))
    assert todo.writes and todo.deletes
    real_replace = os.replace
    calls = {"n": 0}

    def flaky_replace(src: object, dst: object) -> None:
        calls["n"] += 1
        if calls["n"] == 4:
            raise OSError("disk full")
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr("hayhooks_gen.emit.os.replace", flaky_replace)
    with pytest.raises(OSError, match="disk full"):
        apply(out, todo)
    monkeypatch.undo()
    assert _snapshot(out) == before
    assert [p.name for p in out.iterdir() if p.name.startswith(".hayhooks-gen-staging")] == []


def _list_stale(out: Path, rel: str, content: bytes) -> None:
    """Put a provably generated, stale file at ``rel`` and list it in the manifest."""
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["files"][rel] = hashlib.sha256(content).hexdigest()
    (out / MANIFEST).write_text(json.dumps(manifest))
    (out / rel).write_bytes(content)


def test_a_user_file_where_a_folder_goes_is_refused_but_a_stale_generated_one_is_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "svc"
    _build(out)
    output = generate(EXAMPLES)
    output.generated["extra/x.py"] = f"{HEADER}\nx = 1\n".encode()
    (out / "extra").write_text("mine\n")
    with pytest.raises(UsageError, match=r"extra \(a folder is needed for extra/x.py\)"):
        plan(out, output)
    stale = f"{HEADER}\nold = 1\n".encode()
    _list_stale(out, "extra", stale)
    before = _snapshot(out)
    todo = plan(out, output)
    assert todo.deletes == ["extra"] and "extra/x.py" in todo.writes
    # a failure at the last move (the manifest) undoes the folder and restores the file
    real_replace = os.replace

    def fail_on_manifest(src: object, dst: object) -> None:
        if Path(str(dst)).name == MANIFEST and Path(str(src)).name.startswith("new-"):
            raise OSError("disk full")
        real_replace(src, dst)  # type: ignore[arg-type]

    with monkeypatch.context() as m:
        m.setattr("hayhooks_gen.emit.os.replace", fail_on_manifest)
        with pytest.raises(OSError, match="disk full"):
            apply(out, todo)
    assert _snapshot(out) == before and (out / "extra").is_file()
    apply(out, todo)
    assert (out / "extra" / "x.py").read_bytes() == output.generated["extra/x.py"]


def test_a_failing_undo_step_does_not_stop_the_rollback_and_keeps_the_backups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "svc"
    _build(out)
    (out / "app" / "main.py").write_text(f"{HEADER}\n# will be replaced\n")
    (out / "README.md").write_text(f"{HEADER}\n# will be replaced too\n")
    before = _snapshot(out)
    todo = plan(out, generate(EXAMPLES))
    assert len(todo.writes) >= 2
    real_replace = os.replace
    calls = {"n": 0}

    def flaky_replace(src: object, dst: object) -> None:
        # moves 1-2: first file aside and in; 3: second aside; 4 fails; 5: its undo fails
        calls["n"] += 1
        if calls["n"] in (4, 5):
            raise OSError(f"failure {calls['n']}")
        real_replace(src, dst)  # type: ignore[arg-type]

    monkeypatch.setattr("hayhooks_gen.emit.os.replace", flaky_replace)
    with pytest.raises(RollbackError, match="1 undo step") as info:
        apply(out, todo)
    monkeypatch.undo()
    first, second = (out / rel for rel in list(todo.writes)[:2])
    rel_first = first.relative_to(out).as_posix()
    assert first.read_bytes() == before[rel_first]  # undone although a later undo failed
    assert not second.exists()
    kept = [p for p in out.iterdir() if p.name.startswith(".hayhooks-gen-backup-")]
    assert len(kept) == 1 and str(kept[0]) in str(info.value)
    rel_second = second.relative_to(out).as_posix()
    assert before[rel_second] in [p.read_bytes() for p in kept[0].iterdir()]
    _build(out)  # the next build neither needs nor removes the backups
    assert kept[0].is_dir()


@pytest.mark.parametrize(
    "path",
    [
        "app/./main.py",
        "app//main.py",
        "/app/main.py",
        "app/main.py/",
        "a\\b",
        "a/../b",
        "app/" + "x" * 256 + ".py",  # longer than any file name: the OS would refuse to look
    ],
)
def test_manifest_paths_must_be_in_normal_form(tmp_path: Path, path: str) -> None:
    out = tmp_path / "svc"
    _build(out)
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["files"][path] = "0" * 64
    (out / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(UsageError, match="normal form"):
        read_manifest(out)


def test_symlinks_inside_out_are_refused(tmp_path: Path) -> None:
    out = tmp_path / "svc"
    _build(out)
    routes = out / "app" / "routes"
    routes.rename(tmp_path / "routes")
    routes.symlink_to(tmp_path / "routes")
    with pytest.raises(UsageError, match="through symlinks") as info:
        plan(out, generate(EXAMPLES))
    assert "  app/routes\n" in str(info.value)
    routes.unlink()
    (tmp_path / "routes").rename(routes)
    main = out / "app" / "main.py"
    main.rename(tmp_path / "main.py")
    main.symlink_to(tmp_path / "main.py")
    with pytest.raises(UsageError, match=r"app/main\.py"):
        plan(out, generate(EXAMPLES))


def test_a_manifest_nested_too_deep_for_the_json_parser_is_malformed(tmp_path: Path) -> None:
    out = tmp_path / "svc"
    _build(out)
    (out / MANIFEST).write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(UsageError, match="not valid hayhooks-gen JSON"):
        read_manifest(out)


def test_a_rewritten_manifest_counts_as_a_change(tmp_path: Path) -> None:
    """The build summary counts ``Plan.changed``: a manifest rewritten alone is not up to date."""
    out = tmp_path / "svc"
    _build(out)
    assert plan(out, generate(EXAMPLES)).changed == []
    text = (out / MANIFEST).read_text()
    (out / MANIFEST).write_text(text.replace('"version"', '"version" ', 1))
    todo = plan(out, generate(EXAMPLES))
    assert not todo.empty and todo.changed == [MANIFEST]
    (out / "app" / "main.py").write_text(f"{HEADER}\n# edited\n")
    assert plan(out, generate(EXAMPLES)).changed == [MANIFEST, "app/main.py"]
    apply(out, plan(out, generate(EXAMPLES)))
    assert plan(out, generate(EXAMPLES)).changed == []


@pytest.mark.parametrize("command", ["build", "check"])
def test_an_edited_file_without_the_header_is_the_users(tmp_path: Path, command: str) -> None:
    # Every rebuild silently replaced it, though the README promises that a listed file that is
    # not provably generated is never overwritten.
    out = tmp_path / "svc"
    _build(out)
    (out / "README.md").write_text("# Our own README\n")
    before = _snapshot(out)
    with pytest.raises(UsageError, match="edited and no longer carry the generated header"):
        if command == "build":
            plan(out, generate(EXAMPLES))
        else:
            check(out, generate(EXAMPLES))
    assert _snapshot(out) == before
    # with the header back, the build replaces it, edits and all, as the header says
    (out / "README.md").write_text(f"{HEADER}\n# Our own README\n")
    assert "README.md" in plan(out, generate(EXAMPLES)).writes
