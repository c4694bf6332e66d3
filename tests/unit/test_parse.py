"""The parse stage: wrapper source -> model, and the located problems it refuses."""

from __future__ import annotations

import pytest

from hayhooks_gen.discover import PipelineSource, python_ident
from hayhooks_gen.model import ReturnKind
from hayhooks_gen.parse import parse_pipeline

HEADER = (
    "from fastapi.responses import FileResponse\n"
    "from starlette.datastructures import Headers\n"
    "from hayhooks import BasePipelineWrapper\n\n"
    "class PipelineWrapper(BasePipelineWrapper):\n"
    "    def setup(self) -> None:\n"
    "        self.pipeline = None\n\n"
)


def _parse(body: str, imports: str = ""):  # type: ignore[no-untyped-def]
    code = (imports + HEADER + body).encode()
    source = PipelineSource("p", "p", "p", (("pipeline_wrapper.py", code),))
    return parse_pipeline(source)


@pytest.mark.parametrize(
    "annotation",
    [
        "Headers | None",
        "None | Headers",
        "typing.Optional[Headers]",
        "typing.Union[None, Headers]",
        "typing.Optional['Headers']",
        "'Headers | None'",
        "typing.Annotated[Headers | None, 'meta']",
    ],
)
def test_headers_opt_in_is_excluded_from_the_request_model(annotation: str) -> None:
    pipeline, problems = _parse(
        f"    def run_api(self, q: str, headers: {annotation} = None) -> str:\n        return q\n",
        "import typing\n",
    )
    assert problems == [] and pipeline is not None and pipeline.run is not None
    assert pipeline.run.wants_headers and [p.name for p in pipeline.run.params] == ["q"]


@pytest.mark.parametrize(
    "signature",
    [
        "headers: Headers",
        "headers: Headers | None",
        "headers: Headers | int | None = None",
        "headers: Optional[Headers]",
        "headers: Union[Headers, int, None] = None",
        "headers: 'Headers' = None",
    ],
)
def test_malformed_headers_opt_in_is_refused_with_its_location(signature: str) -> None:
    params = f"self, model: str, messages: list, body: dict, {signature}"
    body = f"    def run_chat_completion({params}) -> str:\n"
    pipeline, problems = _parse(
        body + "        return ''\n", "from typing import Optional, Union\n"
    )
    assert pipeline is None
    assert [(d.line, d.message.split(":")[0]) for d in problems] == [(10, "'run_chat_completion'")]


def test_var_keyword_is_one_required_field_of_its_name_last() -> None:
    pipeline, problems = _parse(
        "    def run_api(self, *, b: int = 1, headers: int, **opts: dict) -> str:\n"
        "        return ''\n"
    )
    assert problems == [] and pipeline is not None and pipeline.run is not None
    params = [(p.name, p.kind.value, p.default) for p in pipeline.run.params]
    assert [(name, kind) for name, kind, _ in params] == [
        ("b", "keyword_only"),
        ("headers", "keyword_only"),  # not the Headers opt-in: an ordinary field
        ("opts", "var_keyword"),
    ]
    assert params[2][2] is None and pipeline.run.params[2].description == "Parameter 'opts'"
    assert not pipeline.run.wants_headers


@pytest.mark.parametrize(
    ("signature", "column", "start"),
    [
        ("self, q: str, *args: int", 31, "'run_api' takes *args: a request body fills"),
        ("self, *rest, q: str", 23, "'run_api' takes *rest: a request body fills"),
        ("self, q: str, **kw", 31, "parameter 'kw' of 'run_api' has no type annotation"),
    ],
)
def test_var_positional_and_unannotated_var_keyword_are_located_errors(
    signature: str, column: int, start: str
) -> None:
    pipeline, problems = _parse(f"    def run_api({signature}) -> str:\n        return ''\n")
    assert pipeline is None
    assert [(d.line, d.col) for d in problems] == [(9, column)]
    assert problems[0].message.startswith(start)


def test_async_wins_and_response_subclass_is_classified() -> None:
    pipeline, problems = _parse(
        "    def run_api(self, a: int) -> str:\n        return ''\n"
        "    async def run_api_async(self, path: str = 'x') -> FileResponse:\n"
        "        return FileResponse(path)\n"
    )
    assert problems == [] and pipeline is not None and pipeline.run is not None
    assert pipeline.run.name == "run_api_async" and pipeline.run.is_async
    assert pipeline.run.return_kind is ReturnKind.RESPONSE


