"""Plain-text runbooks (wiki, Slack, numbered, terse, Confluence) keep every command."""

from __future__ import annotations

from domain.runbooks import ParseResult, parse_runbook
from domain.runbooks.cmdline import is_command, is_title_command
from domain.runbooks.prose import find_commands, is_plain_text
from schemas.runbook import StepRisk

WIKI = """Payments API timeouts

This page is for the PaymentsTimeouts alert.

First count the timeouts in the last 15 minutes:
kubectl logs -n pay deploy/payments --since=15m | grep -ci timeout

If you see more than 50 timeouts, check the database sessions:
psql -h db-main -U ro -c "SELECT pid, state, query
    FROM pg_stat_activity
    WHERE state <> 'idle'"

Otherwise restart the pods:
kubectl rollout restart deployment/payments -n pay
(if this makes things worse you can undo it with kubectl rollout undo deployment/payments -n pay)

Connect to the instance named in the alert and check memory: redis-cli -h <instance> INFO memory
Raise the limit: redis-cli -h <instance> CONFIG SET maxmemory 6gb
When the peak is over, set it back to 4gb.

Fail over only after getting approval from the incident commander:
./scripts/failover-payments.sh --confirm

Restart is usually not needed.
Do not restart nginx (systemctl restart nginx), a reload keeps connections open.
If none of this helps, escalate to #payments-oncall.
"""


PSQL = (
    'psql -h db-main -U ro -c "SELECT pid, state, query FROM pg_stat_activity '
    "WHERE state <> 'idle'\""
)


def _parse(text: str) -> ParseResult:
    return parse_runbook(text, source_name="sample.txt")


def test_wiki_page_keeps_every_command_in_order() -> None:
    steps = _parse(WIKI).runbook.steps
    assert [s.command for s in steps if s.command] == [
        "kubectl logs -n pay deploy/payments --since=15m | grep -ci timeout",
        PSQL,
        "kubectl rollout restart deployment/payments -n pay",
        "redis-cli -h {{ instance }} INFO memory",
        "redis-cli -h {{ instance }} CONFIG SET maxmemory 6gb",
        "./scripts/failover-payments.sh --confirm",
    ]
    assert [s.title for s in steps if not s.command] == ["Escalate to #payments-oncall"]


def test_conditions_rollbacks_and_approvals_stated_in_prose() -> None:
    steps = {s.command or s.title: s for s in _parse(WIKI).runbook.steps}
    assert steps[PSQL].condition == "you see more than 50 timeouts"
    restart = steps["kubectl rollout restart deployment/payments -n pay"]
    assert restart.rollback == "kubectl rollout undo deployment/payments -n pay"
    assert restart.condition == "not (you see more than 50 timeouts)"
    assert (
        steps["redis-cli -h {{ instance }} CONFIG SET maxmemory 6gb"].rollback
        == "redis-cli -h {{ instance }} CONFIG SET maxmemory 4gb"
    )
    failover = steps["./scripts/failover-payments.sh --confirm"]
    assert failover.require_approval
    assert failover.risk is StepRisk.DANGEROUS
    assert not steps["kubectl rollout restart deployment/payments -n pay"].require_approval
    assert steps["Escalate to #payments-oncall"].condition == "none of this helps"


def test_each_step_says_which_lines_it_came_from() -> None:
    lines = WIKI.split("\n")
    for step in _parse(WIKI).runbook.steps:
        assert step.source_lines is not None
        first, last = step.source_lines
        assert 1 <= first <= last <= len(lines)
        if step.command and "{{" not in step.command:
            source = " ".join(" ".join(lines[first - 1 : last]).split())
            assert step.command.split()[0] in source


def test_variable_named_in_prose() -> None:
    names = [v.name for v in _parse(WIKI).runbook.variables]
    assert "instance" in names
    text = "Edge errors\n\nSSH to the affected edge host and check nginx -t there.\n"
    assert "edge_host" in [v.name for v in _parse(text).runbook.variables]


def test_prohibitions_and_remarks_are_not_steps() -> None:
    commands = [s.command for s in _parse(WIKI).runbook.steps]
    assert "systemctl restart nginx" not in commands
    assert not any("usually" in s.title for s in _parse(WIKI).runbook.steps)


def test_commands_in_parentheses_after_run_and_with_and_colons() -> None:
    text = (
        "Disk alert\n\n"
        "Log in to the node (ssh <node>) and look around.\n"
        "Run df -h / to see the usage.\n"
        "Check the config with sudo nginx -t on the host.\n"
        "pods: kubectl get pods -n web\n"
        "oom -> docker update --memory 2g worker\n"
        "  undo: docker update --memory 1g worker\n"
    )
    steps = _parse(text).runbook.steps
    assert [s.command for s in steps] == [
        "ssh {{ node }}",
        "df -h /",
        "sudo nginx -t",
        "kubectl get pods -n web",
        "docker update --memory 2g worker",
    ]
    assert steps[-1].condition == "oom"
    assert steps[-1].rollback == "docker update --memory 1g worker"


