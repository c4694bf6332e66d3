"""The generated main.py pauses the garbage collector while the app is built, then freezes
what it built and restores the collector as it found it.

Run on a copy of a golden service, its bytecode compiled first as a deployed service's is
(compiling source allocates, and would collect before main.py runs), in a fresh interpreter
per case.
"""

from __future__ import annotations

import compileall
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SERVICE = Path(__file__).resolve().parents[2] / "golden/json_basic/expected"

PROBE = """
import gc, importlib, json, sys
{before}
collections = []
gc.callbacks.append(lambda phase, info: collections.append(info["generation"]))
module = importlib.import_module({module!r})
gc.callbacks.clear()
print(json.dumps({{
    "collections_during_import": len(collections),
    "enabled_after": gc.isenabled(),
    "frozen": gc.get_freeze_count(),
    "routes": len(getattr(getattr(module, "app", None), "routes", ())),
}}))
"""


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("gc") / "service"
    shutil.copytree(SERVICE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert compileall.compile_dir(copy / "app", quiet=1)
    return copy


def _run(service: Path, code: str) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=service,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize(("before", "enabled_after"), [("", True), ("gc.disable()", False)])
def test_no_collection_while_the_app_is_built_then_frozen(
    service: Path, before: str, enabled_after: bool
) -> None:
    result = _run(service, PROBE.format(before=before, module="app.main"))
    # importing FastAPI and building the routes allocates far past the collector's threshold,
    # so any automatic collection would have shown here
    assert result["collections_during_import"] == 0
    assert result["enabled_after"] is enabled_after
    assert isinstance(result["frozen"], int) and result["frozen"] > 10_000
    assert isinstance(result["routes"], int) and result["routes"] > 0


def test_without_the_pause_the_same_import_collects(service: Path) -> None:
    """The check above can fail: with the collector on, importing FastAPI collects."""
    probe = PROBE.format(before="", module="fastapi")
    assert _run(service, probe)["collections_during_import"] > 0
