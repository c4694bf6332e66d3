"""Start-up failures: what stops Hayhooks 2.1.0 (durable mode) from starting stops the
generated service too, with the pipeline's name in its message."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.fixtures import running_generated, running_hayhooks
from support.servers import GOLDEN_DIR, ServerStartError, build_service

pytestmark = [pytest.mark.parity, pytest.mark.e2e]

WRAPPER = """\
from hayhooks import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
{setup}

    def run_api(self, q: str) -> str:
        \"\"\"Echo.\"\"\"
        return q
"""

CASES = {
    "setup_raises": (
        "        raise RuntimeError('no model here')",
        "setup() of pipeline 'broken' failed: no model here",
    ),
    # Hayhooks checks the hint after setup(); a value set there cannot be checked at build time.
    "deployment_type_set_in_setup": (
        "        self.deployment_type = 'agents'",
        "pipeline 'broken': deployment_type must be 'agent', 'pipeline', 'unknown' or None, "
        "not 'agents'",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_both_refuse_to_start(case: str, tmp_path: Path) -> None:
    setup, message = CASES[case]
    folder = tmp_path / "wrappers" / "broken"
    folder.mkdir(parents=True)
    (folder / "pipeline_wrapper.py").write_text(WRAPPER.format(setup=setup), encoding="utf-8")
    (tmp_path / "wrappers" / "fine").mkdir()
    fine = WRAPPER.format(setup="        self.pipeline = None")
    (tmp_path / "wrappers" / "fine" / "pipeline_wrapper.py").write_text(fine, encoding="utf-8")
    out = build_service(tmp_path / "wrappers", tmp_path / "service")
    with pytest.raises(ServerStartError), running_hayhooks(case, tmp_path / "wrappers"):
        pass
    with pytest.raises(ServerStartError) as failed, running_generated(out):
        pass
    assert message in failed.value.stderr_tail


# Golden error cases the build refuses because Hayhooks 2.1.0 does not start on them either.
HAYHOOKS_DOES_NOT_START = (
    "error_import_above_folder",
    "error_iterator_return",
    "error_missing_import",
    "error_response_inside",
)


@pytest.mark.parametrize("case", HAYHOOKS_DOES_NOT_START)
def test_hayhooks_does_not_start_on_what_the_build_refuses(case: str) -> None:
    assert (GOLDEN_DIR / case / "expected_error.txt").is_file()
    with pytest.raises(ServerStartError), running_hayhooks(case, GOLDEN_DIR / case / "wrappers"):
        pass


SETUP_WHERE = '''\
import asyncio
import signal
import threading

from hayhooks import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None
        self.main_thread = threading.current_thread() is threading.main_thread()
        self.loop = asyncio.get_event_loop()
        self.previous = signal.signal(signal.SIGUSR2, signal.getsignal(signal.SIGUSR2))

    async def run_api_async(self) -> dict:
        """Where setup() ran."""
        serving = self.loop is asyncio.get_running_loop()
        return {"main_thread": self.main_thread, "serving_loop": serving}
'''


def test_setup_runs_where_hayhooks_runs_it(tmp_path: Path) -> None:
    # Durable mode runs setup() from the app factory: the main thread, the serving loop running.
    (tmp_path / "wrappers" / "where").mkdir(parents=True)
    (tmp_path / "wrappers" / "where" / "pipeline_wrapper.py").write_text(SETUP_WHERE, "utf-8")
    out = build_service(tmp_path / "wrappers", tmp_path / "service")
    answers = []
    for running in (running_hayhooks("setup_where", tmp_path / "wrappers"), running_generated(out)):
        with running as server:
            answer = server.client.post("/where/run", json={})
            answers.append((answer.status_code, answer.json()))
    expected = (200, {"result": {"main_thread": True, "serving_loop": True}})
    assert answers == [expected, expected]
