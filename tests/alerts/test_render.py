"""What a digest says, as pure logic: order, subject counts and sites, numbers, Retry-After."""

from __future__ import annotations

import datetime as dt

from alerts.channels.http import client_error_is_permanent, parse_retry_after
from alerts.channels.render import format_number, ordered, subject
from alerts.types import Digest
from tests.alerts.samples import T0, freeboard, water_use


def test_open_alerts_come_first_critical_first_escalated_before_firing_then_oldest():
    older = T0 - dt.timedelta(hours=3)
    messages = [
        water_use(event_id="resolved-critical", severity="critical"),
        freeboard(event_id="repeat-critical", status="repeat"),
        freeboard(event_id="firing-warning", severity="warning", status="firing"),
        freeboard(event_id="firing-critical-new", status="firing"),
        freeboard(event_id="firing-critical-old", status="firing", started_at=older),
        freeboard(event_id="escalated-critical", status="escalated"),
        water_use(event_id="resolved-warning"),
    ]
    assert [m.event_id for m in ordered(messages)] == [
        "escalated-critical",
        "firing-critical-old",
        "firing-critical-new",
        "repeat-critical",
        "firing-warning",
        "resolved-critical",
        "resolved-warning",
    ]


def test_subject_counts_repeats_as_firing_and_names_up_to_three_sites():
    messages = (
        freeboard(event_id="a", status="repeat", labels={"site": "north"}),
        freeboard(event_id="b", status="firing", labels={"site": "south"}),
        freeboard(event_id="c", status="escalated", labels={"site": "east"}),
        water_use(event_id="d", labels={"site": "west\nBcc: x@y.example"}),
        water_use(event_id="e", labels={"site": "north"}),
    )
    assert subject(Digest("d1", "ops", T0, messages)) == (
        "[siteledger] 2 firing, 1 escalated, 2 resolved — east, south, north, +1 more"
    )
    no_site = (freeboard(labels={"meter": "FM-1"}),)
    assert subject(Digest("d2", "ops", T0, no_site)) == "[siteledger] 1 escalated"
    only_west = (water_use(labels={"site": "west\nBcc: x@y.example"}),)
    assert subject(Digest("d3", "ops", T0, only_west)) == (
        "[siteledger] 1 resolved — west Bcc: x@y.example"
    )


def test_numbers_read_as_an_officer_expects():
    assert [format_number(v) for v in (0, 0.000123, 0.42, 3, 1234.5, 1234567.891, -12.25)] == [
        "0",
        "0.000123",
        "0.42",
        "3",
        "1,234.5",
        "1,234,567.891",
        "-12.25",
    ]


def test_retry_after_in_seconds_or_as_a_date_and_which_failures_are_permanent():
    now = dt.datetime(2025, 7, 14, 6, 0, tzinfo=dt.UTC)
    assert parse_retry_after("1") == 1.0
    assert parse_retry_after("Mon, 14 Jul 2025 06:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Mon, 14 Jul 2025 05:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
    permanent = [
        s
        for s in (200, 301, 400, 401, 403, 404, 408, 410, 429, 500, 503)
        if client_error_is_permanent(s)
    ]
    assert permanent == [301, 400, 401, 403, 404, 410]
