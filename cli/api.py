"""``siteledger api``: serve the data API, manage its keys, read its audit log (``docs/api.md``).

The API package is imported inside the commands, so the rest of the CLI starts without FastAPI.
"""

from __future__ import annotations

import click

from cli.output import Col, emit, json_option, make_console
from siteledger.settings import Settings
from siteledger.state import StateStore

console = make_console()


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.obj["settings"]
    return settings


def _store(settings: Settings) -> StateStore:
    settings.ensure_dirs()
    return StateStore(settings.state_store_url)


@click.group()
def api() -> None:
    """The read-only data API: serve it, manage its keys, read its audit log."""


@api.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--forwarded-allow-ips",
    default=None,
    help="Reverse proxies whose X-Forwarded-For is trusted (comma-separated addresses).",
)
@click.pass_context
def api_serve(ctx: click.Context, host: str, port: int, forwarded_allow_ips: str | None) -> None:
    """Serve the API over this home's published warehouse until stopped (Ctrl-C)."""
    from api.server import serve

    serve(_settings(ctx), host, port, forwarded_allow_ips)


@api.group("keys")
def api_keys() -> None:
    """API keys: create (the token is shown once), list, revoke."""


@api_keys.command("create")
@click.argument("name")
@click.option(
    "--site",
    "sites",
    multiple=True,
    required=True,
    help="A site the key sees: SITE, SITE/FACILITY for one facility, or '*' for every site. "
    "Repeat for more.",
)
@click.option("--rate", default=120, show_default=True, help="Requests a minute the key may make.")
@click.pass_context
def api_keys_create(ctx: click.Context, name: str, sites: tuple[str, ...], rate: int) -> None:
    """Create a key NAME for the given sites and print its token (only this once)."""
    from api.keys import ApiKeyError, KeyStore

    store = _store(_settings(ctx))
    try:
        key, token = KeyStore(store).create(name, list(sites), rate)
    except ApiKeyError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.dispose()
    click.echo(
        f"created {key.key_id} ({key.name}) for {', '.join(key.scopes)}, "
        f"{key.rate_per_minute} requests a minute",
        err=True,
    )
    click.echo("the token, shown this once (store it now; only its hash is kept):", err=True)
    click.echo(token)


@api_keys.command("list")
@json_option
@click.pass_context
def api_keys_list(ctx: click.Context, as_json: bool) -> None:
    """Every key (never its token): scopes, rate limit, created and revoked."""
    from api.keys import KeyStore

    store = _store(_settings(ctx))
    try:
        keys = KeyStore(store).list()
    finally:
        store.dispose()
    emit(
        (
            {
                "key_id": k.key_id,
                "name": k.name,
                "scopes": ", ".join(k.scopes),
                "rate_per_minute": k.rate_per_minute,
                "created_at": k.created_at,
                "revoked_at": k.revoked_at,
            }
            for k in keys
        ),
        [
            Col("key_id", "id", "id"),
            Col("name", kind="word"),
            Col("scopes"),
            Col("rate_per_minute", "per min", "int"),
            Col("created_at", "created", "time"),
            Col("revoked_at", "revoked", "time"),
        ],
        title="API keys",
        as_json=as_json,
        empty="no API keys yet (siteledger api keys create NAME --site SITE)",
        console=console,
    )


@api_keys.command("revoke")
@click.argument("key_id")
@click.pass_context
def api_keys_revoke(ctx: click.Context, key_id: str) -> None:
    """Revoke a key: its next request is refused."""
    from api.keys import ApiKeyError, KeyStore

    store = _store(_settings(ctx))
    try:
        key = KeyStore(store).revoke(key_id)
    except ApiKeyError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        store.dispose()
    click.echo(f"revoked {key.key_id} ({key.name}) at {key.revoked_at:%Y-%m-%d %H:%M:%S} UTC")


@api.command("audit")
@click.option("--key", "key_id", default=None, help="Only this key's requests.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000))
@json_option
@click.pass_context
def api_audit(ctx: click.Context, key_id: str | None, limit: int, as_json: bool) -> None:
    """The newest requests to the API, answered or refused."""
    from api.keys import KeyStore

    store = _store(_settings(ctx))
    try:
        entries = KeyStore(store).audit(key_id, limit)
    finally:
        store.dispose()
    emit(
        (e.as_dict() for e in entries),
        [
            Col("at", kind="time"),
            Col("key_id", "key", "id"),
            Col("method", kind="word"),
            Col("path"),
            Col("query"),
            Col("status", kind="int"),
            Col("duration_ms", "ms", "num", digits=1),
            Col("client_ip", "client", "word"),
        ],
        title="API requests",
        as_json=as_json,
        empty="no API requests recorded" + (f" for {key_id}" if key_id else ""),
        console=console,
    )
