"""Your extension point: hayhooks-gen created this file once and never touches it again.

``configure(app)`` runs after the generated routes are registered: add middleware, exception
handlers, dependencies and extra routers here.

API-key guard: it ships ready, off by default. Turn it on by setting ``HAYHOOKS_GEN_API_KEY``
in the service's environment; every pipeline route then requires ``X-API-Key: <key>``
(see ``app/security.py``). To guard a router you add here the same way:

    from app import security

    app.include_router(my_router, dependencies=security.pipeline_dependencies())
"""

from fastapi import FastAPI


def configure(app: FastAPI) -> None:
    """Customise the generated application (middleware, auth, extra routers, ...)."""
