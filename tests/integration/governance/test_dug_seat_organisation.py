"""A member sits for their own organisation, so recusal (R-DUG-3) follows one organisation
everywhere: disputes and urgent reviews go by the account's, motions by the seat's."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from steward.errors import Invalid
from steward.governance import service as governance
from tests.integration.governance.dug_factory import build_dug, org, user


def test_a_seat_for_another_organisation_than_the_members_own_is_refused_R_DUG_3(
    session: Session,
) -> None:
    dug = build_dug(session, voting=7)
    admin = dug.chair  # the chair manages the roster
    own, other = org(session, "Registry Own"), org(session, "Registry Other")
    u = user(session, "newcomer@dug.test", ["dug_member"], own.id)
    seat = {"user_id": u.id, "seat": "voting", "community": "gtld",
            "technical_experience": "Ten years of registry DNS", "term_start": date(2025, 1, 1)}
    with pytest.raises(Invalid) as err:
        governance.add_member(session, admin, **seat, organisation_id=other.id)
    assert err.value.field == "organisation_id" and "R-DUG-3" in str(err.value)
    with pytest.raises(Invalid, match="No such organisation") as err:
        governance.add_member(session, admin, **seat, organisation_id=987_654)
    assert err.value.field == "organisation_id"
    assert len(governance.roster_status(session, date(2026, 1, 1)).serving) == 9  # nothing seated
    member = governance.add_member(session, admin, **seat, organisation_id=own.id)
    assert member.organisation_id == own.id
    nameless = user(session, "unattached@dug.test", ["dug_liaison"])
    with pytest.raises(Invalid) as err:  # no organisation on the account: none on the seat
        governance.add_member(session, admin, user_id=nameless.id, seat="liaison", community="technical",
                              technical_experience="IETF DNSOP", term_start=date(2025, 1, 1),
                              organisation_id=own.id)
    assert err.value.field == "organisation_id"
