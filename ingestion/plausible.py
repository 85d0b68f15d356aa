"""When a reading can have been taken: from the site's first day of data to now plus a small
tolerance.

A logger whose clock reset stamps its readings 1970-01-01 (or year 1); one whose clock ran away
stamps them 9999-12-31. One such reading in the lake would stretch every site-day spine and gap
series downstream over thousands of years, so importers quarantine it with its reason.

The first day of data is the site's ``data_start``, else the organisation's, else the day the
day partitions start without either (:data:`siteledger.site.organisation.FALLBACK_DATA_START`):
nothing before it is ever built. The tolerance is the site's ``future_tolerance_hours`` (a
clock a little ahead, or a reading of the current interval, is fine).
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from dataclasses import dataclass

import numpy as np

from siteledger.settings import Settings
from siteledger.site.loader import SiteConfigError
from siteledger.site.models import SiteConfig
from siteledger.site.organisation import FALLBACK_DATA_START, load_organisation

log = logging.getLogger(__name__)

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_EPOCH_DAY = dt.date(1970, 1, 1)
_MICROSECOND = dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class PlausibleRange:
    """The site-local days and instants a reading of one site may have."""

    first_day: dt.date
    future_tolerance: dt.timedelta
    zone: str

    @property
    def first_day_number(self) -> int:
        """``first_day`` as days since 1970-01-01 (the lake's day numbers)."""
        return (self.first_day - _EPOCH_DAY).days

    @property
    def first_us(self) -> int:
        """UTC microseconds of the first day's local midnight."""
        midnight = dt.datetime.combine(self.first_day, dt.time(), zoneinfo.ZoneInfo(self.zone))
        return (midnight - _EPOCH) // _MICROSECOND

    def latest_us(self, now: dt.datetime | None = None) -> int:
        """UTC microseconds of the latest instant accepted now."""
        now = now or dt.datetime.now(dt.UTC)
        return (now + self.future_tolerance - _EPOCH) // _MICROSECOND

    def too_early(self, shown: str, day: str) -> str:
        return (
            f"timestamp {shown!r} (site-local day {day}) is before the site's first day of data "
            f"{self.first_day}"
        )

    def too_late(self, shown: str) -> str:
        hours = self.future_tolerance / dt.timedelta(hours=1)
        return f"timestamp {shown!r} is later than now plus the future tolerance of {hours:g} h"

    def implausible(
        self, utc_us: np.ndarray, day: np.ndarray, now: dt.datetime | None = None
    ) -> np.ndarray:
        """Per instant: 0 plausible, -1 before the first day, 1 after now plus the tolerance."""
        verdict = np.zeros(utc_us.shape[0], dtype=np.int8)
        verdict[day < self.first_day_number] = -1
        verdict[utc_us > self.latest_us(now)] = 1
        return verdict


def first_day_of_data(settings: Settings, site: SiteConfig) -> dt.date:
    """The site's ``data_start``, else the organisation's, else the partitions' fallback."""
    if site.site.data_start is not None:
        return site.site.data_start
    try:
        organisation = load_organisation(settings.organisation_file)
    except (SiteConfigError, OSError) as exc:
        # the organisation file's own problems are reported by `siteledger validate`
        log.warning("organisation file not read (%s): first day of data defaults", exc)
        return FALLBACK_DATA_START
    return organisation.organisation.data_start or FALLBACK_DATA_START


def plausible_range(settings: Settings, site: SiteConfig) -> PlausibleRange:
    """The range readings of ``site`` are accepted in."""
    return PlausibleRange(
        first_day_of_data(settings, site),
        dt.timedelta(hours=site.site.future_tolerance_hours),
        site.site.timezone,
    )
