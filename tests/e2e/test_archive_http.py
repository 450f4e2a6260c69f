"""The archive over HTTP and from the CLI, as the public and an outside auditor use it
(R-DSP-9 archived records are never altered; R-DSP-7 confidential records stay sealed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import text
from typer.testing import CliRunner

from steward import db as dbmod
from steward.archive.checkpoint import NoteSigner, NoteVerifier, open_checkpoint
from steward.archive.keys import SIGNER_FILE, VERIFIER_FILE, ensure_key, key_dir
from steward.archive.remote import verify_remote
from steward.cli import app as cli_app
from steward.config import get_settings
from steward.events import record_event, record_publication
from tests.support import login, post_form

runner = CliRunner()


def seed(n: int = 6) -> None:
    with dbmod.session_scope() as s:
        for i in range(n):
            if i % 3 == 2:
                record_publication(s, "audit_result", f"Audit {i} results", f"/audits/{i}", {"rating": "Excellent"}, actor=None)
            else:
                record_event(s, "dispute:lodged", actor=None, subject_type="dispute", subject_id=i,
                             data={"secret": f"confidential-{i}"}, public=i % 3 == 0)


def cli(*args: str) -> Any:
    return runner.invoke(cli_app, list(args))


def fetcher(client: Any):
    def fetch(url: str) -> tuple[int, bytes]:
        response = client.get(url)
        return response.status_code, response.content

    return fetch


def test_archive_page_lists_entries_and_keeps_sealed_ones_secret_R_DSP_7(client):
    ensure_key(get_settings())
    seed()
    page = client.get("/archive")
    assert page.status_code == 200
    assert "Tamper-evident archive" in page.text and "sealed" in page.text
    assert "confidential-1" not in page.text
    assert "confidential-0" in client.get("/archive/entries/0").text
    sealed = client.get("/archive/entries/1")
    assert sealed.status_code == 200 and "confidential-1" not in sealed.text
    assert client.get("/archive/entries/999").status_code == 404
    api = client.get("/api/v1/archive/entries").json()
    assert api["size"] == 6 and [e["seq"] for e in api["items"]] == list(range(6))
    assert all("confidential-1" not in e["leaf"] for e in api["items"])


def test_signing_needs_permission_and_the_checkpoint_verifies_with_the_published_key(client, make):
    ensure_key(get_settings())
    seed()
    assert client.post("/api/v1/archive/checkpoints").status_code == 401
    operator = make.token(make.user("operator_staff"))
    assert client.post("/api/v1/archive/checkpoints", headers={"authorization": f"Bearer {operator}"}).status_code == 403
    admin = make.token(make.user("sysadmin"))
    signed = client.post("/api/v1/archive/checkpoints", headers={"authorization": f"Bearer {admin}"})
    size = client.get("/api/v1/archive/tree").json()["size"]
    assert size > 6  # the seeded records, and the accounts and tokens made just now
    assert signed.status_code == 201 and signed.json()["size"] == size
    key = client.get("/api/v1/archive/key").json()
    note = client.get("/api/v1/archive/checkpoint")
    assert note.headers["content-type"].startswith("text/plain")
    checkpoint = open_checkpoint(note.text, NoteVerifier.from_key_text(key["verifier_key"]))
    assert checkpoint.size == size
    assert client.get("/api/v1/archive/tree").json()["root"] == signed.json()["root"]


def test_auditor_signs_from_the_page(client, make):
    ensure_key(get_settings())
    seed(2)
    auditor = make.user("auditor")
    login(client, auditor)
    page = client.get("/archive")
    assert "Sign a checkpoint now" in page.text
    response = post_form(client, "/archive/checkpoints")
    assert response.status_code == 303
    size = client.get("/api/v1/archive/tree").json()["size"]
    assert f"{size} entries, signed" in client.get("/archive").text


def test_downloaded_proofs_pass_check_proof_and_corrupted_ones_fail(client, tmp_path: Path):
    seed(9)
    proof = client.get("/api/v1/archive/proof/inclusion", params={"index": 4, "size": 9})
    assert proof.status_code == 200
    path = tmp_path / "proof.json"
    path.write_text(proof.text)
    ok = cli("archive", "check-proof", str(path))
    assert ok.exit_code == 0, ok.output
    assert "valid inclusion proof" in ok.output
    doc = proof.json()
    doc["leafIdx"] = 5
    path.write_text(json.dumps(doc))
    bad = cli("archive", "check-proof", str(path))
    assert bad.exit_code == 1
    assert "not to the given root" in bad.output
    consistency = client.get("/api/v1/archive/proof/consistency", params={"size1": 3, "size2": 9})
    path.write_text(consistency.text)
    assert cli("archive", "check-proof", str(path)).exit_code == 0
    missing = cli("archive", "check-proof", str(tmp_path / "nope.json"))
    assert missing.exit_code == 1 and "cannot read" in missing.output


def test_consistency_page_shows_a_proof_between_two_sizes(client):
    ensure_key(get_settings())
    seed(4)
    cli("archive", "checkpoint")
    seed(3)
    page = client.get("/archive/consistency", params={"size1": 4, "size2": 7})
    assert page.status_code == 200
    assert "extends the log of 4 entries" in page.text and "a signed checkpoint" in page.text
    assert client.get("/archive/consistency", params={"size1": 8, "size2": 7}).status_code == 422


def test_bad_proof_requests_are_problem_json_naming_the_field(client):
    seed(2)
    response = client.get("/api/v1/archive/proof/inclusion", params={"index": 5})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["field"] == "leafIdx"


def test_a_party_can_prove_a_sealed_record_by_revealing_it(client):
    seed(2)
    revealed = cli("archive", "reveal", "1")
    assert revealed.exit_code == 0, revealed.output
    bundle = json.loads(revealed.output)
    check = client.post("/api/v1/archive/entries/1/reveal", json={"salt": bundle["salt"], "content": bundle["content"]})
    assert check.json() == {"seq": 1, "valid": True}
    bundle["content"]["data"]["secret"] = "something else"
    check = client.post("/api/v1/archive/entries/1/reveal", json={"salt": bundle["salt"], "content": bundle["content"]})
    assert check.json()["valid"] is False
    assert cli("archive", "reveal", "0").exit_code == 1  # a public entry has nothing to reveal


def test_local_verify_passes_then_names_a_tampered_row(client):
    ensure_key(get_settings())
    seed(6)
    assert cli("archive", "checkpoint").exit_code == 0
    ok = cli("archive", "verify")
    assert ok.exit_code == 0, ok.output
    assert "OK 6 entries" in ok.output
    with dbmod.session_scope() as s:
        s.execute(text("UPDATE audit_event SET data = '{\"secret\": \"rewritten\"}' WHERE id = 2"))
    bad = cli("archive", "verify")
    assert bad.exit_code == 1
    assert "audit event 2 altered" in bad.output


def test_remote_verify_pins_the_key_and_proves_consistency_between_runs(client, make, tmp_path: Path):
    ensure_key(get_settings())
    seed(5)
    cli("archive", "checkpoint")
    state = tmp_path / "monitor.json"
    first = verify_remote("http://testserver", state, fetcher(client), check_entries=True)
    assert first.ok, first.problems
    assert any("pinned" in n for n in first.notes)
    assert first.entries_checked == 5
    seed(4)
    cli("archive", "checkpoint")
    second = verify_remote("http://testserver", state, fetcher(client), check_entries=True)
    assert second.ok, second.problems
    assert second.previous_size == 5 and second.size == 9
    assert json.loads(state.read_text())["size"] == 9


def test_remote_verify_catches_a_rewritten_entry_a_new_key_and_a_rollback(client, tmp_path: Path):
    settings = get_settings()
    ensure_key(settings)
    seed(5)
    cli("archive", "checkpoint")
    state = tmp_path / "monitor.json"
    assert verify_remote("http://testserver", state, fetcher(client)).ok
    with dbmod.session_scope() as s:
        s.execute(text("UPDATE archive_entry SET leaf = replace(leaf, 'Audit 2', 'Audit two') WHERE seq = 2"))
    rewritten = verify_remote("http://testserver", state, fetcher(client), check_entries=True)
    assert rewritten.problems == ["the published entries do not hash to the signed root of 5 entries"]
    # the operator swaps in a new key to sign a rewritten history: the pinned key says no
    folder = key_dir(settings)
    new = NoteSigner.generate("testserver/archive")
    (folder / SIGNER_FILE).write_text(new.key_text())
    (folder / VERIFIER_FILE).write_text(new.verifier.key_text())
    swapped = verify_remote("http://testserver", state, fetcher(client))
    assert swapped.problems and swapped.problems[0].startswith("the log's public key changed")
    # a monitor that saw a bigger log than the server now shows detects the rollback
    data = json.loads(state.read_text())
    data.update(size=50, verifier_key=new.verifier.key_text())
    state.write_text(json.dumps(data))
    with dbmod.session_scope() as s:
        s.execute(text("DELETE FROM archive_checkpoint"))
    cli("archive", "checkpoint")
    rollback = verify_remote("http://testserver", state, fetcher(client))
    assert rollback.problems == ["the log shrank: it signed 50 entries before, now 5"]


def test_remote_verify_cli_reports_unreachable_servers(tmp_path: Path):
    result = cli("archive", "verify", "--remote", "http://127.0.0.1:9", "--state", str(tmp_path / "s.json"))
    assert result.exit_code == 1
    assert "cannot reach" in result.output


def _said(result: Any) -> str:
    return " ".join(result.output.split())  # the console wraps long lines


def test_local_verify_refuses_a_key_given_that_cannot_be_used(client, tmp_path: Path):
    settings = get_settings()
    ensure_key(settings)
    seed(4)
    assert cli("archive", "checkpoint").exit_code == 0
    real = (key_dir(settings) / VERIFIER_FILE).read_text().strip()
    _name, rest = real.split("+", 1)
    for key, said in (("garbage", "verifier key must look like name+hash+key"),
                      (f"other.example/archive+{rest}", "does not match the key"),  # the right key, renamed
                      ("", "the key is empty"), ("   ", "the key is empty")):
        result = cli("archive", "verify", "--key", key)
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), key
        assert "field 'key'" in _said(result) and said in _said(result) and "OK" not in result.output, key
    other = NoteSigner.generate("other.example/archive").verifier.key_text()
    wrong = cli("archive", "verify", "--key", other)  # another log's key: its checkpoints fail
    assert wrong.exit_code == 1 and "no signature from a known key" in _said(wrong)
    good = cli("archive", "verify", "--key", real)
    assert good.exit_code == 0 and "OK 4 entries" in good.output
    assert "Checking entries" in good.output and "4/4" in good.output  # the progress bar, on stderr
    remote = cli("archive", "verify", "--key", real, "--remote", "http://testserver", "--state", str(tmp_path / "s.json"))
    assert remote.exit_code == 1 and "field 'key'" in _said(remote) and not (tmp_path / "s.json").exists()


def test_remote_verify_cli_shows_progress_and_refuses_a_state_it_cannot_keep(client, tmp_path: Path, monkeypatch):
    import steward.archive.cli as archive_cli

    ensure_key(get_settings())
    seed(5)
    cli("archive", "checkpoint")
    monkeypatch.setattr(archive_cli, "http_fetch", fetcher(client))
    state = tmp_path / "monitor.json"
    checked = cli("archive", "verify", "--remote", "http://testserver", "--state", str(state), "--entries")
    assert checked.exit_code == 0, checked.output
    assert "Checking published entries" in checked.output and "5/5" in checked.output
    assert "recomputed the signed root from all 5 published entries" in _said(checked)
    for bad in ("/proc/nope/s.json", str(tmp_path)):  # a folder where the file should be
        result = cli("archive", "verify", "--remote", "http://testserver", "--state", bad)
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
        assert "field 'state'" in _said(result) and "Traceback" not in result.output
    blocked = tmp_path / "file"
    blocked.write_text("")
    result = cli("archive", "verify", "--remote", "http://testserver", "--state", str(blocked / "s.json"))
    assert result.exit_code == 1 and "field 'state'" in _said(result)


def test_remote_verify_cli_reports_a_malformed_url_in_one_line(tmp_path: Path):
    for url in ("http://127.0.0.1:abc", "http://[::1"):
        result = cli("archive", "verify", "--remote", url, "--state", str(tmp_path / "s.json"))
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
        assert "not a usable URL" in _said(result)
