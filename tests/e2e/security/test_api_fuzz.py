"""API fuzzing (schemathesis 4) over the whole OpenAPI, on the demo data, as every role (API bearer
tokens) and anonymous: no server error, and every response conforms to its own declared schema.

Bounded for CI (``STEWARD_FUZZ_EXAMPLES`` × 2 random cases per operation, valid and invalid, default
2 × 2); ``bench/fuzz.py`` runs schemathesis' own test builder with many more and every phase
(the schema's examples, coverage cases, random cases).
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from steward.app import create_app
from tests.e2e.security.conftest import ROLES, DemoEnv

# No xdist_group here: schemathesis gives every operation the same node id, and loadgroup would
# then run only one of them.

EXAMPLES = int(os.environ.get("STEWARD_FUZZ_EXAMPLES", "2"))
# CI generates random cases only; the long run (STEWARD_FUZZ_FULL=1, bench/fuzz.py) adds schemathesis'
# explicit phases: the schema's examples and its coverage cases (boundaries, wrong types, missing fields)
FULL = bool(os.environ.get("STEWARD_FUZZ_FULL"))
CHECKS = [not_a_server_error, schemathesis.checks.response_schema_conformance]


# the schema's app reads the database named by the settings at request time: ``demo_env`` points
# them at this module's copy of the demo data
_app = create_app()
schema = schemathesis.openapi.from_dict(_app.openapi())  # no request at collection time
schema.app = _app


def _check(case: Any, demo_env: DemoEnv) -> None:
    for role in ROLES:
        headers = {} if role == "anonymous" else {"Authorization": f"Bearer {demo_env.token(role)}"}
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS)


if FULL:
    # the long run (bench/fuzz.py, no xdist): schemathesis' own test builder, with every phase
    @schema.parametrize()
    @settings(max_examples=EXAMPLES, phases=list(Phase), suppress_health_check=list(HealthCheck),
              deadline=None, derandomize=True)
    def test_no_server_error_and_every_response_matches_its_schema(case: Any, demo_env: DemoEnv) -> None:
        _check(case, demo_env)

else:
    # CI: one pytest item per operation with its own node id (schemathesis' items share one node
    # id, and pytest-xdist's loadgroup scheduling then runs only one of them)
    OPERATIONS = {op.label: op for op in (r.ok() for r in schema.get_all_operations())}
    MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)

    @pytest.mark.parametrize("label", sorted(OPERATIONS))
    def test_no_server_error_and_every_response_matches_its_schema(label: str, demo_env: DemoEnv) -> None:
        operation = OPERATIONS[label]

        @given(case=st.one_of(*(operation.as_strategy(generation_mode=m) for m in MODES)))
        @settings(max_examples=EXAMPLES * 2, phases=[Phase.generate], suppress_health_check=list(HealthCheck),
                  deadline=None, derandomize=True, database=None)
        def run(case: Any) -> None:
            _check(case, demo_env)

        run()
