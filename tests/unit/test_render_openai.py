"""What the render stage writes for the OpenAI-compatible routes (routes/openai.py)."""

from __future__ import annotations

import ast
from pathlib import Path

from hayhooks_gen.build import generate

HEAD = "from hayhooks import BasePipelineWrapper\n\n\nclass PipelineWrapper(BasePipelineWrapper):\n"
SETUP = "    def setup(self) -> None:\n        self.pipeline = None\n\n"
CHAT_ARGS = "self, model: str, messages: list[dict], body: dict"
UPLOAD_ARGS = "self, filename: str | None, content_type: str | None, content: bytes, purpose: str"


HEADERS_IMPORT = "from starlette.datastructures import Headers\n"


def _wrappers(root: Path, methods: dict[str, str]) -> Path:
    """One pipeline folder per entry: name -> method definitions (class body, indented)."""
    for name, body in methods.items():
        folder = root / name
        folder.mkdir(parents=True)
        source = HEADERS_IMPORT + HEAD + SETUP + body
        (folder / "pipeline_wrapper.py").write_text(source, encoding="utf-8")
    return root


def _openai_module(tmp_path: Path, methods: dict[str, str], package: str = "app") -> str:
    output = generate(_wrappers(tmp_path / "wrappers", methods), package=package)
    return output.generated[f"{package}/routes/openai.py"].decode()


def _match_cases(source: str, function: str) -> list[str]:
    """The patterns of the ``match model:`` statement in ``function``, as source text."""
    tree = ast.parse(source)
    func = next(n for n in tree.body if isinstance(n, ast.AsyncFunctionDef) and n.name == function)
    match = next(n for n in func.body if isinstance(n, ast.Match))
    return [ast.unparse(case.pattern) for case in match.cases]


def test_dispatch_is_one_case_per_pipeline_then_501_then_404(tmp_path: Path) -> None:
    source = _openai_module(
        tmp_path,
        {
            "my-chat": f"    async def run_chat_completion_async({CHAT_ARGS}) -> str:\n"
            "        return 'a'\n",
            "b_sync": f"    def run_chat_completion({CHAT_ARGS}) -> str:\n        return 'b'\n"
            f"    def run_response(self, model: str, input_items: list[dict], body: dict) -> str:\n"
            "        return 'b'\n",
            "c_run": "    def run_api(self, x: int) -> int:\n        return x\n",
        },
    )
    assert _match_cases(source, "run_completion") == ["'b_sync'", "'my-chat'", "'c_run'", "_"]
    assert _match_cases(source, "run_response") == ["'b_sync'", "'c_run' | 'my-chat'", "_"]
    # Hyphenated names keep their model name; the wrapper comes from the route module.
    assert "from app.routes.my_chat import wrapper as my_chat_wrapper" in source
    assert "await my_chat_wrapper.run_chat_completion_async(" in source
    assert "run_sync(\n                b_sync_wrapper.run_chat_completion," in source
    assert 'MODELS = ["b_sync", "c_run", "my-chat"]' in source
    # No file upload wrapper: the default answer, no wrapper call.
    assert "return default_file_object(filename, content, purpose)" in source


def test_headers_passed_only_to_wrappers_that_opt_in(tmp_path: Path) -> None:
    opt_in = "headers: Headers | None = None"
    source = _openai_module(
        tmp_path,
        {
            "with_h": f"    def run_chat_completion({CHAT_ARGS}, {opt_in}) -> str:\n"
            "        return 'a'\n",
            "without_h": f"    def run_chat_completion({CHAT_ARGS}) -> str:\n        return 'b'\n",
        },
    )
    chat = source[source.index("async def run_completion") : source.index("async def run_response")]
    assert "headers: dict[str, str] | None = None" in chat
    assert chat.count("headers=request_headers(headers)") == 1
    response = source[source.index("async def run_response") : source.index("async def run_file")]
    assert "headers" not in response


def test_async_run_file_upload_is_still_called_in_the_thread_pool(tmp_path: Path) -> None:
    source = _openai_module(
        tmp_path,
        {
            "b_up": f"    async def run_file_upload({UPLOAD_ARGS}) -> dict:\n        return {{}}\n"
            f"    def run_chat_completion({CHAT_ARGS}) -> str:\n        return 'b'\n",
            "a_up": f"    def run_file_upload({UPLOAD_ARGS}) -> dict:\n        return {{}}\n"
            f"    def run_chat_completion({CHAT_ARGS}) -> str:\n        return 'a'\n",
        },
        package="svc",
    )
    # The first pipeline by name receives every upload; a_up's is sync.
    assert "a_up_wrapper.run_file_upload, filename, content_type, content, purpose" in source
    assert "b_up_wrapper.run_file_upload" not in source
    assert "from svc.openai_support import" in source


def test_generated_openai_code_never_imports_hayhooks_or_haystack(tmp_path: Path) -> None:
    output = generate(
        _wrappers(
            tmp_path / "wrappers",
            {"chat": f"    def run_chat_completion({CHAT_ARGS}) -> str:\n        return 'a'\n"},
        )
    )
    for path in ("app/routes/openai.py", "app/openai_support.py"):
        tree = ast.parse(output.generated[path])
        modules = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        } | {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not {m for m in modules if m.split(".")[0] in ("hayhooks", "haystack")}, path
    pyproject = output.generated["pyproject.toml"].decode()
    assert '"fastapi-openai-compat>=1.4.0"' in pyproject
    assert 'module = ["fastapi_openai_compat", "fastapi_openai_compat.*"]' in pyproject


def test_no_openai_modules_without_openai_methods(tmp_path: Path) -> None:
    output = generate(
        _wrappers(
            tmp_path / "wrappers",
            {"plain": "    def run_api(self, x: int) -> int:\n        return x\n"},
        )
    )
    assert "app/routes/openai.py" not in output.generated
    assert "app/openai_support.py" not in output.generated
    assert b"fastapi_openai_compat" not in output.generated["pyproject.toml"]
    assert b"/v1/models" not in output.generated["README.md"]
