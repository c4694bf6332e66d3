from collections.abc import Generator

from haystack.dataclasses import StreamingChunk

from hayhooks import BasePipelineWrapper, SSEStream


def items() -> Generator:
    yield StreamingChunk(content="hello")
    yield "multi\nline"
    yield ""
    yield b"bytes"
    yield {"k": 1}
    yield None
    yield 42


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    # Annotated Generator: Hayhooks cannot build a route for "-> SSEStream".
    def run_api(self) -> Generator:
        """Stream the mixed items as server-sent events."""
        return SSEStream(items())
