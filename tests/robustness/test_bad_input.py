"""Issue 4, the generator's bad-input corpus, and the `check` command.

Every case is a wrappers folder written by the test, built through the real CLI
(``python -m hayhooks_gen build WRAPPERS -o OUT`` in a subprocess) into an OUT that already holds
a successful build. Each must exit 2, print ``path:line:col: error: ...`` lines that point at the
right file and line (and column where it means something), print no traceback, and leave every
byte of OUT as it was. ``check`` on the same input must also exit 2.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ._helpers import (
    GOOD_WRAPPER,
    Run,
    assert_no_traceback,
    assert_same_tree,
    build_ok,
    cli,
    cli_in_process,
    copy_tree,
    error_lines,
    snapshot,
    without_file_permission_bypass,
    wrapper,
    wrappers_of,
    write_tree,
)

WRAPPERS = "wrappers"  # passed relative to the test's cwd, so messages start with "wrappers/"
PW = "pipeline_wrapper.py"


def _python_syntax_position(source: str) -> tuple[int, int]:
    """(line, column) Python itself reports for a syntax error in ``source``."""
    try:
        compile(source, PW, "exec")
    except SyntaxError as err:
        assert err.lineno is not None and err.offset is not None
        return err.lineno, err.offset
    raise AssertionError("source has no syntax error")


@dataclass(frozen=True)
class Expected:
    """One diagnostic that must be printed: file (relative to WRAPPERS), line, column, message."""

    path: str
    line: int
    col: int | None  # None: any column (the position of a whole file or folder)
    message: str  # regular expression searched in the message


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, str | bytes]
    expected: tuple[Expected, ...]
    # name in WRAPPERS -> path relative to an "outside" folder next to WRAPPERS
    symlinks: dict[str, str] = field(default_factory=dict)
    outside: dict[str, str | bytes] = field(default_factory=dict)


SYNTAX_UNCLOSED = (
    "from hayhooks import BasePipelineWrapper\n\n\n"
    "class PipelineWrapper(BasePipelineWrapper):\n"
    "    def run_api(self, q: str) -> str:\n"
    "        return (q +\n"
)
SYNTAX_MISSING_COLON = (
    "from hayhooks import BasePipelineWrapper\n\n\n"
    "class PipelineWrapper(BasePipelineWrapper):\n"
    "    def run_api(self, q: str) -> str\n"
    "        return q\n"
)
SYNTAX_DOUBLE_EQUALS = "from hayhooks import BasePipelineWrapper\nx = = 1\n"
SETUP_ONLY = (
    "from hayhooks import BasePipelineWrapper\n\n\n"
    "class PipelineWrapper(BasePipelineWrapper):\n"
    "    def setup(self) -> None:\n"
    "        self.pipeline = None\n"
)
NON_UTF8 = (
    b"from hayhooks import BasePipelineWrapper\n"
    b"# caf\xe9 au lait\n" + GOOD_WRAPPER.split("\n", 1)[1].encode()
)


def _with_deployment_type(value: str) -> str:
    """GOOD_WRAPPER with ``deployment_type = <value>`` on line 5, column 23 for the value."""
    head = "class PipelineWrapper(BasePipelineWrapper):\n"
    return GOOD_WRAPPER.replace(head, f"{head}    deployment_type = {value}\n\n")


def _syntax(case_id: str, source: str, message: str) -> Case:
    line, col = _python_syntax_position(source)
    return Case(case_id, {f"p/{PW}": source}, (Expected(f"p/{PW}", line, col, message),))


def _sig(case_id: str, source: str, line: int, col: int, message: str) -> Case:
    return Case(case_id, {f"p/{PW}": source}, (Expected(f"p/{PW}", line, col, message),))


def _decorated(decorator: str, signature: str, returns: str = " -> dict") -> str:
    """A wrapper whose ``run_api`` carries ``decorator`` on line 8 (column 5); def on line 9."""
    return wrapper(signature, returns).replace(
        "    def run_api(", f"    {decorator}\n    def run_api("
    )


NOT_AN_INSTANCE_METHOD = {
    "staticmethod": _decorated("@staticmethod", "query: str"),
    "classmethod": _decorated("@classmethod", "cls, query: str"),
    # built: every request called the property's value, a str (Hayhooks refuses it)
    "property": _decorated("@property", "self", " -> str"),
    "cached_property": "from functools import cached_property\n"
    + _decorated("@cached_property", "self", " -> str"),
}

NOT_A_THING_COL = "from hayhooks import BasePipelineWrapper, NotAThing".index("NotAThing") + 1

CASES = [
    _syntax("syntax_unclosed_paren", SYNTAX_UNCLOSED, r"syntax error: '\(' was never closed"),
    _syntax("syntax_missing_colon", SYNTAX_MISSING_COLON, r"syntax error: expected ':'"),
    _syntax("syntax_invalid", SYNTAX_DOUBLE_EQUALS, r"syntax error: invalid syntax"),
    _sig("no_wrapper_class", "x = 1\n", 1, 1, r"no 'PipelineWrapper' class"),
    _sig("no_run_method", SETUP_ONLY, 4, 7, r"'PipelineWrapper' implements none of run_api"),
    _sig(
        "missing_return_annotation",
        wrapper("self, query: str", returns=""),
        8,
        9,
        r"'run_api' has no return annotation",
    ),
    _sig(
        "unannotated_param",
        wrapper("self, query"),
        8,
        23,
        r"parameter 'query' of 'run_api' has no type annotation",
    ),
    _sig("star_args", wrapper("self, q: str, *args: str"), 8, 31, r"takes \*args"),
    _sig(
        "unannotated_star_kwargs",
        wrapper("self, q: str, **kwargs"),
        8,
        31,
        r"parameter 'kwargs' of 'run_api' has no type annotation",
    ),
    _sig(
        "positional_only",
        wrapper("self, q: str, /, r: int = 1"),
        8,
        23,
        r"positional-only parameters cannot be filled from a request body",
    ),
    _sig(
        "not_self_first",
        wrapper("query: str"),
        8,
        9,
        r"must be an instance method taking 'self' first",
    ),
    *(
        _sig(
            f"{word}_run_api",
            source,
            8 + source.startswith("from functools"),
            5,
            rf"'run_api' must be an instance method taking 'self' first, not a @{word}",
        )
        for word, source in NOT_AN_INSTANCE_METHOD.items()
    ),
    _sig(
        "unresolved_annotation",
        wrapper("self, q: Document"),
        8,
        26,
        r"cannot resolve name 'Document'",
    ),
    _sig(
        "unresolved_return",
        wrapper("self, q: str", returns=" -> Answer"),
        8,
        34,
        r"cannot resolve name 'Answer'",
    ),
    _sig(
        "unresolved_default",
        wrapper("self, q: str = UNKNOWN_DEFAULT"),
        8,
        32,
        r"cannot resolve name 'UNKNOWN_DEFAULT'",
    ),
    _sig(
        "unresolved_nested_in_annotation",
        wrapper("self, q: list[Document] | None = None", head="from typing import Any\n"),
        9,
        31,
        r"cannot resolve name 'Document'",
    ),
    _sig(
        "star_import_hides_name",
        wrapper("self, q: Optional[str] = None", head="from typing import *\n"),
        9,
        26,
        r"cannot resolve 'Optional': star imports \(typing\)",
    ),
    _sig(
        "star_import_from_hayhooks",
        "from hayhooks import *\n" + GOOD_WRAPPER.split("\n", 1)[1],
        1,
        1,
        r"star import from 'hayhooks'",
    ),
    _sig("non_utf8_source", NON_UTF8, 2, 6, r"source is not valid UTF-8"),
    Case(
        "hayhooks_name_that_does_not_exist",
        {
            f"p/{PW}": "from hayhooks import BasePipelineWrapper, NotAThing\n"
            + GOOD_WRAPPER.split("\n", 1)[1]
        },
        # The column is the statement's (1) today; the name's column would be better.
        (Expected(f"p/{PW}", 1, None, r"'hayhooks' has no name 'NotAThing'"),),
    ),
    Case(
        # built, then the service failed to start (Hayhooks fails to load it)
        "import_of_a_name_the_folder_lacks",
        {f"p/{PW}": "from .a import Missing\n" + GOOD_WRAPPER, "p/a.py": "X = 1\n"},
        (Expected(f"p/{PW}", 1, 16, r"cannot import 'Missing' from '\.a': a\.py defines no"),),
    ),
    Case(
        "import_of_a_module_the_folder_lacks",
        {
            f"p/{PW}": "from .helper import x\n" + GOOD_WRAPPER,
            "p/helper.py": "from .nothere import x\n",
        },
        (Expected("p/helper.py", 1, 1, r"the pipeline folder has no module '\.nothere'"),),
    ),
    Case(
        "folder_name_with_dot",
        {f"my.pipe/{PW}": GOOD_WRAPPER},
        (Expected("my.pipe", 1, 1, r"invalid pipeline name 'my\.pipe'"),),
    ),
    _sig(
        "deployment_type_unknown_word",
        _with_deployment_type('"agnet"'),
        5,
        23,
        r"deployment_type must be 'agent', 'pipeline', 'unknown' or None, not \"agnet\"",
    ),
    _sig(
        "deployment_type_not_a_string",
        _with_deployment_type("True"),
        5,
        23,
        r"deployment_type must be .* or None, not True",
    ),
    Case(
        "folder_name_with_space",
        {f"has space/{PW}": GOOD_WRAPPER},
        (Expected("has space", 1, 1, r"invalid pipeline name 'has space'"),),
    ),
    Case(
        "two_pipelines_collide",
        {f"a-b/{PW}": GOOD_WRAPPER, f"a_b/{PW}": GOOD_WRAPPER},
        (Expected("a_b", 1, 1, r"pipeline 'a_b' collides with 'a-b'"),),
    ),
    Case(
        "reserved_name_status",
        {f"status/{PW}": GOOD_WRAPPER, f"ok/{PW}": GOOD_WRAPPER},
        (Expected("status", 1, 1, r"pipeline name 'status' is taken"),),
    ),
    Case(
        "missing_pipeline_wrapper_file",
        {"p/helper.py": "X = 1\n"},
        (Expected(f"p/{PW}", 1, 1, r"missing pipeline_wrapper\.py"),),
    ),
    Case(
        "pipeline_folder_symlink_outside",
        {f"ok/{PW}": GOOD_WRAPPER},
        (Expected("evil", 1, 1, r"symlink outside the wrappers folder"),),
        symlinks={"evil": "evil"},
        outside={f"evil/{PW}": GOOD_WRAPPER},
    ),
    Case(
        "pipelines_one_name_on_case_insensitive_file_systems",
        {f"Echo/{PW}": GOOD_WRAPPER, f"echo/{PW}": GOOD_WRAPPER},
        (Expected("echo", 1, 1, r"collides with 'Echo' .*case-insensitive file system"),),
    ),
    Case(
        "pipeline_name_too_long_for_a_file_name",
        {f"{'a' * 201}/{PW}": GOOD_WRAPPER},
        (Expected("a" * 201, 1, 1, r"pipeline name is 201 characters, over 200"),),
    ),
    Case(
        "backslash_in_a_file_name",
        {f"p/{PW}": GOOD_WRAPPER, "p/data\\x.txt": "x\n"},
        (Expected("p/data\\x.txt", 1, 1, r"file name holds a backslash"),),
    ),
    Case(
        "coding_declaration_other_than_utf8",
        {f"p/{PW}": "# -*- coding: latin-1 -*-\n" + GOOD_WRAPPER + "X = 'é'\n"},
        (Expected(f"p/{PW}", 1, 1, r"declares encoding 'latin-1'.*reads UTF-8 only"),),
    ),
    Case(
        "coding_declaration_ascii_with_non_ascii_text",
        {f"p/{PW}": "#!/usr/bin/env python\n# coding: ascii\n" + GOOD_WRAPPER + "X = 'é'\n"},
        (Expected(f"p/{PW}", 2, 1, r"declares encoding 'ascii' but holds non-ASCII"),),
    ),
    Case(
        "coding_declaration_unknown",
        {f"p/{PW}": "# coding: klingon\n" + GOOD_WRAPPER},
        (Expected(f"p/{PW}", 1, 1, r"unknown encoding 'klingon'"),),
    ),
    Case(
        # libcst's parser crashed the process on this; Python's refuses it first
        "brackets_nested_deeper_than_python_allows",
        {f"p/{PW}": GOOD_WRAPPER + "X = " + "(" * 3000 + "1" + ")" * 3000 + "\n"},
        (Expected(f"p/{PW}", 15, None, r"too many nested parentheses"),),
    ),
    Case(
        # flat, so Python's parser takes it; its compiler does not, and libcst's parser crashed
        "a_sum_too_long_for_pythons_compiler",
        {f"p/{PW}": GOOD_WRAPPER + "X = " + " + ".join(["1"] * 10_000) + "\n"},
        (Expected(f"p/{PW}", 1, 1, r"nested too deeply for Python's compiler"),),
    ),
    Case(
        "nested_too_deeply_for_pythons_compiler",
        {f"p/{PW}": GOOD_WRAPPER + "X = " + "-" * 3000 + "1\n"},
        (Expected(f"p/{PW}", 1, 1, r"nested too deeply for Python's compiler"),),
    ),
    Case(
        "file_symlink_outside_pipeline",
        {f"ok/{PW}": GOOD_WRAPPER},
        (Expected("ok/secret.txt", 1, 1, r"symlink points outside its pipeline folder"),),
        symlinks={"ok/secret.txt": "secret.txt"},
        outside={"secret.txt": "not yours\n"},
    ),
]


@pytest.fixture(scope="module")
def previous_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An OUT holding a successful build, copied into each test before the bad build."""
    root = tmp_path_factory.mktemp("previous")
    wrappers = wrappers_of(root / "wrappers", {"good": GOOD_WRAPPER})
    out = root / "out"
    build_ok(wrappers, out)
    (out / "app" / "hooks.py").write_text("# edited by the user\n", encoding="utf-8")
    (out / "notes.txt").write_text("user notes\n", encoding="utf-8")
    return out


