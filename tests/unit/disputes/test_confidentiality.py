"""Who sees a dispute (R-DSP-7, R-DUG-3), disclosure consents, attachments."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from steward.disputes.domain import (
    CaseParties,
    CaseRole,
    InvalidInput,
    NotPermitted,
    Viewer,
    can_see,
    check_attachment,
    disclosure_party,
    is_disclosed,
    is_recused,
    relations,
)

OPERATOR_ORG, OTHER_OPERATOR_ORG, IFM_ORG, TECH_ORG = 10, 11, 20, 30
PARTIES = CaseParties(
    complainant_org_id=OPERATOR_ORG,
    ifm_org_ids=frozenset({IFM_ORG}),
    lodged=True,
    mediator_ids=frozenset({105}),
    panelist_ids=frozenset({106}),
)


def viewer(uid: int | None, *roles: str, org: int | None = None) -> Viewer:
    return Viewer(uid, frozenset(roles), org)


WHO_SEES: list[tuple[str, Viewer, frozenset[CaseRole]]] = [
    (
        "complainant staff",
        viewer(1, "operator_staff", org=OPERATOR_ORG),
        frozenset({CaseRole.COMPLAINANT}),
    ),
    ("ifm staff", viewer(2, "ifm_staff", org=IFM_ORG), frozenset({CaseRole.IFM})),
    ("dug member", viewer(3, "dug_member", org=OTHER_OPERATOR_ORG), frozenset({CaseRole.DUG})),
    ("dug chair", viewer(4, "dug_chair", org=OTHER_OPERATOR_ORG), frozenset({CaseRole.DUG})),
    ("dug liaison", viewer(7, "dug_liaison", org=TECH_ORG), frozenset({CaseRole.DUG})),
    ("engaged mediator", viewer(105, "mediator", org=None), frozenset({CaseRole.MEDIATOR})),
    ("engaged panelist", viewer(106, "iap_panelist"), frozenset({CaseRole.PANELIST})),
]

WHO_DOES_NOT: list[tuple[str, Viewer]] = [
    ("public", Viewer.anonymous()),
    ("other operator", viewer(11, "operator_staff", org=OTHER_OPERATOR_ORG)),
    ("sysadmin", viewer(12, "sysadmin", org=IFM_ORG)),
    ("auditor", viewer(13, "auditor", org=TECH_ORG)),
    ("expert", viewer(14, "expert")),
    ("iprt member", viewer(15, "iprt_member")),
    ("recused dug member from complainant", viewer(16, "dug_member", org=OPERATOR_ORG)),
    ("recused dug chair from the ifm", viewer(17, "dug_chair", org=IFM_ORG)),
    ("mediator not engaged", viewer(18, "mediator")),
    ("panelist not engaged", viewer(19, "iap_panelist")),
    ("engaged mediator id without the mediator role", viewer(105, "operator_staff", org=TECH_ORG)),
    ("complainant org user without operator role", viewer(20, "expert", org=OPERATOR_ORG)),
]


@pytest.mark.parametrize(("label", "who", "expected"), WHO_SEES, ids=[w[0] for w in WHO_SEES])
def test_parties_and_engaged_people_see_the_case(
    label: str, who: Viewer, expected: frozenset[CaseRole]
) -> None:
    assert relations(who, PARTIES) == expected
    assert can_see(who, PARTIES)


@pytest.mark.parametrize(("label", "who"), WHO_DOES_NOT, ids=[w[0] for w in WHO_DOES_NOT])
def test_everyone_else_sees_nothing_r_dsp_7(label: str, who: Viewer) -> None:
    assert relations(who, PARTIES) == frozenset()
    assert not can_see(who, PARTIES)


def test_dug_member_from_the_complainant_is_recused_automatically_r_dug_3() -> None:
    member = viewer(16, "dug_member", org=OPERATOR_ORG)
    assert is_recused(member, PARTIES)
    assert not is_recused(viewer(3, "dug_member", org=OTHER_OPERATOR_ORG), PARTIES)
    assert not is_recused(viewer(1, "operator_staff", org=OPERATOR_ORG), PARTIES)


def test_recused_member_who_is_also_complainant_staff_sees_only_as_party() -> None:
    both = viewer(21, "dug_member", "operator_staff", org=OPERATOR_ORG)
    assert relations(both, PARTIES) == frozenset({CaseRole.COMPLAINANT})


def test_dug_does_not_see_direct_negotiation_before_lodging() -> None:
    negotiating = CaseParties(OPERATOR_ORG, frozenset({IFM_ORG}), lodged=False)
    assert not can_see(viewer(3, "dug_member", org=OTHER_OPERATOR_ORG), negotiating)
    assert can_see(viewer(1, "operator_staff", org=OPERATOR_ORG), negotiating)
    assert can_see(viewer(2, "ifm_staff", org=IFM_ORG), negotiating)


def test_with_both_consents_the_record_is_public_r_dsp_7() -> None:
    assert not is_disclosed({CaseRole.COMPLAINANT})
    assert not is_disclosed({CaseRole.IFM})
    assert is_disclosed({CaseRole.COMPLAINANT, CaseRole.IFM})
    disclosed = CaseParties(OPERATOR_ORG, frozenset({IFM_ORG}), lodged=True, disclosed=True)
    assert can_see(Viewer.anonymous(), disclosed)
    # Disclosure opens the record; it does not make anyone a party.
    assert relations(Viewer.anonymous(), disclosed) == frozenset()


def test_only_the_parties_consent_to_disclosure() -> None:
    assert disclosure_party({CaseRole.COMPLAINANT}) is CaseRole.COMPLAINANT
    assert disclosure_party({CaseRole.IFM, CaseRole.DUG}) is CaseRole.IFM
    for role in (CaseRole.DUG, CaseRole.MEDIATOR, CaseRole.PANELIST):
        with pytest.raises(NotPermitted):
            disclosure_party({role})


roles = st.frozensets(
    st.sampled_from(
        ["operator_staff", "ifm_staff", "dug_member", "dug_liaison", "dug_chair", "mediator",
         "iap_panelist", "expert", "auditor", "iprt_member", "sysadmin"]
    )
)  # fmt: skip


@given(
    uid=st.one_of(st.none(), st.integers(1, 200)),
    rs=roles,
    org=st.one_of(st.none(), st.integers(1, 40)),
)
def test_without_any_party_role_nobody_sees_the_case(
    uid: int | None, rs: frozenset[str], org: int | None
) -> None:
    who = Viewer(uid, rs - {"operator_staff", "ifm_staff"}, org)
    sees = can_see(who, PARTIES)
    if sees:
        assert (
            who.roles & {"dug_member", "dug_liaison", "dug_chair"}
            and org not in (OPERATOR_ORG, IFM_ORG)
        ) or (uid in (105, 106))


@given(rs=roles, org=st.integers(1, 40))
def test_a_sysadmin_never_sees_a_case_through_that_role(rs: frozenset[str], org: int) -> None:
    with_admin = Viewer(300, rs | {"sysadmin"}, org)
    without = Viewer(300, rs - {"sysadmin"}, org)
    assert can_see(with_admin, PARTIES) == can_see(without, PARTIES)


# ---------------------------------------------------------------- attachments

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def test_attachment_keeps_sha256_size_and_type() -> None:
    facts = check_attachment("../../etc/report 1.pdf", "application/pdf", PDF, 1024)
    assert facts.filename == "report 1.pdf"
    assert facts.content_type == "application/pdf"
    assert facts.size == len(PDF)
    assert facts.sha256 == hashlib.sha256(PDF).hexdigest()


def test_text_attachment_with_charset_parameter_is_accepted() -> None:
    facts = check_attachment("notes.txt", "text/plain; charset=utf-8", "café".encode(), 100)
    assert facts.content_type == "text/plain"


@pytest.mark.parametrize(
    ("name", "ctype", "data", "limit", "message"),
    [
        ("big.pdf", "application/pdf", PDF, 5, "over the limit"),
        ("x.exe", "application/x-msdownload", b"MZ\x90", 100, "not accepted"),
        ("fake.pdf", "application/pdf", PNG, 100, "not application/pdf"),
        ("fake.png", "image/png", PDF, 100, "not image/png"),
        ("bin.txt", "text/plain", b"\xff\xfe\x00", 100, "not text/plain"),
        ("empty.txt", "text/plain", b"", 100, "empty"),
        ("", "text/plain", b"x", 100, "no file name"),
    ],
)
def test_bad_attachments_are_refused_naming_the_file(
    name: str, ctype: str, data: bytes, limit: int, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message) as err:
        check_attachment(name, ctype, data, limit)
    assert err.value.field == "attachment"
