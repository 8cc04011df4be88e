"""Plain-text shapes the held-out set showed to be weak: chat threads, Confluence exports,
numbered lists with rollback sections, and approvals, conditions and waits said many ways."""

from __future__ import annotations

from domain.runbooks import parse_runbook
from schemas.runbook import Step


def _steps(text: str) -> list[Step]:
    return list(parse_runbook(text, source_name="t.txt").runbook.steps)


def _by_command(steps: list[Step], start: str) -> Step:
    return next(s for s in steps if s.command and s.command.startswith(start))


def test_a_rollback_section_naming_steps_by_number_attaches_by_number() -> None:
    steps = _steps(
        "Hotfix\n\n"
        "1) Scale the canary: kubectl -n s scale deploy/api-canary --replicas=2\n"
        "2) Set the image: kubectl -n s set image deploy/api api=reg/api:v2\n"
        "3) Check: kubectl -n s rollout status deploy/api\n\n"
        "Rollback\n"
        "- step 2: kubectl -n s rollout undo deploy/api\n"
        "- step 1: kubectl -n s scale deploy/api-canary --replicas=0\n"
    )
    assert [s.command for s in steps if s.command][-1] == "kubectl -n s rollout status deploy/api"
    canary = _by_command(steps, "kubectl -n s scale")
    assert canary.rollback == "kubectl -n s scale deploy/api-canary --replicas=0"
    assert not canary.rollback_inferred
    image = _by_command(steps, "kubectl -n s set image")
    assert image.rollback == "kubectl -n s rollout undo deploy/api"
    assert _by_command(steps, "kubectl -n s rollout status").rollback is None


def test_a_numbered_roll_back_item_is_a_step_not_a_rollback_section() -> None:
    steps = _steps(
        "Bad release\n\n"
        "1. List revisions\n      helm -n b history worker --max 10\n"
        "2. Roll back\n      helm -n b rollback worker <good> --wait\n\n"
        "Rollback of step 2: helm -n b rollback worker <bad> --wait\n"
    )
    undo = _by_command(steps, "helm -n b rollback")
    assert undo.rollback is not None
    assert "{{ bad }}" in undo.rollback
    assert _by_command(steps, "helm -n b history").rollback is None


def test_an_inferred_rollback_is_flagged_as_a_suggestion() -> None:
    step = _by_command(
        _steps("Web\n\nRestart:\nkubectl -n a rollout restart deploy/web\n"), "kubectl"
    )
    assert step.rollback is not None
    assert step.rollback_inferred
    stated = _by_command(
        _steps(
            "Cache\n\nRaise it: redis-cli -h r1 CONFIG SET maxmemory 6gb\n"
            "rb: redis-cli -h r1 CONFIG SET maxmemory 4gb\n"
        ),
        "redis-cli",
    )
    assert stated.rollback == "redis-cli -h r1 CONFIG SET maxmemory 4gb"
    assert not stated.rollback_inferred


def test_a_chat_reply_with_an_approval_guards_the_command_above_it() -> None:
    steps = _steps(
        "irene  10:03\n"
        'cancel it: `psql -h pg1 -d app -c "SELECT pg_cancel_backend(<pid>);"`\n'
        "irene  10:03\n"
        "check with the DBA before you cancel anything on app though\n"
        "tomas  10:09\n"
        "done 👍\n"
    )
    assert len(steps) == 1
    assert steps[0].require_approval


def test_approval_phrasings() -> None:
    for text in (
        "forcing renewal with `cmctl renew tls -n ing` — get a +1 from platform before you do this",
        "still stuck -> ping @ruby-oncall, get their ok, then kubectl -n j scale deploy/w"
        " --replicas=9",
        "Step 4 \u2013 Drain it (ask the #k8s lead first): kubectl drain <n> --ignore-daemonsets",
    ):
        steps = [s for s in _steps("Runbook\n\n" + text) if s.command]
        assert len(steps) == 1, text
        assert steps[0].require_approval, text
        assert not steps[0].command.startswith("ping")


def test_an_approval_line_between_an_item_and_its_command_applies_to_the_command() -> None:
    steps = _steps(
        "Step 1 \u2013 Restart the mailer workers\n"
        "⚠ Warning\n"
        "Needs sign-off from the notifications team lead.\n"
        "kubectl -n notify rollout restart deployment/mailer\n"
        "Step 2 \u2013 Give it 5 minutes and check the depth again\n"
    )
    assert next(s.command for s in steps) == "kubectl -n notify rollout restart deployment/mailer"
    assert steps[0].require_approval
    assert len(steps) == 2
    assert steps[1].command is None
    assert not steps[1].require_approval


