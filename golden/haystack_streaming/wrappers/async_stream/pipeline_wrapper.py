from collections.abc import AsyncGenerator

from haystack import Pipeline

from hayhooks import (
    BasePipelineWrapper,
    async_streaming_generator,
    get_last_user_input_text,
    get_last_user_message,
)

from .word_streamer import WordStreamer


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = Pipeline()
        self.pipeline.add_component("streamer", WordStreamer())

    async def run_chat_completion_async(
        self, model: str, messages: list[dict], body: dict
    ) -> AsyncGenerator:
        prompt = get_last_user_message(messages) or ""
        return async_streaming_generator(
            pipeline=self.pipeline, pipeline_run_args={"streamer": {"prompt": prompt}}
        )

    async def run_response_async(
        self, model: str, input_items: list[dict], body: dict
    ) -> AsyncGenerator:
        prompt = get_last_user_input_text(input_items) or ""
        return async_streaming_generator(
            pipeline=self.pipeline, pipeline_run_args={"streamer": {"prompt": prompt}}
        )
