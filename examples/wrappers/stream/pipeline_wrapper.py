from collections.abc import Generator

from hayhooks import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, text: str = "streaming from a generator") -> Generator[str, None, None]:
        """Stream a text word by word.

        Args:
            text: The text to stream.
        """
        for word in text.split():
            yield word + "\n"
