from hayhooks import BasePipelineWrapper


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    async def run_api_async(self, *, label: str = "x", **extras: list[int]) -> dict:
        """Sum the extras.

        :param label: a label
        :param extras: numbers to add up
        """
        return {"label": label, "keys": sorted(extras), "total": sum(extras["extras"])}
