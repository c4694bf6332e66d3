from hayhooks import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, text: str, repeat: int = 1) -> dict:
        """Echo a text back.

        Args:
            text: The text to echo.
            repeat: How many times to repeat it.

        Returns:
            The echoed text and its length.
        """
        echoed = text * repeat
        return {"text": echoed, "length": len(echoed)}