def _setup(case: Case, tmp_path: Path, previous_build: Path) -> Path:
    write_tree(tmp_path / WRAPPERS, case.files)
    if case.outside:
        write_tree(tmp_path / "outside", case.outside)
    for name, target in case.symlinks.items():
        (tmp_path / WRAPPERS / name).symlink_to(tmp_path / "outside" / target)
    return copy_tree(previous_build, tmp_path / "out")


def assert_located(run: Run, expected: tuple[Expected, ...]) -> None:
    """Exit 2, no traceback, each expected diagnostic printed, every stderr line located."""
    assert run.code == 2, f"expected exit 2\n{run}"
    assert_no_traceback(run)
    lines = [ln for ln in run.stderr.splitlines() if ln.strip()]
    located = error_lines(run.stderr)
    assert lines, f"no error printed\n{run}"
    assert len(located) == len(lines), f"stderr lines not in path:line:col form\n{run}"
    for want in expected:
        path = f"{WRAPPERS}/{want.path}"
        hits = [
            m
            for m in located
            if m["path"] == path
            and int(m["line"]) == want.line
            and (want.col is None or int(m["col"]) == want.col)
            and re.search(want.message, m["message"])
        ]
        where = f"{path}:{want.line}:{want.col if want.col is not None else '*'}"
        assert hits, f"no error at {where} matching {want.message!r}\n{run}"
    wanted_paths = {f"{WRAPPERS}/{w.path}" for w in expected}
    stray = [m.group(0) for m in located if m["path"] not in wanted_paths]
    assert not stray, f"errors located in unexpected files: {stray}\n{run}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_located_and_writes_nothing(
    case: Case, tmp_path: Path, previous_build: Path
) -> None:
    out = _setup(case, tmp_path, previous_build)
    before = snapshot(out)
    run = cli("build", WRAPPERS, "-o", "out", cwd=tmp_path)
    assert_located(run, case.expected)
    assert_same_tree(before, snapshot(out))
    checked = cli("check", WRAPPERS, "-o", "out", cwd=tmp_path)
    assert_located(checked, case.expected)
    assert_same_tree(before, snapshot(out))