@pytest.mark.parametrize(
    ("imports", "annotation", "kind"),
    [
        ("", "dict", ReturnKind.JSON),
        ("", "FileResponse", ReturnKind.RESPONSE),
        (
            "from fastapi.responses import EventSourceResponse\n",
            "EventSourceResponse",
            ReturnKind.RESPONSE,
        ),
        # known to hold no Response: the standard library, pydantic, Haystack
        ("import datetime\n", "datetime.date", ReturnKind.JSON),
        ("from pydantic import BaseModel as Thing\n", "Thing", ReturnKind.JSON),
        ("from haystack.dataclasses import Document\n", "Document", ReturnKind.JSON),
        # anything else from outside the folder (fastapi's unlisted names too, such as
        # starlette.staticfiles.FileResponse): only importing it tells
        ("from fastapi import UploadFile\n", "UploadFile", ReturnKind.IMPORTED),
        ("from starlette.staticfiles import FileResponse as F\n", "F", ReturnKind.IMPORTED),
        ("from mylib import Thing\n", "Thing", ReturnKind.IMPORTED),
        ("import mylib.sub\n", "mylib.sub.Thing", ReturnKind.IMPORTED),
        ("from mylib import Thing\n", "'Thing'", ReturnKind.IMPORTED),
        # subscripted, it is no class to Hayhooks (inspect.isclass): JSON
        ("from mylib import Thing\n", "Thing[int]", ReturnKind.JSON),
        ("from mylib import Thing\n", "list[Thing]", ReturnKind.JSON),
        # classes of the folder: by their bases
        ("from mylib import Base\nclass Local(Base): ...\n", "Local", ReturnKind.IMPORTED),
        ("from pydantic import BaseModel\nclass Local(BaseModel): ...\n", "Local", ReturnKind.JSON),
        ("class Local: ...\n", "Local", ReturnKind.JSON),
        # an alias is no class statement; a base that is a call cannot be read
        ("import mylib\nAlias = mylib.Thing\n", "Alias", ReturnKind.IMPORTED),
        ("import mylib\nclass Local(mylib.make()): ...\n", "Local", ReturnKind.IMPORTED),
        (
            "from mylib import Base\nclass Local(Base, FileResponse): ...\n",
            "Local",
            ReturnKind.RESPONSE,
        ),
    ],
)
def test_return_kinds(imports: str, annotation: str, kind: ReturnKind) -> None:
    pipeline, problems = _parse(
        f"    def run_api(self) -> {annotation}:\n        return None\n", imports
    )
    assert problems == [] and pipeline is not None and pipeline.run is not None
    assert pipeline.run.return_kind is kind


@pytest.mark.parametrize(
    ("name", "ident"),
    [
        ("my-pipe", "my_pipe"),
        ("2x", "p_2x"),
        ("class", "p_class"),
        ("openai", "p_openai"),
        ("ok", "ok"),
    ],
)
def test_python_identifiers_for_pipeline_names(name: str, ident: str) -> None:
    assert python_ident(name) == ident


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("    def run_api(self, n: int) -> Generator[str, None, None]:\n        yield 'x'\n", True),
        (
            "    def run_api(self, n: int) -> Generator[str, None, None]:\n"
            "        x = yield 'x'\n        return x\n",
            True,
        ),
        # a yield in a nested function, lambda or class belongs to that scope
        (
            "    def run_api(self, n: int) -> Generator[str, None, None]:\n"
            "        def inner():\n            yield 1\n"
            "        return inner()\n",
            False,
        ),
        (
            "    def run_api(self, n: int) -> Generator[str, None, None]:\n"
            "        f = lambda: (yield)\n        return f()\n",
            False,
        ),
        # a decorator may turn a generator function into anything
        (
            "    @staticmethod_like\n"
            "    def run_api(self, n: int) -> Generator[str, None, None]:\n        yield 'x'\n",
            False,
        ),
        (
            "    async def run_api_async(self, n: int) -> AsyncGenerator[str, None]:\n"
            "        yield 'x'\n",
            False,
        ),
        # no "yield" in the text: not walked; the word in a string only: walked, not one
        (
            "    def run_api(self, n: int) -> Generator[str, None, None]:\n"
            "        return iter([])\n",
            False,
        ),
        (
            "    def run_api(self, n: int) -> Generator[str, None, None]:\n"
            "        return iter(['yield'])\n",
            False,
        ),
    ],
)
def test_generator_functions_are_recognised_statically(body: str, expected: bool) -> None:
    imports = (
        "from collections.abc import AsyncGenerator, Generator\n"
        "def staticmethod_like(f):\n    return f\n"
    )
    source = PipelineSource(
        "p", "p", "p", (("pipeline_wrapper.py", (imports + HEADER + body).encode()),)
    )
    pipeline, problems = parse_pipeline(source)
    assert not problems and pipeline is not None and pipeline.run is not None
    assert pipeline.run.is_generator is expected


@pytest.mark.parametrize(
    "value",
    ['"agent"', "'pipeline'", '"unk" "nown"', "None", "KIND", "os.environ.get('KIND')"],
)
def test_deployment_type_accepted_or_left_to_start_up(value: str) -> None:
    """Accepted literals, and computed values (which only the service can check), build."""
    run = "    def run_api(self, q: str) -> str:\n        return q\n"
    pipeline, problems = _parse(f"    deployment_type = {value}\n\n{run}")
    assert problems == [] and pipeline is not None


@pytest.mark.parametrize("value", ['"agents"', "''", "b'agent'", "1", "False", "['agent']"])
def test_deployment_type_literal_hayhooks_refuses_is_a_located_error(value: str) -> None:
    run = "    def run_api(self, q: str) -> str:\n        return q\n"
    pipeline, problems = _parse(f"    deployment_type: str | None = {value}\n\n{run}")
    assert pipeline is None
    assert [(d.line, d.col, d.message) for d in problems] == [
        (9, 35, f"deployment_type must be 'agent', 'pipeline', 'unknown' or None, not {value}")
    ]


# --- methods inherited from classes in other modules of the pipeline folder ----------------

BASE = (
    "from hayhooks import BasePipelineWrapper\n"
    "from .types import Item\n\n"
    "class SharedBase(BasePipelineWrapper):\n"
    "    def run_api(self, q: str, item: Item | None = None) -> str:\n"
    '        """Echo q."""\n'
    "        return q\n\n"
    "    async def run_chat_completion_async(\n"
    "        self, model: str, messages: list, body: dict\n"
    "    ) -> str:\n"
    "        return ''\n"
)
SUBCLASS = (
    "{imports}\n\n"
    "class PipelineWrapper({base}):\n"
    "    def setup(self) -> None:\n"
    "        self.pipeline = None\n"
)


