from collections.abc import AsyncGenerator

from hayhooks import BasePipelineWrapper
from hayhooks.open_webui import create_message_event, create_status_event


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    async def run_chat_completion_async(
        self, model: str, messages: list[dict], body: dict
    ) -> AsyncGenerator:
        return self._stream()

    async def _stream(self) -> AsyncGenerator:
        yield create_status_event("Working", hidden=True)
        yield create_message_event("appended by the UI")
        yield "text"
        yield create_status_event("Done", done=True)

    async def run_response_async(self, model: str, input_items: list[dict], body: dict) -> AsyncGenerator:
        return self._stream()
