import asyncio

from ...runtime import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    async def run_api_async(self, a: int, b: int = 2) -> int:
        """Add two numbers asynchronously."""
        await asyncio.sleep(0)
        return a + b