@pytest.mark.parametrize(
    "source",
    [wrapper("this, query: str"), NOT_AN_INSTANCE_METHOD["classmethod"]],
    ids=["first_parameter_named_otherwise", "classmethod"],
)
def test_a_run_method_that_is_no_instance_method_is_one_error(tmp_path: Path, source: str) -> None:
    # The first parameter was also reported as an unannotated request field.
    write_tree(tmp_path / WRAPPERS, {f"p/{PW}": source})
    run = cli("build", WRAPPERS, "-o", "out", cwd=tmp_path)
    assert run.code == 2, run
    errors = error_lines(run.stderr)
    assert len(errors) == 1, run
    assert "must be an instance method taking 'self' first" in errors[0]["message"], run


def test_bad_input_into_missing_out_creates_nothing(tmp_path: Path) -> None:
    write_tree(tmp_path / WRAPPERS, {f"p/{PW}": wrapper("self, q")})
    run = cli("build", WRAPPERS, "-o", "out", cwd=tmp_path)
    assert_located(run, (Expected(f"p/{PW}", 8, 23, "no type annotation"),))
    assert not (tmp_path / "out").exists()


def test_absolute_wrappers_path_is_kept_in_messages(tmp_path: Path) -> None:
    wrappers = write_tree(tmp_path / "abs", {f"p/{PW}": wrapper("self, q")})
    run = cli("build", wrappers, "-o", tmp_path / "out")
    assert run.code == 2, run
    assert [m["path"] for m in error_lines(run.stderr)] == [f"{wrappers.as_posix()}/p/{PW}"], run


