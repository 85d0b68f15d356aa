"""Serving the API with uvicorn (``siteledger api serve``)."""

from __future__ import annotations

import uvicorn

from api.app import create_app
from siteledger.settings import Settings


def serve(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8000,
    forwarded_allow_ips: str | None = None,
) -> None:
    """Run the API in this process until it is stopped. One process: the rate limits are this
    process's buckets (``docs/api.md``). ``forwarded_allow_ips`` names the reverse proxies
    whose X-Forwarded-For is believed for the audit log's client address."""
    app = create_app(settings)
    uvicorn.run(
        app,
        host=host,
        port=port,
        proxy_headers=forwarded_allow_ips is not None,
        forwarded_allow_ips=forwarded_allow_ips,
        server_header=False,
        log_level="info",
    )
