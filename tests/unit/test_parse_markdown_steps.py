"""Markdown runbooks: commands in table cells, questions that guard a list item, and Rollback
sections that name the step they undo by number (a list item, a numbered heading, a table row)
or by the file they remove."""

from __future__ import annotations

from domain.runbooks import parse_runbook
from schemas.runbook import Step


def _steps(text: str) -> list[Step]:
    return list(parse_runbook(text, source_name="t.md").runbook.steps)


def _by_command(steps: list[Step], start: str) -> Step:
    return next(s for s in steps if s.command and s.command.startswith(start))


def test_a_table_cell_with_a_code_span_in_a_sentence_gives_only_the_span() -> None:
    steps = _steps(
        "# ES\n\n## Checks\n\n```bash\ncurl -s localhost:9200\n```\n\n"
        "| Check | How |\n|---|---|\n"
        '| No red indices | `curl -s "$ES_URL/_cat/indices?v&health=red"` '
        "returns only the header |\n"
    )
    assert [s.command for s in steps] == [
        "curl -s localhost:9200",
        'curl -s "{{ es_url }}/_cat/indices?v&health=red"',
    ]


def test_a_rollback_table_row_attaches_to_the_list_item_of_that_number() -> None:
    steps = _steps(
        "# Rollout stuck\n\n## Mitigation\n\n"
        "1. Pause the rollout:\n"
        "   `kubectl -n shop rollout pause deploy/web`\n"
        "2. To roll back to the previous revision:\n"
        "   ```sh\n"
        "   kubectl -n shop rollout undo deploy/web\n"
        "   kubectl -n shop rollout resume deploy/web\n"
        "   ```\n\n"
        "## Rollback\n\n"
        "| Step | Undo |\n|---|---|\n"
        "| 1 | `kubectl -n shop rollout resume deploy/web` |\n"
        "| 2 | re-apply through the pipeline (don't `kubectl set image` by hand) |\n"
    )
    commands = [s.command for s in steps if s.command]
    assert commands == [
        "kubectl -n shop rollout pause deploy/web",
        "kubectl -n shop rollout undo deploy/web",
        "kubectl -n shop rollout resume deploy/web",
    ]
    assert _by_command(steps, "kubectl -n shop rollout pause").rollback == (
        "kubectl -n shop rollout resume deploy/web"
    )
    undo = _by_command(steps, "kubectl -n shop rollout undo")
    assert undo.rollback is None or undo.rollback_inferred


def test_an_undo_that_names_a_step_attaches_to_the_most_alike_command_of_it() -> None:
    steps = _steps(
        "# ASG\n\n## Steps\n\n"
        "3. Pin the template:\n\n"
        "   ```bash\n"
        "   aws autoscaling update-auto-scaling-group --auto-scaling-group-name web "
        "--launch-template Version=41\n"
        "   aws autoscaling start-instance-refresh --auto-scaling-group-name web\n"
        "   ```\n\n"
        "4. Pin the other group:\n\n"
        "   ```bash\n"
        "   aws autoscaling update-auto-scaling-group --auto-scaling-group-name web "
        "--launch-template Version=40\n"
        "   ```\n\n"
        "## Rollback\n\n"
        "To go forward again after step 3, point the group back at the latest version:\n\n"
        "```bash\n"
        "aws autoscaling update-auto-scaling-group --auto-scaling-group-name web "
        "--launch-template Version=42\n"
        "```\n"
    )
    updates = [s for s in steps if s.command and s.command.startswith("aws autoscaling update")]
    assert updates[0].rollback is not None
    assert updates[0].rollback.endswith("Version=42")
    assert updates[1].rollback is None or updates[1].rollback_inferred
    refresh = _by_command(steps, "aws autoscaling start-instance-refresh")
    assert refresh.rollback is None or refresh.rollback_inferred


def test_a_numbered_heading_is_the_step_number_a_rollback_names() -> None:
    steps = _steps(
        "# ES flood stage\n\n"
        "## 4. Raise the watermark\n\n"
        '```bash\ncurl -X PUT localhost:9200/_cluster/settings -d \'{"flood":"97%"}\'\n```\n\n'
        "## 5. Raise it again\n\n"
        '```bash\ncurl -X PUT localhost:9200/_cluster/settings -d \'{"flood":"98%"}\'\n```\n\n'
        "## Rollback\n\n"
        "Step 4 must be undone once disk is back under 85%:\n\n"
        "```bash\ncurl -X PUT localhost:9200/_cluster/settings -d '{\"flood\":null}'\n```\n"
    )
    puts = [s for s in steps if s.command]
    assert puts[0].rollback == "curl -X PUT localhost:9200/_cluster/settings -d '{\"flood\":null}'"
    assert puts[1].rollback is None or puts[1].rollback_inferred


