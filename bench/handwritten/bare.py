"""The hand-written app of ``app.py`` without middleware: no CORS, no ``x-request-id``.

Same routes, models, error mapping and lifespan (``routes.py``): the difference between the
two shows what the middleware surface costs.

    cd OUT && python -m uvicorn handwritten.bare:app --app-dir /path/to/bench --port 8000
"""

from fastapi import FastAPI

from handwritten.routes import lifespan, router

app = FastAPI(title="Hayhooks (hand-written, bare)", lifespan=lifespan)
app.include_router(router)