def test_file_over_size_limit(
    tmp_path: Path, previous_build: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """discover refuses files over MAX_FILE_BYTES (lowered here; 50 MiB by default)."""
    import hayhooks_gen.discover as discover

    monkeypatch.setattr(discover, "MAX_FILE_BYTES", 1000)
    write_tree(tmp_path / WRAPPERS, {f"p/{PW}": GOOD_WRAPPER, "p/data/big.bin": b"x" * 1001})
    out = copy_tree(previous_build, tmp_path / "out")
    before = snapshot(out)
    monkeypatch.chdir(tmp_path)
    run = cli_in_process("build", WRAPPERS, "-o", "out")
    assert_located(run, (Expected("p/data/big.bin", 1, 1, r"1001 bytes, over the 1000"),))
    assert_same_tree(before, snapshot(out))


def test_default_size_limit_is_50_mib() -> None:
    import hayhooks_gen.discover as discover

    assert discover.MAX_FILE_BYTES == 50 * 1024 * 1024


def test_several_errors_in_one_run_are_all_reported(tmp_path: Path, previous_build: Path) -> None:
    files: dict[str, str | bytes] = {
        f"untyped/{PW}": wrapper("self, a, b: int, c"),  # 3 errors: a, c ... and b is fine
        f"no_return/{PW}": wrapper("self, q: str", returns=""),
        f"unresolved/{PW}": wrapper("self, q: Document = MISSING", returns=" -> Answer"),
        f"broken/{PW}": SYNTAX_UNCLOSED,
        f"no_class/{PW}": "x = 1\n",
        f"fine/{PW}": GOOD_WRAPPER,
    }
    write_tree(tmp_path / WRAPPERS, files)
    out = copy_tree(previous_build, tmp_path / "out")
    before = snapshot(out)
    run = cli("build", WRAPPERS, "-o", "out", cwd=tmp_path)
    syntax_line, syntax_col = _python_syntax_position(SYNTAX_UNCLOSED)
    expected = (
        Expected(f"untyped/{PW}", 8, 23, "parameter 'a'"),
        Expected(f"untyped/{PW}", 8, 34, "parameter 'c'"),
        Expected(f"no_return/{PW}", 8, 9, "no return annotation"),
        Expected(f"unresolved/{PW}", 8, 26, "'Document'"),
        Expected(f"unresolved/{PW}", 8, 37, "'MISSING'"),
        Expected(f"unresolved/{PW}", 8, 49, "'Answer'"),
        Expected(f"broken/{PW}", syntax_line, syntax_col, "syntax error"),
        Expected(f"no_class/{PW}", 1, 1, "no 'PipelineWrapper'"),
    )
    assert_located(run, expected)
    assert len(error_lines(run.stderr)) == len(expected), run
    assert_same_tree(before, snapshot(out))


def test_folder_and_source_errors_are_reported_together(tmp_path: Path) -> None:
    write_tree(
        tmp_path / WRAPPERS,
        {f"my.pipe/{PW}": GOOD_WRAPPER, f"untyped/{PW}": wrapper("self, q")},
    )
    run = cli("build", WRAPPERS, "-o", "out", cwd=tmp_path)
    assert_located(
        run,
        (
            Expected("my.pipe", 1, 1, "invalid pipeline name"),
            Expected(f"untyped/{PW}", 8, 23, "no type annotation"),
        ),
    )


def test_positional_only_self_is_accepted(tmp_path: Path) -> None:
    write_tree(tmp_path / WRAPPERS, {f"p/{PW}": wrapper("self, /, q: str")})
    run = cli("build", WRAPPERS, "-o", "out", cwd=tmp_path)
    assert run.code == 0, run


def test_annotated_kwargs_builds_as_one_required_field(tmp_path: Path) -> None:
    write_tree(tmp_path / WRAPPERS, {f"p/{PW}": wrapper("self, q: str, **kwargs: int")})
    run = cli("build", WRAPPERS, "-o", "out", cwd=tmp_path)
    assert run.code == 0 and run.stderr == "", run
    route = (tmp_path / "out" / "app" / "routes" / "p.py").read_text()
    assert "    kwargs: int = Field(description=\"Parameter 'kwargs'\")\n" in route
    assert "q=run_req.q, kwargs=run_req.kwargs" in route


def test_base_outside_the_folder_is_a_located_warning(tmp_path: Path) -> None:
    source = (
        "from hayhooks import BasePipelineWrapper\n"
        "from mylib import Mixin\n"
        "\n"
        "\n"
        "class PipelineWrapper(Mixin, BasePipelineWrapper):\n"
        "    def setup(self) -> None:\n"
        "        self.pipeline = None\n"
        "\n"
        "    def run_api(self, q: str) -> dict:\n"
        "        return {}\n"
    )
    write_tree(tmp_path / WRAPPERS, {f"p/{PW}": source})
    run = cli("build", WRAPPERS, "-o", "out", cwd=tmp_path)
    assert run.code == 0, run
    assert_no_traceback(run)
    warning = re.compile(rf"^{WRAPPERS}/p/{PW}:5:23: warning: base class 'mylib.Mixin' .*$", re.M)
    assert warning.search(run.stderr), run
    assert (tmp_path / "out").is_dir()


def test_symlink_loop_in_a_pipeline_folder_is_an_error(tmp_path: Path) -> None:
    write_tree(tmp_path / WRAPPERS, {f"p/{PW}": GOOD_WRAPPER})
    (tmp_path / WRAPPERS / "p" / "loop").symlink_to(".")
    run = cli("build", WRAPPERS, "-o", "out", cwd=tmp_path, timeout=60)
    assert_located(run, (Expected("p/loop", 1, 1, "symlink"),))


def test_two_symlink_loops_do_not_hang_the_build(tmp_path: Path) -> None:
    write_tree(tmp_path / WRAPPERS, {f"p/{PW}": GOOD_WRAPPER})
    (tmp_path / WRAPPERS / "p" / "a").symlink_to(".")
    (tmp_path / WRAPPERS / "p" / "b").symlink_to(".")
    run = cli("build", WRAPPERS, "-o", "out", cwd=tmp_path, timeout=15)
    assert run.code in (0, 2), f"build did not finish: {run}"


def test_missing_wrappers_folder(tmp_path: Path) -> None:
    for command in ("build", "check"):
        run = cli(command, "nope", "-o", "out", cwd=tmp_path)
        assert run.code == 2, run
        assert_no_traceback(run)
        assert run.stderr.startswith("nope"), run
        assert "wrappers folder not found" in run.stderr, run
        assert not (tmp_path / "out").exists()


def test_missing_wrappers_folder_is_located(tmp_path: Path) -> None:
    run = cli("build", "nope", "-o", "out", cwd=tmp_path)
    assert [m["path"] for m in error_lines(run.stderr)] == ["nope"], run


def test_wrappers_path_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("x\n")
    run = cli("build", "file.txt", "-o", "out", cwd=tmp_path)
    assert run.code == 2, run
    assert_no_traceback(run)
    assert not (tmp_path / "out").exists()


def test_bad_usage_exits_2_without_traceback(tmp_path: Path) -> None:
    wrappers = wrappers_of(tmp_path / WRAPPERS, {"p": GOOD_WRAPPER})
    for args in (
        ("build", wrappers),  # no -o
        ("build", wrappers, "-o", tmp_path / "out", "--package", "not-an-ident"),
        ("build", wrappers, "-o", tmp_path / "out", "--no-such-option"),
    ):
        run = cli(*args)
        assert run.code == 2, f"{args}: {run}"
        assert_no_traceback(run)
    assert not (tmp_path / "out").exists()


def test_output_path_that_is_a_file_is_left_alone(tmp_path: Path) -> None:
    wrappers = wrappers_of(tmp_path / WRAPPERS, {"p": GOOD_WRAPPER})
    (tmp_path / "out").write_bytes(b"precious\n")
    run = cli("build", wrappers, "-o", tmp_path / "out")
    assert run.code != 0, run
    assert_no_traceback(run)
    assert (tmp_path / "out").read_bytes() == b"precious\n"


def test_output_path_that_is_a_file_is_a_usage_error(tmp_path: Path) -> None:
    wrappers = wrappers_of(tmp_path / WRAPPERS, {"p": GOOD_WRAPPER})
    (tmp_path / "out").write_bytes(b"precious\n")
    run = cli("build", wrappers, "-o", tmp_path / "out")
    assert run.code == 2, run
    assert "not a folder" in run.stderr, run


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--package", "class", "is not a Python identifier"),
        ("--package", "fastapi", "would shadow the module the service imports by that name"),
        ("--package", "json", "would shadow the module the service imports by that name"),
        # the folder was written as given, but Python imports identifiers in NFKC form
        ("--package", "\ufb01app", "Python reads identifiers in NFKC form, 'fiapp'"),
        ("--package", "e\u0301", "Python reads identifiers in NFKC form, '\u00e9'"),
        # merged into the generated tests/, or left out of the image by .dockerignore
        ("--package", "tests", "is a folder the service uses otherwise"),
        ("--package", "__pycache__", "is a folder the service uses otherwise"),
        ("--package", "build", "is a folder the service uses otherwise"),
        ("--name", "x\ny", "is not a project name"),
        ("--name", "-x", "is not a project name"),
    ],
)
@pytest.mark.parametrize("command", ["build", "check"])
def test_package_and_project_names_that_would_break_the_service_are_refused(
    tmp_path: Path, command: str, option: str, value: str, message: str
) -> None:
    wrappers = wrappers_of(tmp_path / WRAPPERS, {"p": GOOD_WRAPPER})
    run = cli(command, wrappers, "-o", tmp_path / "out", option, value)
    assert run.code == 2, run
    assert message in run.stderr, run
    assert_no_traceback(run)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["build", "check"])
