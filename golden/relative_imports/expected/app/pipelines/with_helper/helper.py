from pydantic import BaseModel


class Greeting(BaseModel):
    text: str
    languages: int


def greet(name: str, words: list[str]) -> Greeting:
    return Greeting(text=" / ".join(f"{w} {name}" for w in words), languages=len(words))