def _parse_folder(files: dict[str, str]):  # type: ignore[no-untyped-def]
    encoded = tuple(sorted((path, text.encode()) for path, text in files.items()))
    return parse_pipeline(PipelineSource("p", "p", "p", encoded))


@pytest.mark.parametrize(
    ("imports", "base", "base_path"),
    [
        ("from .base import SharedBase", "SharedBase", "base.py"),
        ("from . import base", "base.SharedBase", "base.py"),
        ("from .lib.base import SharedBase", "SharedBase", "lib/base.py"),
        # re-exported by a package's __init__.py, which imports it relatively
        ("from .lib import SharedBase", "SharedBase", "lib/base.py"),
        ("from .lib import Alias", "Alias", "lib/base.py"),
    ],
)
def test_methods_come_from_a_base_class_in_another_module(
    imports: str, base: str, base_path: str
) -> None:
    pipeline, problems = _parse_folder(
        {
            "pipeline_wrapper.py": SUBCLASS.format(imports=imports, base=base),
            base_path: BASE.replace("from .types", "from ." + "." * base_path.count("/") + "types"),
            "types.py": "from pydantic import BaseModel\n\nclass Item(BaseModel):\n    n: int\n",
            "lib/__init__.py": (
                "from .base import SharedBase\nfrom .base import SharedBase as Alias\n"
            ),
        }
    )
    assert problems == [] and pipeline is not None and pipeline.run is not None
    assert pipeline.implemented == ("setup", "run_api", "run_chat_completion_async")
    assert [p.name for p in pipeline.run.params] == ["q", "item"]
    assert pipeline.run.short_description == "Echo q."
    # the annotation resolves in the base's module, not in pipeline_wrapper.py
    item = pipeline.run.params[1].annotation
    assert [ref.symbol.qualname for ref in item.refs] == [".types.Item"]
    assert [(h.name, h.is_async) for h in pipeline.handlers] == [
        ("run_chat_completion_async", True)
    ]
    assert pipeline.warnings == ()


def test_own_and_nearer_methods_override_inherited_ones() -> None:
    pipeline, problems = _parse_folder(
        {
            "pipeline_wrapper.py": (
                "from .base import SharedBase\n\n"
                "class Local(SharedBase):\n"
                "    def run_api(self, text: str) -> str:\n        return text\n\n"
                "class PipelineWrapper(Local):\n"
                "    def setup(self) -> None:\n        self.pipeline = None\n"
            ),
            "base.py": BASE,
            "types.py": "Item = int\n",
        }
    )
    assert problems == [] and pipeline is not None and pipeline.run is not None
    assert [p.name for p in pipeline.run.params] == ["text"]


def test_an_inherited_deployment_type_is_checked_where_it_is_written() -> None:
    base = BASE.replace("    def run_api", "    deployment_type = 'agents'\n\n    def run_api")
    pipeline, problems = _parse_folder(
        {
            "pipeline_wrapper.py": SUBCLASS.format(
                imports="from .base import SharedBase", base="SharedBase"
            ),
            "base.py": base,
            "types.py": "Item = int\n",
        }
    )
    assert pipeline is None
    assert [d.render() for d in problems] == [
        "p/base.py:5:23: error: deployment_type must be 'agent', 'pipeline', 'unknown' or None, "
        "not 'agents'"
    ]


def test_a_problem_in_an_inherited_method_is_located_in_its_module() -> None:
    pipeline, problems = _parse_folder(
        {
            "pipeline_wrapper.py": SUBCLASS.format(
                imports="from .base import SharedBase", base="SharedBase"
            ),
            "base.py": BASE.replace("q: str, item", "q, item"),
            "types.py": "Item = int\n",
        }
    )
    assert pipeline is None
    assert [d.render() for d in problems] == [
        "p/base.py:5:23: error: parameter 'q' of 'run_api' has no type annotation"
    ]


def test_a_base_module_that_does_not_parse_is_reported_alone() -> None:
    """Its syntax error, not also "implements none of ..." (which would not be known)."""
    pipeline, problems = _parse_folder(
        {
            "pipeline_wrapper.py": SUBCLASS.format(
                imports="from .base import SharedBase", base="SharedBase"
            ),
            "base.py": "class SharedBase(:\n",
        }
    )
    assert pipeline is None
    assert [(d.path, d.line) for d in problems] == [("p/base.py", 1)]
    assert problems[0].message.startswith("syntax error")


def test_a_base_outside_the_folder_is_named_in_the_no_method_error() -> None:
    pipeline, problems = _parse_folder(
        {"pipeline_wrapper.py": SUBCLASS.format(imports="from mylib import Base", base="Base")}
    )
    assert pipeline is None
    assert [d.render() for d in problems] == [
        "p/pipeline_wrapper.py:3:7: error: 'PipelineWrapper' implements none of run_api, "
        "run_api_async, run_chat_completion(_async), run_response(_async) (its base "
        "'mylib.Base' is outside the pipeline folder, where a static reader cannot see its "
        "methods: define the method in PipelineWrapper; it can call super())"
    ]


ASSIGNED = (
    "from hayhooks import BasePipelineWrapper\n\n"
    "def _impl(self, q: str) -> str:\n    return q\n\n"
    "class PipelineWrapper(BasePipelineWrapper):\n"
    "    run_api = _impl\n{served}"
)
ASSIGNED_WHY = (
    "'run_api' is assigned in the class body, not defined with def: run methods must be "
    "instance methods a static reader can see (README, Deliberate differences)"
)


