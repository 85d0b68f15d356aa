"""Timestamp parsing: the vectorised path for padded formats agrees with the standard library,
and every kind of value gets an instant or a reason."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np

from ingestion.files.timestamps import Coded, TimestampParser

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def instants(parser: TimestampParser, values: list[object]) -> list[object]:
    parsed = parser.parse_all(values)
    return [
        reason or (EPOCH + dt.timedelta(microseconds=int(us))).isoformat()
        for us, reason in zip(parsed.utc_us, parsed.reasons, strict=True)
    ]


def test_padded_format_matches_strptime_exactly_on_random_text():
    fmt = "%d/%m/%Y %H:%M"
    rng = random.Random(11)
    texts = [
        f"{rng.randint(0, 32):0{rng.choice((1, 2))}d}/{rng.randint(0, 13):02d}/"
        f"{rng.randint(1999, 2031)} {rng.randint(0, 25):02d}:{rng.randint(0, 61):02d}"
        for _ in range(3_000)
    ]
    fast = TimestampParser(fmt, "UTC", "UTC")
    slow = TimestampParser(fmt, "UTC", "UTC")
    slow._padded_format = False

    assert instants(fast, texts) == instants(slow, texts)
    assert sum(r.endswith("+00:00") for r in instants(fast, texts)) > 1_000


def test_every_kind_of_value():
    parser = TimestampParser(None, "Australia/Perth", "Australia/Perth")

    assert instants(
        parser,
        [
            "2025-01-01T08:00:00",
            "2025-01-01 08:00",
            "2025-01-01T00:00:00Z",
            "2025-01-01T10:00:00+10:00",
            dt.datetime(2025, 1, 1, 8),
            dt.date(2025, 1, 2),
            "0001-01-01T00:00:00+00:00",
            "9999-12-31T23:59:59",
            "  ",
            "yesterday",
            45667.5,
            True,
        ],
    ) == [
        "2025-01-01T00:00:00+00:00",
        "2025-01-01T00:00:00+00:00",
        "2025-01-01T00:00:00+00:00",
        "2025-01-01T00:00:00+00:00",
        "2025-01-01T00:00:00+00:00",
        "2025-01-01T16:00:00+00:00",
        "0001-01-01T00:00:00+00:00",
        "9999-12-31T15:59:59+00:00",
        "timestamp is empty",
        "timestamp 'yesterday' does not match ISO 8601",
        "timestamp 45667.5 is not a date or text",
        "timestamp True is not a date or text",
    ]


def test_local_day_comes_from_the_site_zone_not_the_layout_zone():
    parser = TimestampParser(None, "UTC", "Australia/Perth")

    parsed = parser.parse_all(["2025-01-01T15:59:59", "2025-01-01T16:00:00"])

    days = [(dt.date(1970, 1, 1) + dt.timedelta(days=int(d))).isoformat() for d in parsed.day]
    assert days == ["2025-01-01", "2025-01-02"]


def test_coded_treats_blank_text_as_empty():
    import pyarrow as pa

    coded = Coded.from_arrow(pa.array(["a", " ", None, "a", "b", ""]))

    assert coded.codes.tolist()[1:3] == [-1, -1]
    assert coded.codes[0] == coded.codes[3] != coded.codes[4]
    assert coded.codes[5] == -1
    assert coded.texts(np.array([0, 2, 4])).to_pylist() == ["a", None, "b"]
