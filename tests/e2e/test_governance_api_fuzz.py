"""Property-based API check (schemathesis): no input makes a governance, IPRT or audit route fail
with a server error, even for a caller who holds every governance role."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from steward.app import create_app

# the app reads its database from the settings on each request, so the fixture's fresh
# database is the one these calls use; the schema is taken from the app object rather than
# over HTTP, so collection never waits on a request
_app = create_app()
schema = schemathesis.openapi.from_dict(_app.openapi())
schema.app = _app
schema = schema.include(path_regex="^/api/v1/(governance|reviews|audits)")


@pytest.fixture
def token(sqlite_db: str, make: Any) -> str:
    user = make.user("dug_chair", "dug_member", "iprt_member", "auditor", email="fuzz@test.example")
    return str(make.token(user))


@schema.parametrize()
@settings(max_examples=10, suppress_health_check=list(HealthCheck), deadline=None)
def test_no_server_error_on_any_input(case: Any, token: str) -> None:
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    assert response.status_code < 500, (case.method, case.path, response.text[:300])
