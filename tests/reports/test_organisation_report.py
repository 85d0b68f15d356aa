"""The organisation's annual report: two sites of one organisation in two regions, published;
its totals are the sums of the sites' financial years and it renders to PDF and JSON."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import duckdb
import pytest
import yaml

from reports.data import build_organisation_payload, load_organisation, organisation_ids
from reports.definitions import load_definitions
from reports.periods import parse_period
from reports.render.worker import RenderJob, render_job
from reports.service import ReportGenerationError, generate
from siteledger.settings import get_settings
from siteledger.state import StateStore
from tests.dbt.homes import HAND_SITE_FILE
from tests.dbt.runner import shared_home

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ORG = "example_resources"  # the demo organisation's id
DEFINITION = "annual_organisation_water_report"


def build_one_organisation(home: Path) -> None:
    """The demo's two mines (10 days) and the hand site moved into the demo's organisation, in a
    region WA of its own, built by dbt and published (~30 s)."""
    from ingestion.site_tables import write_site_tables
    from siteledger.site import load_site
    from siteledger.warehouse import Warehouse
    from tests.dbt.hand_lake import write_hand_lake
    from tests.dbt.homes import add_demo_site
    from tests.dbt.runner import run_dbt

    add_demo_site(home)
    settings = get_settings(home)
    # the demo's organisation file, with the hand site's region beside the mines' two
    org = yaml.safe_load(settings.organisation_file.read_text())
    org["regions"].append({"id": "WA", "name": "Western Australia"})
    settings.organisation_file.write_text(yaml.safe_dump(org))
    hand = home / "hand_site.yaml"
    hand.write_text(
        HAND_SITE_FILE.read_text().replace("organisation: Test Org", f"organisation: {ORG}")
    )
    write_site_tables(settings, load_site(hand))
    write_hand_lake(settings.lake)
    run_dbt(home, "run")
    store = StateStore(settings.state_store_url)
    Warehouse(settings, store).publish(["marts"], note="tests/reports organisation")
    store.dispose()


@pytest.fixture(scope="module")
def org_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_home(tmp_path_factory, "reports_one_organisation", build_one_organisation)


def _site_years(home: Path) -> dict[str, dict]:
    with duckdb.connect(str(home / "warehouse" / "siteledger.duckdb"), read_only=True) as con:
        cursor = con.execute(
            "select * from fct_site_balance_period where period_kind = 'year' "
            "and period_key = 'FY2026'"
        )
        names = [c[0] for c in cursor.description]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def test_the_organisation_report_totals_are_the_sums_of_its_sites(org_home: Path, tmp_path: Path):
    db = org_home / "warehouse" / "siteledger.duckdb"
    assert organisation_ids(db) == [ORG]
    definition = next(d for d in load_definitions() if d.id == DEFINITION)
    data = load_organisation(db, ORG)
    assert data.periods(definition) == []  # 4 and 11 days of FY2026: not complete
    period = parse_period("annual", "FY2026", data.fy_start_month(definition))
    payload = build_organisation_payload(data, definition, period)

    sites = _site_years(org_home)
    assert set(sites) == {"demo_mine", "demo_highveld", "hand_site"}
    # the hand site's year is its three hand-computed days: 6 000 + 6 920 + 5 760 m3
    assert sites["hand_site"]["inputs_m3"] == pytest.approx(18_680.0, abs=0.5)
    m = payload["metrics"]
    for metric, column in (
        ("inputs", "inputs_m3"),
        ("outputs", "outputs_m3"),
        ("input_groundwater", "input_groundwater_m3"),
        ("ore_feed_t", "ore_feed_t"),
        ("reused", "reused_m3"),
    ):
        total = sum(s[column] for s in sites.values())
        assert total > 0, metric
        assert m[metric] == pytest.approx(total, abs=1.0), metric  # to the m3
    # the hand site's last day has no closing storage, so neither has the organisation
    assert sites["hand_site"]["storage_change_m3"] is None
    assert m["storage_change"] is None and m["closure_error"] is None
    assert m["water_intensity_m3_per_t"] == pytest.approx(m["inputs"] / m["ore_feed_t"])
    assert m["n_days"] == 4  # the shorter site's days
    assert payload["site"]["closure_status"] == "undetermined"

    rows = {s["site_id"]: s for s in payload["sites"]}
    assert set(rows) == {"demo_mine", "demo_highveld", "hand_site"}
    for site_id, row in rows.items():
        assert row["inputs"] == pytest.approx(sites[site_id]["inputs_m3"], abs=1.0)
        assert not row["complete"]
    assert rows["hand_site"]["region"] == "WA"
    regions = {r["region"]: r for r in payload["regions"]}
    assert regions["WA"]["name"] == "Western Australia"
    assert regions["WA"]["inputs"] == pytest.approx(rows["hand_site"]["inputs"], abs=1.0)
    assert sum(r["inputs"] for r in regions.values()) == pytest.approx(m["inputs"], abs=1.0)
    # the hand site takes 6.49 m3/t, the demo mine ~0.5 m3/t: the demo mine ranks ahead
    assert rows["demo_mine"]["intensity_rank"] < rows["hand_site"]["intensity_rank"]

    header = {
        "report_id": f"{DEFINITION}.org.FY2026.v1",
        "version": 1,
        "status": "draft",
        "validation_errors": ["period FY2026 has data on 4 of 365 days"],
        "requirements": [],
        "content_hash": "0" * 64,
        "generated_at": "2026-07-02T04:00:00+00:00",
        "generated_by": "tests",
        "due_date": "2026-09-28",
        "branding": {"accent_colour": "#1f4e79", "footer_note": ""},
        "diff": None,
        "diff_against": None,
    }
    result = render_job(
        RenderJob(
            payload=payload,
            header=header,
            formats=list(definition.formats),
            out_dir=str(tmp_path),
            basename="org",
            template_name=definition.template,
            template_dirs=[str(Path("reports/templates").resolve())],
        )
    )
    assert result.errors == []
    text = subprocess.run(
        ["pdftotext", "-layout", result.artifacts["pdf"]["path"], "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Sites and regions (ML)" in text
    assert "Hand-Computed Test" in text and "hand_site," in text and "incomplete" in text
    # the regions, on the cover (the line wraps beside its label)
    cover = " ".join(text.split("\f")[0].split())
    assert "Highveld, South Africa; South West, Western Australia; Western" in cover
    # the organisation's inputs in ML, rounded to 0.1 ML as the PDF shows them
    assert f"{m['inputs'] / 1000:,.1f}" in text
    written = json.loads(Path(result.artifacts["json"]["path"]).read_text())
    assert written["metrics"]["inputs"] == pytest.approx(m["inputs"])
    assert {s["site_id"] for s in written["sites"]} == {"demo_mine", "demo_highveld", "hand_site"}


def test_generate_refuses_an_organisation_year_that_is_not_complete(org_home: Path, tmp_path):
    settings = get_settings(org_home)
    store = StateStore(settings.state_store_url)
    with pytest.raises(ReportGenerationError, match=f"period FY2026 of site {ORG} is not complete"):
        generate(
            settings,
            store,
            definition_ids=[DEFINITION],
            period_keys=["FY2026"],
            generated_by="tests",
            workers=1,
        )
    # nothing complete, nothing generated (and no site report for an organisation definition)
    assert generate(settings, store, definition_ids=[DEFINITION], generated_by="tests") == []
    store.dispose()
