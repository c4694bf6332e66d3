"""`hayhooks-gen init` and `hayhooks-gen new`: one-off scaffolding from copier templates.

The templates are ``templates/scaffold`` (a wrappers repository) and ``templates/wrapper``
(one pipeline folder). Copier is imported here only, inside the functions that use it: it
is never on the ``build``/``check`` path. Every question is answered (defaults or options),
so nothing prompts.

Copier records where the template came from in the answers file (``_src_path``). An
absolute path there would tie the repository to one machine, so answers files are rewritten
to hold none: the bundled templates are recorded by name and version
(``_hayhooks_gen_template``), another local template by its path relative to the folder of
the answers file; a git URL is kept as it is, which is what ``copier update`` needs.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from hayhooks_gen import __version__
from hayhooks_gen.diagnostics import UsageError
from hayhooks_gen.discover import PIPELINE_NAME, RESERVED_NAMES, python_ident
from hayhooks_gen.render import PROJECT_NAME, templates_dir

ANSWERS_FILE = ".copier-answers.yml"
ANSWERS_HEADER = "# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n"
EXAMPLE_PIPELINE = "hello"
EXAMPLE_DESCRIPTION = "Say hello: echo a text back."
SCAFFOLD_QUESTIONS = frozenset(
    {
        "project_name",
        "wrappers_dir",
        "service_dir",
        "python_version",
        "hayhooks_gen_requirement",
        "pre_commit_repo",
        "pre_commit_rev",
    }
)
_REL_DIR = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*")


def bundled(name: str) -> Path:
    return templates_dir() / name


@dataclass(frozen=True)
class Scaffolded:
    root: Path
    files: list[str]  # created, relative to root, sorted


def _is_absolute(value: str) -> bool:
    return PurePosixPath(value).is_absolute() or PureWindowsPath(value).is_absolute()


def _check_rel_dir(key: str, value: str) -> None:
    if not _REL_DIR.fullmatch(value) or ".." in value.split("/"):
        raise UsageError(
            f"{key}={value!r}: expected a relative folder path such as 'wrappers' "
            "(letters, digits, '.', '_', '-', separated by '/')"
        )


def _copy(template: str, dest: Path, data: dict[str, Any], vcs_ref: str | None) -> None:
    try:
        from copier import run_copy
        from copier.errors import CopierError
    except ImportError as exc:
        raise UsageError(
            "init and new need copier: pip install 'hayhooks-gen[scaffold]' (or copier)"
        ) from exc

    try:
        run_copy(
            template,
            dest,
            data=data,
            vcs_ref=vcs_ref,
            defaults=True,
            overwrite=False,
            quiet=True,
            unsafe=False,
        )
    except CopierError as exc:
        raise UsageError(f"copier: {exc}") from exc


def portable_answers(answers: Path, template: Path | None, template_name: str) -> None:
    """Rewrite a copier answers file so that it holds no absolute path.

    ``template`` is the bundled template folder when that was used, else None.
    """
    import yaml

    if not answers.is_file():
        return
    data = yaml.safe_load(answers.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise UsageError(f"{answers}: not a copier answers file")
    src = data.get("_src_path")
    if isinstance(src, str) and _is_absolute(src):
        if template is not None and Path(src).resolve() == template.resolve():
            del data["_src_path"]
            data.pop("_commit", None)
            data = {
                "_hayhooks_gen_template": template_name,
                "_hayhooks_gen_version": __version__,
                **data,
            }
        else:
            relative = os.path.relpath(Path(src).resolve(), answers.parent.resolve())
            data["_src_path"] = Path(relative).as_posix()
    for key, value in data.items():
        if isinstance(value, str) and _is_absolute(value):
            raise UsageError(f"{answers}: answer {key}={value!r} is an absolute path")
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=False, allow_unicode=True)
    answers.write_text(ANSWERS_HEADER + text, encoding="utf-8", newline="\n")


def _files(root: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(root).parts
    )


def init_repository(
    dest: Path,
    data: dict[str, str] | None = None,
    *,
    template: str | None = None,
    vcs_ref: str | None = None,
) -> Scaffolded:
    """Scaffold a wrappers repository in ``dest`` (missing, empty, or holding only ``.git``)."""
    answers = dict(data or {})
    if dest.exists() and not dest.is_dir():
        raise UsageError(f"{dest}: exists and is not a folder")
    if dest.is_dir() and any(entry.name != ".git" for entry in dest.iterdir()):
        raise UsageError(f"{dest}: folder is not empty; init scaffolds a new repository")
    if template is None:
        unknown = sorted(set(answers) - SCAFFOLD_QUESTIONS)
        if unknown:
            known = ", ".join(sorted(SCAFFOLD_QUESTIONS))
            raise UsageError(f"unknown answer(s) {', '.join(unknown)}; the questions are {known}")
    default_name = dest.resolve().name
    answers.setdefault(
        "project_name",
        default_name if PROJECT_NAME.fullmatch(default_name) else "hayhooks-service",
    )
    answers.setdefault("hayhooks_gen_requirement", f"hayhooks-gen=={__version__}")
    answers.setdefault("pre_commit_rev", f"v{__version__}")
    if not PROJECT_NAME.fullmatch(answers["project_name"]):
        raise UsageError(
            f"project name {answers['project_name']!r}: use letters, digits, '.', '_' and '-', "
            "starting and ending with a letter or digit"
        )
    for key in ("wrappers_dir", "service_dir"):
        if key in answers:
            _check_rel_dir(key, answers[key])
    for key, value in answers.items():
        if _is_absolute(value):
            raise UsageError(
                f"{key}={value!r}: absolute paths are not recorded; use a relative one"
            )
    source = template if template is not None else str(bundled("scaffold"))
    _copy(source, dest, dict(answers), vcs_ref)
    portable_answers(dest / ANSWERS_FILE, None if template else bundled("scaffold"), "scaffold")
    wrappers = dest / answers.get("wrappers_dir", "wrappers")
    if not wrappers.exists() or (wrappers.is_dir() and not any(wrappers.iterdir())):
        wrappers.mkdir(parents=True, exist_ok=True)
        new_wrapper(wrappers, EXAMPLE_PIPELINE, description=EXAMPLE_DESCRIPTION)
    return Scaffolded(dest, _files(dest))


def check_pipeline_name(name: str) -> None:
    if not PIPELINE_NAME.fullmatch(name):
        raise UsageError(f"pipeline name {name!r}: use letters, digits, '_' and '-'")
    if name in RESERVED_NAMES:
        raise UsageError(f"pipeline name {name!r} is reserved (it would shadow /{name})")


def _check_description(description: str) -> None:
    if "\n" in description or "\r" in description:
        raise UsageError("--description: one line, please")
    if '"""' in description or "\\" in description:
        raise UsageError('--description: must not contain \'"""\' or a backslash')


