"""``siteledger devices``: collect a few cycles, import, show health; clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from ingestion.devices.clock import SimClock
from siteledger.site import dump_site
from tests.ingestion.devices.helpers import FixedValues, ThreadedSimulator, free_ports
from tests.ingestion.devices.test_spool import _site

pytestmark = pytest.mark.integration


def test_collect_import_and_health_commands(tmp_path: Path):
    [port] = free_ports(1)
    site = _site(port)
    site_file = tmp_path / "site.yaml"
    site_file.write_text(dump_site(site), encoding="utf-8")
    home = ["--home", str(tmp_path / "home")]
    runner = CliRunner()
    clock = SimClock.wall()
    with ThreadedSimulator(site, FixedValues({"FT-1": 3.25, "FQ-1": 99.5}), clock):
        result = runner.invoke(
            cli,
            [*home, "devices", "collect", str(site_file), "--interval", "1",
             "--cycles", "2", "--timeout", "0.5"],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "stopped after 2 cycles (2 spooled, 0 dropped" in result.output
    result = runner.invoke(cli, [*home, "devices", "import", "--site", str(site_file)])
    assert result.exit_code == 0, result.output
    assert "spool_site: 2 segments, 4 readings in 1 batch(es)" in result.output
    result = runner.invoke(cli, [*home, "devices", "health", "--site", str(site_file)])
    assert result.exit_code == 0, result.output
    assert f"127.0.0.1:{port}/1" in result.output and "online" in result.output


def test_a_site_without_modbus_meters_or_a_bad_file_is_a_clear_error(tmp_path: Path):
    site = _site().model_copy(deep=True)
    for meter in site.meters:
        meter.modbus = None
    site_file = tmp_path / "site.yaml"
    site_file.write_text(dump_site(site), encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(cli, ["--home", str(tmp_path), "devices", "collect", str(site_file)])
    assert result.exit_code == 1
    assert "has no meter with a Modbus address" in result.output
    site_file.write_text("site: {id: x}\nnodes: []\n", encoding="utf-8")
    result = runner.invoke(cli, ["devices", "simulate", str(site_file)])
    assert result.exit_code == 1 and "is not a valid site file" in result.output
    assert "site.name" in result.output
