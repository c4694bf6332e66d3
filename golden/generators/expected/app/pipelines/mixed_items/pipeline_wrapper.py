from collections.abc import Generator

from haystack.dataclasses import StreamingChunk

from ...runtime import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self) -> Generator:
        """Stream one item of every kind Hayhooks formats differently."""
        yield StreamingChunk(content="hello")
        yield "multi\nline"
        yield ""
        yield b"bytes"
        yield {"k": 1}
        yield None
        yield 42
