"""The command line: build (and --watch), check, inspect, and init/new scaffolding.

Exit codes: 0 success or up to date; 1 ``check`` found drift; 2 bad input or usage;
3 internal error (a bug in hayhooks-gen). Problems in the input are printed compiler style,
``path:line:col: error: message``, all of them in one run, and nothing is written.
"""

from __future__ import annotations

import json
import keyword
import math
import signal
import sys
import time
import unicodedata
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from hayhooks_gen import __version__
from hayhooks_gen.diagnostics import BuildError, UsageError
from hayhooks_gen.term import ColorMode, color_diff, print_table, use_color

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


def _wrappers(path: Path, output: Path | None = None, package: str = "app") -> Path:
    if not path.is_dir():
        _fail(
            f"{path}:1:1: error: wrappers folder not found (expected a folder of pipeline folders)"
        )
    if output is not None:
        try:
            wrappers, out = path.resolve(), output.resolve()
        except (OSError, RuntimeError):  # a symlink loop on the way: refused with OUT's checks
            return path
        if out.is_relative_to(wrappers):
            _fail(
                f"error: {output}: OUT is inside WRAPPERS ({path}): its folders would be read as "
                "pipeline folders, by the next build and by Hayhooks; put the service beside "
                "the wrappers folder"
            )
        for generated in (package, "tests"):
            if wrappers.is_relative_to(out / generated):
                # The build would take the wrappers for its own copies of them, and delete
                # them once unedited and no longer built.
                _fail(
                    f"error: {path}: WRAPPERS is inside {output}/{generated}/, which the build "
                    "writes; keep the wrappers folder outside the service's generated folders"
                )
    return path


# Top-level packages the generated service imports, besides the standard library: a service
# package of the same name would shadow them (``--package fastapi``: no ``FastAPI`` to import).
SERVICE_IMPORTS = frozenset(
    {
        "anyio",
        "dotenv",
        "fastapi",
        "fastapi_openai_compat",
        "haystack",
        "hayhooks",
        "multipart",
        "pydantic",
        "pydantic_core",
        "python_multipart",
        "starlette",
        "typing_extensions",
        "uvicorn",
    }
)


# Top-level names of the service folder that are not the package's to take: the generated
# tests/, and what the generated .dockerignore leaves out of the image.
RESERVED_PACKAGES = frozenset({"tests", "build", "dist", "__pycache__"})


def _package(name: str) -> str:
    if not name.isidentifier() or keyword.iskeyword(name):
        _fail(f"error: --package {name!r} is not a Python identifier")
    normal = unicodedata.normalize("NFKC", name)
    if normal != name:  # the folder is written as given; ``import`` looks for the NFKC form
        _fail(
            f"error: --package {name!r} is not the name Python imports it by: Python reads "
            f"identifiers in NFKC form, {normal!r}"
        )
    if name in RESERVED_PACKAGES:
        _fail(
            f"error: --package {name!r} is a folder the service uses otherwise (its tests/, or "
            "one its .dockerignore leaves out of the image)"
        )
    if name in sys.stdlib_module_names or name in SERVICE_IMPORTS:
        _fail(f"error: --package {name!r} would shadow the module the service imports by that name")
    return name


def _project_name(name: str) -> str:
    from hayhooks_gen.render import PROJECT_NAME

    if PROJECT_NAME.fullmatch(name) is None:
        _fail(
            f"error: --name {name!r} is not a project name (letters, digits, '.', '_', '-', "
            "starting and ending with a letter or digit)"
        )
    return name


def _run(action: Any, wrappers: Path | None = None) -> Any:
    try:
        return action()
    except BuildError as exc:
        prefix = Path() if wrappers is None else wrappers
        _fail("\n".join(d.render(prefix) for d in exc.diagnostics))
    except UsageError as exc:
        _fail(f"error: {exc}")


def _build_once(wrappers: Path, output: Path, package: str, name: str, force: bool) -> str:
    """Build once; return the one-line summary. Problems are printed, then typer.Exit."""
    from hayhooks_gen.build import generate
    from hayhooks_gen.emit import apply, locked, plan

    root = _wrappers(wrappers, output, package)
    result = _run(
        lambda: generate(root, package=_package(package), project_name=_project_name(name)), root
    )
    for warning in result.warnings:
        typer.echo(warning.render(root), err=True)
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
            f"warning: {rel}: no longer generated, but edited or not recognisably generated; "
            "left in place",
            err=True,
        )
    changed = len(todo.changed)
    return f"{output}: {len(result.service.pipelines)} pipeline(s); " + (
        f"{changed} file(s) written or removed" if changed else "up to date"
    )


