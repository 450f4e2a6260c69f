"""Property-based API check (schemathesis): no input makes a dispute route fail with a server
error, for a caller who is at once operator staff, IFM staff and DUG chair."""

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
schema = schema.include(path_regex="^/api/v1/disputes")


@pytest.fixture
def token(sqlite_db: str, make: Any) -> str:
    make.org("PTI", "ifm")
    org = make.operator("Fuzz Registry", tlds=(("fuzz", "generic"),))
    user = make.user("operator_staff", "ifm_staff", "dug_chair", "mediator", "iap_panelist",
                     org=org, email="fuzz@test.example")
    return str(make.token(user))


@schema.parametrize()
@settings(max_examples=25, suppress_health_check=list(HealthCheck), deadline=None)
def test_no_server_error_on_any_input(case: Any, token: str) -> None:
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    assert response.status_code < 500, (case.method, case.path, response.text[:300])
