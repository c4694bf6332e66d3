from pydantic import BaseModel

from hayhooks import BasePipelineWrapper


class Item(BaseModel):
    name: str
    size: int = 1


class PipelineWrapper(BasePipelineWrapper):
    def setup(self) -> None:
        self.pipeline = None

    def run_api(self, **items: Item) -> str:
        # Hayhooks passes model_dump(): the method receives a dict, not an Item.
        item = items["items"]
        return f"{type(item).__name__}:{item['name']}x{item['size']}"
