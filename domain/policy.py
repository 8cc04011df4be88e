"""Approval policy decisions: how many people a step needs, who may act, who commands.

Without a policy file the defaults hold: caution and dangerous steps need one approval, except
dangerous steps in P0/P1 incidents, which need two different people including the commander.
`rules_for` is decided once, at incident start, and travels in the workflow input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from fnmatch import fnmatchcase

import yaml
from pydantic import ValidationError

from schemas.incident import ApprovalRule
from schemas.policy import ANYONE, DEFAULT_MAJOR_SEVERITIES, ApprovalPolicy, PolicyRule, Timers
from schemas.runbook import StepRisk

_SEVERITY_NOISE = re.compile(r"[\s_-]+")


class PolicyError(ValueError):
    """The policy file cannot be used; the message names the file and the problem."""


def policy_from_yaml(text: str, source: str = "<text>") -> ApprovalPolicy:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise PolicyError(f"{source}: not valid YAML: {err}") from err
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PolicyError(f"{source}: an approval policy must be a YAML mapping")
    try:
        return ApprovalPolicy.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in err.errors()
        )
        raise PolicyError(f"{source}: {problems}") from err


def _norm_severity(value: str) -> str:
    return _SEVERITY_NOISE.sub("", value).casefold()


def is_major(policy: ApprovalPolicy | None, severity: str | None) -> bool:
    """P0/P1: `critical`, `P1`, `SEV-1`, `sev_0`... (case, spaces, `-` and `_` ignored)."""
    if not severity:
        return False
    listed = policy.major_severities if policy is not None else DEFAULT_MAJOR_SEVERITIES
    return _norm_severity(severity) in {_norm_severity(s) for s in listed}


def _covers(
    rule: PolicyRule, service: str, runbook_id: str | None, risk: StepRisk, major: bool
) -> bool:
    if rule.risk != ANYONE and rule.risk is not risk:
        return False
    if rule.major is not None and rule.major is not major:
        return False
    if not fnmatchcase(service, rule.service):
        return False
    return rule.runbook == ANYONE or (
        runbook_id is not None and fnmatchcase(runbook_id, rule.runbook)
    )


def _rule(
    policy: ApprovalPolicy | None,
    service: str,
    runbook_id: str | None,
    risk: StepRisk,
    major: bool,
) -> PolicyRule | None:
    if policy is None:
        return None
    return next((r for r in policy.rules if _covers(r, service, runbook_id, risk, major)), None)


def _default_rule(risk: StepRisk, major: bool) -> ApprovalRule:
    if risk is StepRisk.DANGEROUS and major:
        return ApprovalRule(approvals=2, commander_required=True)
    return ApprovalRule(approvals=1)


def rules_for(
    policy: ApprovalPolicy | None, service: str, runbook_id: str | None, severity: str | None
) -> dict[StepRisk, ApprovalRule]:
    """What a step of each risk needs in this incident; the first covering rule wins."""
    major = is_major(policy, severity)
    out: dict[StepRisk, ApprovalRule] = {}
    for risk in StepRisk:
        rule = _rule(policy, service, runbook_id, risk, major)
        out[risk] = (
            _default_rule(risk, major)
            if rule is None
            else ApprovalRule(approvals=rule.approvals, commander_required=rule.commander_required)
        )
    return out


def _describe(policy: ApprovalPolicy, entries: list[str]) -> str:
    names = [f"group {e}" if e in policy.groups else e for e in entries if e != ANYONE]
    return ", ".join(names) or "nobody"


def may_act(
    policy: ApprovalPolicy | None,
    who: str | Iterable[str],
    service: str,
    runbook_id: str | None,
    risk: StepRisk,
    *,
    severity: str | None = None,
    commander: str | None = None,
) -> tuple[bool, str]:
    """Whether this person may approve (or act on) a step of `risk`, and why (or why not).

    `who` is every name of one authenticated person (handle, Slack user id): the policy file
    may name people either way. The incident commander may always act: a rule requiring the
    commander must let them.
    """
    names = {who} if isinstance(who, str) else set(who)
    names.discard("")
    if not names:
        return False, "the request names no user"
    if policy is None:
        return True, "no approval policy: anyone in the workspace may act"
    if commander is not None and commander in names:
        return True, "incident commander"
    what = f"{risk.value} steps of {service}" + (f" (runbook {runbook_id})" if runbook_id else "")
    rule = _rule(policy, service, runbook_id, risk, is_major(policy, severity))
    if rule is not None and rule.approvers is not None:
        if ANYONE in rule.approvers or names & policy.members(rule.approvers):
            return True, f"listed for {what}"
        return False, f"not allowed: {what} may be approved by {_describe(policy, rule.approvers)}"
    if risk is not StepRisk.DANGEROUS:
        return True, f"anyone in the workspace may act on {risk.value} steps"
    if ANYONE in policy.responders or names & policy.members(policy.responders):
        return True, "listed as a responder"
    return False, (
        f"not allowed: {what} need a responder named in the approval policy "
        f"({_describe(policy, policy.responders)})"
    )


def commander_for(policy: ApprovalPolicy | None, service: str) -> str | None:
    """The commander named for this service (exact name first, then globs in file order)."""
    if policy is None:
        return None
    for key in _service_keys(policy, service):
        commander = policy.services[key].commander
        if commander is not None:
            return commander
    return None


def timers_for(policy: ApprovalPolicy | None, service: str) -> Timers:
    """Each timer from the first service entry that sets it (exact name, then globs)."""
    timers = Timers()
    if policy is None:
        return timers
    for key in reversed(_service_keys(policy, service)):
        entry = policy.services[key]
        if entry.ack_timeout_s is not None:
            timers.ack_timeout_s = entry.ack_timeout_s
        if entry.resolve_timeout_s is not None:
            timers.resolve_timeout_s = entry.resolve_timeout_s
    return timers


def _service_keys(policy: ApprovalPolicy, service: str) -> list[str]:
    keys = [k for k in policy.services if k == service]
    return keys + [k for k in policy.services if k != service and fnmatchcase(service, k)]
