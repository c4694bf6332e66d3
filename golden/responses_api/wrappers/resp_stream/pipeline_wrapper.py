import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from hayhooks import BasePipelineWrapper, get_last_user_input_text


@dataclass
class Reasoning:
    reasoning_text: str


@dataclass
class Thought:
    """A chunk carrying reasoning, as a Haystack StreamingChunk can (duck typing)."""

    reasoning: Reasoning


@dataclass
class FunctionCall:
    """A function-call delta in the explicit-attribute shape fastapi-openai-compat reads."""

    function_call_id: str
    function_call_name: str | None
    function_call_arguments: str


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    async def run_response_async(self, model: str, input_items: list[dict], body: dict) -> AsyncGenerator:
        text = get_last_user_input_text(input_items) or ""
        return self._events(text)

    async def _events(self, text: str) -> AsyncGenerator:
        yield Thought(Reasoning("thinking"))
        yield Thought(Reasoning(" hard"))
        yield FunctionCall("call_1", "lookup", '{"q": ')
        yield FunctionCall("call_1", None, '"x"}')
        for word in text.split():
            await asyncio.sleep(0)
            yield f"{word} "
        yield ""
        yield FunctionCall("call_2", None, "{}")
