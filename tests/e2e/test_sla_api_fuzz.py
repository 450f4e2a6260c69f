"""Property-based API check (schemathesis): no input makes a service-levels route fail with a
server error, even for a caller who holds every SLA permission (IFM staff and DUG chair)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from steward.app import create_app

# the schema comes from the app object (no request at collection time, so every test worker
# collects the same cases even on a loaded machine); calls go to the app in process
_app = create_app()
schema = schemathesis.openapi.from_dict(_app.openapi())
schema.app = _app
schema = schema.include(path_regex="^/api/v1/sla")


@pytest.fixture
def token(sqlite_db: str, make: Any) -> str:
    make.operator("Verisign (fuzz)", tlds=(("com", "generic"),))
    user = make.user("ifm_staff", "dug_chair", "dug_member", email="sla-fuzz@test.example")
    return str(make.token(user))


@schema.parametrize()
@settings(max_examples=25, suppress_health_check=list(HealthCheck), deadline=None)
def test_no_server_error_on_any_input(case: Any, token: str) -> None:
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    assert response.status_code < 500, (case.method, case.path, response.text[:300])
