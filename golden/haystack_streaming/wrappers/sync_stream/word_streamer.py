"""A Haystack component that streams its prompt through ``streaming_callback``.

No model and no network: it emits a reasoning chunk, a tool-call delta, then one chunk per
word, the last one with ``finish_reason="stop"``.
"""

import inspect
from typing import Any

from haystack import component
from haystack.dataclasses import (
    ReasoningContent,
    StreamingCallbackT,
    StreamingChunk,
    ToolCallDelta,
)


def chunks(prompt: str) -> list[StreamingChunk]:
    words = prompt.split()
    out = [
        StreamingChunk(content="", index=0, reasoning=ReasoningContent(reasoning_text="pondering")),
        StreamingChunk(
            content="",
            index=0,
            tool_calls=[ToolCallDelta(index=0, tool_name="search", arguments='{"q": 1}', id="call_1")],
        ),
    ]
    for i, word in enumerate(words):
        last = i == len(words) - 1
        out.append(
            StreamingChunk(content=word if i == 0 else f" {word}", finish_reason="stop" if last else None)
        )
    return out


@component
class WordStreamer:
    @component.output_types(reply=str)
    def run(self, prompt: str, streaming_callback: StreamingCallbackT | None = None) -> dict[str, Any]:
        for chunk in chunks(prompt):
            if streaming_callback is not None:
                streaming_callback(chunk)
        return {"reply": prompt}

    @component.output_types(reply=str)
    async def run_async(
        self, prompt: str, streaming_callback: StreamingCallbackT | None = None
    ) -> dict[str, Any]:
        for chunk in chunks(prompt):
            if streaming_callback is not None:
                delivered = streaming_callback(chunk)
                if inspect.isawaitable(delivered):
                    await delivered
        return {"reply": prompt}
