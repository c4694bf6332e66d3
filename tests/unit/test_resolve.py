"""Name resolution of annotations and defaults (parse stage)."""

from __future__ import annotations

import libcst as cst
import pytest

from hayhooks_gen.model import Ref, Symbol, ref_marker
from hayhooks_gen.resolve import (
    ClassScope,
    qualname_of,
    ref_qualname,
    resolve_default,
    resolve_expr,
)
from hayhooks_gen.scope import class_body_names, collect_scope


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


@pytest.mark.parametrize(
    ("module", "default", "from_signature", "shown"),
    [
        ("K = 1\n", "K", False, ".pipeline_wrapper.K"),
        # bound twice: importing K gives its last value, not the one the default took
        ("K = 1\nK = 2\n", "K", True, ".pipeline_wrapper.K"),
        ("K = 1\nK += 1\n", "K + 1", True, ".pipeline_wrapper.K + 1"),
        ("from x import K\nK = 3\n", "K", True, ".pipeline_wrapper.K"),
        # bound by a loop (any number of times), a `finally`, a `with ... as`, a `match`
        # case, or unbound by `del` and `except ... as`: read from the signature too
        ("for K in (1, 2):\n    pass\n", "K", True, ".pipeline_wrapper.K"),
        ("K = 1\nfor _ in range(2):\n    K = 2\n", "K", True, ".pipeline_wrapper.K"),
        ("K = 1\nwhile False:\n    K = 2\nelse:\n    pass\n", "K", True, ".pipeline_wrapper.K"),
        ("K = 1\ntry:\n    pass\nfinally:\n    K = 2\n", "K", True, ".pipeline_wrapper.K"),
        ("K = 1\nwith open('f') as (a, K):\n    pass\n", "K", True, ".pipeline_wrapper.K"),
        ("K = 1\nmatch 1:\n    case 1:\n        K = 2\n", "K", True, ".pipeline_wrapper.K"),
        ("K = 1\ndel K\nK = 2\n", "K", True, ".pipeline_wrapper.K"),
        (
            "K = 1\ntry:\n    pass\nexcept ValueError as K:\n    pass\n",
            "K",
            True,
            ".pipeline_wrapper.K",
        ),
        # bound by a walrus (in a comprehension too) or a match capture, after the class
        ("K = 1\nprint(K := 7)\n", "K", True, ".pipeline_wrapper.K"),
        ("K = 1\n[K := x for x in (1, 2)]\n", "K", True, ".pipeline_wrapper.K"),
        ("K = 1\nmatch 5:\n    case K:\n        pass\n", "K", True, ".pipeline_wrapper.K"),
        ("K = 1\nmatch [4]:\n    case [*K]:\n        pass\n", "K", True, ".pipeline_wrapper.K"),
        ("K = 1\nmatch {}:\n    case {**K}:\n        pass\n", "K", True, ".pipeline_wrapper.K"),
        ("match 5:\n    case int() as K:\n        pass\n", "K", True, ".pipeline_wrapper.K"),
        # a walrus inside a function binds the function's own name
        ("K = 1\ndef f():\n    return (K := 2)\n", "K", False, ".pipeline_wrapper.K"),
        # bound once, by a `with` or a starred target: importing K gives that value
        ("import c\nwith c.ctx() as K:\n    pass\n", "K", False, ".pipeline_wrapper.K"),
        ("a, *K = 1, 2\n", "K", False, ".pipeline_wrapper.K"),
        # the class body's LIMIT hides the module's
        ("LIMIT = 1\n", "LIMIT", True, ".pipeline_wrapper.PipelineWrapper.LIMIT"),
        ("", "max(LIMIT, 2)", True, "builtins.max(.pipeline_wrapper.PipelineWrapper.LIMIT, 2)"),
    ],
)
def test_defaults_python_fixed_at_definition_are_read_from_the_signature(
    module: str, default: str, from_signature: bool, shown: str
) -> None:
    class_scope = ClassScope(Symbol(".pipeline_wrapper", "PipelineWrapper"), frozenset({"LIMIT"}))
    expr, flagged, problems = resolve_default(
        _scope(module), cst.parse_expression(default), class_scope
    )
    assert problems == []
    assert flagged is from_signature
    assert _shown(expr.template, expr.refs) == shown


def test_class_body_names_are_what_the_class_binds() -> None:
    module = cst.parse_module(
        "class C:\n    A = 1\n    B: int = 2\n    U: int\n    x, (y, z) = 1, (2, 3)\n"
        "    class Inner: ...\n    def m(self): ...\n    import os.path\n"
        "    from typing import Literal as L\n    if True:\n        T = 1\n"
        "    for F in (1, 2):\n        pass\n    with open('f') as W:\n        pass\n"
    )
    cls = module.body[0]
    assert isinstance(cls, cst.ClassDef)
    assert class_body_names(cls) == {
        *("A", "B", "x", "y", "z", "Inner", "m", "os", "L", "T", "F", "W"),
    }


def test_an_annotation_alone_binds_no_name() -> None:
    """``K: int`` at module level creates no ``K``: a default naming it would fail in Python."""
    _, _, problems = resolve_default(_scope("K: int\n"), cst.parse_expression("K"), None)
    assert [p.message for p in problems] == [
        "cannot resolve name 'K': it is annotated in this module, never assigned"
    ]
