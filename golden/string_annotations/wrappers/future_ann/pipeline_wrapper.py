from __future__ import annotations

from typing import TYPE_CHECKING

from hayhooks import BasePipelineWrapper

if TYPE_CHECKING:
    from fastapi.responses import PlainTextResponse


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, text: str, times: int = 1) -> PlainTextResponse:
        """Repeat a text."""
        from fastapi.responses import PlainTextResponse

        return PlainTextResponse(text * times)
