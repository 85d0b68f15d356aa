"""Which configured meter a header or a meter cell names, and which unit its values are in."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from ingestion.files.numbers import shorten
from siteledger.site.models import Meter, SiteConfig
from siteledger.units import UnknownUnitError, resolve_unit, unit_fits_measurand


@dataclass(frozen=True)
class Resolved:
    """A meter and unit as codes for :class:`ingestion.lake.Readings`, or why there are none."""

    meter_code: int = -1
    unit_code: int = -1
    reason: str | None = None


@dataclass
class MeterIndex:
    """A site's meters, looked up by id or tag; codes follow meter id order."""

    site: SiteConfig
    meter_ids: list[str] = field(init=False)
    units: list[str] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        meters = sorted(self.site.meters, key=lambda m: m.id)
        self.meter_ids = [m.id for m in meters]
        self._code = {m.id: i for i, m in enumerate(meters)}
        self._by_id = {m.id: m for m in meters}
        self._by_tag = {m.tag: m for m in meters if m.tag}
        self._unit_code: dict[str, int] = {}
        self._resolved: dict[tuple[str, str, str | None], Resolved] = {}

    def find(self, name: str, key: Literal["tag", "id"] = "id") -> Meter | None:
        """The meter called ``name``, by ``key`` first and the other key second."""
        first, second = (self._by_tag, self._by_id) if key == "tag" else (self._by_id, self._by_tag)
        name = name.strip()
        return first.get(name) or second.get(name)

    def unit_code(self, symbol: str) -> int:
        if symbol not in self._unit_code:
            self._unit_code[symbol] = len(self.units)
            self.units.append(symbol)
        return self._unit_code[symbol]

    def lookup(self, name: str, key: Literal["tag", "id"], unit: str | None) -> Resolved:
        """:meth:`resolve` of the meter called ``name``, remembered for the run: 365 daily
        logger files repeat the same ~460 meter/unit pairs (~10 ms a file to resolve anew)."""
        memo = (name, key, unit)
        resolved = self._resolved.get(memo)
        if resolved is None:
            resolved = self.resolve(self.find(name, key), name, unit)
            self._resolved[memo] = resolved
        return resolved

    def resolve(self, meter: Meter | None, name: str, unit: str | None) -> Resolved:
        """Codes for a reading of ``meter`` (as named in the file) in ``unit`` (None or empty:
        the meter's configured unit)."""
        if meter is None:
            return Resolved(reason=f"unknown meter {shorten(name.strip())!r}")
        symbol, reason = _delivered_unit(meter.unit, meter.measurand, unit)
        if symbol is None:
            return Resolved(reason=reason)
        return Resolved(self._code[meter.id], self.unit_code(symbol))


@lru_cache(maxsize=4096)
def _delivered_unit(
    configured: str, measurand: str, unit: str | None
) -> tuple[str | None, str | None]:
    """(canonical symbol, None) of a delivered unit cell, or (None, reason).

    Cached: a daily logger file repeats the same few hundred meter/unit pairs, and resolving
    them anew for each of 365 files cost ~15 ms a file.
    """
    text = unit.strip() if unit is not None else ""
    if not text:
        return configured, None
    try:
        symbol = resolve_unit(text).symbol
    except UnknownUnitError:
        return None, f"unknown unit {shorten(text)!r}"
    if not unit_fits_measurand(symbol, measurand):
        return None, f"unit {shorten(text)!r} does not measure {measurand}"
    return symbol, None
