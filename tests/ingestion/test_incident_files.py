"""The environmental incidents register: drop files (YAML, CSV) with bad rows quarantined and
named by line, idempotent imports, and the CLI (add, list, update, resolve, import)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from cli.main import cli
from ingestion.incidents import import_incident_drops, import_incident_file
from ingestion.lake import read_quarantine
from siteledger.settings import Settings
from siteledger.site.loader import dump_site
from siteledger.state import StateStore
from siteledger.state.incidents import incidents_file, list_incidents
from tests.ingestion.lab_site import lab_site

YAML = """\
incidents:
  - site_id: small_site
    type: spill
    flow: dam_to_plant
    started_at: 2025-03-01 10:00
    ended_at: 2025-03-01 12:30
    volume_m3: 12.5
    severity: medium
    status: resolved
    description: Pipe joint failed at the plant feed
  - site_id: small_site
    type: overflow
    node: dam
    started_at: 2025-03-05T00:00:00+08:00
    reported_to_authority: true
    reported_on: 2025-03-06
    authority_reference: DWER-2025-0042
  - site_id: small_site
    type: breach
    node: no_such_dam
    started_at: 2025-03-07 08:00
  - site_id: small_site
    type: discharge
    flow: dam_to_creek
    started_at: 2025-03-09 08:00
    ended_at: 2025-03-08 08:00
  - site_id: small_site
    type: leak
    node: dam
    started_at: 2025-03-09 08:00