@pytest.mark.parametrize("where", ["under_a_file", "dangling_symlink", "a_file"])
def test_output_paths_no_folder_can_be_made_at_are_usage_errors(
    tmp_path: Path, command: str, where: str
) -> None:
    wrappers = wrappers_of(tmp_path / WRAPPERS, {"p": GOOD_WRAPPER})
    (tmp_path / "file").write_bytes(b"precious\n")
    (tmp_path / "dangling").symlink_to(tmp_path / "nothing")
    out = {
        "under_a_file": tmp_path / "file" / "sub",
        "dangling_symlink": tmp_path / "dangling",
        "a_file": tmp_path / "file",
    }[where]
    before = snapshot(tmp_path)
    run = cli(command, wrappers, "-o", out)
    assert run.code == 2, run
    assert run.stderr.startswith("error: "), run
    assert_no_traceback(run)
    assert_same_tree(before, snapshot(tmp_path))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"requests\nna\xefve\n", (2, 1, "source is not valid UTF-8")),
        (b"# extra\nrequests\nbad\x01name\n", (3, 4, "control character in a requirement")),
        (b"requests\n  -r base.txt\n", (2, 3, "'-r': pip options cannot go into pyproject")),
        (b"--index-url https://x\n", (1, 1, "'--index-url': pip options")),
        (b"requests\nfoo bar\n", (2, 1, r"not a requirement \(PEP 508\)")),
        (b"x#not-a-comment\n", (1, 1, r"not a requirement \(PEP 508\)")),
        (
            b"requests==2 \\\n    --config-settings x=y\n",
            (1, 1, "'--config-settings': pip's per-requirement options cannot go"),
        ),
        (b"ok\n\nbad==1 -e x\n", (3, 1, "'-e': pip's per-requirement options")),
        # located on the physical line of a continued one
        (
            b"certifi==1 \\\n    --hash=sha256:aa \\\n    --hash=sha256:b\x01b\n",
            (3, 20, "control character in a requirement"),
        ),
        (b"\\\nfoo bar\n", (2, 1, r"not a requirement \(PEP 508\)")),
    ],
)
def test_requirements_txt_problems_are_located(
    tmp_path: Path, content: bytes, expected: tuple[int, int, str]
) -> None:
    wrappers = wrappers_of(tmp_path / WRAPPERS, {"p": GOOD_WRAPPER})
    (wrappers / "requirements.txt").write_bytes(content)
    run = cli("build", WRAPPERS, "-o", "out", cwd=tmp_path)
    line, col, message = expected
    assert_located(run, (Expected("requirements.txt", line, col, message),))
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------------------ check


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, Path]:
    wrappers = wrappers_of(tmp_path / WRAPPERS, {"alpha": GOOD_WRAPPER, "beta": GOOD_WRAPPER})
    out = tmp_path / "out"
    build_ok(wrappers, out)
    return wrappers, out