def new_wrapper(
    wrappers: Path,
    name: str,
    *,
    description: str | None = None,
    template: str | None = None,
    vcs_ref: str | None = None,
) -> Scaffolded:
    """Create ``wrappers/name`` from the wrapper template."""
    check_pipeline_name(name)
    if not wrappers.is_dir():
        raise UsageError(
            f"{wrappers}: wrappers folder not found; run this where it is, or pass --wrappers"
        )
    target = wrappers / name
    if target.exists():
        raise UsageError(f"{target}: already exists")
    ident = python_ident(name)
    for other in sorted(wrappers.iterdir()):
        if other.is_dir() and python_ident(other.name) == ident:
            raise UsageError(
                f"{target}: {name!r} and the existing {other.name!r} map to the same Python "
                f"package {ident!r}"
            )
    data: dict[str, Any] = {"pipeline_name": name}
    if description is not None:
        _check_description(description)
        data["description"] = description
    source = template if template is not None else str(bundled("wrapper"))
    try:
        _copy(source, target, data, vcs_ref)
    except BaseException:
        if target.is_dir() and not any(target.iterdir()):
            target.rmdir()
        raise
    portable_answers(target / ANSWERS_FILE, None if template else bundled("wrapper"), "wrapper")
    return Scaffolded(target, _files(target))
