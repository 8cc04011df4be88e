"""The approval policy: defaults without a file, rules by service/runbook/risk, who may act."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.policy import (
    PolicyError,
    commander_for,
    is_major,
    may_act,
    policy_from_yaml,
    rules_for,
    timers_for,
)
from infra.policy_file import current_policy, load_policy
from schemas.incident import ApprovalRule
from schemas.runbook import StepRisk

CAUTION, DANGEROUS, SAFE = StepRisk.CAUTION, StepRisk.DANGEROUS, StepRisk.SAFE
ONE = ApprovalRule(approvals=1)
TWO_WITH_COMMANDER = ApprovalRule(approvals=2, commander_required=True)

POLICY = """
groups:
  sre: [U0SRE0001, U0SRE0002]
  dba: [U0DBA0001]
responders: [sre]
services:
  payment-svc:
    commander: U0CMD0001
    ack_timeout_s: 300
  "payment-*":
    commander: U0CMD0009
    resolve_timeout_s: 7200
  "*":
    ack_timeout_s: 900
    resolve_timeout_s: 3600
rules:
  - service: payment-svc
    runbook: "db-*"
    risk: dangerous
    approvers: [dba, U0CMD0001]
    approvals: 2
    commander_required: true
  - service: "payment-*"
    risk: caution
    approvers: [sre]
  - service: search
    risk: dangerous
    major: false
    approvers: ["*"]
"""


@pytest.mark.parametrize(
    ("severity", "major"),
    [
        ("critical", True),
        ("CRITICAL", True),
        ("P1", True),
        ("p0", True),
        ("SEV-1", True),
        ("sev_0", True),
        ("Sev 1", True),
        ("sev2", False),
        ("warning", False),
        ("p2", False),
        ("", False),
        (None, False),
    ],
)
def test_p0_p1_severities_are_recognised_whatever_their_spelling(
    severity: str | None, major: bool
) -> None:
    assert is_major(None, severity) is major


def test_without_a_policy_one_approval_except_dangerous_steps_of_p0_p1_incidents() -> None:
    assert rules_for(None, "payment-svc", "rb", "warning") == {
        SAFE: ONE,
        CAUTION: ONE,
        DANGEROUS: ONE,
    }
    major = rules_for(None, "payment-svc", "rb", "Sev-1")
    assert major[CAUTION] == ONE
    assert major[DANGEROUS] == TWO_WITH_COMMANDER


def test_without_a_policy_anyone_may_act_and_nobody_commands() -> None:
    for risk in StepRisk:
        allowed, why = may_act(None, "U0ANYONE1", "payment-svc", None, risk)
        assert allowed, why
    assert may_act(None, "", "payment-svc", None, CAUTION)[0] is False
    assert commander_for(None, "payment-svc") is None
    assert timers_for(None, "payment-svc").ack_timeout_s is None


def test_the_first_covering_rule_decides_and_defaults_fill_the_rest() -> None:
    policy = policy_from_yaml(POLICY)
    db = rules_for(policy, "payment-svc", "db-failover", "warning")
    assert db[DANGEROUS] == TWO_WITH_COMMANDER  # the rule, even outside P0/P1
    assert db[CAUTION] == ONE
    other = rules_for(policy, "payment-svc", "restart-pods", "critical")
    assert other[DANGEROUS] == TWO_WITH_COMMANDER  # no rule: the P0/P1 default
    assert rules_for(policy, "payment-svc", "restart-pods", "warning")[DANGEROUS] == ONE
    assert rules_for(policy, "payment-svc", None, "warning")[DANGEROUS] == ONE  # no runbook


def test_rule_approvers_name_users_and_groups() -> None:
    policy = policy_from_yaml(POLICY)
    args = ("payment-svc", "db-failover", DANGEROUS)
    assert may_act(policy, "U0DBA0001", *args)[0] is True  # via group dba
    assert may_act(policy, "U0CMD0001", *args)[0] is True  # named directly
    allowed, why = may_act(policy, "U0SRE0001", *args)
    assert allowed is False
    assert "group dba" in why
    assert "U0CMD0001" in why
    assert "dangerous steps of payment-svc (runbook db-failover)" in why


def test_caution_is_open_to_anyone_unless_a_rule_lists_approvers() -> None:
    policy = policy_from_yaml(POLICY)
    assert may_act(policy, "U0ANYONE1", "search", None, CAUTION)[0] is True
    refused, why = may_act(policy, "U0ANYONE1", "payment-api", None, CAUTION)
    assert refused is False
    assert "group sre" in why
    assert may_act(policy, "U0SRE0002", "payment-api", None, CAUTION)[0] is True


def test_dangerous_steps_need_a_responder_when_a_policy_exists() -> None:
    policy = policy_from_yaml(POLICY)
    assert may_act(policy, "U0SRE0001", "checkout", "rb", DANGEROUS)[0] is True
    allowed, why = may_act(policy, "U0ANYONE1", "checkout", "rb", DANGEROUS)
    assert allowed is False
    assert "responder" in why
    assert "group sre" in why
    empty = policy_from_yaml("groups: {}")
    allowed, why = may_act(empty, "U0ANYONE1", "checkout", "rb", DANGEROUS)
    assert (allowed, "(nobody)" in why) == (False, True)


def test_people_are_named_by_handle_or_slack_id_and_match_by_either() -> None:
    """A person acts with every name they go by (handle and linked Slack id), so the policy may
    use either; someone else's name does not become theirs."""
    policy = policy_from_yaml(
        """
groups:
  oncall: [priya, U0MARCUS1]
responders: [oncall]
services:
  payment-svc:
    commander: ines
"""
    )
    args = ("checkout", None, DANGEROUS)
    assert may_act(policy, {"priya", "U0PRIYA01"}, *args)[0] is True  # by handle
    assert may_act(policy, {"marcus", "U0MARCUS1"}, *args)[0] is True  # by Slack id
    allowed, why = may_act(policy, {"mallory", "U0MALLORY"}, *args)
    assert allowed is False
    assert "oncall" in why
    assert may_act(policy, "priya", *args)[0] is True  # one name alone still works
    assert commander_for(policy, "payment-svc") == "ines"
    assert may_act(policy, {"ines"}, "payment-svc", None, DANGEROUS, commander="ines") == (
        True,
        "incident commander",
    )