def _check(wrappers: Path, out: Path) -> Run:
    before = snapshot(out)
    run = cli("check", wrappers, "-o", out)
    assert_no_traceback(run)
    assert_same_tree(before, snapshot(out))  # check never writes
    return run


def test_check_is_clean_right_after_build(built: tuple[Path, Path]) -> None:
    run = _check(*built)
    assert run.code == 0, run
    assert "up to date" in run.stdout


def test_check_ignores_user_owned_edits(built: tuple[Path, Path]) -> None:
    wrappers, out = built
    (out / "app" / "hooks.py").write_text("# mine\n")
    (out / "unrelated.txt").write_text("mine\n")
    assert _check(wrappers, out).code == 0


def test_check_reports_an_edited_wrapper(built: tuple[Path, Path]) -> None:
    wrappers, out = built
    source = wrappers / "alpha" / PW
    source.write_text(source.read_text().replace("Echo the query.", "Echo it back."))
    run = _check(wrappers, out)
    assert run.code == 1, run
    assert "changed: app/routes/alpha.py" in run.stdout.splitlines(), run
    assert "changed: app/pipelines/alpha/pipeline_wrapper.py" in run.stdout.splitlines(), run
    assert "--- a/app/routes/alpha.py\n+++ b/app/routes/alpha.py\n" in run.stdout, run
    assert '-        description="Echo the query.",' in run.stdout, run
    assert '+        description="Echo it back.",' in run.stdout, run
    assert "out of date" in run.stderr


def test_check_reports_an_edited_generated_file(built: tuple[Path, Path]) -> None:
    wrappers, out = built
    main = out / "app" / "main.py"
    main.write_text(main.read_text() + "print('hacked')\n")
    run = _check(wrappers, out)
    assert run.code == 1, run
    assert "changed: app/main.py" in run.stdout.splitlines(), run
    assert "--- a/app/main.py\n+++ b/app/main.py\n" in run.stdout
    assert "\n-print('hacked')\n" in run.stdout, run


def test_check_reports_a_deleted_generated_file(built: tuple[Path, Path]) -> None:
    wrappers, out = built
    (out / "app" / "runtime.py").unlink()
    (out / "app" / "hooks.py").unlink()
    run = _check(wrappers, out)
    assert run.code == 1, run
    lines = run.stdout.splitlines()
    assert "missing: app/runtime.py" in lines and "missing: app/hooks.py" in lines, run


def test_check_reports_files_of_a_removed_pipeline_as_extra(built: tuple[Path, Path]) -> None:
    wrappers, out = built
    shutil.rmtree(wrappers / "beta")
    run = _check(wrappers, out)
    assert run.code == 1, run
    lines = run.stdout.splitlines()
    assert "extra: app/routes/beta.py" in lines, run
    assert "changed: app/main.py" in lines, run


def test_check_on_a_missing_out(tmp_path: Path) -> None:
    wrappers = wrappers_of(tmp_path / WRAPPERS, {"p": GOOD_WRAPPER})
    run = cli("check", wrappers, "-o", tmp_path / "out")
    assert run.code == 1, run
    assert "missing: app/main.py" in run.stdout.splitlines()
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------------ determinism


def test_build_twice_is_byte_identical_and_writes_nothing(built: tuple[Path, Path]) -> None:
    wrappers, out = built
    first = snapshot(out)
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    run = build_ok(wrappers, out)
    assert "up to date" in run.stdout, run
    assert snapshot(out) == first
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == mtimes


def test_builds_into_different_folders_are_byte_identical(tmp_path: Path) -> None:
    """Different OUT paths, cwd, relative vs absolute paths and hash seeds: same bytes."""
    wrappers = wrappers_of(
        tmp_path / "src" / WRAPPERS,
        {"alpha": GOOD_WRAPPER, "my-pipe": GOOD_WRAPPER, "zeta": GOOD_WRAPPER},
        extra=["alpha/data/b.txt", "alpha/data/a.txt"],
    )
    one = tmp_path / "one" / "service"
    build_ok(wrappers, one)
    two = tmp_path / "elsewhere" / "deeper" / "svc2"
    two.parent.mkdir(parents=True)
    run = cli(
        "build",
        os.path.relpath(wrappers, two.parent),
        "-o",
        "svc2",
        cwd=two.parent,
        env={"PYTHONHASHSEED": "12345", "LC_ALL": "C", "TZ": "Pacific/Kiritimati"},
    )
    assert run.code == 0, run
    assert snapshot(one) == snapshot(two)
    for rel, content in snapshot(one).items():
        if isinstance(content, bytes):
            for needle in (str(tmp_path).encode(), b"\r\n"):
                assert needle not in content, f"{rel} contains {needle!r}"


# ------------------------------------------------------- what the file system says, as input


