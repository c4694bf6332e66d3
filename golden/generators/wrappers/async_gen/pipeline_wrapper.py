import asyncio
from typing import AsyncGenerator

from hayhooks import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    async def run_api_async(self, n: int = 3) -> AsyncGenerator[str, None]:
        """Stream n text chunks asynchronously."""

        # run_api_async is awaited, so it returns an async generator instead of being one.
        async def chunks() -> AsyncGenerator[str, None]:
            for i in range(n):
                await asyncio.sleep(0)
                yield f"chunk-{i}"

        return chunks()
