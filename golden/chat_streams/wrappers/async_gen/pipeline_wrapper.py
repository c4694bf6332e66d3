import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from hayhooks import BasePipelineWrapper, get_last_user_message


@dataclass
class Chunk:
    """Looks like a Haystack StreamingChunk to the OpenAI routes (duck typing)."""

    content: str
    finish_reason: str | None = None


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    async def run_chat_completion_async(
        self, model: str, messages: list[dict], body: dict
    ) -> AsyncGenerator:
        # Hayhooks awaits run_chat_completion_async, so it returns an async generator.
        text = get_last_user_message(messages) or ""
        if body.get("temperature") == 0:
            return f"cold: {text}"
        return self._stream(text, finish=bool(body.get("finish")))

    async def _stream(self, text: str, finish: bool) -> AsyncGenerator:
        yield "<"
        for word in text.split():
            await asyncio.sleep(0)
            yield Chunk(content=word)
        yield {"dropped": "when not streaming"}
        yield Chunk(content=">", finish_reason="stop" if finish else None)
