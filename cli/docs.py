"""``siteledger docs``: the documentation site of the published marts, for BI users."""

from __future__ import annotations

import click


@click.command("docs")
@click.pass_context
def docs(ctx: click.Context) -> None:
    """Build the dbt documentation of the published marts as one HTML file that opens offline
    (every model and column described; types and row counts from the build warehouse)."""
    from siteledger.dbt import DbtError
    from siteledger.dbt_docs import build_docs_site

    settings = ctx.obj["settings"]
    try:
        site = build_docs_site(settings)
    except DbtError as error:
        click.echo(error.output[-4000:], err=True)
        raise click.ClickException(str(error)) from None
    catalog = (
        f"catalog of {site.catalog_tables} tables from {settings.build_db}"
        if site.catalog_tables
        else "no warehouse yet: descriptions only, no column types (run 'siteledger run' first)"
    )
    click.echo(
        f"{site.n_published} published marts of {site.n_models} models documented; {catalog}"
    )
    click.echo(f"Open in a browser (works offline): {site.index}")
