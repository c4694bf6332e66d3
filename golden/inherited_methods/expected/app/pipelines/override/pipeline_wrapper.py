from .shared import Tagged


class Local(Tagged):
    def run_api(self, q: str, times: int = 2) -> str:
        """Repeat q.

        Args:
            q: what to repeat
            times: how many times
        """
        return q * times


class PipelineWrapper(Local):
    def setup(self) -> None:
        self.pipeline = None
