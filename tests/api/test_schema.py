"""The OpenAPI schema fuzzed with schemathesis: whatever a client sends within (or around) the
schema, no answer is a 5xx and every answer conforms to the schema (status code, content type,
headers, body). Bounded: a few examples per operation and mode, well under a minute."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from api.app import create_app
from siteledger.settings import Settings
from tests.api.conftest import UPLOAD_LIMIT, WEBHOOK_SECRET, Keys, bearer

# a deeper run: API_FUZZ_EXAMPLES=200 pytest tests/api/test_schema.py
MAX_EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "6"))


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_5xx_and_schema_conformant_answers(
    settings: Settings, keys: Keys, mode: GenerationMode
) -> None:
    app = create_app(settings, webhook_secret=WEBHOOK_SECRET, max_upload_bytes=UPLOAD_LIMIT)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 13
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @hypothesis_settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def fuzz(case: schemathesis.Case) -> None:
            case.call_and_validate(headers={**bearer(keys.all), **(case.headers or {})})

        try:
            fuzz()
        except Unsatisfiable:
            # nothing to break in an operation without parameters (the health check)
            assert mode is GenerationMode.NEGATIVE and not operation.path_parameters
