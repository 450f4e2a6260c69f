"""Script payloads in every text field of every form come back inert.

The test crawls every page as every role, fills each text input and textarea of each form it finds
with a numbered script payload, submits it (with the form's CSRF token, as a browser would), then
reads every page and feed again as every role: the payloads may come back only escaped, never as
markup, in HTML, Atom or SVG — including the answers to the submissions themselves (form errors).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest

from tests.e2e.security.conftest import ROLES, DemoEnv
from tests.e2e.security.routes import urls_for

# one worker per module: its demo copy and crawls are module-scoped
pytestmark = pytest.mark.xdist_group("security-xss")

RAW = re.compile(r"<script>xss\d+</script>|<img src=x onerror=xss\d+>")
ESCAPED = re.compile(r"&lt;script&gt;xss(\d+)&lt;/script&gt;")
TEXT_TYPES = {"text", "search", "email", "url", "tel", ""}
SKIP_ACTIONS = {"/logout"}


def payload(n: int) -> str:
    return f"\"'><script>xss{n}</script><img src=x onerror=xss{n}>"


class FormParser(HTMLParser):
    """The forms of a page: action, method and fields (name, kind, value, options)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, Any]] = []
        self._form: dict[str, Any] | None = None
        self._textarea: dict[str, Any] | None = None
        self._select: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = {"action": a.get("action", ""), "method": a.get("method", "get").lower(),
                          "enctype": a.get("enctype", ""), "fields": []}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            self._form["fields"].append({"name": a["name"], "kind": a.get("type", "text").lower(),
                                         "value": a.get("value", ""), "checked": "checked" in a})
        elif tag == "textarea" and a.get("name"):
            self._textarea = {"name": a["name"], "kind": "textarea", "value": ""}
            self._form["fields"].append(self._textarea)
        elif tag == "select" and a.get("name"):
            self._select = {"name": a["name"], "kind": "select", "value": None, "options": []}
            self._form["fields"].append(self._select)
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            self._select["options"].append(value)
            if "selected" in a or (self._select["value"] is None and value):
                self._select["value"] = value

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea["value"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None


def _inert(text: str) -> list[str]:
    return RAW.findall(text)


def _markup(response: Any) -> bool:
    ctype = response.headers.get("content-type", "")
    return any(t in ctype for t in ("html", "xml", "svg"))


class Attack:
    def __init__(self) -> None:
        self.n = 0
        self.sent: dict[int, str] = {}  # payload number → where it was typed
        self.raw: list[tuple[str, str, str]] = []
        self.submitted = 0
        self.accepted = 0
        self.shown: set[int] = set()  # payloads read back (escaped) on a page or feed

    def check(self, role: str, url: str, response: Any) -> None:
        if _markup(response):
            for found in _inert(response.text):
                self.raw.append((role, url, found))
            if not url.startswith("POST"):
                self.shown |= {int(n) for n in ESCAPED.findall(response.text)}

    def fill(self, form: dict[str, Any], action: str) -> dict[str, Any] | None:
        data: dict[str, Any] = {}
        typed = False
        for f in form["fields"]:
            kind = f["kind"]
            if kind == "password":
                return None  # sign-in and password forms would end the session
            if kind in TEXT_TYPES or kind == "textarea":
                self.n += 1
                self.sent[self.n] = f"{action} {f['name']}"
                data.setdefault(f["name"], []).append(payload(self.n))
                typed = True
            elif kind in {"checkbox", "radio"}:
                if f["checked"] or (kind == "radio" and f["name"] not in data):
                    data[f["name"]] = [f["value"] or "on"]
            elif kind == "select":
                if f["value"] is not None:
                    data.setdefault(f["name"], []).append(f["value"])
            elif kind in {"submit", "button", "file", "image", "reset"}:
                continue
            else:  # hidden (CSRF token, version), date, number, …: keep what the page gave
                data.setdefault(f["name"], []).append(f["value"])
        return data if typed else None


def _crawl(env: DemoEnv, attack: Attack, pages: list[str], *, submit: bool) -> None:
    for role in ROLES:
        client = env.client(role)
        posted: set[tuple[str, tuple[str, ...]]] = set()
        for url in pages:
            r = client.get(url)
            assert r.status_code < 500, (role, url, r.text[:300])
            attack.check(role, url, r)
            if not submit or "html" not in r.headers.get("content-type", ""):
                continue
            parser = FormParser()
            parser.feed(r.text)
            for form in parser.forms:
                action = form["action"] or url
                if form["method"] != "post" or action in SKIP_ACTIONS or not action.startswith("/"):
                    continue
                key = (action, tuple(sorted(f["name"] for f in form["fields"])))
                if key in posted:
                    continue
                posted.add(key)
                data = attack.fill(form, action)
                if data is None:
                    continue
                files = {"__none__": ("", b"", "application/octet-stream")} if "multipart" in form["enctype"] else None
                answer = client.post(action, data=data, files=files)
                attack.submitted += 1
                attack.accepted += answer.status_code in (200, 201, 303)
                assert answer.status_code < 500, (role, action, answer.text[:300])
                attack.check(role, f"POST {action}", answer)


@pytest.fixture(scope="module")
def attack(demo_env: DemoEnv) -> Attack:
    pages = [u for u in urls_for(demo_env, {"GET"}, skip={"/logout", "/changes/confirm/{token}"})
             if not u.startswith("/api/")]
    a = Attack()
    _crawl(demo_env, a, pages, submit=True)
    _crawl(demo_env, a, pages, submit=False)  # read everything again, after all submissions
    return a


def test_script_payloads_in_every_text_field_come_back_inert(attack: Attack) -> None:
    assert attack.submitted > 30, attack.submitted
    assert attack.raw == []


def test_the_payloads_were_stored_and_shown_escaped(attack: Attack) -> None:
    # the crawl is only a proof if payloads really reached pages: count those read back escaped
    assert attack.accepted > 5, (attack.accepted, attack.submitted)
    assert len(attack.shown) > 5, sorted(attack.shown)
    print(f"xss: {attack.submitted} forms submitted, {attack.accepted} accepted, "
          f"{len(attack.sent)} fields typed, {len(attack.shown)} payloads read back escaped")
