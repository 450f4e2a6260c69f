"""Who is acting: a user with roles and an organisation, or the anonymous public."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from steward.authz import Permission, Role, permissions_of
from steward.errors import Forbidden, Unauthenticated

if TYPE_CHECKING:
    from steward.accounts.models import User


@dataclass(frozen=True)
class UserInfo:
    """A detached snapshot of the acting user, safe to use after the transaction ends."""

    id: int
    email: str
    name: str
    organisation_id: int | None
    organisation_name: str | None


@dataclass(frozen=True)
class Principal:
    user: UserInfo | None
    roles: frozenset[Role] = frozenset()
    organisation_id: int | None = None
    permissions: frozenset[Permission] = field(default=frozenset())
    via_token: bool = False

    @classmethod
    def anonymous(cls) -> Principal:
        return cls(user=None)

    @classmethod
    def of(cls, user: User, *, via_token: bool = False) -> Principal:
        roles = frozenset(user.role_set)
        info = UserInfo(
            id=user.id,
            email=user.email,
            name=user.name,
            organisation_id=user.organisation_id,
            organisation_name=user.organisation.name if user.organisation is not None else None,
        )
        return cls(
            user=info,
            roles=roles,
            organisation_id=user.organisation_id,
            permissions=permissions_of(roles),
            via_token=via_token,
        )

    @classmethod
    def of_rows(cls, rows: Sequence[Any], *, via_token: bool = False) -> Principal:
        """From the accounts repository's actor rows (id, email, name, organisation_id,
        organisation_name, role), one per role."""
        first = rows[0]
        roles = frozenset(Role(r.role) for r in rows if r.role is not None)
        info = UserInfo(id=first.id, email=first.email, name=first.name,
                        organisation_id=first.organisation_id, organisation_name=first.organisation_name)
        return cls(user=info, roles=roles, organisation_id=first.organisation_id,
                   permissions=permissions_of(roles), via_token=via_token)

    @property
    def is_anonymous(self) -> bool:
        return self.user is None

    @property
    def user_id(self) -> int | None:
        return None if self.user is None else self.user.id

    def has(self, permission: Permission) -> bool:
        return permission in self.permissions

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))

    def require(self, permission: Permission) -> None:
        if self.is_anonymous:
            raise Unauthenticated()
        if not self.has(permission):
            raise Forbidden(f"Your role does not allow this ({permission})")
