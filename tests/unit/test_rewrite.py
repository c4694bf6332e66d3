"""Rewriting Hayhooks imports in copied wrapper files."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from hayhooks_gen import rewrite as rewrite_module
from hayhooks_gen.rewrite import Rewrite, rewrite_imports

GOLDEN = Path(__file__).resolve().parents[2] / "golden"


def _rewrite(source: str, depth: int = 0) -> tuple[str, Rewrite]:
    content = source.encode("utf-8")
    result = rewrite_imports(cst.parse_module(source), content, depth)
    return (content if result.code is None else result.code).decode("utf-8"), result


def _with_libcst_positions(source: str, depth: int = 0) -> str:
    """The same rewrite with the positions taken from libcst instead of Python's parser."""
    content = source.encode("utf-8")
    original = rewrite_module._ast_spans
    rewrite_module._ast_spans = lambda *_: None  # type: ignore[assignment]
    try:
        result = rewrite_imports(cst.parse_module(source), content, depth)
    finally:
        rewrite_module._ast_spans = original
    return (content if result.code is None else result.code).decode("utf-8")


def test_core_names_come_from_the_runtime_and_the_rest_from_hayhooks() -> None:
    code, rw = _rewrite(
        "# hi\nfrom hayhooks import BasePipelineWrapper, streaming_generator as sg, log\nx = 1\n"
    )
    assert code == (
        "# hi\nfrom hayhooks import streaming_generator as sg\n"
        "from ...runtime import BasePipelineWrapper, log\nx = 1\n"
    )
    assert rw.hayhooks_names == {"hayhooks.streaming_generator"}
    assert rw.runtime_names == {"BasePipelineWrapper", "log"}


def test_deep_paths_and_nested_files() -> None:
    code, rw = _rewrite("from hayhooks.server.logger import log\n", depth=1)
    assert code == "from ....runtime import log\n"
    assert not rw.hayhooks_names


def test_unknown_hayhooks_name_is_a_problem_and_other_code_is_untouched() -> None:
    source = "from hayhooks import NotAThing\nimport os  # keep\n"
    code, rw = _rewrite(source)
    assert code == source
    assert rw.code is None
    assert [m for _, m in rw.problems] == ["'hayhooks' has no name 'NotAThing'"]


def test_star_import_is_a_problem() -> None:
    _, rw = _rewrite("from hayhooks import *\n")
    assert [m for _, m in rw.problems] == ["star import from 'hayhooks': import names explicitly"]


def test_only_the_import_statements_change_byte_for_byte() -> None:
    source = (
        '"""Doc mentioning from hayhooks import BasePipelineWrapper."""\n'
        "import os\r\n"
        "from hayhooks import (  # the base\n"
        "    BasePipelineWrapper,\n"
        "    streaming_generator,\n"
        ")  # trailing\n"
        "s = 'from hayhooks import log'\n"
    )
    code, _ = _rewrite(source)
    assert code == (
        '"""Doc mentioning from hayhooks import BasePipelineWrapper."""\n'
        "import os\r\n"
        "from hayhooks import streaming_generator\n"
        "from ...runtime import BasePipelineWrapper  # trailing\n"
        "s = 'from hayhooks import log'\n"
    )


def test_nested_imports_keep_their_indentation() -> None:
    source = (
        "class PipelineWrapper:\n"
        "\tdef run_api(self) -> str:\n"
        "\t\tfrom hayhooks import log, streaming_generator\n"
        "\t\tlog.info('x')\n"
        "\t\treturn 'é'\n"
        "try:\n"
        "    pass\n"
        "except ImportError:\n"
        "    from hayhooks import log\n"
    )
    code, rw = _rewrite(source)
    assert code == (
        "class PipelineWrapper:\n"
        "\tdef run_api(self) -> str:\n"
        "\t\tfrom hayhooks import streaming_generator\n"
        "\t\tfrom ...runtime import log\n"
        "\t\tlog.info('x')\n"
        "\t\treturn 'é'\n"
        "try:\n"
        "    pass\n"
        "except ImportError:\n"
        "    from ...runtime import log\n"
    )
    assert rw.runtime_names == {"log"}


def test_imports_sharing_a_line_are_rewritten_on_that_line() -> None:
    source = (
        "import sys; from hayhooks import BasePipelineWrapper, streaming_generator; x = 1\n"
        "if sys: from hayhooks import log\n"
        "import hayhooks.server.routers\n"
    )
    code, rw = _rewrite(source)
    assert code == (
        "import sys; from hayhooks import streaming_generator; "
        "from ...runtime import BasePipelineWrapper; x = 1\n"
        "if sys: from ...runtime import log\n"
        "import hayhooks.server.routers\n"
    )
    assert rw.hayhooks_names == {"hayhooks.streaming_generator", "hayhooks.server.routers"}


def test_windows_line_endings_are_kept_in_a_split() -> None:
    source = "from hayhooks import BasePipelineWrapper, streaming_generator\r\nx = 1\r\n"
    code, _ = _rewrite(source)
    assert code == (
        "from hayhooks import streaming_generator\r\nfrom ...runtime import BasePipelineWrapper"
        "\r\nx = 1\r\n"
    )


def test_syntax_the_running_python_cannot_parse_uses_libcst_positions() -> None:
    # PEP 695 type parameters (3.12): libcst parses them, the 3.11 parser may not.
    source = "from hayhooks import BasePipelineWrapper, log\ndef f[T](x: T) -> T:\n    return x\n"
    code, _ = _rewrite(source)
    assert code == "from ...runtime import BasePipelineWrapper, log\n" + source.split("\n", 1)[1]


@pytest.mark.parametrize(
    "source",
    [
        "x = 'é'; from hayhooks import log, streaming_generator\n",
        "x = 1\rfrom hayhooks import BasePipelineWrapper, streaming_generator\rx = 2\r",
        "if True:\n    from hayhooks import (\n        log,  # why\n    )\n",
        "def f():\n    from hayhooks.server.logger import log\n    return log\n",
    ],
)
def test_both_position_sources_give_the_same_bytes(source: str) -> None:
    assert _rewrite(source)[0] == _with_libcst_positions(source)


def test_both_position_sources_agree_on_every_golden_wrapper_file() -> None:
    files = sorted(GOLDEN.glob("*/wrappers/**/*.py"))
    rewritten = 0
    for path in files:
        text = path.read_text(encoding="utf-8")
        try:
            cst.parse_module(text)
        except cst.ParserSyntaxError:
            continue  # the syntax-error cases
        code, result = _rewrite(text)
        assert code == _with_libcst_positions(text), path
        rewritten += result.code is not None
    assert rewritten >= 20, "the golden corpus should exercise the rewrite"


@pytest.mark.parametrize("libcst_positions", [False, True])
def test_a_byte_order_mark_is_kept_and_does_not_shift_the_edit(libcst_positions: bool) -> None:
    source = "from hayhooks import BasePipelineWrapper\n\nclass W(BasePipelineWrapper):\n    pass\n"
    content = b"\xef\xbb\xbf" + source.encode("utf-8")
    original = rewrite_module._ast_spans
    if libcst_positions:
        rewrite_module._ast_spans = lambda *_: None  # type: ignore[assignment]
    try:
        result = rewrite_imports(cst.parse_module(content), content, 0)
    finally:
        rewrite_module._ast_spans = original
    assert result.code == b"\xef\xbb\xbffrom ...runtime import BasePipelineWrapper\n" + (
        source.split("\n", 1)[1].encode("utf-8")
    )