def test_common_words_that_are_commands() -> None:
    for command in ("date +%s.%N", "cat /etc/hostname", "echo $HOSTNAME", "time curl -s x.io"):
        assert is_command(command), command
    for prose in ("top queries", "wait 10 minutes", "cat is sleeping", "find what is taking"):
        assert not is_command(prose), prose
        assert find_commands(f"{prose}.") == []
    assert not is_title_command("vault sealed")
    assert is_title_command("vault status -address=https://v:8200")


def test_inline_code_that_parses_as_a_command_is_kept_and_flagged() -> None:
    text = (
        "# Clock skew\n\n## Steps\n\nNote the time: `date +%s.%N`\n\n"
        "Check which box this is with `cat /etc/hostname`.\n\n```\nchronyc tracking\n```\n"
    )
    result = parse_runbook(text, source_name="ClockSkew.md")
    commands = [s.command for s in result.runbook.steps]
    assert commands == ["date +%s.%N", "cat /etc/hostname", "chronyc tracking"]
    assert any("date" in a.message and "everyday word" in a.message for a in result.ambiguities)


def test_backslash_continuation_and_wait_step() -> None:
    text = (
        "ES disk\n\n"
        "1) Clear the block:\n"
        '   curl -X PUT "http://es:9200/_all/_settings" \\\n'
        "     -H 'Content-Type: application/json' \\\n"
        "     -d '{\"index.blocks.read_only_allow_delete\": null}'\n"
        "2) Wait 2 min and recheck.\n"
    )
    steps = _parse(text).runbook.steps
    assert steps[0].command == (
        "curl -X PUT \"http://es:9200/_all/_settings\" -H 'Content-Type: application/json' "
        "-d '{\"index.blocks.read_only_allow_delete\": null}'"
    )
    assert steps[0].source_lines == (3, 6)
    assert steps[1].command is None
    assert steps[1].title.startswith("Wait 2 min")


def test_markdown_rollback_section_names_the_step_it_undoes() -> None:
    text = (
        "# Pool\n\n## Mitigate\n\n```bash\nkubectl -n shop set env deploy/api POOL=40\n"
        "kubectl -n shop scale deploy/api --replicas=8\n```\n\n## Rollback\n\n"
        "- Step 2: `kubectl -n shop scale deploy/api --replicas=4`\n"
        "- Step 1: `kubectl -n shop set env deploy/api POOL=20`\n"
    )
    steps = parse_runbook(text, source_name="Pool.md").runbook.steps
    assert [(s.command, s.rollback) for s in steps] == [
        (
            "kubectl -n shop set env deploy/api POOL=40",
            "kubectl -n shop set env deploy/api POOL=20",
        ),
        (
            "kubectl -n shop scale deploy/api --replicas=8",
            "kubectl -n shop scale deploy/api --replicas=4",
        ),
    ]


def test_markdown_is_not_read_as_plain_text() -> None:
    assert not is_plain_text("# Title\n\ntext\n")
    assert not is_plain_text("text\n\n```\nls\n```\n")
    assert is_plain_text("Title\n\nrun ls -la here\n")


def test_an_approval_limit_applies_only_to_commands_beyond_it() -> None:
    text = (
        "Search API saturated\n\n"
        "Scale up; going above 20 replicas needs approval from the capacity team:\n"
        "kubectl scale deploy/search -n s --replicas=12\n\n"
        "If that is not enough, scale further (above 20 replicas needs approval from capacity):\n"
        "kubectl scale deploy/search -n s --replicas=30\n"
    )
    steps = _parse(text).runbook.steps
    assert [(s.command, s.require_approval) for s in steps] == [
        ("kubectl scale deploy/search -n s --replicas=12", False),
        ("kubectl scale deploy/search -n s --replicas=30", True),
    ]


def test_prose_wrapped_mid_sentence_is_read_as_one_sentence() -> None:
    text = (
        "Checkout latency\n\n"
        "If the error rate is above five percent for more than ten minutes, restart the\n"
        "checkout pods with kubectl rollout restart deployment/checkout -n shop and watch.\n"
    )
    steps = _parse(text).runbook.steps
    assert [(s.command, s.condition, s.source_lines) for s in steps] == [
        (
            "kubectl rollout restart deployment/checkout -n shop",
            "the error rate is above five percent for more than ten minutes",
            (3, 4),
        )
    ]


def test_markdown_table_of_checks_and_approval_under_a_block() -> None:
    text = (
        "# PG CPU\n\n## Checks\n\n| Check | Command |\n|---|---|\n"
        '| Active queries | `psql -c "SELECT count(*) FROM pg_stat_activity"` |\n'
        "| Host load | look at the node exporter panel |\n\n"
        "## Fix\n\nFail over to the standby:\n\n"
        "```bash\npatronictl failover --candidate <standby>\n```\n\n"
        "**Needs sign-off from the DB lead.**\n"
    )
    steps = parse_runbook(text, source_name="PgCpu.md").runbook.steps
    assert [(s.command, s.title, s.require_approval) for s in steps] == [
        ('psql -c "SELECT count(*) FROM pg_stat_activity"', "Active queries", False),
        (None, "Host load: look at the node exporter panel", False),
        ("patronictl failover --candidate {{ standby }}", "Fail over to the standby", True),
    ]
