"""`ddrun login|logout|whoami`, `ddrun users …` and `ddrun tokens …`: who the CLI acts as.

People and tokens are managed through the API like everything else; only
`ddrun users bootstrap-admin` writes to the database directly, to make the very first admin of
a fresh installation (it needs the database credentials, which is the proof it asks for).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli.commands.options import JsonOpt, console, escape
from schemas.enums import Role, Scope

users_app = typer.Typer(help="People and automations (admins)", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens: create, list, revoke", no_args_is_help=True)
RoleOpt = Annotated[
    list[Role] | None, typer.Option("--role", help="viewer|responder|author|admin (repeat)")
]


def login(
    token: Annotated[
        str | None, typer.Option(help="The token (default: asked for, not echoed)")
    ] = None,
) -> None:
    """Save a token for the API at DDRUN_API_URL, after checking who it belongs to."""
    import os

    from cli.api_client import Api, save_token
    from schemas.settings import Settings

    settings = Settings()
    secret = token or typer.prompt("token", hide_input=True)
    os.environ.pop("DDRUN_TOKEN", None)
    api = Api(settings)
    api.token, api.token_source = secret.strip(), "the token you gave"
    me = api.call("GET", "/api/me")
    path = save_token(settings.api_url, secret.strip())
    console().print(
        f"logged in to {escape(api.base)} as [bold]{escape(me['handle'])}[/bold] "
        f"(scopes: {', '.join(sorted(me['scopes']))}); token saved in {escape(str(path))}"
    )


def logout() -> None:
    """Forget the saved token for DDRUN_API_URL (revoke it with `ddrun tokens revoke ID`)."""
    from cli.api_client import forget_token
    from schemas.settings import Settings

    settings = Settings()
    if forget_token(settings.api_url):
        console().print(f"forgot the token for {escape(settings.api_url)}")
    else:
        console().print(f"no token was saved for {escape(settings.api_url)}")


def whoami(as_json: JsonOpt = False) -> None:
    """Who the CLI acts as, with which credential and scopes."""
    import json

    from cli.api_client import Api

    api = Api()
    me = api.call("GET", "/api/me")
    if as_json:
        typer.echo(json.dumps(me, indent=2))
        return
    console().print(
        f"{escape(me['handle'])} via {escape(me['credential'])}"
        f"{':' + escape(me['credential_id']) if me.get('credential_id') else ''} "
        f"(from {escape(api.token_source)}); roles: {', '.join(sorted(me['roles'])) or 'none'}; "
        f"scopes: {', '.join(sorted(me['scopes']))}"
    )


# ----------------------------------------------------------------------------- users


@users_app.command("list")
def users_list(as_json: JsonOpt = False) -> None:
    """Everyone, with roles and linked accounts."""
    import json

    from rich.table import Table

    from cli.api_client import Api

    people: list[dict[str, Any]] = Api().call("GET", "/api/users")
    if as_json:
        typer.echo(json.dumps(people, indent=2))
        return
    table = Table("handle", "name", "kind", "roles", "slack", "disabled")
    for p in people:
        table.add_row(
            p["handle"],
            p["name"],
            p["kind"],
            ", ".join(p["roles"]),
            p.get("slack_user_id") or "",
            "yes" if p["disabled"] else "",
        )
    console().print(table)


@users_app.command("add")
def users_add(
    handle: str,
    name: Annotated[str, typer.Option(help="Display name")] = "",
    email: Annotated[str | None, typer.Option(help="E-mail")] = None,
    role: RoleOpt = None,
    slack: Annotated[str | None, typer.Option(help="Slack user id (U…)")] = None,
    pagerduty: Annotated[str | None, typer.Option(help="PagerDuty user id")] = None,
    opsgenie: Annotated[str | None, typer.Option(help="Opsgenie user id or login")] = None,
    automation: Annotated[
        bool, typer.Option("--automation", help="A service account: tokens only, never Slack")
    ] = False,
) -> None:
    """Add a person (or an automation) with roles and linked accounts."""
    from cli.api_client import Api

    body = {
        "handle": handle,
        "name": name,
        "email": email,
        "kind": "automation" if automation else "person",
        "roles": [r.value for r in role or [Role.VIEWER]],
        "slack_user_id": slack,
        "pagerduty_user_id": pagerduty,
        "opsgenie_user_id": opsgenie,
    }
    person = Api().call("POST", "/api/users", json=body)
    console().print(f"added {escape(person['handle'])} ({', '.join(person['roles'])})")


@users_app.command("update")
def users_update(
    handle: str,
    name: Annotated[str | None, typer.Option(help="Display name")] = None,
    email: Annotated[str | None, typer.Option(help="E-mail ('' removes it)")] = None,
    role: RoleOpt = None,
    slack: Annotated[str | None, typer.Option(help="Slack user id ('' unlinks)")] = None,
    pagerduty: Annotated[str | None, typer.Option(help="PagerDuty user id")] = None,
    opsgenie: Annotated[str | None, typer.Option(help="Opsgenie user id")] = None,
    disable: Annotated[
        bool | None, typer.Option("--disable/--enable", help="Refuse all their credentials")
    ] = None,
) -> None:
    """Change a person: roles (replaces them), linked accounts, enabled or disabled."""
    from cli.api_client import Api, fail

    fields = {
        "name": name,
        "email": email,
        "roles": [r.value for r in role] if role else None,
        "slack_user_id": slack,
        "pagerduty_user_id": pagerduty,
        "opsgenie_user_id": opsgenie,
        "disabled": disable,
    }
    body = {k: v for k, v in fields.items() if v is not None}
    if not body:
        raise fail("nothing to change: give --role, --slack, --disable, …")
    person = Api().call("PATCH", f"/api/users/{handle}", json=body)
    state = "disabled" if person["disabled"] else "enabled"
    console().print(f"{escape(person['handle'])}: {', '.join(person['roles'])}; {state}")


@users_app.command("bootstrap-admin")
def users_bootstrap_admin(
    handle: Annotated[str, typer.Argument(help="The first admin's handle")] = "admin",
) -> None:
    """Create the first admin of a fresh installation (database access needed) and print a
    token for them. Refused once any admin exists."""
    import asyncio

    from cli.api_client import fail
    from cli.failures import database_down, database_errors
    from cli.identity import bootstrap_admin
    from schemas.settings import Settings

    settings = Settings()
    try:
        token = asyncio.run(bootstrap_admin(settings, handle, write_file=False))
    except database_errors() as err:
        raise database_down(settings.effective_database_url, err) from None
    if token is None:
        raise fail("an admin exists already: ask them for a token (`ddrun tokens create`)")
    console().print(f"first admin {escape(handle)} created; their token (shown once):")
    typer.echo(token)


# ----------------------------------------------------------------------------- tokens


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(help="What it is for, e.g. laptop or ci-deploy")],
    scope: Annotated[
        list[Scope] | None, typer.Option("--scope", help="read|respond|author|admin (repeat)")
    ] = None,
    days: Annotated[int, typer.Option(help="Expires after this many days (0: never)")] = 90,
    user: Annotated[
        str | None, typer.Option("--for", help="Admins: whose token (a person or automation)")
    ] = None,
) -> None:
    """Create a token; its secret is printed once and stored only hashed."""
    from cli.api_client import Api

    body = {
        "name": name,
        "scopes": [s.value for s in scope or [Scope.READ, Scope.RESPOND]],
        "expires_in_days": days or None,
        "handle": user,
    }
    issued = Api().call("POST", "/api/tokens", json=body)
    info = issued["info"]
    console().print(
        f"token {escape(info['id'])} for {escape(info['handle'])} "
        f"({', '.join(info['scopes'])}; expires {info['expires_at'] or 'never'}). "
        "Shown once, keep it safe:",
        highlight=False,
    )
    typer.echo(issued["token"])


@tokens_app.command("list")
def tokens_list(
    user: Annotated[str | None, typer.Option("--for", help="Admins: someone else's")] = None,
    every: Annotated[bool, typer.Option("--all", help="Admins: everyone's")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Your tokens (never their secrets): scopes, expiry, revocation, last use."""
    import json

    from rich.table import Table

    from cli.api_client import Api

    params: dict[str, str] = {"every": str(every).lower()}
    if user:
        params["handle"] = user
    tokens: list[dict[str, Any]] = Api().call("GET", "/api/tokens", params=params)
    if as_json:
        typer.echo(json.dumps(tokens, indent=2))
        return
    table = Table("id", "for", "name", "scopes", "expires", "revoked", "last used")
    for t in tokens:
        table.add_row(
            t["id"],
            t["handle"],
            t["name"],
            ", ".join(t["scopes"]),
            t["expires_at"] or "never",
            t["revoked_at"] or "",
            t["last_used_at"] or "",
        )
    console().print(table)


@tokens_app.command("revoke")
def tokens_revoke(token_id: str) -> None:
    """Revoke a token at once (yours, or anyone's for admins)."""
    from cli.api_client import Api

    info = Api().call("DELETE", f"/api/tokens/{token_id}")
    console().print(f"token {escape(info['id'])} of {escape(info['handle'])} revoked")


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
    app.add_typer(tokens_app, name="tokens")
    app.command()(login)
    app.command()(logout)
    app.command()(whoami)
