"""Delivery targets from the environment: one reader of the prefixed variables, typed fields."""

from __future__ import annotations

import pytest

from reports.delivery import DeliveryError, S3Target, SmtpTarget, prefixed_env


def test_prefixed_env_reads_only_the_named_non_empty_variables():
    env = {
        "SITELEDGER_SMTP_HOST": "relay",
        "SITELEDGER_SMTP_FROM": "a@b.example",
        "SITELEDGER_SMTP_USER": "",
        "SITELEDGER_SMTP_OTHER": "ignored",
        "SITELEDGER_S3_BUCKET": "not-smtp",
    }
    names = {"host": "HOST", "sender": "FROM", "user": "USER"}
    read = prefixed_env("SITELEDGER_SMTP_", names, env)
    assert read == {"host": "relay", "sender": "a@b.example"}


def test_smtp_target_fields_take_their_types_from_the_environment():
    target = SmtpTarget.from_env(
        {
            "SITELEDGER_SMTP_HOST": "relay.example",
            "SITELEDGER_SMTP_PORT": "2525",
            "SITELEDGER_SMTP_USER": "reports",
            "SITELEDGER_SMTP_PASSWORD": "pw-123",
            "SITELEDGER_SMTP_STARTTLS": "Yes",
            "SITELEDGER_SMTP_SSL": "0",
            "SITELEDGER_SMTP_FROM": "reports@mine.example",
            "SITELEDGER_SMTP_CA_FILE": "/etc/ca.pem",
        }
    )
    assert target == SmtpTarget(
        host="relay.example",
        port=2525,
        user="reports",
        password="pw-123",
        starttls=True,
        use_ssl=False,
        sender="reports@mine.example",
        ca_file="/etc/ca.pem",
    )
    assert SmtpTarget.from_env({"SITELEDGER_SMTP_HOST": "h"}) == SmtpTarget(host="h")
    assert SmtpTarget.from_env({"SITELEDGER_SMTP_PORT": "25"}) is None  # no host: off


def test_s3_target_from_the_environment_and_its_prefix():
    env = {
        "SITELEDGER_S3_BUCKET": "b",
        "SITELEDGER_S3_PREFIX": "/x/y/",
        "SITELEDGER_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
    }
    assert S3Target.from_env(env) == S3Target(
        bucket="b", prefix="x/y", endpoint_url="http://127.0.0.1:9000"
    )
    assert S3Target.from_env({"SITELEDGER_S3_BUCKET": "b"}) == S3Target(bucket="b")
    assert S3Target.from_env({"SITELEDGER_S3_PREFIX": "p"}) is None


def test_a_port_that_is_not_a_number_is_named():
    with pytest.raises(DeliveryError, match="SITELEDGER_SMTP_PORT='smtp' is not a number"):
        SmtpTarget.from_env({"SITELEDGER_SMTP_HOST": "h", "SITELEDGER_SMTP_PORT": "smtp"})