def test_a_chat_thread_with_fenced_code_keeps_its_wait_and_conditions() -> None:
    steps = _steps(
        "sam  11:02\n```\nkafka-consumer-groups.sh --bootstrap-server k:9092 --describe --group g\n"
        "```\nlena  11:04\nrestart it: `kubectl -n o delete pod <pod>`\nlena  11:05\n"
        "give it 5 minutes then describe the group again\nlena  11:13\n"
        "if it doesn't recover, scale up - `kubectl -n o scale deploy/c --replicas=6` - and "
        "scale back to 3 once lag is under 1000\n"
    )
    assert [s.command is None for s in steps] == [False, False, True, False]
    assert steps[2].title.lower().startswith("wait")
    scale = steps[3]
    assert scale.condition
    assert "recover" in scale.condition
    assert scale.rollback == "kubectl -n o scale deploy/c --replicas=3"
    assert steps[1].rollback is None


def test_once_is_a_condition_and_an_item_condition_guards_its_sub_steps() -> None:
    steps = _steps(
        "1. Check: mysql -h r2 -e 'SHOW REPLICA STATUS'\n"
        "2. If Replica_SQL_Running is No:\n"
        "   a) look at the error: mysql -h r2 -e 'SELECT 1'\n"
        "   b) skip it: mysql -h r2 -e 'STOP REPLICA; START REPLICA;'\n"
        "3. Once the node shows Ready again, uncordon it: kubectl uncordon <node>\n"
    )
    assert steps[0].condition is None
    assert steps[1].condition == steps[2].condition == "Replica_SQL_Running is No"
    assert steps[3].condition == "the node shows Ready again"


def test_confluence_macro_lines_and_flattened_cells() -> None:
    steps = _steps(
        "Vault sealed\u00a0\u2013 vault-prod\n"
        "Page owner: Platform\u00a0\u00a0\u00a0\u00a0Last updated: 1 Feb\n"
        "Expand source\n"
        "Step 1: Confirm the seal status\nCode\nvault status -address=https://v:8200\n"
        "2. Restart CoreDNS    kubectl -n kube-system rollout restart deployment/coredns\n"
    )
    assert [s.command for s in steps] == [
        "vault status -address=https://v:8200",
        "kubectl -n kube-system rollout restart deployment/coredns",
    ]
    assert steps[0].title.lower().startswith("confirm")


def test_table_rows_without_a_command_are_manual_or_wait_steps() -> None:
    steps = _steps(
        "ASG at max\n"
        "Step\tAction\tCommand\n"
        "1\tLook at capacity\taws autoscaling describe-auto-scaling-groups --max-items 1\n"
        "2\tPost in #capacity that you are raising the max\t\n"
        "3\tRaise max (needs an OK from the incident commander)\taws autoscaling "
        "update-auto-scaling-group --auto-scaling-group-name web --max-size 30\n"
        "4\tLet it settle for ~3 min\t\n"
        "Rollback: step 3 \u2013 aws autoscaling update-auto-scaling-group "
        "--auto-scaling-group-name web --max-size 20\n"
    )
    assert [s.command is None for s in steps] == [False, True, False, True]
    assert steps[2].require_approval
    assert not steps[0].require_approval
    assert steps[2].rollback is not None
    assert steps[2].rollback.endswith("--max-size 20")
    assert steps[3].title.lower().startswith("wait")


def test_pipe_table_rows_in_plain_text_keep_their_commands() -> None:
    steps = _steps(
        "DNS failover\n"
        "|| Step || Command || Expected ||\n"
        "| 1 | dig +short api.example.com @8.8.8.8 | the primary IP |\n"
        "| 2 | kubectl -n dns get pods | grep -v Running | nothing |\n"
    )
    assert [s.command for s in steps] == [
        "dig +short api.example.com @8.8.8.8",
        "kubectl -n dns get pods | grep -v Running",
    ]


def test_chat_lines_with_the_speaker_in_front() -> None:
    steps = _steps(
        "HPA maxed\n\n"
        "[10:03] jane: `kubectl top pods -n api --sort-by=cpu | head`\n"
        "[10:05] bob: looks like hpa maxed. raise it: kubectl -n api patch hpa api "
        '--patch \'{"spec":{"maxReplicas":30}}\'\n'
        "[10:06] bob: to go back later: kubectl -n api patch hpa api "
        '--patch \'{"spec":{"maxReplicas":20}}\'\n'
    )
    assert [s.command for s in steps] == [
        "kubectl top pods -n api --sort-by=cpu | head",
        'kubectl -n api patch hpa api --patch \'{"spec":{"maxReplicas":30}}\'',
    ]
    assert (
        steps[1].rollback == 'kubectl -n api patch hpa api --patch \'{"spec":{"maxReplicas":20}}\''
    )
    assert not steps[1].rollback_inferred


