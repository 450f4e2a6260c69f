"""``steward user …``: manage accounts from the command line (acts as the system)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from steward.accounts import repository, service
from steward.cli_support import fail_on_error
from steward.db import session_scope
from steward.registry import repository as registry

NAME = "user"
app = typer.Typer(help="Manage accounts: add, list, disable, set-password.", no_args_is_help=True)
console = Console()


@app.command("add")
def add(
    email: str,
    name: Annotated[str, typer.Option(help="Full name")],
    role: Annotated[list[str], typer.Option(help="Role (repeat for several)")],
    organisation: Annotated[str | None, typer.Option(help="Organisation slug or exact name")] = None,
    password: Annotated[str | None, typer.Option(help="Password (prompted when omitted)")] = None,
) -> None:
    """Create an account."""
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with fail_on_error(), session_scope() as db:
        org_id = None
        if organisation:
            org = registry.organisation_by_slug(db, organisation) or registry.organisation_by_name(db, organisation)
            if org is None:
                raise typer.BadParameter(f"no organisation '{organisation}'", param_hint="--organisation")
            org_id = org.id
        user = service.create_user(db, None, email=email, name=name, password=password, roles=role, organisation_id=org_id)
        console.print(f"Created {user.email} with roles {', '.join(sorted(r.role for r in user.roles))}.")


@app.command("list")
def list_() -> None:
    """List accounts with their roles and organisation."""
    with session_scope() as db:
        table = Table("email", "name", "roles", "organisation", "active")
        for user in repository.list_users(db):
            table.add_row(
                user.email, user.name, ", ".join(sorted(r.role for r in user.roles)),
                user.organisation.name if user.organisation else "", "yes" if user.active else "no",
            )
        console.print(table)


@app.command("disable")
def disable(email: str) -> None:
    """Disable an account and end its sessions."""
    with fail_on_error(), session_scope() as db:
        service.set_active(db, None, email, False)
        console.print(f"Disabled {email}.")


@app.command("enable")
def enable(email: str) -> None:
    """Enable a disabled account."""
    with fail_on_error(), session_scope() as db:
        service.set_active(db, None, email, True)
        console.print(f"Enabled {email}.")


@app.command("set-password")
def set_password(email: str, password: Annotated[str | None, typer.Option()] = None) -> None:
    """Set an account's password (prompted when omitted); ends its sessions."""
    if password is None:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    with fail_on_error(), session_scope() as db:
        service.set_password(db, None, email, password)
        console.print(f"Password set for {email}.")


@app.command("token")
def token(email: str, name: Annotated[str, typer.Option(help="What the token is for")]) -> None:
    """Create an API token for an account; it is printed once."""
    from steward.accounts.principal import Principal

    with fail_on_error(), session_scope() as db:
        user = repository.user_by_email(db, email.strip().lower())
        if user is None:
            raise typer.BadParameter(f"no account {email}")
        _row, secret = service.create_token(db, Principal.of(user), name)
        console.print(secret)
