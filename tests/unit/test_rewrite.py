"""Rewriting Hayhooks imports in copied wrapper files."""

from __future__ import annotations

import libcst as cst

from hayhooks_gen.rewrite import ImportRewriter


def _rewrite(source: str, depth: int = 0) -> tuple[str, ImportRewriter]:
    rewriter = ImportRewriter(depth=depth)
    return cst.parse_module(source).visit(rewriter).code, rewriter


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
    assert [m for _, m in rw.problems] == ["'hayhooks' has no name 'NotAThing'"]
