"""A long-lived helper process that prints the OpenAPI document of one app per request.

    python openapi_worker.py hayhooks    # Hayhooks 2.1.0, durable mode, HAYHOOKS_PIPELINES_DIR
    python openapi_worker.py generated   # a generated service: OUT/app/main.py

Reads one JSON object per line on stdin, ``{"dir": PATH}``: a wrappers folder for ``hayhooks``,
an OUT folder for ``generated``. Answers one line on stdout, ``@@RESULT@@ {"ok": true,
"openapi": {...}}`` or ``{"ok": false, "error": "..."}``. Ends at end of input. Loading many
folders in one process keeps the property-based suite inside its time budget: Hayhooks and
haystack are imported once. Settings are environment variables Hayhooks reads at import, so the
test starts this process with them; only ``pipelines_dir`` changes between requests.
"""

from __future__ import annotations

import importlib
import json
import sys
import traceback
from typing import Any

MARKER = "@@RESULT@@ "


def hayhooks_openapi(folder: str) -> dict[str, Any]:
    from hayhooks.server.app import create_app
    from hayhooks.settings import settings

    settings.pipelines_dir = folder
    openapi: dict[str, Any] = create_app().openapi()
    return openapi


_added_path: str | None = None


def generated_openapi(folder: str) -> dict[str, Any]:
    global _added_path
    for name in [m for m in sys.modules if m == "app" or m.startswith("app.")]:
        del sys.modules[name]
    if _added_path is not None and _added_path in sys.path:
        sys.path.remove(_added_path)
    sys.path.insert(0, folder)
    _added_path = folder
    importlib.invalidate_caches()
    main = importlib.import_module("app.main")
    openapi: dict[str, Any] = main.app.openapi()
    return openapi


def main() -> None:
    mode = sys.argv[1]
    load = {"hayhooks": hayhooks_openapi, "generated": generated_openapi}[mode]
    sys.dont_write_bytecode = True
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            answer: dict[str, Any] = {"ok": True, "openapi": load(request["dir"])}
        except BaseException as exc:  # reported to the test, which decides
            answer = {
                "ok": False,
                "error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(limit=-8),
            }
        sys.stdout.write(MARKER + json.dumps(answer, default=repr) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