def test_waits_said_many_ways() -> None:
    for wait in (
        "Give it a couple of minutes.",
        "Let the cluster rebalance for about 15 minutes before going on.",
        "Hold off 10 minutes so the metrics catch up.",
        "After ~10 min the lag should be back under 1000.",
    ):
        steps = _steps(f"App\n\nRestart it: systemctl restart app\n{wait}\nsystemctl status app\n")
        assert [s.command is None for s in steps] == [False, True, False], wait
        assert steps[1].title.lower().startswith("wait"), wait


def test_approvals_said_many_ways_beside_or_before_the_command() -> None:
    for said in (
        "Get the DBA's blessing first.",
        "Only do this once the incident commander has approved it.",
        "You need a go from the EM.",
        "Confirm with the service owner before running this.",
        "Do not run without the DBA's OK.",
        "needs +1 from storage team",
        "Two-person rule applies.",
    ):
        text = (
            f"App\n\n1. Check: systemctl status app\n2. Restart: systemctl restart app\n   {said}\n"
        )
        steps = _steps(text)
        assert [s.require_approval for s in steps] == [False, True], said
    for said in ("No approval needed.", "Don't restart it without checking the logs."):
        steps = _steps(f"App\n\n1. Restart: systemctl restart app\n   {said}\n")
        assert not steps[0].require_approval, said


def test_conditions_said_many_ways_keep_their_command() -> None:
    for said in (
        "If not, systemctl restart consumer",
        "Otherwise, systemctl restart consumer",
        "Queue above 10k? Restart the consumer: systemctl restart consumer",
        "Did that not help? Then systemctl restart consumer",
        "Assuming the consumer is stuck, restart it: systemctl restart consumer",
        "systemctl restart consumer (only when lag > 10k)",
    ):
        steps = _steps(f"Queue\n\nCheck: rabbitmqctl list_queues\n{said}\n")
        assert [s.command for s in steps] == [
            "rabbitmqctl list_queues",
            "systemctl restart consumer",
        ], said
        assert steps[1].condition, said
        assert steps[0].condition is None, said


def test_commands_in_note_panels_and_prose_table_cells_are_kept() -> None:
    steps = _steps(
        "Orders DB\n"
        "Step 1: Check connections\n"
        "psql -h db -c \u201cSELECT count(*) FROM pg_stat_activity;\u201d\n"
        "Note: if the count is above 450, also check pgbouncer with "
        "psql -h db -p 6432 -U pgbouncer -c 'SHOW POOLS;'\n"
        "Note: do not restart pgbouncer with sudo systemctl restart pgbouncer\n"
        "Step\tDescription\n"
        "2\tForce failover (approval from the cache owner required): "
        "redis-cli -h s -p 26379 SENTINEL failover mymaster\n"
    )
    assert [s.command for s in steps] == [
        "psql -h db -c \u201cSELECT count(*) FROM pg_stat_activity;\u201d",
        "psql -h db -p 6432 -U pgbouncer -c 'SHOW POOLS;'",
        "redis-cli -h s -p 26379 SENTINEL failover mymaster",
    ]
    assert steps[0].risk.value == "safe"  # curly quotes do not hide a read-only query
    assert steps[1].condition == "the count is above 450"
    assert steps[2].require_approval


def test_chat_handles_emoji_and_an_undo_in_parentheses() -> None:
    steps = _steps(
        "#inc-4411 thread\n"
        "@raj: on it -> kubectl -n search rollout restart deploy/search-api\n"
        "@nina: :+1: and if p95 is still >2s in 10 min, scale it: "
        "kubectl -n search scale deploy/search-api --replicas=8 (back to 4 after the incident)\n"
    )
    assert [s.command for s in steps] == [
        "kubectl -n search rollout restart deploy/search-api",
        "kubectl -n search scale deploy/search-api --replicas=8",
    ]
    assert steps[0].condition is None
    assert steps[1].condition == "p95 is still >2s in 10 min"
    assert steps[1].rollback == "kubectl -n search scale deploy/search-api --replicas=4"
    assert not steps[1].rollback_inferred
