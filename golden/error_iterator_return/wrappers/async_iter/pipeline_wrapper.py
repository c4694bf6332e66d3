import typing

from hayhooks import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    async def run_api_async(self, n: int = 2) -> "typing.AsyncIterator[str]":
        """Yield n chunks."""
        for i in range(n):
            yield f"c{i} "
