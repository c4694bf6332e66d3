from openai.types import CompletionUsage

from ...runtime import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, prompt_tokens: int = 2) -> CompletionUsage:
        """Token counts, as a pydantic model of an installed package.

        Returns:
            The usage.
        """
        return CompletionUsage(
            prompt_tokens=prompt_tokens,
            completion_tokens=1,
            total_tokens=prompt_tokens + 1,
        )