def test_a_file_symlink_loop_is_located(tmp_path: Path) -> None:
    wrappers = wrappers_of(tmp_path / WRAPPERS, {"p": GOOD_WRAPPER})
    (wrappers / "p" / "a").symlink_to("b")
    (wrappers / "p" / "b").symlink_to("a")
    run = cli("build", WRAPPERS, "-o", "out", cwd=tmp_path)
    assert_located(run, (Expected("p/a", 1, 1, "symlink loop"), Expected("p/b", 1, 1, "loop")))


def test_a_file_name_that_is_not_utf8_is_located(tmp_path: Path) -> None:
    wrappers = wrappers_of(tmp_path / WRAPPERS, {"p": GOOD_WRAPPER})
    # Written by bytes: the name the manifest could not hold (it was refused by the next build).
    with open(os.fsencode(wrappers / "p") + b"/data-\xff.txt", "wb") as handle:
        handle.write(b"x\n")
    run = cli("build", WRAPPERS, "-o", "out", cwd=tmp_path)
    assert run.code == 2, run
    assert "file name is not valid UTF-8" in run.stderr, run
    assert_no_traceback(run)
    assert not (tmp_path / "out").exists()


def test_files_and_folders_that_cannot_be_read_or_written_are_exit_2(tmp_path: Path) -> None:
    prefix = without_file_permission_bypass()
    wrappers = wrappers_of(tmp_path / WRAPPERS, {"p": GOOD_WRAPPER})
    secret = wrappers / "p" / "secret.txt"
    secret.write_text("x\n")
    secret.chmod(0)
    run = cli("build", WRAPPERS, "-o", "out", cwd=tmp_path, prefix=prefix)
    assert_located(run, (Expected("p/secret.txt", 1, 1, "cannot read: Permission denied"),))
    secret.unlink()
    locked_out = tmp_path / "locked"
    locked_out.mkdir(mode=0o555)
    run = cli("build", WRAPPERS, "-o", "locked/out", cwd=tmp_path, prefix=prefix)
    assert run.code == 2, run
    assert run.stderr.strip() == "error: locked/out: Permission denied", run
    assert not (locked_out / "out").exists()


@pytest.mark.parametrize("command", ["build", "check"])
@pytest.mark.parametrize("out", ["wrappers/service", "wrappers/p/svc", "wrappers"])
def test_an_out_inside_wrappers_is_refused(tmp_path: Path, command: str, out: str) -> None:
    # Accepted once, it was read as pipeline folders by the next build (and by Hayhooks).
    wrappers_of(tmp_path / WRAPPERS, {"p": GOOD_WRAPPER})
    before = snapshot(tmp_path)
    run = cli(
        command, WRAPPERS, "-o", out, "--force" if command == "build" else "--no-diff", cwd=tmp_path
    )
    assert run.code == 2, run
    assert f"error: {out}: OUT is inside WRAPPERS" in run.stderr, run
    assert_no_traceback(run)
    assert_same_tree(before, snapshot(tmp_path))


@pytest.mark.parametrize("command", ["build", "check"])
@pytest.mark.parametrize("wrappers", ["out/app/pipelines", "out/app", "out/tests/w"])
def test_wrappers_inside_the_folders_the_build_writes_are_refused(
    tmp_path: Path, command: str, wrappers: str
) -> None:
    # Accepted with --force, the wrappers were taken for the build's own copies of them: the
    # next build from another folder deleted them, the only copy of the user's source.
    wrappers_of(tmp_path / wrappers, {"p": GOOD_WRAPPER})
    before = snapshot(tmp_path)
    args = ["--force"] if command == "build" else ["--no-diff"]
    run = cli(command, wrappers, "-o", "out", *args, cwd=tmp_path)
    assert run.code == 2, run
    generated = wrappers.split("/")[1]
    assert f"error: {wrappers}: WRAPPERS is inside out/{generated}/, which the build" in run.stderr
    assert_no_traceback(run)
    assert_same_tree(before, snapshot(tmp_path))


@pytest.mark.parametrize("command", ["build", "check"])
def test_another_package_for_a_built_out_is_refused(tmp_path: Path, command: str) -> None:
    # check said "out of date" (exit 1) where build refuses (exit 2), as for every refusal.
    wrappers = wrappers_of(tmp_path / WRAPPERS, {"p": GOOD_WRAPPER})
    out = tmp_path / "out"
    build_ok(wrappers, out)
    (out / "app" / "hooks.py").write_text("# the user's hooks\n", encoding="utf-8")
    before = snapshot(out)
    run = cli(command, wrappers, "-o", out, "--package", "svc")
    assert run.code == 2, run
    assert "built with --package app" in run.stderr and "app/hooks.py" in run.stderr, run
    assert_no_traceback(run)
    assert_same_tree(before, snapshot(out))


@pytest.mark.parametrize("flag", ["--interval", "--debounce"])
def test_watch_seconds_that_are_not_numbers_are_refused(tmp_path: Path, flag: str) -> None:
    wrappers = wrappers_of(tmp_path / WRAPPERS, {"p": GOOD_WRAPPER})
    run = cli("build", wrappers, "-o", tmp_path / "out", "--watch", flag, "nan")
    assert run.code == 2, run
    assert f"error: {flag} nan: not a number of seconds" in run.stderr, run
    assert not (tmp_path / "out").exists()


def test_annotations_and_defaults_nested_as_deep_as_python_allows_build(tmp_path: Path) -> None:
    deep = "list[" * 190 + "int" + "]" * 190
    wrappers = wrappers_of(
        tmp_path / WRAPPERS, {"p": wrapper(f"self, x: {deep} = " + "[0]" + "[0]" * 400)}
    )
    build_ok(wrappers, tmp_path / "out")


