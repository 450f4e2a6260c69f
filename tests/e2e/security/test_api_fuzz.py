"""API fuzzing (schemathesis 4) over the whole OpenAPI, on the demo data, as every role (API bearer
tokens) and anonymous: no server error, and every response conforms to its own declared schema.

Bounded for CI (``STEWARD_FUZZ_EXAMPLES`` random examples per operation, default 2);
``bench/fuzz.py`` runs the same test with many more and schemathesis' coverage phase.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error

from steward.app import create_app
from tests.e2e.security.conftest import ROLES, DemoEnv

# one worker per module: its demo copy and crawls are module-scoped
pytestmark = pytest.mark.xdist_group("security-fuzz")

EXAMPLES = int(os.environ.get("STEWARD_FUZZ_EXAMPLES", "2"))
# CI generates random cases only; the long run (STEWARD_FUZZ_FULL=1, bench/fuzz.py) adds schemathesis'
# explicit phases: the schema's examples and its coverage cases (boundaries, wrong types, missing fields)
PHASES = list(Phase) if os.environ.get("STEWARD_FUZZ_FULL") else [Phase.generate]
CHECKS = [not_a_server_error, schemathesis.checks.response_schema_conformance]


# the schema's app reads the database named by the settings at request time: ``demo_env`` points
# them at this module's copy of the demo data
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())


@schema.parametrize()
@settings(max_examples=EXAMPLES, phases=PHASES, suppress_health_check=list(HealthCheck), deadline=None, derandomize=True)
def test_no_server_error_and_every_response_matches_its_schema(case: Any, demo_env: DemoEnv) -> None:
    for role in ROLES:
        headers = {} if role == "anonymous" else {"Authorization": f"Bearer {demo_env.token(role)}"}
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS)
