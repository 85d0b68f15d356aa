"""Resources shared by every area: where siteledger's runtime data lives and its state store."""

import functools
from pathlib import Path

from dagster import ConfigurableResource

from siteledger.settings import Settings, get_settings
from siteledger.site import SiteConfig, load_site
from siteledger.state import StateStore

# how often the file, spool and lake sensors look (SITELEDGER_SENSOR_INTERVAL_S, default 30 s)
SENSOR_INTERVAL_S = get_settings().sensor_interval_seconds


@functools.lru_cache(maxsize=64)
def _parsed(path: str, mtime_ns: int, size: int) -> SiteConfig:
    return load_site(path)


def load_site_cached(path: Path) -> SiteConfig:
    """A site file parsed once per version of the file: a run's steps (import, site tables,
    spool import) and the definitions all read the sites, and a 500-meter file takes ~1.5 s."""
    stat = path.stat()
    return _parsed(str(path), stat.st_mtime_ns, stat.st_size)


class SiteledgerHome(ConfigurableResource):
    """The SITELEDGER_HOME folder: landing, raw lake, quarantine, state store, site files."""

    home: str | None = None
    state_url: str | None = None

    def settings(self) -> Settings:
        settings = get_settings(self.home)
        if self.state_url:
            settings = Settings(home=settings.home, state_url=self.state_url)
        settings.ensure_dirs()
        return settings

    def state_store(self) -> StateStore:
        return StateStore(self.settings().state_store_url)

    def sites(self) -> list[SiteConfig]:
        """Every site file under ``sites/`` (invalid files raise with every problem listed)."""
        return [load_site_cached(p) for p in sorted(self.settings().sites_dir.glob("*.yaml"))]