# What `pip-compile --generate-hashes` writes (continued lines, hashes, `# via` comments).
HASHED_REQUIREMENTS = """\
#
# This file is autogenerated by pip-compile with Python 3.11
#
certifi==2024.8.30 \\
    --hash=sha256:922820b53db7a7257ffbda3f597266d435245903d80737e34f8a45ff3e3230d8 \\
    --hash sha256:bec941d2aa8195e248a60b31ff9f0558284cf01a52591ceda73ea9afffd69fd9
    # via requests
requests==2.32.3 ; python_version >= "3.8" \\
    --hash=sha256:70761cfe03c773ceb22aa2f671b4757976145175cdfca038c02654d061d6dcc6
    # via -r requirements.in
idna==3.10 \\
    # a comment line ends the joined line; pip ignores the hash left alone after it
    --hash=sha256:82fee1fc78add43492d3a1898bfa6d8a904cc97d8427f683ed8e798d07761aa0
"""


def test_requirements_from_pip_compile_lose_their_hashes_with_one_warning(
    tmp_path: Path,
) -> None:
    wrappers = wrappers_of(tmp_path / WRAPPERS, {"p": GOOD_WRAPPER})
    (wrappers / "requirements.txt").write_text(HASHED_REQUIREMENTS)
    run = build_ok(wrappers, tmp_path / "out")
    assert_no_traceback(run)
    warnings = [line for line in run.stderr.splitlines() if "warning:" in line]
    assert warnings == [
        f"{wrappers}/requirements.txt:4:1: warning: --hash options are left out of the "
        "generated pyproject.toml (its dependencies cannot carry hashes); to check them, "
        "install with `pip install --require-hashes -r requirements.txt`"
    ], run
    pyproject = (tmp_path / "out" / "pyproject.toml").read_text()
    assert '"certifi==2024.8.30",' in pyproject and "sha256" not in pyproject
    assert '"idna==3.10",' in pyproject
    assert '"requests==2.32.3 ; python_version >= \\"3.8\\"",' in pyproject


@pytest.mark.parametrize(
    ("head", "returns"),
    [
        ("from fastapi.responses import EventSourceResponse\n", "EventSourceResponse"),
        ("from fastapi import sse\nclass MySSE(sse.EventSourceResponse): ...\n", "MySSE"),
    ],
)
def test_fastapis_event_source_response_is_a_located_warning(
    tmp_path: Path, head: str, returns: str
) -> None:
    source = wrapper("self", f" -> {returns}", head=head, body=f"return {returns}(iter([]))")
    line = 8 + head.count("\n")
    write_tree(tmp_path / WRAPPERS, {f"p/{PW}": source})
    run = cli("build", WRAPPERS, "-o", "out", cwd=tmp_path)
    assert run.code == 0, run
    assert_no_traceback(run)
    assert [line for line in run.stderr.splitlines() if "warning:" in line] == [
        f"{WRAPPERS}/p/{PW}:{line}:26: warning: 'run_api' returns FastAPI's EventSourceResponse "
        "(or a subclass): FastAPI then expects the route to yield events, so every request "
        "fails (in Hayhooks too); return an SSEStream, or a Generator of 'data: ...' chunks"
    ], run
    route = (tmp_path / "out" / "app" / "routes" / "p.py").read_text()
    assert f"response_class={returns}," in route  # as Hayhooks registers it


def test_a_yaml_pipeline_is_skipped_with_a_located_warning(tmp_path: Path) -> None:
    wrappers = wrappers_of(tmp_path / WRAPPERS, {"p": GOOD_WRAPPER})
    (wrappers / "chat.yml").write_text("components: {}\n")
    run = build_ok(wrappers, tmp_path / "out")
    assert [line for line in run.stderr.splitlines() if "warning:" in line] == [
        f"{wrappers}/chat.yml:1:1: warning: YAML pipelines are not supported; skipped"
    ], run
    assert not list((tmp_path / "out").rglob("chat*"))


def test_requirements_keep_markers_and_lose_inline_comments(tmp_path: Path) -> None:
    wrappers = wrappers_of(tmp_path / WRAPPERS, {"p": GOOD_WRAPPER})
    (wrappers / "requirements.txt").write_text(
        'requests>=2  # HTTP\nnumpy ; python_version >= "3.11"\n# a comment\n'
    )
    build_ok(wrappers, tmp_path / "out")
    pyproject = (tmp_path / "out" / "pyproject.toml").read_text()
    assert '"requests>=2",' in pyproject and "# HTTP" not in pyproject
    assert '"numpy ; python_version >= \\"3.11\\"",' in pyproject


@pytest.mark.parametrize(
    ("files", "where"),
    [
        ({f"p/{PW}": "import httpx\n" + GOOD_WRAPPER}, (f"p/{PW}", 1, 1)),
        (
            {
                f"p/{PW}": "from .helper import X\n" + GOOD_WRAPPER,
                "p/helper.py": "import os\n\nif True:\n    from httpx import Client as X\n",
            },
            ("p/helper.py", 4, 5),
        ),
    ],
)
def test_a_package_that_shadows_what_a_wrapper_imports_is_located(
    tmp_path: Path, files: dict[str, str], where: tuple[str, int, int]
) -> None:
    write_tree(tmp_path / WRAPPERS, files)
    run = cli("build", WRAPPERS, "-o", "out", "--package", "httpx", cwd=tmp_path)
    path, line, col = where
    assert_located(run, (Expected(path, line, col, r"imports 'httpx', which the service's own"),))
    assert not (tmp_path / "out").exists()


def test_an_annotation_parenthesised_over_several_lines_builds(tmp_path: Path) -> None:
    # Its parentheses were dropped, leaving a bare multi-line annotation ruff refused (exit 3).
    wrappers = wrappers_of(
        tmp_path / WRAPPERS,
        {"p": wrapper("self, text: (\n        str\n        | None\n    ) = None")},
    )
    build_ok(wrappers, tmp_path / "out")
    route = (tmp_path / "out" / "app" / "routes" / "p.py").read_text()
    assert "    text: str | None = Field(default=None," in route
