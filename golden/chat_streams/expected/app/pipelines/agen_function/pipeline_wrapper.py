from collections.abc import AsyncGenerator

from ...runtime import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    # An async generator function: Hayhooks awaits the call, which fails with a 500.
    async def run_chat_completion_async(
        self, model: str, messages: list[dict], body: dict
    ) -> AsyncGenerator:
        yield "never sent"