def test_removing_a_file_undoes_the_step_that_wrote_it() -> None:
    steps = _steps(
        "# Restart loop\n\n## Override\n\n"
        "```bash\n"
        "sudo tee /etc/systemd/system/app.service.d/override.conf <<'EOF'\n"
        "[Service]\nTimeoutStartSec=180\nEOF\n"
        "sudo systemctl daemon-reload\n"
        "```\n\n"
        "## Rollback\n\n"
        "Remove the drop-in once the real fix is deployed:\n\n"
        "```bash\n"
        "sudo rm /etc/systemd/system/app.service.d/override.conf && sudo systemctl daemon-reload\n"
        "```\n"
    )
    tee = _by_command(steps, "sudo tee")
    assert tee.rollback == (
        "sudo rm /etc/systemd/system/app.service.d/override.conf && sudo systemctl daemon-reload"
    )


def test_a_question_that_opens_a_list_item_guards_its_command() -> None:
    steps = _steps(
        "# Rollout stuck\n\n## Diagnosis\n\n"
        "- Pods `Pending`? Check quota: `kubectl -n shop describe resourcequota`\n"
        "- What does the event log say? `kubectl -n shop get events`\n"
    )
    assert steps[0].condition == "Pods Pending"
    assert steps[1].condition is None


def test_a_sentence_naming_a_step_by_number_makes_that_step_need_approval() -> None:
    steps = _steps(
        "# Switchover\n\n"
        "> **Warning:** connections drop. **Get sign-off from the incident commander before "
        "step 2.**\n\n"
        "## Steps\n\n"
        "1. Check the cluster:\n   `patronictl -c /etc/p.yml list`\n"
        "2. Switch over:\n   `patronictl -c /etc/p.yml switchover main --force`\n"
    )
    assert [s.require_approval for s in steps] == [False, True]


def test_an_approval_comment_over_a_command_in_a_code_block_guards_it() -> None:
    steps = _steps(
        "# Sentinel\n\n## Fix\n\n```sh\nredis-cli -p 26379 SENTINEL masters\n"
        "# needs approval from the on-call lead: unsynced writes are lost\n"
        "redis-cli -p 26379 SENTINEL failover sessions\n```\n"
    )
    assert [s.require_approval for s in steps] == [False, True]


def test_a_wait_then_lead_in_over_a_code_block_is_a_wait_step_first() -> None:
    steps = _steps(
        "# Switchover\n\n## Steps\n\n"
        "4. Switch over:\n   `patronictl -c /etc/p.yml switchover main --force`\n"
        "5. Wait about a minute, then confirm the new leader:\n\n"
        "   ```sh\n   patronictl -c /etc/p.yml list\n   ```\n"
    )
    assert [s.command or s.title for s in steps] == [
        "patronictl -c /etc/p.yml switchover main --force",
        "Wait about a minute",
        "patronictl -c /etc/p.yml list",
    ]


def test_only_for_the_node_that_guards_the_code_block_below() -> None:
    steps = _steps(
        "# RabbitMQ partition\n\n## Fix\n\n"
        "Only for the node that `cluster_status` lists as the minority.\n\n"
        "```bash\nrabbitmqctl stop_app\nrabbitmqctl reset\n```\n"
    )
    assert [s.condition for s in steps] == [
        "the node that cluster_status lists as the minority",
        "the node that cluster_status lists as the minority",
    ]


def test_a_symptom_action_table_row_is_guarded_by_its_symptom() -> None:
    steps = _steps(
        "# Restart loop\n\n## Causes\n\n"
        "| Log line | Cause | Action |\n|---|---|---|\n"
        "| `permission denied` | owner changed | `sudo chown app: /etc/app/key.pem` |\n"
    )
    assert steps[0].command == "sudo chown app: /etc/app/key.pem"
    assert steps[0].condition == "permission denied"


def test_a_check_table_row_is_not_guarded_by_its_label() -> None:
    steps = _steps(
        "# ES\n\n## Checks\n\n"
        "| Check | How |\n|---|---|\n"
        "| Disk per node | `curl -s localhost:9200/_cat/allocation?v` |\n"
    )
    assert steps[0].condition is None


def test_for_a_case_then_an_action_guards_the_code_below() -> None:
    steps = _steps(
        "# cert-manager\n\n## Challenges\n\n"
        "For **HTTP-01** challenges, check that the solver URL is reachable:\n\n"
        "```bash\ncurl -sv http://example.com/.well-known/acme-challenge/tok\n```\n\n"
        "For each node, check the kubelet:\n\n"
        "```bash\nsystemctl status kubelet\n```\n"
    )
    assert steps[0].condition == "HTTP-01 challenges"
    assert steps[1].condition is None
