"""Test helpers: factories that build data through the services, and HTTP/browser helpers."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from steward import db as dbmod

PASSWORD = "correct-horse-battery"


class Factory:
    """Builds test data through the services, committing so that the app sees it."""

    def __init__(self) -> None:
        self.n = 0

    def _next(self) -> int:
        self.n += 1
        return self.n

    def org(self, name: str | None = None, kind: str = "operator", **kw: Any) -> Any:
        from steward.registry import service

        with dbmod.session_scope() as s:
            org = service.create_organisation(s, None, name=name or f"Org {self._next()}", kind=kind, **kw)
            s.expunge(org)
        return org

    def operator(self, name: str | None = None, tlds: tuple[tuple[str, str], ...] = (("example1", "country-code"),)) -> Any:
        """An operator organisation managing the given (label, type) TLDs."""
        from steward.registry.domain import labels
        from steward.registry.models import Tld

        org = self.org(name or f"Registry {self._next()}", "operator")
        with dbmod.session_scope() as s:
            for label, tld_type in tlds:
                lab = labels(label)
                s.add(Tld(a_label=lab.a_label, u_label=lab.u_label, type=tld_type, manager_id=org.id))
        return org

    def user(self, *roles: str, org: Any = None, email: str | None = None, name: str | None = None) -> Any:
        from steward.accounts import service

        n = self._next()
        with dbmod.session_scope() as s:
            user = service.create_user(
                s, None, email=email or f"user{n}@test.example", name=name or f"User {n}",
                password=PASSWORD, roles=list(roles) or ["operator_staff"],
                organisation_id=org.id if org is not None else None,
            )
            s.flush()
            user_id, user_email, user_name = user.id, user.email, user.name
        return _UserRef(id=user_id, email=user_email, name=user_name)

    def token(self, user: Any, name: str = "test") -> str:
        from steward.accounts import repository, service
        from steward.accounts.principal import Principal

        with dbmod.session_scope() as s:
            u = repository.user_by_id(s, user.id)
            assert u is not None
            _row, secret = service.create_token(s, Principal.of(u), name)
        return secret


class _UserRef:
    def __init__(self, id: int, email: str, name: str) -> None:
        self.id = id
        self.email = email
        self.name = name
        self.password = PASSWORD

    def principal(self, session: Session) -> Any:
        from steward.accounts import repository
        from steward.accounts.principal import Principal

        user = repository.user_by_id(session, self.id)
        assert user is not None
        return Principal.of(user)


def csrf_of(client: Any) -> str:
    if not client.cookies.get("steward_csrf"):
        client.get("/csrf")
    return client.cookies.get("steward_csrf")


def login(client: Any, user: Any, password: str = PASSWORD) -> Any:
    """Sign in through the login form (with its CSRF token); returns the response."""
    token = csrf_of(client)
    response = client.post("/login", data={"email": user.email, "password": password, "next": "/home", "csrf_token": token})
    assert response.status_code == 303, response.text
    return response


def post_form(client: Any, url: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
    """POST a form as a browser would, with the CSRF token."""
    payload = dict(data or {})
    payload["csrf_token"] = csrf_of(client)
    return client.post(url, data=payload, **kw)


def browser_login(page: Any, base_url: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


REPO_SCREENSHOTS = __import__("pathlib").Path(__file__).resolve().parent.parent / "var" / "screenshots"
REPO_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
