"""The data API: a read-only HTTP face over the published warehouse, the report registry and
the alert store, with API keys, rate limits and an audit log; an import endpoint and inbound
webhooks that feed the landing folder (``docs/api.md``).

Beside the CLI and orchestration, a third face: it calls the working packages and the core and
is imported by nothing but the CLI.
"""