@app.command()
def build(
    wrappers: WrappersArg,
    output: OutOpt,
    package: PackageOpt = "app",
    name: NameOpt = "hayhooks-service",
    force: Annotated[
        bool, typer.Option("--force", help="Generate into a non-empty folder that has no manifest.")
    ] = False,
    watch: Annotated[
        bool,
        typer.Option(
            "--watch", help="Keep running: rebuild whenever WRAPPERS changes (Ctrl-C stops)."
        ),
    ] = False,
    interval: Annotated[
        float,
        typer.Option("--interval", help="--watch: seconds between looks at WRAPPERS (0.05-10)."),
    ] = 0.5,
    debounce: Annotated[
        float,
        typer.Option("--debounce", help="--watch: seconds WRAPPERS must stay unchanged (0.05-10)."),
    ] = 0.3,
    max_rebuilds: Annotated[int | None, typer.Option("--max-rebuilds", hidden=True)] = None,
    timeout: Annotated[float | None, typer.Option("--timeout", hidden=True)] = None,
) -> None:
    """Write or refresh the generated service in OUTPUT."""
    for flag, value in (("--interval", interval), ("--debounce", debounce), ("--timeout", timeout)):
        if value is not None and not math.isfinite(value):
            _fail(f"error: {flag} {value}: not a number of seconds")
    if not watch:
        typer.echo(_build_once(wrappers, output, package, name, force))
        return
    from hayhooks_gen.watch import WatchSettings
    from hayhooks_gen.watch import watch as watch_folder

    root = _wrappers(wrappers)
    _package(package)

    def attempt(reason: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        try:
            summary = _build_once(wrappers, output, package, name, force)
        except typer.Exit as exc:  # the problems are printed above; keep watching
            summary = f"build failed (exit {exc.exit_code}); still watching"
        except Exception as exc:  # a bug: say so in one line and keep watching
            summary = f"internal error: {type(exc).__name__}: {exc}; still watching"
        typer.echo(f"[{stamp}] {reason}: {summary}")

    settings = WatchSettings(interval, debounce, max_rebuilds, timeout)
    try:
        attempt("start")
        count = watch_folder(
            root,
            attempt,
            settings,
            exclude=output,
            on_ready=lambda: typer.echo(f"watching {root} (Ctrl-C stops)"),
        )
    except KeyboardInterrupt:
        typer.echo("watch: stopped")
        return
    typer.echo(f"watch: stopped after {count} rebuild(s)")


ColorOpt = Annotated[
    ColorMode,
    typer.Option(
        "--color",
        help="Colour: auto (on a terminal, unless NO_COLOR is set), always, never.",
        case_sensitive=False,
    ),
]


@app.command()
def check(
    wrappers: WrappersArg,
    output: OutOpt,
    package: PackageOpt = "app",
    name: NameOpt = "hayhooks-service",
    diff: Annotated[
        bool, typer.Option("--diff/--no-diff", help="Print a unified diff of the drift.")
    ] = True,
    color: ColorOpt = ColorMode.auto,
) -> None:
    """Exit 1 when OUTPUT differs from what `build` would write (prints a diff); writes nothing."""
    from hayhooks_gen.build import generate
    from hayhooks_gen.emit import check as check_drift

    root = _wrappers(wrappers, output, package)
    result = _run(
        lambda: generate(root, package=_package(package), project_name=_project_name(name)), root
    )
    drift = _run(lambda: check_drift(output, result))
    if drift.clean:
        typer.echo(f"{output}: up to date")
        return
    if diff:
        colored = use_color(sys.stdout, color)
        sys.stdout.write(color_diff(drift.diff) if colored else drift.diff)
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
    color: ColorOpt = ColorMode.auto,
) -> None:
    """Show what would be generated: pipelines, methods, routes, fields, response kinds."""
    from hayhooks_gen.discover import discover
    from hayhooks_gen.inspection import describe
    from hayhooks_gen.parse import parse

    root = _wrappers(wrappers)
    service = _run(lambda: parse(discover(root), "app"), root)
    rows = describe(service)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    print_table(rows, sys.stdout, use_color(sys.stdout, color))


