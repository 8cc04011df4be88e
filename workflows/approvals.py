"""Who must approve a step before it runs, and why an approval is refused. Pure and deterministic.

A step needs `rule.approvals` different people; with `commander_required` the incident commander
must be one of them; and whoever edited the command proposed it, so they cannot be its only
approver. Refusals are worded for the person who clicked, at 3am.
"""

from __future__ import annotations

import hashlib

from schemas.incident import ApprovalDecision, ApprovalRule, StepState, StepView

#: Incidents started before approval policies existed (or with no rules at all): one approval,
#: an editor may approve their own edit. Kept so their histories replay unchanged.
LEGACY_RULE = ApprovalRule(approvals=1, commander_required=False, separate_editor=False)


def card_of(view: StepView) -> str:
    """Changes whenever what a responder would approve changes (state, command, approvals)."""
    approvers = ",".join(a.approver for a in view.approvals)
    raw = f"{view.state.value}|{view.command}|{approvers}|{view.edited_by}"
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


def approvers_of(view: StepView) -> set[str]:
    """The distinct people who approved (by their canonical name)."""
    return {a.approver for a in view.approvals}


def names_of(view: StepView) -> set[str]:
    """Every name the approvers go by: the commander may be named by handle or Slack user id."""
    return {name for a in view.approvals for name in a.names}


def missing(view: StepView, rule: ApprovalRule, commander: str | None) -> str | None:
    """What the step still needs before it may run, or None when its approvals are complete."""
    approvers = approvers_of(view)
    needs: list[str] = []
    if len(approvers) < rule.approvals:
        left = rule.approvals - len(approvers)
        needs.append(f"{left} more approval{'s' if left > 1 else ''} from different people")
    if rule.commander_required and (commander is None or commander not in names_of(view)):
        needs.append(f"the incident commander ({commander or 'not named yet'})")
    if rule.separate_editor and view.edited_by is not None and not approvers - {view.edited_by}:
        needs.append(f"someone other than {view.edited_by}, who edited the command")
    return "; ".join(needs) or None


def refusal(
    view: StepView,
    decision: ApprovalDecision,
    rule: ApprovalRule,
    commander: str | None,
    current_card: str,
) -> str | None:
    """Why this approval cannot be taken (None: it can), checked before it reaches history."""
    if view.state is not StepState.AWAITING_APPROVAL:
        return f"step {view.id!r} is {view.state.value}, not waiting for approval"
    if decision.card is not None and decision.card != current_card:
        return (
            f"this card of step {view.id!r} is out of date (the step changed since it was "
            "drawn): use the latest card"
        )
    if decision.decision == "reject":
        return None
    edits = decision.command is not None and decision.command != view.command
    if not edits and decision.approver in approvers_of(view):
        return (
            f"{decision.approver} already approved step {view.id!r}: "
            f"{missing(view, rule, commander) or 'a different person must approve'}"
        )
    if not edits and rule.commander_required:
        after = approvers_of(view) | {decision.approver}
        names = names_of(view) | {decision.approver, *decision.approver_ids}
        leader = commander or decision.approver  # the first to act becomes commander if none
        if len(after) >= rule.approvals and leader not in names:
            return (
                f"step {view.id!r} needs the incident commander ({leader}) among its "
                f"{rule.approvals} approvers"
            )
    return None