def test_a_run_method_assigned_in_the_class_body_is_named_in_the_error() -> None:
    # The error said only that the class implements none of the run methods.
    pipeline, problems = _parse_folder({"pipeline_wrapper.py": ASSIGNED.format(served="")})
    assert pipeline is None
    assert [d.render() for d in problems] == [
        "p/pipeline_wrapper.py:6:7: error: 'PipelineWrapper' implements none of run_api, "
        f"run_api_async, run_chat_completion(_async), run_response(_async) ({ASSIGNED_WHY})"
    ]


def test_a_run_method_assigned_beside_a_served_one_is_a_located_warning() -> None:
    served = "    def run_chat_completion(self, model: str, messages: list, body: dict) -> str:\n"
    served += "        return ''\n"
    pipeline, problems = _parse_folder({"pipeline_wrapper.py": ASSIGNED.format(served=served)})
    assert problems == [] and pipeline is not None
    assert [d.render() for d in pipeline.warnings] == [
        f"p/pipeline_wrapper.py:7:15: warning: {ASSIGNED_WHY}; it is not served"
    ]


def test_a_base_outside_the_folder_is_a_warning_when_methods_are_found() -> None:
    wrapper = (
        "import json\nfrom hayhooks import BasePipelineWrapper\nfrom abc import ABC\n\n"
        "class PipelineWrapper(json.JSONEncoder, ABC, BasePipelineWrapper):\n"
        "    def run_api(self, q: str) -> str:\n        return q\n"
    )
    pipeline, problems = _parse_folder({"pipeline_wrapper.py": wrapper})
    assert problems == [] and pipeline is not None
    assert [d.render() for d in pipeline.warnings] == [
        "p/pipeline_wrapper.py:5:23: warning: base class 'json.JSONEncoder' is outside the "
        "pipeline folder: a run_* method defined there is not seen, so not served; define it in "
        "PipelineWrapper"
    ]


@pytest.mark.parametrize(
    "files",
    [
        # a.py and b.py import each other's class as the base: Python refuses; the walk stops
        {
            "a.py": "from .b import B as A\n",
            "b.py": "from .a import A as B\n",
        },
        # a name that re-exports itself
        {"a.py": "A = A\n"},
        # no such module in the folder: its import is an error of its own
        {},
    ],
)
def test_unreadable_bases_inside_the_folder_end(files: dict[str, str]) -> None:
    pipeline, problems = _parse_folder(
        {"pipeline_wrapper.py": SUBCLASS.format(imports="from .a import A", base="A"), **files}
    )
    assert pipeline is None
    missing = [] if files else ["the pipeline folder has no module '.a': importing it fails"]
    assert [d.message.split(" at start-up")[0].split(" (")[0] for d in problems] == [
        *missing,
        "'PipelineWrapper' implements none of run_api, run_api_async, "
        "run_chat_completion(_async), run_response(_async)",
    ]


def test_durable_methods_are_a_located_warning_beside_a_served_method() -> None:
    wrapper = (
        "from hayhooks import BasePipelineWrapper\nfrom .base import Durable\n\n"
        "class PipelineWrapper(Durable, BasePipelineWrapper):\n"
        "    def run_api(self, q: str) -> str:\n        return q\n\n"
        "    async def run_durable_async(self, context, request):\n        return None\n"
    )
    base = "class Durable:\n    def run_durable(self, context, request):\n        return None\n"
    pipeline, problems = _parse_folder({"pipeline_wrapper.py": wrapper, "base.py": base})
    assert problems == [] and pipeline is not None and pipeline.run is not None
    routes = "(/p/run-durable, /p/executions/...)"
    assert [d.render() for d in pipeline.warnings] == [
        "p/base.py:2:9: warning: run_durable is not served: hayhooks-gen does not generate "
        f"durable execution routes {routes}",
        "p/pipeline_wrapper.py:8:15: warning: run_durable_async is not served: hayhooks-gen "
        f"does not generate durable execution routes {routes}",
    ]  # in file and line order, as errors are


def test_a_wrapper_with_only_durable_methods_is_an_error_that_says_why() -> None:
    wrapper = (
        "from hayhooks import BasePipelineWrapper\n\n"
        "class PipelineWrapper(BasePipelineWrapper):\n"
        "    durable_revision = 'v1'\n\n"
        "    def run_durable(self, context, request):\n        return None\n"
    )
    pipeline, problems = _parse_folder({"pipeline_wrapper.py": wrapper})
    assert pipeline is None
    assert [d.render() for d in problems] == [
        "p/pipeline_wrapper.py:3:7: error: 'PipelineWrapper' implements none of run_api, "
        "run_api_async, run_chat_completion(_async), run_response(_async) (run_durable: "
        "hayhooks-gen does not generate durable execution routes (/p/run-durable, "
        "/p/executions/...))"
    ]


SETUP_ASSIGNS = (
    "from hayhooks import BasePipelineWrapper\n\n"
    "class PipelineWrapper(BasePipelineWrapper):\n"
    "    def setup(self) -> None:\n"
    "        self.pipeline = None\n"
    "        self.run_api = self._answer\n"
    "        self.run_chat_completion: object = None\n"
    "        def inner(self) -> None:\n"
    "            self.run_response = None\n\n"
    "    def _answer(self, q: str) -> str:\n        return q\n"
)


