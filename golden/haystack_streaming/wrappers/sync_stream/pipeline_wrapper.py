from collections.abc import Generator

from haystack import Pipeline

from hayhooks import BasePipelineWrapper, get_last_user_message, streaming_generator

from .word_streamer import WordStreamer


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = Pipeline()
        self.pipeline.add_component("streamer", WordStreamer())

    def run_api(self, prompt: str) -> Generator:
        """Stream the prompt through a real Haystack pipeline."""
        return streaming_generator(
            pipeline=self.pipeline, pipeline_run_args={"streamer": {"prompt": prompt}}
        )

    def run_chat_completion(self, model: str, messages: list[dict], body: dict) -> Generator:
        prompt = get_last_user_message(messages) or ""
        return streaming_generator(
            pipeline=self.pipeline, pipeline_run_args={"streamer": {"prompt": prompt}}
        )