def _answers(pairs: list[str]) -> dict[str, str]:
    data: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.isidentifier():
            _fail(f"error: --data {pair!r}: expected KEY=VALUE")
        data[key] = value
    return data


TemplateOpt = Annotated[
    str | None,
    typer.Option(
        "--template",
        help="Another copier template (git URL or folder) instead of the bundled one.",
        show_default=False,
    ),
]
VcsRefOpt = Annotated[
    str | None,
    typer.Option("--vcs-ref", help="With a git --template: the tag or commit to use."),
]


@app.command()
def init(
    directory: Annotated[
        Path, typer.Argument(help="Where to create the wrappers repository.")
    ] = Path("."),
    project_name: Annotated[
        str | None,
        typer.Option(
            "--name", help="Service name. Default: the folder's name.", show_default=False
        ),
    ] = None,
    data: Annotated[
        list[str] | None,
        typer.Option(
            "--data",
            "-d",
            help="Answer a template question, KEY=VALUE (wrappers_dir, service_dir, "
            "python_version, hayhooks_gen_requirement, pre_commit_repo, pre_commit_rev).",
            show_default=False,
        ),
    ] = None,
    template: TemplateOpt = None,
    vcs_ref: VcsRefOpt = None,
) -> None:
    """Scaffold a wrappers repository: an example wrapper, README, pre-commit and CI config."""
    from hayhooks_gen.scaffold import init_repository

    answers = _answers(data or [])
    if project_name is not None:
        answers["project_name"] = project_name
    done = _run(lambda: init_repository(directory, answers, template=template, vcs_ref=vcs_ref))
    for rel in done.files:
        typer.echo(f"created: {rel}")
    wrappers = answers.get("wrappers_dir", "wrappers")
    service = answers.get("service_dir", "service")
    typer.echo(f"next: cd {directory} && hayhooks-gen build {wrappers} -o {service}")


@app.command()
def new(
    pipeline: Annotated[
        str, typer.Argument(help="Pipeline name: the folder and route name.", show_default=False)
    ],
    wrappers: Annotated[Path, typer.Option("--wrappers", "-w", help="The wrappers folder.")] = Path(
        "wrappers"
    ),
    description: Annotated[
        str | None,
        typer.Option("--description", help="One line saying what it does.", show_default=False),
    ] = None,
    template: TemplateOpt = None,
    vcs_ref: VcsRefOpt = None,
) -> None:
    """Create a new pipeline wrapper folder WRAPPERS/PIPELINE from the wrapper template."""
    from hayhooks_gen.scaffold import new_wrapper

    done = _run(
        lambda: new_wrapper(
            wrappers, pipeline, description=description, template=template, vcs_ref=vcs_ref
        )
    )
    for rel in done.files:
        typer.echo(f"created: {(done.root / rel).as_posix()}")


_terminated = False


def _on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM (``timeout``, a cancelled CI job, ``docker stop``) stops a build as Ctrl-C does:
    the KeyboardInterrupt unwinds through the emit stage, which puts OUT back as it was. A
    second SIGTERM is ignored, so it cannot cut that rollback short."""
    global _terminated
    _terminated = True
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def main() -> None:
    global _terminated
    _terminated = False
    # Python's parser accepts brackets 200 deep; reading such code takes more frames than the
    # default limit of 1,000 (deeper input is a located error, never a crash).
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        app()
    except SystemExit:
        if _terminated:
            typer.echo("hayhooks-gen: terminated (SIGTERM)", err=True)
            sys.exit(128 + signal.SIGTERM)
        raise
    except KeyboardInterrupt:
        sys.exit(128 + (signal.SIGTERM if _terminated else signal.SIGINT))
    except OSError as exc:  # the file system refused: permissions, a full disk, a long name
        where = f"{exc.filename}: " if exc.filename else ""
        typer.echo(f"error: {where}{exc.strerror or exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except Exception as exc:  # a bug: say so in one line, never a traceback
        typer.echo(f"hayhooks-gen: internal error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(EXIT_INTERNAL)
    finally:
        signal.signal(signal.SIGTERM, previous)
