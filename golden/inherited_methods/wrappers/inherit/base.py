from hayhooks import BasePipelineWrapper
from .models import Item


class SharedBase(BasePipelineWrapper):
    deployment_type = "pipeline"

    def run_api(self, q: str, item: Item | None = None) -> str:
        """Echo the query.

        Args:
            q: the query
        """
        return q