def test_run_methods_assigned_in_setup_are_a_located_warning() -> None:
    wrapper = SETUP_ASSIGNS + "\n    def run_api(self, q: str) -> str:\n        return q\n"
    pipeline, problems = _parse_folder({"pipeline_wrapper.py": wrapper})
    assert problems == [] and pipeline is not None and pipeline.run is not None
    why = "is assigned in setup(): Hayhooks serves what it is assigned at start-up, which a "
    assert [d.render() for d in pipeline.warnings] == [
        f"p/pipeline_wrapper.py:6:9: warning: 'self.run_api' {why}static reader cannot see; "
        "the route is built from the method the class defines: define run_api as a method",
        f"p/pipeline_wrapper.py:7:9: warning: 'self.run_chat_completion' {why}static reader "
        "cannot see; it is not served: define run_chat_completion as a method",
    ]  # the assignment in the nested function is not setup()'s own


def test_a_wrapper_served_only_through_setup_is_an_error_that_says_why() -> None:
    pipeline, problems = _parse_folder({"pipeline_wrapper.py": SETUP_ASSIGNS})
    assert pipeline is None
    why = "is assigned in setup(): Hayhooks serves what it is assigned at start-up, which a "
    assert [d.render() for d in problems] == [
        "p/pipeline_wrapper.py:3:7: error: 'PipelineWrapper' implements none of run_api, "
        "run_api_async, run_chat_completion(_async), run_response(_async) "
        f"('self.run_api' {why}static reader cannot see) "
        f"('self.run_chat_completion' {why}static reader cannot see)"
    ]


COMPILES = (
    "from hayhooks import BasePipelineWrapper\n{imports}\n\n"
    "class PipelineWrapper(BasePipelineWrapper):\n"
    "    def run_api(self, q: str) -> str:\n        return q\n{tail}"
)


@pytest.mark.parametrize(
    ("imports", "tail", "helper", "expected"),
    [
        # libcst parses these; only Python's compiler refuses them
        (
            "",
            "return 1\n",
            None,
            "p/pipeline_wrapper.py:7:1: error: syntax error: 'return' outside function",
        ),
        (
            "",
            "def f(a, a):\n    pass\n",
            None,
            "p/pipeline_wrapper.py:7:10: error: syntax "
            "error: duplicate argument 'a' in function definition",
        ),
        (
            "from .helper import greet",
            "",
            "x = 1 +\n",
            "p/helper.py:1:8: error: syntax error: invalid syntax",
        ),
        (
            "from . import helper",
            "",
            "yield 1\n",
            "p/helper.py:1:1: error: syntax error: 'yield' outside function",
        ),
    ],
)
def test_code_python_cannot_compile_is_a_located_error(
    imports: str, tail: str, helper: str | None, expected: str
) -> None:
    files = {"pipeline_wrapper.py": COMPILES.format(imports=imports, tail=tail)}
    if helper is not None:
        files["helper.py"] = helper
    pipeline, problems = _parse_folder(files)
    assert pipeline is None
    assert [d.render() for d in problems] == [expected]


def test_a_module_nothing_imports_that_cannot_compile_is_a_warning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = {
        "pipeline_wrapper.py": COMPILES.format(imports="", tail="PATTERN = '\\d'\n"),
        "scratch.py": "return 1\n",
    }
    pipeline, problems = _parse_folder(files)
    assert problems == [] and pipeline is not None
    assert [d.render() for d in pipeline.warnings] == [
        "p/scratch.py:1:1: warning: syntax error: 'return' outside function (importing this "
        "module fails at start-up)"
    ]
    assert capsys.readouterr().err == ""  # the '\d' SyntaxWarning is not printed


@pytest.mark.parametrize(
    ("imports", "helpers", "expected"),
    [
        # helper.py imports the broken module: importing the wrapper runs it
        (
            "from .helper import greet",
            {"helper.py": "from .broken import x\ngreet = x\n", "broken.py": "return 1\n"},
            "p/broken.py:1:1: error: syntax error: 'return' outside function",
        ),
        # through a package, one level up from it, and a module named in `from . import`
        (
            "from .sub.util import f",
            {
                "sub/__init__.py": "",
                "sub/util.py": "from .. import shared\nf = shared\n",
                "shared.py": "from . import broken\n",
                "broken.py": "yield 1\n",
            },
            "p/broken.py:1:1: error: syntax error: 'yield' outside function",
        ),
        # inside a class body (it runs at import), under `if` and `try`
        (
            "from .helper import greet",
            {
                "helper.py": "class A:\n    if True:\n        try:\n"
                "            from .broken import x\n        except ImportError:\n"
                "            pass\ngreet = A\n",
                "broken.py": "x = 1 +\n",
            },
            "p/broken.py:1:8: error: syntax error: invalid syntax",
        ),
    ],
)
def test_a_module_the_wrapper_imports_through_others_must_compile(
    imports: str, helpers: dict[str, str], expected: str
) -> None:
    assert _refused(imports, helpers) == [expected]


def _refused(imports: str, helpers: dict[str, str]) -> list[str]:
    """The problems of a wrapper with ``imports`` beside ``helpers``, which must refuse it."""
    files = {"pipeline_wrapper.py": COMPILES.format(imports=imports, tail=""), **helpers}
    pipeline, problems = _parse_folder(files)
    assert pipeline is None
    return [d.render() for d in problems]


