"""Serving the API with uvicorn (``siteledger api serve``)."""

from __future__ import annotations

import uvicorn

from api.app import create_app
from siteledger.settings import Settings

# Seconds an idle keep-alive connection stays open. uvicorn's default of 5 s lost about 1 request
# in 170 under the 50-client benchmark on a loaded machine: the server closed a connection just
# as a client sent on it. A reverse proxy's upstream keep-alive should stay below this.
KEEP_ALIVE_S = 65


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
        timeout_keep_alive=KEEP_ALIVE_S,
        log_level="info",
    )
