"""Alert messages and digests for channel tests: an escalated critical freeboard alert and a
resolved warning of water use at ``demo_mine``, each changeable field by field."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from alerts.types import AlertMessage, Digest

T0 = dt.datetime(2025, 7, 14, 6, 0, tzinfo=dt.UTC)


def freeboard(**changes: Any) -> AlertMessage:
    message = AlertMessage(
        event_id="ev-freeboard",
        fingerprint="fp-freeboard",
        rule_id="tsf_freeboard",
        status="escalated",
        severity="critical",
        category="compliance",
        summary="Freeboard of TSF1 below the licence minimum",
        labels={"site": "demo_mine", "store": "tsf1"},
        started_at=T0,
        observed_at="2025-07-14",
        value=0.42,
        threshold="< 0.5 m",
        unit="m",
        action="Stop deposition to TSF1 and call the geotechnical engineer.",
        acknowledged_by="j.smith",
        details={"capacity_m3": 1250000.0, "closing_storage_m3": 1190000.0, "error": None},
    )
    return replace(message, **changes)


def water_use(**changes: Any) -> AlertMessage:
    message = AlertMessage(
        event_id="ev-water",
        fingerprint="fp-water",
        rule_id="raw_water_use",
        status="resolved",
        severity="warning",
        category="operational",
        summary="Raw water use above plan",
        labels={"site": "demo_mine"},
        started_at=T0 - dt.timedelta(days=1),
        observed_at="2025-07-13",
        value=1234.5,
        threshold="> 1 000 kL",
        unit="kL",
        resolved_at=T0,
    )
    return replace(message, **changes)


def digest(*messages: AlertMessage, channel: str = "ops") -> Digest:
    # the resolved alert first: the digest puts it last
    return Digest("dg-0001", channel, T0, messages or (water_use(), freeboard()))
