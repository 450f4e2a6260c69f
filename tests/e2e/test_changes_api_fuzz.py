"""Property-based API check (schemathesis): no input makes a technical-changes route fail with a
server error, whether the caller is IFM staff and DUG chair at once or not signed in at all."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from steward import db as dbmod
from steward.app import create_app
from steward.changes import service

# the schema comes from the app object (no request at collection time, so every test worker
# collects the same cases even on a loaded machine); calls go to the app in process
_app = create_app()
schema = schemathesis.openapi.from_dict(_app.openapi())
schema.app = _app
schema = schema.include(path_regex="^/api/v1/changes")


@pytest.fixture
def token(sqlite_db: str, make: Any) -> str:
    user = make.user("ifm_staff", "dug_chair", email="fuzz@test.example")
    with dbmod.session_scope() as s:
        ifm = user.principal(s)
        body = "Fuzz target.\n\n## Section\nText.\n"
        plan = service.create_plan(s, ifm, service.PlanInput("Open plan", "operational", "major", "all", body))
        service.publish_plan(s, ifm, plan.id)
        service.submit_comment(s, ifm, plan.id, service.CommentInput(body="A comment"))
        service.create_plan(s, ifm, service.PlanInput("Draft plan", "policy", "minor", "all", body))
    return str(make.token(user))


@schema.parametrize()
@settings(max_examples=10, suppress_health_check=list(HealthCheck), deadline=None)
def test_no_server_error_on_any_input(case: Any, token: str) -> None:
    for headers in ({"Authorization": f"Bearer {token}"}, {}):
        response = case.call(headers=headers)
        assert response.status_code < 500, (case.method, case.path, response.text[:300])