@pytest.mark.parametrize(
    ("helpers", "expected"),
    [
        (
            {"helper.py": "X = 1\nfrom ..other import pipeline_wrapper\n"},
            "p/helper.py:2:1: error: relative import goes above the pipeline folder",
        ),
        (
            {
                "helper.py": "from .sub import util\nX = util\n",
                "sub/__init__.py": "",
                "sub/util.py": "if True:\n    from ... import other\n",
            },
            "p/sub/util.py:2:5: error: relative import goes above the pipeline folder",
        ),
    ],
)
def test_a_start_up_import_above_the_pipeline_folder_is_an_error(
    helpers: dict[str, str], expected: str
) -> None:
    # Hayhooks loads the folder as a package of its own, where such an import fails; in the
    # service it would reach a sibling pipeline's package.
    files = {
        "pipeline_wrapper.py": COMPILES.format(imports="from .helper import X", tail=""),
        **helpers,
    }
    pipeline, problems = _parse_folder(files)
    assert pipeline is None
    assert [d.render() for d in problems] == [expected]


@pytest.mark.parametrize(
    "helper",
    [
        "def greet():\n    from .broken import x\n",  # runs only if called
        "import broken\ngreet = broken\n",  # absolute: not the folder's module (no sys.path entry)
    ],
)
def test_a_broken_module_no_start_up_import_reaches_is_a_warning(helper: str) -> None:
    files = {
        "pipeline_wrapper.py": COMPILES.format(imports="from .helper import greet", tail=""),
        "helper.py": helper,
        "broken.py": "return 1\n",
    }
    pipeline, problems = _parse_folder(files)
    assert problems == [] and pipeline is not None
    assert [d.render() for d in pipeline.warnings] == [
        "p/broken.py:1:1: warning: syntax error: 'return' outside function (importing this "
        "module fails at start-up)"
    ]


START_UP = "(importing it fails at start-up)"


@pytest.mark.parametrize(
    ("imports", "helpers", "expected"),
    [
        # a typo in the name: the build succeeded, the service failed to start
        (
            "from .a import Missing",
            {"a.py": "X = 1\n"},
            "p/pipeline_wrapper.py:2:16: error: cannot import 'Missing' from '.a': a.py defines "
            f"no such name {START_UP}",
        ),
        # no such module, even when nothing uses the name
        (
            "from .nothere import Thing",
            {},
            "p/pipeline_wrapper.py:2:1: error: the pipeline folder has no module '.nothere': "
            "importing it fails at start-up",
        ),
        # in a module the wrapper imports
        (
            "from .helper import greet",
            {"helper.py": "from .b import f\ngreet = f\n"},
            "p/helper.py:1:1: error: the pipeline folder has no module '.b': importing it "
            "fails at start-up",
        ),
        # a package's __init__.py without the name, and no submodule of that name
        (
            "from .pkg import A, B",
            {"pkg/__init__.py": "A = 1\n"},
            "p/pipeline_wrapper.py:2:21: error: cannot import 'B' from '.pkg': pkg/__init__.py "
            f"defines no such name and the folder has no module '.pkg.B' {START_UP}",
        ),
        # a folder without __init__.py (a namespace package) holds only its modules
        (
            "from .ns import util, nothing",
            {"ns/util.py": "X = 1\n"},
            "p/pipeline_wrapper.py:2:23: error: cannot import 'nothing' from '.ns': the folder "
            f"has no module '.ns.nothing' {START_UP}",
        ),
    ],
)
def test_a_start_up_import_the_folder_cannot_satisfy_is_an_error(
    imports: str, helpers: dict[str, str], expected: str
) -> None:
    # Hayhooks fails to load such a pipeline; the service built, then failed to start.
    assert _refused(imports, helpers) == [expected]


@pytest.mark.parametrize(
    ("imports", "helpers"),
    [
        ("from .ns import util\nfrom .ns.util import X\nfrom . import ns", {"ns/util.py": "X = 1"}),
        ("from .pkg import sub", {"pkg/__init__.py": "", "pkg/sub.py": ""}),
        ("from . import helper", {"helper.py": ""}),
        ("from . import VALUE", {"__init__.py": "VALUE = 1\n"}),
        # guarded: Python may never run it, or the module may handle the failure
        ("try:\n    from .fast import x\nexcept ImportError:\n    x = None", {}),
        ("if False:\n    from .nothere import x", {}),
        # names no static reader sees are left to run
        ("from .a import Made", {"a.py": "globals()['Made'] = 1\n"}),
        ("from .a import Made", {"a.py": "def __getattr__(name):\n    return name\n"}),
        ("from .a import Made", {"a.py": "from json import *\n"}),
        ("from .a import Made", {"a.py": "def f():\n    global Made\n    Made = 1\n"}),
        # every way a module binds a name
        (
            "from .a import F, C, L, W, E, M, N, I, J",
            {
                "a.py": "def F(): pass\nclass C: pass\nfor L in []: pass\n"
                "with open(__file__) as W: pass\ntry:\n    pass\nexcept Exception as E:\n"
                "    pass\nmatch 1:\n    case M: pass\nif (N := 1): pass\nimport json as I\n"
                "from json import dumps as J\n"
            },
        ),
        # a compiled module, or one that does not compile (refused on its own, if imported)
        ("from .fast import x", {"fast.cpython-311-x86_64-linux-gnu.so": ""}),
    ],
)
def test_start_up_imports_the_folder_may_satisfy_are_left_to_run(
    imports: str, helpers: dict[str, str]
) -> None:
    files = {"pipeline_wrapper.py": COMPILES.format(imports=imports, tail=""), **helpers}
    pipeline, problems = _parse_folder(files)
    assert problems == [] and pipeline is not None


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("_private", "pydantic refuses field names starting with '_'"),
        ("model_config", "pydantic's BaseModel.model_config has that name"),
        ("model_dump", "pydantic's BaseModel.model_dump has that name"),
        ("model_validate", "pydantic's BaseModel.model_validate has that name"),
    ],
)
def test_field_names_pydantic_refuses_are_located_errors(name: str, why: str) -> None:
    pipeline, problems = _parse(f"    def run_api(self, {name}: str) -> str:\n        return ''\n")
    assert pipeline is None
    assert [d.render() for d in problems] == [
        f"p/pipeline_wrapper.py:9:23: error: parameter '{name}' of 'run_api' cannot be a "
        f"request field: {why}"
    ]


