"""The command line: build, check, inspect.

Exit codes: 0 success or up to date; 1 ``check`` found drift; 2 bad input or usage;
3 internal error (a bug in hayhooks-gen). Problems in the input are printed compiler style,
``path:line:col: error: message``, all of them in one run, and nothing is written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from hayhooks_gen import __version__
from hayhooks_gen.diagnostics import BuildError, UsageError

EXIT_OK = 0
EXIT_DRIFT = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Generate an explicit FastAPI service from Hayhooks pipeline wrapper folders.",
)

WrappersArg = Annotated[
    Path,
    typer.Argument(
        help="The Hayhooks pipelines folder: one sub-folder per pipeline.", show_default=False
    ),
]
OutOpt = Annotated[Path, typer.Option("--output", "-o", help="The generated project folder.")]
PackageOpt = Annotated[
    str, typer.Option("--package", help="Python package name of the generated app.")
]
NameOpt = Annotated[
    str, typer.Option("--name", help="Project name in the generated pyproject.toml.")
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hayhooks-gen {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Generate an explicit FastAPI service from Hayhooks pipeline wrapper folders."""


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def _wrappers(path: Path) -> Path:
    if not path.is_dir():
        _fail(f"{path}: error: wrappers folder not found (expected a folder of pipeline folders)")
    return path


def _package(name: str) -> str:
    if not name.isidentifier():
        _fail(f"error: --package {name!r} is not a Python identifier")
    return name


def _run(action: Any, wrappers: Path | None = None) -> Any:
    try:
        return action()
    except BuildError as exc:
        prefix = Path() if wrappers is None else wrappers
        _fail("\n".join(d.render(prefix) for d in exc.diagnostics))
    except UsageError as exc:
        _fail(f"error: {exc}")


@app.command()
def build(
    wrappers: WrappersArg,
    output: OutOpt,
    package: PackageOpt = "app",
    name: NameOpt = "hayhooks-service",
    force: Annotated[
        bool, typer.Option("--force", help="Generate into a non-empty folder that has no manifest.")
    ] = False,
) -> None:
    """Write or refresh the generated service in OUTPUT."""
    from hayhooks_gen.build import generate
    from hayhooks_gen.emit import apply, locked, plan

    root = _wrappers(wrappers)
    result = _run(lambda: generate(root, package=_package(package), project_name=name), root)
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
    created = not output.exists()

    def write() -> Any:
        with locked(output):
            todo = plan(output, result, force=force)
            if not todo.empty:
                apply(output, todo)
            return todo

    try:
        todo = _run(write)
    finally:
        if created and output.is_dir() and not any(output.iterdir()):
            output.rmdir()
    for rel in todo.kept:
        typer.echo(
            f"warning: {rel}: no longer generated but edited by hand; left in place", err=True
        )
    changed = len(todo.writes) + len(todo.creates) + len(todo.deletes)
    typer.echo(
        f"{output}: {len(result.service.pipelines)} pipeline(s); "
        + (f"{changed} file(s) written or removed" if changed else "up to date")
    )


@app.command()
def check(
    wrappers: WrappersArg,
    output: OutOpt,
    package: PackageOpt = "app",
    name: NameOpt = "hayhooks-service",
) -> None:
    """Exit 1 when OUTPUT differs from what `build` would write (prints a diff); writes nothing."""
    from hayhooks_gen.build import generate
    from hayhooks_gen.emit import check as check_drift

    root = _wrappers(wrappers)
    result = _run(lambda: generate(root, package=_package(package), project_name=name), root)
    drift = _run(lambda: check_drift(output, result))
    if drift.clean:
        typer.echo(f"{output}: up to date")
        return
    sys.stdout.write(drift.diff)
    for rel in drift.missing:
        typer.echo(f"missing: {rel}")
    for rel in drift.extra:
        typer.echo(f"extra: {rel}")
    for rel in drift.changed:
        typer.echo(f"changed: {rel}")
    typer.echo(f"{output}: out of date; run `hayhooks-gen build {wrappers} -o {output}`", err=True)
    raise typer.Exit(EXIT_DRIFT)


@app.command()
def inspect(
    wrappers: WrappersArg,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Show what would be generated: pipelines, methods, routes, fields, response kinds."""
    from hayhooks_gen.discover import discover
    from hayhooks_gen.inspection import describe, table
    from hayhooks_gen.parse import parse

    root = _wrappers(wrappers)
    service = _run(lambda: parse(discover(root), "app"), root)
    rows = describe(service)
    typer.echo(json.dumps(rows, indent=2) if as_json else table(rows))


def main() -> None:
    try:
        app()
    except SystemExit:
        raise
    except Exception as exc:  # a bug: say so in one line, never a traceback
        typer.echo(f"hayhooks-gen: internal error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(EXIT_INTERNAL)
