"""Dagster asset pages of the dbt models show each column with its description and type, and
``siteledger docs`` writes the dbt documentation as one page that opens offline."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from dagster import AssetKey

from orchestration.definitions import defs
from orchestration.water.assets import manifest
from orchestration.water.dbt import UNKNOWN_TYPE, SiteledgerDbtTranslator, dbt_project

BALANCE = AssetKey(["marts", "fct_site_balance_daily"])
BALANCE_ID = "model.siteledger.fct_site_balance_daily"


def _schema(spec_metadata) -> dict[str, tuple[str, str | None]]:
    schema = spec_metadata["dagster/column_schema"]
    return {c.name: (c.type, c.description) for c in schema.columns}


def test_definitions_carry_the_column_schema_of_a_mart_with_descriptions():
    metadata = defs.resolve_asset_graph().get(BALANCE).metadata
    columns = _schema(metadata)
    assert columns["site_id"][1] == "Site id."
    assert columns["day"][1] == "Site-local day."
    assert columns["closure_error_pct"][1]  # documented in the YAML
    # a type, never dagster-dbt's "?" placeholder: the catalog's, or "unknown" before one exists
    assert all(kind and kind != "?" for kind, _ in columns.values())


def test_column_types_come_from_the_catalog_and_undocumented_columns_are_listed():
    catalog = {
        "nodes": {
            BALANCE_ID: {
                "columns": {
                    "site_id": {"name": "site_id", "type": "VARCHAR", "index": 1},
                    "day": {"name": "day", "type": "DATE", "index": 2},
                    "loaded_by": {"name": "loaded_by", "type": "VARCHAR", "index": 3},
                }
            }
        }
    }
    spec = SiteledgerDbtTranslator(catalog=catalog).get_asset_spec(
        manifest, BALANCE_ID, dbt_project
    )
    columns = _schema(spec.metadata)
    names = list(columns)
    assert names[:3] == ["site_id", "day", "loaded_by"]  # the table's order first
    assert columns["day"] == ("date", "Site-local day.")
    assert columns["loaded_by"] == ("varchar", None)  # in the table, not in the YAML
    # documented but not in this catalog: kept, type unknown
    assert columns["closure_error_pct"][0] == UNKNOWN_TYPE


@pytest.mark.integration
@pytest.mark.slow
def test_siteledger_docs_writes_an_offline_page_of_the_published_marts(tmp_path: Path):
    from cli.main import cli
    from siteledger.dbt_docs import remote_fetches

    result = CliRunner().invoke(cli, ["--home", str(tmp_path), "docs"])
    assert result.exit_code == 0, result.output
    index = tmp_path / "docs" / "dbt" / "index.html"
    assert str(index) in result.output
    html = index.read_text(encoding="utf-8")
    assert remote_fetches(html) == []
    assert "sp.js" not in html  # dbt docs' usage tracker loader is gone
    # the manifest is inside the page (nothing to fetch), with the marts' descriptions
    assert '"model.siteledger.fct_site_balance_daily"' in html
    assert "Site-local day." in html
    # no warehouse yet: none was created to compile against
    assert not (tmp_path / "warehouse" / "build.duckdb").exists()
