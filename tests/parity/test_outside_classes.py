"""Return annotations naming a class of a shared library on HAYHOOKS_ADDITIONAL_PYTHON_PATH,
which the generator reads without importing: a Response subclass (passed through, its own
media type in OpenAPI), a pydantic model (JSON under ``result``), and a class of the folder
deriving from the library's Response. Both servers load the library from the same path; the
OpenAPI run routes and the answers must be the same. (Installed packages are in
``golden/outside_classes``.)"""

from __future__ import annotations

from pathlib import Path

from support.compare import compare_responses, compare_run_routes
from support.fixtures import running_generated, running_hayhooks
from support.servers import build_service

LIB = """\
from pydantic import BaseModel
from starlette.responses import PlainTextResponse


class CSVResponse(PlainTextResponse):
    media_type = "text/csv"


class Answer(BaseModel):
    text: str
    score: float = 1.0
"""

HEAD = """\
from hayhooks import BasePipelineWrapper
{imports}


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

"""

WRAPPERS = {
    "csv": HEAD.format(imports="from extlib import CSVResponse")
    + '''    def run_api(self, rows: int = 2) -> CSVResponse:
        """Rows as CSV, in a Response class of the shared library."""
        return CSVResponse("".join(f"{i},row-{i}\\n" for i in range(rows)))
''',
    "answer": HEAD.format(imports="from extlib import Answer")
    + '''    def run_api(self, text: str) -> Answer:
        """A pydantic model of the shared library.

        Returns:
            The answer.
        """
        return Answer(text=text.upper())
''',
    # annotated as the library's Response, returning a plain value: Hayhooks hands it to the
    # response class (CSVResponse("a,b\n")), so must the service
    "raw": HEAD.format(imports="from extlib import CSVResponse")
    + '''    def run_api(self) -> CSVResponse:
        """A plain value under a Response annotation."""
        return "a,b\\n"
''',
    # an alias of the module, not a class statement: only importing it tells
    "alias": HEAD.format(imports="import extlib\n\nCSV = extlib.CSVResponse")
    + '''    def run_api(self) -> CSV:
        """The library's Response under another name."""
        return CSV("x\\n")
''',
    "tsv": HEAD.format(
        imports="import extlib\n\n\nclass TSVResponse(extlib.CSVResponse):\n"
        '    media_type = "text/tab-separated-values"'
    )
    + '''    def run_api(self) -> TSVResponse:
        """A class of the folder deriving from the library's Response."""
        return TSVResponse("a\\tb\\n")
''',
}

REQUESTS = [
    ("/csv/run", {}),
    ("/csv/run", {"rows": 3}),
    ("/csv/run", {"rows": "x"}),
    ("/answer/run", {"text": "hi"}),
    ("/answer/run", {}),
    ("/tsv/run", {}),
    ("/raw/run", {}),
    ("/alias/run", {}),
]


def test_classes_of_a_shared_library(tmp_path: Path) -> None:
    (tmp_path / "lib" / "extlib").mkdir(parents=True)
    (tmp_path / "lib" / "extlib" / "__init__.py").write_text(LIB, encoding="utf-8")
    for name, source in WRAPPERS.items():
        (tmp_path / "wrappers" / name).mkdir(parents=True)
        (tmp_path / "wrappers" / name / "pipeline_wrapper.py").write_text(source, "utf-8")
    out = build_service(tmp_path / "wrappers", tmp_path / "service")
    for name in WRAPPERS:
        assert "**response_options(" in (out / "app" / "routes" / f"{name}.py").read_text()
    env = {"HAYHOOKS_ADDITIONAL_PYTHON_PATH": str(tmp_path / "lib")}
    with (
        running_hayhooks("outside", tmp_path / "wrappers", env) as hayhooks,
        running_generated(out, env) as generated,
    ):
        diffs = compare_run_routes(hayhooks.openapi, generated.openapi)
        for path, body in REQUESTS:
            r_h = hayhooks.client.post(path, json=body)
            r_g = generated.client.post(path, json=body)
            diffs += compare_responses(f"POST {path} {body}", r_h, r_g)
        # what the runtime decision gave: the library's media types, and JSON for the model
        paths = generated.openapi["paths"]
        runs = {p: paths[p]["post"]["responses"]["200"] for p in paths if p.endswith("/run")}
        assert list(runs["/csv/run"]["content"]) == ["text/csv"]
        assert list(runs["/tsv/run"]["content"]) == ["text/tab-separated-values"]
        assert list(runs["/answer/run"]["content"]) == ["application/json"]
        assert list(runs["/raw/run"]["content"]) == list(runs["/alias/run"]["content"])
        assert list(runs["/raw/run"]["content"]) == ["text/csv"]
        raw = generated.client.post("/raw/run", json={})
        assert (raw.status_code, raw.text) == (200, "a,b\n")
        csv = generated.client.post("/csv/run", json={})
        assert (csv.headers["content-type"], csv.text) == (
            "text/csv; charset=utf-8",
            "0,row-0\n1,row-1\n",
        )
        answer = generated.client.post("/answer/run", json={"text": "hi"}).json()
        assert answer == {"result": {"text": "HI", "score": 1.0}}
    assert not diffs, "\n".join(diffs)
