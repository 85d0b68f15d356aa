"""The shared delivery core: backoff, retries that honour the receiver's wait and stop on a
permanent failure, and secrets scrubbed from recorded text (pure logic)."""

from __future__ import annotations

import pytest

from siteledger.delivery import DeliveryError, Try, backoff_delay, retry, scrub


def test_backoff_doubles_is_capped_and_jitter_only_shortens_it():
    assert [backoff_delay(n, 0.5) for n in range(1, 6)] == [0.5, 1.0, 2.0, 4.0, 8.0]
    assert [backoff_delay(n, 0.5, max_backoff_s=3) for n in range(1, 6)] == [
        0.5,
        1.0,
        2.0,
        3.0,
        3.0,
    ]
    assert backoff_delay(3, 0.5, jitter=0.5, rand=lambda: 0.0) == 2.0
    assert backoff_delay(3, 0.5, jitter=0.5, rand=lambda: 1.0) == 1.0
    assert backoff_delay(3, 0.5, jitter=1.0, rand=lambda: 0.25) == 1.5


def failing(*errors: Exception | str):
    """An action that raises ``errors`` in turn; a str is returned as the result."""
    queue = list(errors)

    def action() -> str:
        item = queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    return action


def test_retry_backs_off_until_success_and_reports_each_try():
    sleeps: list[float] = []
    seen: list[Try[str]] = []
    tries = retry(
        failing(OSError("down"), OSError("down"), "delivered"),
        attempts=5,
        backoff_s=1.0,
        sleep=sleeps.append,
        on_try=seen.append,
    )
    assert tries == seen
    assert tries == [
        Try(1, error="OSError: down", wait_s=1.0),
        Try(2, error="OSError: down", wait_s=2.0),
        Try(3, result="delivered"),
    ]
    assert sleeps == [1.0, 2.0] and tries[-1].ok


def test_retry_waits_what_the_receiver_asked_and_stops_on_a_permanent_failure():
    sleeps: list[float] = []
    tries = retry(
        failing(
            DeliveryError("busy", status_code=429, retry_after_s=7.0),
            DeliveryError("gone", status_code=410, permanent=True),
            "never reached",
        ),
        attempts=4,
        backoff_s=0.5,
        sleep=sleeps.append,
    )
    assert sleeps == [7.0]
    assert [(t.number, t.status_code, t.retry_after_s, t.permanent, t.wait_s) for t in tries] == [
        (1, 429, 7.0, False, 7.0),
        (2, 410, None, True, None),
    ]


def test_retry_does_not_block_longer_than_its_cap_for_a_receiver():
    sleeps: list[float] = []
    tries = retry(
        failing(DeliveryError("busy", retry_after_s=3600)),
        attempts=4,
        max_backoff_s=30,
        sleep=sleeps.append,
    )
    assert sleeps == [] and [(t.retry_after_s, t.wait_s) for t in tries] == [(3600, None)]


def test_retry_scrubs_secrets_from_error_text():
    tries = retry(
        failing(OSError("login refused for officer/hunter2-pass"), OSError("again")),
        attempts=2,
        backoff_s=0,
        secrets=["hunter2-pass", None, ""],
        sleep=lambda s: None,
    )
    assert [t.error for t in tries] == ["OSError: login refused for officer/***", "OSError: again"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GET /services/T1/B1/tok3n-abc failed", "GET *** failed"),  # the path, whole
        ("token tok3n-abc", "token ***"),
        ("url https%3A%2F%2Fh%2Fservices%2FT1%2FB1%2Ftok3n-abc", "url ***"),  # URL-encoded
        ("pw a+b/c=", "pw ***"),
        ("pw a%2Bb%2Fc%3D", "pw ***"),
        ("ab stays", "ab stays"),  # under 3 characters: not a secret worth hiding
    ],
)
def test_scrub_replaces_secrets_longest_first_and_their_url_encodings(text, expected):
    secrets = ["/services/T1/B1/tok3n-abc", "https://h/services/T1/B1/tok3n-abc", "tok3n-abc"]
    assert scrub(text, [*secrets, "a+b/c=", "ab"]) == expected
    assert len(scrub("x" * 5000, [])) == 2000