def test_field_names_pydantic_only_warns_about_are_served() -> None:
    body = "    def run_api(self, json: str, copy: int, schema: str) -> str:\n        return ''\n"
    pipeline, problems = _parse(body)
    assert problems == [] and pipeline is not None and pipeline.run is not None
    assert [p.name for p in pipeline.run.params] == ["json", "copy", "schema"]


@pytest.mark.parametrize(
    ("returns", "refused"),
    [
        ("typing.Iterator[str]", True),
        ("'typing.Iterator[str]'", True),
        ("collections.abc.AsyncIterable[str]", True),
        ("typing.Iterable[str]", False),  # pydantic builds it; the returned generator streams
        ("typing.Generator[str, None, None]", False),
        # inside another type: the service started and answered 500 everywhere
        ("typing.Optional[typing.Iterator[str]]", True),
        ("typing.Annotated[typing.Iterator[str], 'chunks']", True),
        ("typing.Iterator[str] | None", True),
        ("list[collections.abc.AsyncIterator[str]]", True),
        ("typing.Optional[typing.Iterable[str]]", False),
    ],
)
def test_iterator_returns_hayhooks_cannot_model_are_refused(returns: str, refused: bool) -> None:
    body = f"    def run_api(self) -> {returns}:\n        yield 'x'\n"
    pipeline, problems = _parse(body, "import collections.abc\nimport typing\n")
    assert (pipeline is None) is refused
    messages = [d.message for d in problems]
    assert all("Hayhooks builds no response model for it" in m for m in messages)
    assert len(messages) == (1 if refused else 0)


@pytest.mark.parametrize(
    ("aliases", "returns", "refused"),
    [
        ("Stream = typing.Iterator[str]\n", "Stream", True),
        ("Stream: typing.TypeAlias = typing.Iterator[str]\n", "Stream", True),
        ("It = typing.Iterator\n", "It[str]", True),
        ("Inner = typing.Iterator[str]\nOuter = typing.Optional[Inner]\n", "Outer", True),
        ("Chunks = typing.Generator[str, None, None]\n", "Chunks", False),
        # rebound: which value the annotation sees is not read statically
        ("Stream = typing.Iterator[str]\nStream = list[str]\n", "Stream", False),
    ],
)
def test_an_iterator_behind_a_type_alias_is_refused(
    aliases: str, returns: str, refused: bool
) -> None:
    # The route took the alias for an imported class; /openapi.json answered 500.
    body = f"    def run_api(self) -> {returns}:\n        yield 'x'\n"
    pipeline, problems = _parse(body, "import typing\n" + aliases)
    messages = [d.message for d in problems]
    assert (pipeline is None) is refused, messages
    assert all("Hayhooks builds no response model for it" in m for m in messages)
    assert len(messages) == (1 if refused else 0)


@pytest.mark.parametrize(
    ("returns", "refused"),
    [
        ("StreamingResponse | None", "StreamingResponse"),
        ("typing.Optional[FileResponse]", "FileResponse"),
        ("dict[str, FileResponse]", "FileResponse"),
        ("FileResponse", None),  # the response itself: passed through
        ("typing.Optional[dict]", None),
    ],
)
def test_a_response_inside_a_json_return_is_refused(returns: str, refused: str | None) -> None:
    # Hayhooks does not start (pydantic builds no model of a Response); the service started
    # and answered 500.
    head = "import typing\nfrom fastapi.responses import FileResponse, StreamingResponse\n"
    pipeline, problems = _parse(f"    def run_api(self) -> {returns}:\n        return None\n", head)
    messages = [d.message for d in problems]
    if refused is None:
        assert messages == [] and pipeline is not None
    else:
        assert pipeline is None
        assert messages == [
            f"'run_api' returns {refused} inside another type: Hayhooks builds no response model "
            f"for it and does not start; return the response alone (-> {refused})"
        ]


@pytest.mark.parametrize(
    ("method", "warned"),
    [
        ("    async def run_api(self, q: str) -> str:\n        return q\n", "is an async def"),
        ("    def run_api_async(self, q: str) -> str:\n        return q\n", "is a plain def"),
        (
            "    async def run_chat_completion(self, model: str, messages: list, body: dict)"
            " -> str:\n        return ''\n",
            "is an async def",
        ),
        # an async generator: Hayhooks streams what the call returns, as the service does
        ("    async def run_api(self, q: str) -> str:\n        yield q\n", None),
        ("    async def run_api_async(self, q: str) -> str:\n        return q\n", None),
    ],
)
def test_a_method_hayhooks_would_call_the_other_way_is_a_located_warning(
    method: str, warned: str | None
) -> None:
    pipeline, problems = _parse(method)
    assert problems == [] and pipeline is not None
    messages = [(d.line, d.message) for d in pipeline.warnings]
    if warned is None:
        assert messages == []
    else:
        assert len(messages) == 1 and messages[0][0] == 9 and warned in messages[0][1]
        assert "fails every request with a 500; the service calls it as written" in messages[0][1]