"""


@pytest.fixture
def home(tmp_path: Path):
    settings = Settings(home=tmp_path / "home")
    settings.ensure_dirs()
    site = lab_site()
    (settings.sites_dir / "small_site.yaml").write_text(dump_site(site), encoding="utf-8")
    store = StateStore(settings.state_store_url)
    yield settings, store, site
    store.dispose()


def test_a_yaml_drop_records_good_incidents_and_quarantines_bad_ones_by_line(home, tmp_path):
    settings, store, site = home
    path = tmp_path / "incidents_march.yaml"
    path.write_text(YAML, encoding="utf-8")

    result = import_incident_file(settings, store, [site], path)

    assert result.status == "committed"
    assert len(result.added) == 2
    assert result.problems == [
        "incidents_march.yaml:18: unknown node 'no_such_dam' of site 'small_site'",
        "incidents_march.yaml:22: incident: ended_at 2025-03-08 08:00:00 is before started_at "
        "2025-03-09 08:00:00",
        "incidents_march.yaml:27: type: Input should be 'spill', 'overflow', 'breach' or "
        "'discharge'",
    ]
    quarantined = read_quarantine(settings, source="incidents").to_pylist()
    assert [(r["source_row"], r["site"]) for r in quarantined] == [
        (18, "_register"),
        (22, "_register"),
        (27, "_register"),
    ]
    spill, overflow = list_incidents(store)
    # naive times are Perth time (UTC+8): 10:00 local is 02:00 UTC
    assert spill["started_at"] == dt.datetime(2025, 3, 1, 2, tzinfo=dt.UTC)
    assert spill["ended_at"] == dt.datetime(2025, 3, 1, 4, 30, tzinfo=dt.UTC)
    assert (spill["volume_m3"], spill["status"], spill["flow_id"]) == (
        12.5,
        "resolved",
        "dam_to_plant",
    )
    assert overflow["started_at"] == dt.datetime(2025, 3, 4, 16, tzinfo=dt.UTC)
    assert (overflow["reported_to_authority"], overflow["reported_on"]) == (
        True,
        dt.date(2025, 3, 6),
    )
    assert spill["incident_id"].startswith("INC-20250301-")
    exported = pq.read_table(incidents_file(settings)).to_pylist()
    assert sorted(r["incident_id"] for r in exported) == sorted(
        [spill["incident_id"], overflow["incident_id"]]
    )


def test_importing_again_changes_nothing(home, tmp_path):
    settings, store, site = home
    path = tmp_path / "incidents.yaml"
    path.write_text(YAML, encoding="utf-8")
    first = import_incident_file(settings, store, [site], path)

    again = import_incident_file(settings, store, [site], path)
    # the same incidents in another file (a comment added): recorded already, unchanged
    other = tmp_path / "incidents_copy.yaml"
    other.write_text("# resent\n" + YAML, encoding="utf-8")
    copy = import_incident_file(settings, store, [site], other)

    assert again.status == "duplicate" and again.batch_id == first.batch_id
    assert (copy.added, copy.updated, sorted(copy.unchanged)) == ([], [], sorted(first.added))
    assert len(list_incidents(store)) == 2


def test_a_csv_drop_in_landing_is_imported_and_archived(home):
    settings, store, site = home
    csv_text = (
        "incident_id,site_id,type,node,flow,started_at,ended_at,volume_m3,severity,status,"
        "reported_to_authority,reported_on,authority_reference,description\n"
        "SPILL-7,small_site,spill,,dam_to_plant,2025-04-01 06:00,,3,low,active,false,,,hose\n"
        "SPILL-8,small_site,spill,,dam_to_plant,yesterday,,3,low,active,false,,,hose\n"
        "SPILL-9,other_site,spill,,dam_to_plant,2025-04-01 06:00,,3,low,active,false,,,hose\n"
    )
    (settings.landing / "incidents_april.csv").write_text(csv_text, encoding="utf-8")

    (result,) = import_incident_drops(settings, store, [site])

    assert result.added == ["SPILL-7"]
    assert [p.split(": ", 1)[0] for p in result.problems] == [
        "incidents_april.csv:3",
        "incidents_april.csv:4",
    ]
    assert "started_at" in result.problems[0]
    assert "unknown site 'other_site'" in result.problems[1]
    assert not (settings.landing / "incidents_april.csv").exists()
    assert [p.name for p in settings.archive.iterdir()] == [
        f"{result.batch_id}__incidents_april.csv"
    ]


def test_a_file_that_is_not_an_incident_file_is_quarantined_whole(home, tmp_path):
    settings, store, site = home
    path = tmp_path / "incidents.yaml"
    path.write_text("incidents: {site_id: small_site}\n", encoding="utf-8")

    result = import_incident_file(settings, store, [site], path)

    assert result.status == "quarantined"
    assert result.problems == ["incidents.yaml: incidents.yaml: expected a list under 'incidents:'"]
    assert list_incidents(store) == []


def test_the_cli_records_lists_updates_and_resolves(home):
    settings, store, _ = home
    runner = CliRunner()
    base = ["--home", str(settings.home), "incidents"]

    added = runner.invoke(
        cli,
        [
            *base,
            "add",
            "--site",
            "small_site",
            "--type",
            "overflow",
            "--node",
            "dam",
            "--started",
            "2025-05-01 07:00",
            "--volume-m3",
            "40",
            "--severity",
            "high",
        ],
    )
    assert added.exit_code == 0, added.output
    incident_id = added.output.split()[-1]
    twice = runner.invoke(
        cli,
        [
            *base,
            "add",
            "--site",
            "small_site",
            "--type",
            "overflow",
            "--node",
            "dam",
            "--started",
            "2025-05-01 07:00",
        ],
    )
    assert twice.exit_code != 0 and "already recorded" in twice.output
    unknown = runner.invoke(
        cli,
        [
            *base,
            "add",
            "--site",
            "small_site",
            "--type",
            "spill",
            "--node",
            "tank",
            "--started",
            "2025-05-01",
        ],
    )
    assert unknown.exit_code != 0 and "unknown node 'tank'" in unknown.output

    updated = runner.invoke(
        cli,
        [
            *base,
            "update",
            incident_id,
            "--reported-on",
            "2025-05-02",
            "--authority-reference",
            "DWER-1",
        ],
    )
    assert updated.exit_code == 0, updated.output
    resolved = runner.invoke(cli, [*base, "resolve", incident_id, "--ended", "2025-05-01 19:00"])
    assert resolved.exit_code == 0, resolved.output
    listed = runner.invoke(cli, [*base, "list", "--status", "resolved"])
    assert listed.exit_code == 0 and "Environmental incidents (1)" in listed.output

    (row,) = list_incidents(store)
    # 07:00 and 19:00 in Perth are 23:00 the day before and 11:00 UTC
    assert row["started_at"] == dt.datetime(2025, 4, 30, 23, tzinfo=dt.UTC)
    assert row["ended_at"] == dt.datetime(2025, 5, 1, 11, tzinfo=dt.UTC)
    assert (row["status"], row["reported_to_authority"], row["authority_reference"]) == (
        "resolved",
        True,
        "DWER-1",
    )
    assert (row["volume_m3"], row["severity"], row["recorded_via"]) == (40.0, "high", "cli")
    assert pq.read_table(incidents_file(settings)).num_rows == 1
