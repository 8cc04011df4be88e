"""`ddrun incident ...`: declare an incident, change its severity, close it as a false
positive or link it to its parent. Through the HTTP API, as the person whose token the CLI
holds (imports inside the commands keep `ddrun --help` fast)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

incident_app = typer.Typer(
    help="Incident command: declare, severity, false positive, link to a parent",
    no_args_is_help=True,
)

SEVERITIES = ("P0", "P1", "P2", "P3")


def _level(value: str) -> str:
    level = value.strip().upper()
    if level not in SEVERITIES:
        raise typer.BadParameter(f"severity must be one of {', '.join(SEVERITIES)}")
    return level


def _path(update: str, incident_id: str, **params: object) -> str:
    """The route of a human action, from the one registry (schemas/human_actions.py)."""
    from schemas.human_actions import BY_UPDATE

    return BY_UPDATE[update].path(incident_id, None, **params)


def _post(path: str, body: dict[str, Any]) -> Any:
    from cli.api_client import Api

    return Api().call("POST", path, json=body)


def _say(text: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    Console().print(escape(text))


@incident_app.command("declare")
def declare(
    severity: Annotated[str, typer.Option("--severity", help="P0, P1, P2 or P3")],
    title: Annotated[str, typer.Option("--title", help="What is happening")],
    service: Annotated[str | None, typer.Option("--service", help="The service")] = None,
    description: Annotated[str, typer.Option(help="More detail")] = "",
) -> None:
    """Declare an incident by hand (no alert fired); prints its id."""
    body: dict[str, Any] = {"severity": _level(severity), "title": title}
    if service:
        body["service"] = service
    if description:
        body["description"] = description
    result = _post("/api/incidents", body)
    _say(f"{result['incident_id']} declared {result['severity']}")


@incident_app.command("severity")
def change_severity(
    incident_id: str,
    severity: Annotated[str, typer.Argument(help="P0, P1, P2 or P3")],
    reason: Annotated[str, typer.Option("--reason", help="Why (required, recorded)")],
) -> None:
    """Change the incident's severity; the reason is recorded."""
    body = {"severity": _level(severity), "reason": reason}
    _say(_post(_path("change_severity", incident_id), body)["result"])


@incident_app.command("false-positive")
def false_positive(
    incident_id: str,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept to tune the alert)")],
) -> None:
    """Close the incident as a false positive."""
    _say(_post(_path("mark_false_positive", incident_id), {"reason": reason})["result"])


@incident_app.command("link")
def link(
    incident_id: str,
    parent: Annotated[str, typer.Argument(help="The incident this one duplicates")],
    reason: Annotated[str, typer.Option(help="Why")] = "",
) -> None:
    """Close the incident as a duplicate of PARENT; its alerts join the parent."""
    body = {"parent": parent, "reason": reason}
    _say(_post(_path("link_parent", incident_id), body)["result"])


ROLES = ("commander", "comms_lead", "scribe", "responder")


@incident_app.command("ic")
def hand_over(
    incident_id: str,
    person: Annotated[str, typer.Argument(help="The new incident commander's handle")],
) -> None:
    """Hand the incident commander role over to PERSON (recorded)."""
    body = {"role": "commander", "person": person}
    _say(_post(_path("assign_role", incident_id), body)["result"])


@incident_app.command("role")
def role(
    incident_id: str,
    name: Annotated[str, typer.Argument(help="commander, comms_lead, scribe or responder")],
    person: Annotated[str, typer.Argument(help="The person's handle")],
    remove: Annotated[bool, typer.Option("--remove", help="Relieve them of it")] = False,
) -> None:
    """Give PERSON a role in the incident (or relieve them); recorded."""
    if name not in ROLES:
        raise typer.BadParameter(f"role must be one of {', '.join(ROLES)}")
    body = {"role": name, "person": person, "remove": remove}
    _say(_post(_path("assign_role", incident_id), body)["result"])


@incident_app.command("handoff")
def handoff(incident_id: str) -> None:
    """Print the handoff document (Markdown) for the next shift."""
    import httpx

    from cli.api_client import Api, fail

    api = Api()
    response = httpx.get(
        f"{api.base}/api/incidents/{incident_id}/handoff", headers=api.headers(), timeout=60
    )
    if response.status_code != 200:
        raise fail(f"{response.status_code}: {response.text[:500]}")
    typer.echo(response.text)


PHASES = ("investigating", "identified", "mitigating", "monitoring", "resolved")


@incident_app.command("update")
def status_update(
    incident_id: str,
    phase: Annotated[str, typer.Option("--phase", help=", ".join(PHASES))],
    impact: Annotated[str, typer.Option("--impact", help="Who is affected, how")],
    next_steps: Annotated[str, typer.Option("--next", help="Next steps")] = "",
    eta: Annotated[str, typer.Option(help="When it should be fixed")] = "",
    public: Annotated[bool, typer.Option("--public", help="Ask to publish it")] = False,
) -> None:
    """Post a status update to the war room (`--public`: the comms lead may publish it)."""
    if phase not in PHASES:
        raise typer.BadParameter(f"phase must be one of {', '.join(PHASES)}")
    body: dict[str, Any] = {
        "phase": phase,
        "impact": impact,
        "next_steps": next_steps,
        "eta": eta,
        "public": public,
    }
    _say(_post(_path("post_status_update", incident_id), body)["result"])


@incident_app.command("publish")
def publish(incident_id: str, number: int) -> None:
    """Approve publishing status update NUMBER on the status page (the comms lead)."""
    _say(_post(_path("publish_status_update", incident_id, number=number), {})["result"])


def register(app: typer.Typer) -> None:
    app.add_typer(incident_app, name="incident")
