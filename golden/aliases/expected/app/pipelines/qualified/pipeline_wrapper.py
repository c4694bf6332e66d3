import pydantic

from ...runtime import BasePipelineWrapper


class Payload(pydantic.BaseModel):
    text: str
    length: int


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, text: str = "abc") -> "Payload":
        """Measure a string."""
        return Payload(text=text, length=len(text))
