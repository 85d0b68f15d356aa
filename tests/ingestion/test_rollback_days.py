"""`siteledger ingest rollback` records the days the batch held as days to rebuild, and says so."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from cli.main import cli
from siteledger.settings import Settings
from siteledger.state.store import StateStore
from tests.ingestion.hostile.home import SMALL_SITE


def test_rollback_command_leaves_the_batch_days_waiting_for_a_rebuild(tmp_path: Path):
    settings = Settings(home=tmp_path)
    settings.ensure_dirs()
    shutil.copy(SMALL_SITE, settings.sites_dir / "small_site.yaml")
    (settings.landing / "logger_b.csv").write_text(
        "time_utc,meter,value,unit\n"
        "2025-01-01T00:00:00Z,FT-100,1,m3/h\n"
        "2025-01-03T00:00:00Z,FT-100,2,m3/h\n"
    )
    runner = CliRunner()
    home = ["--home", str(tmp_path)]
    assert runner.invoke(cli, [*home, "ingest", "run"]).exit_code == 0
    store = StateStore(settings.state_store_url)
    [job] = store.jobs()

    result = runner.invoke(cli, [*home, "ingest", "rollback", job.batch_id])

    assert result.exit_code == 0, result.output
    assert "2 day(s) of small_site (2025-01-01..2025-01-03) will be rebuilt" in result.output
    assert [(r.site_id, r.day, r.batch_id) for r in store.rebuild_days()] == [
        ("small_site", "2025-01-01", job.batch_id),
        ("small_site", "2025-01-03", job.batch_id),
    ]
    assert not list(settings.readings_lake.glob("site=small_site/source=logger/day=*"))
    store.dispose()
