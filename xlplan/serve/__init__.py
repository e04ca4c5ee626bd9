"""Server mode: the workspaces behind an HTTP service (``xlplan serve``).

:func:`create_app` builds the ASGI application (Starlette); :func:`run` serves it with uvicorn.
"""

from xlplan.serve.app import Served, create_app, served
from xlplan.serve.run import run

__all__ = ["Served", "create_app", "run", "served"]
