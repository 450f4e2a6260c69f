"""Roles and permissions: one ``resource:action`` enum and one role → permission table.

Relationship rules (party to a dispute, recused DUG member) are not here: they live in each
context's domain and its access-scoped repository queries.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OPERATOR_STAFF = "operator_staff"
    IFM_STAFF = "ifm_staff"
    DUG_MEMBER = "dug_member"
    DUG_LIAISON = "dug_liaison"
    DUG_CHAIR = "dug_chair"
    MEDIATOR = "mediator"
    IAP_PANELIST = "iap_panelist"
    EXPERT = "expert"
    AUDITOR = "auditor"
    IPRT_MEMBER = "iprt_member"
    SYSADMIN = "sysadmin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.OPERATOR_STAFF: "Registry operator staff",
    Role.IFM_STAFF: "IFM staff",
    Role.DUG_MEMBER: "DUG member",
    Role.DUG_LIAISON: "DUG liaison",
    Role.DUG_CHAIR: "DUG chair",
    Role.MEDIATOR: "Mediator",
    Role.IAP_PANELIST: "IAP panelist",
    Role.EXPERT: "Expert",
    Role.AUDITOR: "Auditor",
    Role.IPRT_MEMBER: "IPRT member",
    Role.SYSADMIN: "System administrator",
}


class Permission(StrEnum):
    # accounts (the system administrator manages accounts but never reads case content)
    ACCOUNTS_MANAGE = "accounts:manage"
    TOKENS_MANAGE_OWN = "tokens:manage-own"
    # registry
    REGISTRY_IMPORT = "registry:import"
    REGISTRY_EDIT = "registry:edit"
    # audit trail (who did what; never case content)
    AUDIT_READ = "audit:read"
    # governance: the DUG's charter and roster; motions (eligibility also needs a serving seat)
    GOVERNANCE_MANAGE = "governance:manage"
    MOTION_PROPOSE = "motion:propose"
    MOTION_VOTE = "motion:vote"
    MOTION_COMMENT = "motion:comment"
    # IPRT reviews
    REVIEW_MANAGE = "review:manage"
    # the periodic independent audit (R-AUD-1, R-AUD-2)
    PERIODIC_AUDIT_MANAGE = "periodic-audit:manage"
    PERIODIC_AUDIT_REPORT = "periodic-audit:report"
    # individual disputes (R-DSP-*); seeing a case also needs a relation to it (disputes.domain)
    DISPUTE_LODGE = "dispute:lodge"
    DISPUTE_RESPOND = "dispute:respond"
    DISPUTE_FACILITATE = "dispute:facilitate"
    DISPUTE_DECIDE = "dispute:decide"
    DISPUTE_MEDIATE = "dispute:mediate"
    DISPUTE_ADJUDICATE = "dispute:adjudicate"
    # technical changes (R-TCH-1, R-TCH-2): commenting needs no permission (anyone may)
    CHANGE_DRAFT = "change:draft"
    CHANGE_PUBLISH = "change:publish"
    CHANGE_LIAISE = "change:liaise"
    CHANGE_AGREE = "change:agree"
    # service levels (R-SLA-1, R-SLA-2): published reports and recorded reviews are public
    SLA_INGEST = "sla:ingest"
    SLA_PUBLISH = "sla:publish"
    SLA_DRAFT_READ = "sla:draft-read"
    SLA_CATALOGUE = "sla:catalogue"
    SLA_COMMENT = "sla:comment"
    SLA_REVIEW = "sla:review"
    # the tamper-evident archive: signing a checkpoint on demand (reading it is public)
    ARCHIVE_CHECKPOINT = "archive:checkpoint"

    # systemic failures and urgent reviews (R-SYS-1, R-SYS-2)
    SYSTEMIC_READ = "systemic:read"
    SYSTEMIC_PROPOSE = "systemic:propose"
    SYSTEMIC_MANAGE = "systemic:manage"
    SYSTEMIC_ENGAGE = "systemic:engage"
    SYSTEMIC_ADVISE = "systemic:advise"
    SYSTEMIC_MEDIATE = "systemic:mediate"
    SYSTEMIC_ADJUDICATE = "systemic:adjudicate"
    # the naming customers' consent ballot (R-ESC-1)
    BALLOT_MANAGE = "ballot:manage"
    BALLOT_VOTE = "ballot:vote"

_EVERY_SIGNED_IN_USER: frozenset[Permission] = frozenset({Permission.TOKENS_MANAGE_OWN})

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OPERATOR_STAFF: _EVERY_SIGNED_IN_USER | {Permission.DISPUTE_LODGE},
    Role.IFM_STAFF: _EVERY_SIGNED_IN_USER
    | {Permission.DISPUTE_RESPOND, Permission.CHANGE_DRAFT, Permission.CHANGE_PUBLISH}
    | {Permission.SLA_INGEST, Permission.SLA_PUBLISH, Permission.SLA_DRAFT_READ},
    Role.DUG_MEMBER: _EVERY_SIGNED_IN_USER
    | {Permission.MOTION_PROPOSE, Permission.MOTION_VOTE, Permission.MOTION_COMMENT}
    | {Permission.DISPUTE_FACILITATE}
    | {Permission.CHANGE_LIAISE}
    | {Permission.SLA_COMMENT, Permission.SLA_DRAFT_READ},
    Role.DUG_LIAISON: _EVERY_SIGNED_IN_USER | {Permission.MOTION_COMMENT, Permission.CHANGE_LIAISE}
    | {Permission.SLA_COMMENT, Permission.SLA_DRAFT_READ},
    Role.DUG_CHAIR: _EVERY_SIGNED_IN_USER
    | {
        Permission.GOVERNANCE_MANAGE,
        Permission.MOTION_PROPOSE,
        Permission.MOTION_VOTE,
        Permission.MOTION_COMMENT,
        Permission.PERIODIC_AUDIT_MANAGE,
        Permission.DISPUTE_FACILITATE,
        Permission.DISPUTE_DECIDE,
        Permission.CHANGE_LIAISE,
        Permission.CHANGE_AGREE,
        Permission.SLA_COMMENT,
        Permission.SLA_REVIEW,
        Permission.SLA_CATALOGUE,
        Permission.SLA_DRAFT_READ,
    },
    Role.MEDIATOR: _EVERY_SIGNED_IN_USER | {Permission.DISPUTE_MEDIATE},
    Role.IAP_PANELIST: _EVERY_SIGNED_IN_USER | {Permission.DISPUTE_ADJUDICATE},
    Role.EXPERT: _EVERY_SIGNED_IN_USER,
    Role.AUDITOR: _EVERY_SIGNED_IN_USER
    | {Permission.PERIODIC_AUDIT_REPORT, Permission.ARCHIVE_CHECKPOINT},
    Role.IPRT_MEMBER: _EVERY_SIGNED_IN_USER | {Permission.REVIEW_MANAGE},
    Role.SYSADMIN: _EVERY_SIGNED_IN_USER
    | {
        Permission.ACCOUNTS_MANAGE,
        Permission.REGISTRY_IMPORT,
        Permission.REGISTRY_EDIT,
        Permission.AUDIT_READ,
        Permission.GOVERNANCE_MANAGE,
        Permission.REVIEW_MANAGE,
        Permission.ARCHIVE_CHECKPOINT,
    },
}


# systemic failures (R-SYS-2) and the consent ballot (R-ESC-1)
_SYSTEMIC_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.OPERATOR_STAFF: frozenset({Permission.BALLOT_VOTE}),
    Role.IFM_STAFF: frozenset({Permission.SYSTEMIC_ENGAGE}),
    Role.DUG_MEMBER: frozenset({Permission.SYSTEMIC_READ, Permission.SYSTEMIC_PROPOSE}),
    Role.DUG_LIAISON: frozenset({Permission.SYSTEMIC_READ}),
    Role.DUG_CHAIR: frozenset(
        {Permission.SYSTEMIC_READ, Permission.SYSTEMIC_PROPOSE, Permission.SYSTEMIC_MANAGE,
         Permission.BALLOT_MANAGE}
    ),
    Role.EXPERT: frozenset({Permission.SYSTEMIC_ADVISE}),
    Role.MEDIATOR: frozenset({Permission.SYSTEMIC_MEDIATE}),
    Role.IAP_PANELIST: frozenset({Permission.SYSTEMIC_ADJUDICATE}),
}
for _role, _grants in _SYSTEMIC_GRANTS.items():
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _grants


def permissions_of(roles: frozenset[Role] | set[Role]) -> frozenset[Permission]:
    result: frozenset[Permission] = frozenset()
    for role in roles:
        result |= ROLE_PERMISSIONS[role]
    return result
