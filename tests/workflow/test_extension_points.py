"""User-owned files (hooks.py, Dockerfile, .dockerignore), the opt-in API-key guard, and the
OpenAPI export with its staleness test."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import httpx
import pytest

from support.servers import serve_generated

from ._helpers import HOOKS, cli, ok, run, write_wrapper

USER_OWNED = ("app/hooks.py", "Dockerfile", ".dockerignore")


SECOND_WRAPPER = '''\
from hayhooks import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, text: str, times: int = 1) -> dict:
        """Echo a text back, several times."""
        return {"text": text * times}
'''


def _build(root: Path, *extra: str) -> Path:
    ok(cli("build", "wrappers", "-o", "service", *extra, cwd=root))
    return root / "service"


def test_user_owned_files_are_created_once_and_survive_rebuilds(tmp_path: Path) -> None:
    write_wrapper(tmp_path / "wrappers", "echo")
    out = _build(tmp_path)
    manifest = json.loads((out / ".hayhooks-gen.json").read_text("utf-8"))
    assert sorted(manifest["user_owned"]) == sorted(USER_OWNED)
    for rel in USER_OWNED:
        assert rel not in manifest["files"]
        path = out / rel
        path.write_text(path.read_text("utf-8") + "# mine\n", encoding="utf-8")

    write_wrapper(tmp_path / "wrappers", "echo", SECOND_WRAPPER)  # the routes change
    write_wrapper(tmp_path / "wrappers", "other")
    _build(tmp_path)
    ok(cli("check", "wrappers", "-o", "service", cwd=tmp_path))
    assert "times" in (out / "app" / "routes" / "echo.py").read_text("utf-8")
    for rel in USER_OWNED:
        assert (out / rel).read_text("utf-8").endswith("# mine\n"), rel

    (out / "Dockerfile").unlink()
    drift = cli("check", "wrappers", "-o", "service", cwd=tmp_path)
    assert drift.returncode == 1 and "missing: Dockerfile" in drift.stdout
    _build(tmp_path)
    assert (out / "Dockerfile").is_file()
    assert (out / "app" / "hooks.py").read_text("utf-8").endswith("# mine\n")


def test_dockerfile_is_slim_non_root_with_a_status_healthcheck(tmp_path: Path) -> None:
    write_wrapper(tmp_path / "wrappers", "echo")
    out = _build(tmp_path, "--package", "svc", "--name", "my-svc")
    dockerfile = (out / "Dockerfile").read_text("utf-8")
    assert re.search(r"^FROM python:3\.\d+-slim$", dockerfile, re.M)
    users = re.findall(r"^USER (\S+)$", dockerfile, re.M)
    assert users and users[-1] not in ("root", "0")
    healthcheck = dockerfile[dockerfile.index("HEALTHCHECK") :].split("\nCMD")[0]
    assert "/status" in healthcheck
    assert dockerfile.rstrip().endswith(
        'CMD ["uvicorn", "svc.main:app", "--host", "0.0.0.0", "--port", "1416", "--ws", "none"]'
    )
    ignored = (out / ".dockerignore").read_text("utf-8").splitlines()
    assert {".git", ".venv", "**/__pycache__"} <= set(ignored)
    readme = (out / "README.md").read_text("utf-8")
    assert "docker build -t my-svc ." in readme and "docker run --rm -p 1416:1416 my-svc" in readme


@pytest.mark.e2e
def test_hooks_survive_rebuild_and_api_key_guard(tmp_path: Path) -> None:
    write_wrapper(tmp_path / "wrappers", "echo")
    out = _build(tmp_path)
    (out / "app" / "hooks.py").write_text(HOOKS, encoding="utf-8")
    write_wrapper(tmp_path / "wrappers", "echo", SECOND_WRAPPER)
    _build(tmp_path)
    assert (out / "app" / "hooks.py").read_text("utf-8") == HOOKS

    body = {"text": "hi", "times": 2}
    with (
        serve_generated(out, {"HAYHOOKS_GEN_API_KEY": "s3cret"}) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        assert client.get("/status").status_code == 200  # health checks stay open
        missing = client.post("/echo/run", json=body)
        assert missing.status_code == 401
        assert missing.json() == {"detail": "Invalid or missing API key"}
        wrong = client.post("/echo/run", json=body, headers={"X-API-Key": "s3cret!"})
        assert wrong.status_code == 401
        good = client.post("/echo/run", json=body, headers={"X-API-Key": "s3cret"})
        assert good.status_code == 200 and good.json() == {"result": {"text": "hihi"}}
        assert "x-worker-pid" in good.headers  # the middleware from hooks.py
        assert client.get("/extra/hello").status_code == 401  # hooks' router, guarded
        extra = client.get("/extra/hello", headers={"X-API-Key": "s3cret"})
        assert extra.json() == {"hello": "world"}
        spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["APIKeyHeader"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "The service's API key (environment variable HAYHOOKS_GEN_API_KEY).",
    }
    assert spec["paths"]["/echo/run"]["post"]["security"] == [{"APIKeyHeader": []}]
    assert "security" not in spec["paths"]["/status"]["get"]

    with (  # off: no key needed, no security scheme
        serve_generated(out) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        assert client.post("/echo/run", json=body).json() == {"result": {"text": "hihi"}}
        assert client.get("/extra/hello").status_code == 200
        spec = client.get("/openapi.json").json()
    assert "securitySchemes" not in spec.get("components", {})
    assert "security" not in spec["paths"]["/echo/run"]["post"]


def _service_tests(out: Path) -> tuple[int, str]:
    proc = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], out)
    return proc.returncode, proc.stdout + proc.stderr


def test_openapi_export_and_stale_document_fails_the_generated_tests(tmp_path: Path) -> None:
    write_wrapper(tmp_path / "wrappers", "echo")
    out = _build(tmp_path)
    code, log = _service_tests(out)
    assert code == 0 and "1 skipped" in log, log  # no openapi.json committed yet

    ok(run([sys.executable, "-m", "app.openapi"], out))
    text = (out / "openapi.json").read_text("utf-8")
    assert text.endswith("}\n")
    document = json.loads(text)
    assert text == json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert "/echo/run" in document["paths"]
    stdout = ok(run([sys.executable, "-m", "app.openapi", "-"], out)).stdout
    assert stdout == text
    code, log = _service_tests(out)
    assert code == 0 and "skipped" not in log, log

    write_wrapper(tmp_path / "wrappers", "echo", SECOND_WRAPPER)  # the API changes
    _build(tmp_path)
    code, log = _service_tests(out)
    assert code == 1 and "openapi.json is stale" in log, log
    ok(run([sys.executable, "-m", "app.openapi"], out))
    assert "times" in (out / "openapi.json").read_text("utf-8")
    code, log = _service_tests(out)
    assert code == 0, log


def test_pipelines_named_like_main_module_names_still_serve(tmp_path: Path) -> None:
    """main.py imports route modules as ``<name>_routes``: no pipeline shadows its names."""
    names = ["guard", "hooks", "lifespan", "security"]
    for name in names:
        write_wrapper(tmp_path / "wrappers", name)
    out = _build(tmp_path)
    script = (
        "from fastapi.testclient import TestClient\n"
        "from app.main import app\n"
        "with TestClient(app) as client:\n"
        "    print(client.get('/status').json()['pipelines'])\n"
        "    print(client.post('/hooks/run', json={'text': 'x'}).json())\n"
    )
    lines = ok(run([sys.executable, "-c", script], out)).stdout.splitlines()
    assert lines == [str(names), str({"result": {"text": "x"}})]
