from collections.abc import Generator

from hayhooks import BasePipelineWrapper, SSEStream


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.prefix = "event"

    # Annotated as what it returns: Hayhooks 2.1.0 cannot build a route for "-> SSEStream".
    def run_api(self, n: int = 2) -> SSEStream:
        """Count down as server-sent events.

        Args:
            n: how many events
        """

        def events() -> Generator[str, None, None]:
            for i in range(n, 0, -1):
                yield f"{self.prefix}-{i}"

        return SSEStream(events())
