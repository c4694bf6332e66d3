"""schemathesis hooks for test_service_hardening (loaded through ``SCHEMATHESIS_HOOKS``).

The golden streaming wrappers yield ``n`` chunks, as asked: a fuzzed ``n`` of 10**18 is an
endless (valid) stream, not a bug, and would only make the run unbounded. Requests keep every
other generated value; ``n`` is clamped to a few dozen chunks.
"""

from __future__ import annotations

from typing import Any

import schemathesis

MAX_CHUNKS = 50


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    body = case.body
    if isinstance(body, dict):
        n = body.get("n")
        if isinstance(n, int) and not isinstance(n, bool) and abs(n) > MAX_CHUNKS:
            body["n"] = MAX_CHUNKS if n > 0 else -MAX_CHUNKS
