"""The start-up floor of any FastAPI service: one ``GET /status`` route, nothing else.

No wrappers, no middleware, no lifespan. Its cold start is what Python, uvicorn and FastAPI
cost before any pipeline code runs, so it bounds what a generated FastAPI service can reach.

    python -m uvicorn handwritten.floor:app --app-dir /path/to/bench --port 8000
"""

from fastapi import FastAPI

app = FastAPI(title="FastAPI start-up floor")


@app.get("/status")
def status() -> dict[str, str]:
    return {"status": "Up!"}