def test_the_commander_may_always_act() -> None:
    policy = policy_from_yaml(POLICY)
    args = ("checkout", "rb", DANGEROUS)
    assert may_act(policy, "U0BOSS001", *args)[0] is False
    assert may_act(policy, "U0BOSS001", *args, commander="U0BOSS001") == (
        True,
        "incident commander",
    )


def test_major_limits_a_rule_to_or_away_from_p0_p1_incidents() -> None:
    policy = policy_from_yaml(POLICY)
    assert may_act(policy, "U0ANYONE1", "search", None, DANGEROUS, severity="warning")[0] is True
    # In a critical incident the `major: false` rule does not apply: responders only.
    assert may_act(policy, "U0ANYONE1", "search", None, DANGEROUS, severity="critical")[0] is False


def test_commander_and_timers_per_service_exact_name_before_globs() -> None:
    policy = policy_from_yaml(POLICY)
    assert commander_for(policy, "payment-svc") == "U0CMD0001"
    assert commander_for(policy, "payment-api") == "U0CMD0009"
    assert commander_for(policy, "search") is None
    svc = timers_for(policy, "payment-svc")
    assert (svc.ack_timeout_s, svc.resolve_timeout_s) == (300, 7200)
    other = timers_for(policy, "search")
    assert (other.ack_timeout_s, other.resolve_timeout_s) == (900, 3600)


def test_custom_major_severities_replace_the_defaults() -> None:
    policy = policy_from_yaml("major_severities: [page, Urgent]")
    assert is_major(policy, "URGENT") is True
    assert is_major(policy, "critical") is False
    assert rules_for(policy, "x", None, "page")[DANGEROUS] == TWO_WITH_COMMANDER


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        # A person is a handle (like alice) or a Slack user id; a display name is neither.
        ("groups: {sre: [Alice Smith]}", "neither a person's handle (like alice) nor a Slack"),
        ("responders: ['@oncall']", "neither a group, a person's handle nor a Slack user id"),
        (
            "rules: [{risk: dangerous, approvers: [SRE Team]}]",
            "neither a group, a person's handle nor a Slack user id",
        ),
        ("rules: [{risk: terrible}]", "rules.0.risk"),
        ("rules: [{approvals: 2, approvers: [U0ONLY001]}]", "2 approvals needed but only 1"),
        ("services: {x: {commander: Bob Jones}}", "neither a person's handle (like alice)"),
        ("services: {x: {ack_timeout_s: 0}}", "services.x.ack_timeout_s"),
        ("surprise: 1", "surprise"),
        ("- just a list", "must be a YAML mapping"),
        ("groups: [", "not valid YAML"),
        ("major_severities: []", "major_severities"),
    ],
)
def test_bad_policies_are_refused_with_the_field_named(text: str, problem: str) -> None:
    with pytest.raises(PolicyError, match=r"^policy\.yml: ") as err:
        policy_from_yaml(text, "policy.yml")
    assert problem in str(err.value)


def test_load_policy_reads_the_configured_file(tmp_path: Path) -> None:
    assert load_policy(None) is None
    path = tmp_path / "policy.yml"
    path.write_text(POLICY)
    loaded = load_policy(path)
    assert loaded is not None
    assert loaded.groups["sre"] == ["U0SRE0001", "U0SRE0002"]
    assert load_policy(tmp_path / "policy.yml") == loaded
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "missing.yml")
    path.write_text("")
    empty = load_policy(path)
    assert empty is not None
    assert empty.rules == []


def test_current_policy_follows_the_file_and_a_broken_file_keeps_failing(tmp_path: Path) -> None:
    path = tmp_path / "policy.yml"
    assert current_policy(None) is None
    path.write_text("groups: {sre: [U07PRIYA01]}\n")
    first = current_policy(path)
    assert first is not None
    assert current_policy(path) is first  # unchanged file: not parsed again
    path.write_text("groups: {sre: [U07PRIYA01, U07MARCUS02]}\n")
    changed = current_policy(path)
    assert changed is not None
    assert changed.groups["sre"] == ["U07PRIYA01", "U07MARCUS02"]
    path.write_text("rules: [\n")
    for _ in range(2):
        with pytest.raises(PolicyError, match="not valid YAML"):
            current_policy(path)
    path.unlink()
    with pytest.raises(PolicyError, match="cannot read"):
        current_policy(path)
