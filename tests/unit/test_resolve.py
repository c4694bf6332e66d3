"""Name resolution of annotations and defaults (parse stage)."""

from __future__ import annotations

import libcst as cst
import pytest

from hayhooks_gen.model import Ref, ref_marker
from hayhooks_gen.resolve import qualname_of, ref_qualname, resolve_expr
from hayhooks_gen.scope import collect_scope


def _scope(source: str):  # type: ignore[no-untyped-def]
    return collect_scope(cst.parse_module(source), ".pipeline_wrapper")


@pytest.mark.parametrize(
    ("source", "expr", "qualname"),
    [
        (
            "from fastapi import responses as r\n",
            "r.FileResponse",
            "fastapi.responses.FileResponse",
        ),
        (
            "import fastapi.responses\n",
            "fastapi.responses.FileResponse",
            "fastapi.responses.FileResponse",
        ),
        (
            "import starlette.responses as sr\n",
            "sr.HTMLResponse",
            "starlette.responses.HTMLResponse",
        ),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from x.y import Z\n",
            "Z",
            "x.y.Z",
        ),
        ("from .helper import Greeting\n", "Greeting", ".helper.Greeting"),
        ("from ..up import Thing\n", "Thing", None),
        ("class Local: ...\n", "Local", ".pipeline_wrapper.Local"),
        (
            "from hayhooks.server.pipelines.sse import SSEStream\n",
            "SSEStream",
            "hayhooks.SSEStream",
        ),
        ("", "'str'", "builtins.str"),
    ],
)
def test_qualified_names(source: str, expr: str, qualname: str | None) -> None:
    assert qualname_of(_scope(source), cst.parse_expression(expr)) == qualname


def test_string_annotation_becomes_an_expression_with_imports() -> None:
    scope = _scope("from typing import Optional\nfrom .models import Item\n")
    expr, problems = resolve_expr(
        scope, cst.parse_expression('"Optional[list[Item]]"'), annotation=True
    )
    assert problems == []
    assert expr.template == f"{ref_marker(0)}[{ref_marker(1)}[{ref_marker(2)}]]"
    assert [r.symbol.qualname for r in expr.refs] == [
        "typing.Optional",
        "builtins.list",
        ".models.Item",
    ]


def test_literal_strings_stay_strings_and_keywords_are_not_names() -> None:
    scope = _scope("from typing import Literal\nfrom pydantic import Field\n")
    expr, problems = resolve_expr(scope, cst.parse_expression('Literal["a", "b"]'), annotation=True)
    assert problems == [] and expr.template == f'{ref_marker(0)}["a", "b"]'
    default, problems = resolve_expr(
        scope, cst.parse_expression('Field(default="x")'), annotation=False
    )
    assert problems == [] and default.template == f'{ref_marker(0)}(default="x")'


def test_module_constant_default_is_a_reference() -> None:
    scope = _scope('DEFAULT_MODEL = "m"\n')
    expr, problems = resolve_expr(scope, cst.parse_expression("DEFAULT_MODEL"), annotation=False)
    assert problems == [] and expr.refs[0].symbol.qualname == ".pipeline_wrapper.DEFAULT_MODEL"


@pytest.mark.parametrize(
    ("source", "expr", "message"),
    [
        ("", "Document", "cannot resolve name 'Document'"),
        ("from typing import *\n", "Optional[int]", "star imports (typing)"),
        ("import os\n", "os", "is a module, not a type"),
        ("", '"not valid ("', "is not an expression"),
    ],
)
def test_unresolvable_names_are_problems(source: str, expr: str, message: str) -> None:
    _, problems = resolve_expr(_scope(source), cst.parse_expression(expr), annotation=True)
    assert len(problems) == 1 and message in problems[0].message


def _shown(template: str, refs: tuple[Ref, ...]) -> str:
    """The template with each reference written as the qualified name it stands for."""
    for index, ref in enumerate(refs):
        template = template.replace(ref_marker(index), ref_qualname(ref))
    return template


@pytest.mark.parametrize(
    ("default", "shown"),
    [
        # a tuple's parentheses are part of it where the renderer puts it (a keyword argument)
        ('(1, "a")', '(1, "a")'),
        ("(1,)", "(1,)"),
        ("()", "()"),
        ("((1, 2))", "((1, 2))"),
        # other parentheses are not
        ("(N)", ".pipeline_wrapper.N"),
        # comprehension targets are the comprehension's own names, not the module's
        ("tuple(x for x in N)", "builtins.tuple(x for x in .pipeline_wrapper.N)"),
        (
            "[x.real for x in N if x.real > 0]",
            "[x.real for x in .pipeline_wrapper.N if x.real > 0]",
        ),
        ("{k: v for k, v in D.items()}", "{k: v for k, v in .pipeline_wrapper.D.items()}"),
        ("[y for x in N for y in x]", "[y for x in .pipeline_wrapper.N for y in x]"),
        # ...except in the first iterable, evaluated outside it: there `x` is the module's
        ("[x for x in x]", "[x for x in .pipeline_wrapper.x]"),
        # an attribute of a value that is no name is no reference
        ('"a,b".split(",")', '"a,b".split(",")'),
        ("{'a': 1}.get('a')", "{'a': 1}.get('a')"),
    ],
)
def test_defaults_keep_what_python_needs(default: str, shown: str) -> None:
    scope = _scope("N = [1, 2]\nx = [3]\nD = {}\n")
    expr, problems = resolve_expr(scope, cst.parse_expression(default), annotation=False)
    assert problems == []
    assert _shown(expr.template, expr.refs) == shown
