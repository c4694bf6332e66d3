import collections.abc as cabc
import typing as t

from fastapi import responses as r

import hayhooks as hh


class PipelineWrapper(hh.BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(
        self,
        x: t.Optional[int] = None,
        tags: t.Optional[cabc.Sequence[str]] = None,
    ) -> r.PlainTextResponse:
        """Describe the inputs as plain text."""
        return r.PlainTextResponse(f"x={x} tags={','.join(tags or [])}")