CHAT_CALL = "Hayhooks and the service call it as {name}(model=..., {items}=..., body=...)"


@pytest.mark.parametrize(
    ("signature", "warned"),
    [
        (
            "self, model: str, msgs: list, body: dict",
            "takes no keyword 'messages' and requires 'msgs', never passed",
        ),
        ("self, model: str, messages: list", "takes no keyword 'body'"),
        (
            "self, model: str, messages: list, body: dict, temperature: float",
            "requires 'temperature', never passed",
        ),
        (
            "self, model: str, messages: list, body: dict, /",
            "takes no keyword 'model', 'messages', 'body' and requires 'model', 'messages', "
            "'body', never passed",
        ),
        # what both servers pass, however declared
        ("self, model: str, messages: list, body: dict", None),
        ("self, *, model: str, messages: list, body: dict, t: float = 1.0", None),
        ("self, model: str, **rest: object", None),
        ("this, model: str, messages: list, body: dict", None),
    ],
)
@pytest.mark.parametrize("method", ["run_chat_completion", "run_response"])
def test_a_chat_method_that_cannot_take_the_call_is_a_located_warning(
    method: str, signature: str, warned: str | None
) -> None:
    # Both servers answered every request 500; the build said nothing.
    items = "messages" if method == "run_chat_completion" else "input_items"
    signature = signature.replace("messages", items)
    pipeline, problems = _parse(f"    def {method}({signature}) -> str:\n        return ''\n")
    assert problems == [] and pipeline is not None
    messages = [(d.line, d.message) for d in pipeline.warnings]
    if warned is None:
        assert messages == []
    else:
        assert messages == [
            (
                9,
                f"'{method}' {warned.replace('messages', items)}: "
                f"{CHAT_CALL.format(name=method, items=items)}, so every request fails with a 500",
            )
        ]


def test_class_body_names_bound_after_the_method_are_not_its_names() -> None:
    # `def list` comes later in the class: when run_api's def runs, `list` is the builtin.
    body = (
        "    LIMIT = 5\n\n"
        "    def run_api(self, items: list[str], k: int = LIMIT) -> dict:\n        return {}\n\n"
        "    def list(self) -> None:\n        pass\n"
    )
    pipeline, problems = _parse(body)
    assert problems == [] and pipeline is not None and pipeline.run is not None
    items, k = pipeline.run.params
    assert items.annotation.refs[0].symbol.qualname == "builtins.list"
    assert k.default_from_signature


@pytest.mark.parametrize(
    "block",
    [
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..shared import T\n",
        "import typing\nif typing.TYPE_CHECKING:\n    import app\nelse:\n    X = 1\n",
    ],
)
def test_imports_under_type_checking_never_run(block: str) -> None:
    # Neither above the folder nor a package the service's own `app` shadows: they never run,
    # in the wrapper or in a helper it imports.
    wrapper = block + COMPILES.format(imports="from . import helper", tail="")
    pipeline, problems = _parse_folder({"pipeline_wrapper.py": wrapper, "helper.py": block})
    assert problems == [] and pipeline is not None


@pytest.mark.parametrize("module", ["pipeline_wrapper.py", "helper.py"])
def test_a_test_that_only_ends_in_type_checking_may_run(module: str) -> None:
    # `flags().TYPE_CHECKING` is not a name the generator can read: its block may run, so the
    # import above the folder in it is refused, in the wrapper as in a helper it imports.
    block = "from .settings import flags\n\nif flags().TYPE_CHECKING:\n    from ..shared import T\n"
    wrapper = COMPILES.format(imports="from . import helper", tail="")
    files = {"pipeline_wrapper.py": wrapper, "helper.py": "", "settings.py": "flags = dict\n"}
    files[module] = block + files[module]
    _, problems = _parse_folder(files)
    assert [(p.path, p.line, p.message) for p in problems] == [
        (f"p/{module}", 4, "relative import goes above the pipeline folder")
    ]


@pytest.mark.parametrize(
    ("types_module", "annotation"),
    [
        ("from starlette.datastructures import Headers\n", "Optional[Headers]"),
        ("from starlette.requests import Headers\n", "Headers | None"),
    ],
)
def test_headers_from_another_module_of_the_folder_opt_in(
    types_module: str, annotation: str
) -> None:
    wrapper = (
        "from typing import Optional\n\nfrom hayhooks import BasePipelineWrapper\n\n"
        "from .types import Headers\n\n\n"
        "class PipelineWrapper(BasePipelineWrapper):\n"
        f"    def run_api(self, q: str, headers: {annotation} = None) -> str:\n"
        "        return q\n"
    )
    pipeline, problems = _parse_folder({"pipeline_wrapper.py": wrapper, "types.py": types_module})
    assert problems == [] and pipeline is not None and pipeline.run is not None
    assert pipeline.run.wants_headers and [p.name for p in pipeline.run.params] == ["q"]


@pytest.mark.parametrize(
    "declaration",
    ["# -*- coding: utf-8-unix -*-", "# coding=utf_8", "# coding: latin-1"],  # the last: ASCII
)
def test_coding_declarations_python_reads_as_this_text_are_accepted(declaration: str) -> None:
    pipeline, problems = _parse_folder(
        {"pipeline_wrapper.py": declaration + "\n" + COMPILES.format(imports="", tail="")}
    )
    assert problems == [] and pipeline is not None
