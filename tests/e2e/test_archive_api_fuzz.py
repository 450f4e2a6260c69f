"""Property-based API check (schemathesis): no input makes an archive or portal route fail with a
server error, for anyone and for a caller allowed to sign checkpoints."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from steward import db as dbmod
from steward.app import create_app
from steward.archive.keys import ensure_key
from steward.config import get_settings
from steward.events import record_event, record_publication

# The schema is taken from the app object, not fetched over ASGI: no read timeout on a busy
# machine can change what is collected.
_app = create_app()
schema = schemathesis.openapi.from_dict(_app.openapi())
schema.app = _app
schema = schema.include(path_regex="^/api/v1/(archive|portal)")


@pytest.fixture
def token(sqlite_db: str, make: Any) -> str:
    ensure_key(get_settings())
    with dbmod.session_scope() as s:
        record_event(s, "dispute:lodged", actor=None, data={"x": 1})
        record_publication(s, "iap_finding", "Finding", "/disputes/1", {"f": 1}, actor=None)
    user = make.user("sysadmin", "auditor", email="fuzz-archive@test.example")
    return str(make.token(user))


@schema.parametrize()
@settings(max_examples=15, suppress_health_check=list(HealthCheck), deadline=None)
def test_no_server_error_on_any_input(case: Any, token: str) -> None:
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    assert response.status_code < 500, (case.method, case.path, response.text[:300])
