"""Rollbacks stated in words on a third-party set (heldout2, round 2): "same X with VALUE",
"X and Y swapped", "back to VALUE with the same patch", a flag and its value named in the undo,
and a JSON value put back ("patch it back to 300")."""

from __future__ import annotations

import pytest

from domain.runbooks import parse_runbook
from schemas.runbook import Step


def _steps(text: str) -> list[Step]:
    return list(parse_runbook(text, source_name="t.txt").runbook.steps)


def _rollback_of(text: str, command_start: str) -> Step:
    return next(s for s in _steps(text) if (s.command or "").startswith(command_start))


def test_same_call_with_a_bare_value_replaces_the_one_value_of_its_kind() -> None:
    step = _rollback_of(
        "Slow the relay down:\n"
        "sudo postconf -e 'relay_rate_delay = 5s'\n"
        "Undo: same postconf with 1s, then reload again.\n",
        "sudo postconf",
    )
    assert step.rollback == "sudo postconf -e 'relay_rate_delay = 1s'"
    assert not step.rollback_inferred


def test_same_patch_with_true_flips_the_boolean() -> None:
    step = _rollback_of(
        "Unpause it with\n"
        'kubectl -n b patch cronjob exp -p \'{"spec":{"suspend":false}}\'\n'
        "(to pause it again, same patch with true)\n",
        "kubectl -n b patch",
    )
    assert step.rollback == 'kubectl -n b patch cronjob exp -p \'{"spec":{"suspend":true}}\''


def test_same_call_with_a_json_pair() -> None:
    step = _rollback_of(
        "Turn the flag off:\n"
        'curl -s -X PATCH https://flags/x -d \'{"env":"prod","enabled":false}\'\n'
        'to turn it back on it\'s the same call with `"enabled":true`\n',
        "curl",
    )
    assert step.rollback == 'curl -s -X PATCH https://flags/x -d \'{"env":"prod","enabled":true}\''


def test_same_with_key_equals_value() -> None:
    step = _rollback_of(
        "more workers:\n  kubectl -n l set env ds/fb WORKERS=4\n  rb: same w/ WORKERS=2\n",
        "kubectl",
    )
    assert step.rollback == "kubectl -n l set env ds/fb WORKERS=2"


def test_same_with_a_quoted_sql_value() -> None:
    step = _rollback_of(
        "out of the pool first:\n"
        "  mysql -e \"UPDATE servers SET status='OFFLINE_SOFT' WHERE host='<replica>';\"\n"
        "  rb (once caught up): same w/ status='ONLINE'\n",
        "mysql",
    )
    assert (
        step.rollback
        == "mysql -e \"UPDATE servers SET status='ONLINE' WHERE host='{{ replica }}';\""
    )


def test_same_command_with_word_and_value() -> None:
    step = _rollback_of(
        "Lower the preference:\n"
        "sudo vtysh -c 'route-map IN permit 10' -c 'set local-preference 50'\n"
        "Undo: the same command with local-preference 100.\n",
        "sudo vtysh",
    )
    assert step.rollback == "sudo vtysh -c 'route-map IN permit 10' -c 'set local-preference 100'"


def test_same_patch_with_an_upper_case_enum() -> None:
    step = _rollback_of(
        "Step 4: Mitigate\n"
        "kubectl -n ns patch peerauthentication default "
        '-p \'{"spec":{"mtls":{"mode":"PERMISSIVE"}}}\'\n'
        "To revert: the same patch with STRICT.\n",
        "kubectl",
    )
    assert step.rollback is not None
    assert '"mode":"STRICT"' in step.rollback


def test_back_to_a_word_with_the_same_patch() -> None:
    step = _rollback_of(
        "7. Fail open:\n"
        '   kubectl patch vwc adm -p=\'[{"op":"replace","value":"Ignore"}]\'\n'
        '   Put it back to "Fail" with the same patch as soon as it works again.\n',
        "kubectl",
    )
    assert step.rollback == 'kubectl patch vwc adm -p=\'[{"op":"replace","value":"Fail"}]\''


def test_same_url_ending_in_a_path() -> None:
    step = _rollback_of(
        "If the run is PAUSED, resume it:\n"
        'curl -s -X PUT "https://reaper/run/<run_id>/state/RUNNING"\n'
        "To pause it again use the same URL ending in /state/PAUSED.\n",
        "curl",
    )
    assert step.rollback == 'curl -s -X PUT "https://reaper/run/{{ run_id }}/state/PAUSED"'


def test_two_values_swapped() -> None:
    step = _rollback_of(
        "More memory:\n"
        "sudo sed -i 's/^-m 4096/-m 6144/' /etc/memcached.conf "
        "&& sudo systemctl restart memcached\n"
        "Undo: the same line with 6144 and 4096 swapped.\n",
        "sudo sed",
    )
    assert step.rollback == (
        "sudo sed -i 's/^-m 6144/-m 4096/' /etc/memcached.conf && sudo systemctl restart memcached"
    )


def test_same_thing_with_a_number_in_chat() -> None:
    step = _rollback_of(
        "[11:10] <ines> aws lambda put-function-concurrency --function-name f "
        "--reserved-concurrent-executions 150\n"
        "[11:11] <ines> (undo = same thing with 50)\n",
        "aws lambda",
    )
    assert step.rollback is not None
    assert step.rollback.endswith("--reserved-concurrent-executions 50")


def test_back_to_a_json_number() -> None:
    step = _rollback_of(
        "bea: add a window\n"
        '    kubectl -n o patch hpa api --type merge -p \'{"spec":{"window":600}}\'\n'
        "bea: to undo, patch it back to 300 (the default)\n",
        "kubectl",
    )
    assert step.rollback == 'kubectl -n o patch hpa api --type merge -p \'{"spec":{"window":300}}\''


def test_an_ambiguous_bare_value_gives_no_rollback() -> None:
    step = _rollback_of(
        "Resize:\naws x update --read 2000 --write 4000\nUndo: same call with 1500.\n", "aws x"
    )
    assert step.rollback is None or step.rollback_inferred


def test_the_undo_said_in_the_lead_in_over_the_command() -> None:
    step = _rollback_of(
        "4. If the workers are saturated, add workers. 4 is the normal count; scale back to 4 "
        "once the queue is under 50:\n"
        "   kubectl -n af scale statefulset/worker --replicas=8\n",
        "kubectl",
    )
    assert step.rollback == "kubectl -n af scale statefulset/worker --replicas=4"
    assert not step.rollback_inferred


def test_a_flag_value_to_turn_it_off_named_in_the_lead_in() -> None:
    step = _rollback_of(
        "Step 3 - Turn on insights (costs money, so turn it off afterwards with "
        "--insights-action DISABLE):\n"
        "  aws dynamodb update-contributor-insights --table-name s --insights-action ENABLE\n",
        "aws dynamodb",
    )
    assert step.rollback == (
        "aws dynamodb update-contributor-insights --table-name s --insights-action DISABLE"
    )


def test_a_lead_in_that_states_the_new_value_is_not_its_own_undo() -> None:
    step = _rollback_of(
        "Scale back to 3 replicas:\n  kubectl -n a scale deploy/x --replicas=3\n", "kubectl"
    )
    assert step.rollback != "kubectl -n a scale deploy/x --replicas=3"


def test_an_undo_in_prose_goes_to_the_step_it_mirrors_not_the_last_one() -> None:
    steps = _steps(
        "Enable injection on its namespace and restart it:\n"
        "kubectl label namespace app istio-injection=enabled --overwrite\n"
        "kubectl -n app rollout restart deploy/api\n"
        "If that breaks the caller, remove the label again with "
        "kubectl label namespace app istio-injection- and restart once more.\n"
    )
    label = next(s for s in steps if (s.command or "").startswith("kubectl label"))
    restart = next(s for s in steps if "rollout restart" in (s.command or ""))
    assert label.rollback == "kubectl label namespace app istio-injection-"
    assert restart.rollback is None or restart.rollback_inferred


def test_the_known_inverse_under_an_if_trouble_lead_is_the_rollback() -> None:
    steps = _steps(
        "6. Raise parallelism through Helm:\n"
        "   helm -n af upgrade af chart/af --reuse-values --set parallelism=64\n"
        "   If the warehouse starts to struggle: helm -n af rollback af\n"
    )
    assert [s.command for s in steps if s.command] == [
        "helm -n af upgrade af chart/af --reuse-values --set parallelism=64"
    ]
    assert steps[-1].rollback == "helm -n af rollback af"
    assert not steps[-1].rollback_inferred


def test_to_release_them_later_is_the_undo_of_the_hold() -> None:
    steps = _steps(
        "Put those messages on hold:\n"
        "sudo postqueue -j | sudo postsuper -h -\n"
        "To release them later: sudo postsuper -H ALL\n"
    )
    assert [s.command for s in steps if s.command] == ["sudo postqueue -j | sudo postsuper -h -"]
    assert steps[-1].rollback == "sudo postsuper -H ALL"


def test_a_program_after_sudo_is_a_command_even_when_unknown() -> None:
    commands = [
        s.command
        for s in _steps("Slow it down:\nsudo postconf -e 'x = 5s'\nsudo postfix reload\n")
        if s.command
    ]
    assert commands == ["sudo postconf -e 'x = 5s'", "sudo postfix reload"]


def test_powershell_cmdlets_are_commands() -> None:
    commands = [
        s.command
        for s in _steps(
            "Check the pool:\n"
            "Import-Module WebAdministration; Get-WebAppPoolState -Name Portal\n"
            "start:  Invoke-Command -ComputerName <server> { Start-Service Bridge }\n"
        )
        if s.command
    ]
    assert commands == [
        "Import-Module WebAdministration; Get-WebAppPoolState -Name Portal",
        "Invoke-Command -ComputerName {{ server }} { Start-Service Bridge }",
    ]


def test_powershell_risk_follows_the_cmdlet_verb_and_the_remote_block() -> None:
    from domain.runbooks.risk import classify

    assert classify("Get-WinEvent -LogName System -MaxEvents 5").risk.value == "safe"
    assert classify("Invoke-Command -ComputerName h { Get-Service Svc }").risk.value == "safe"
    assert classify("Start-WebAppPool -Name Portal").risk.value == "caution"
    remote_delete = "Invoke-Command -ComputerName h { Get-PrintJob | Remove-PrintJob }"
    assert classify(remote_delete).risk.value == "dangerous"


def test_a_quoted_sql_argument_over_three_lines_is_not_unwrapped_as_prose() -> None:
    commands = [
        s.command
        for s in _steps(
            "1) Find the blocked sessions:\n"
            '   psql -h pg -c "select a.pid, pg_blocking_pids(a.pid) as blocked_by,\n'
            "     now() - a.query_start as waiting, left(a.query, 60) as query\n"
            '     from pg_stat_activity a where cardinality(pg_blocking_pids(a.pid)) > 0;"\n'
            "2) Look at the blocker:\n"
            '   psql -h pg -c "select 1;"\n'
        )
        if s.command
    ]
    assert commands == [
        'psql -h pg -c "select a.pid, pg_blocking_pids(a.pid) as blocked_by, now() - '
        "a.query_start as waiting, left(a.query, 60) as query from pg_stat_activity a where "
        'cardinality(pg_blocking_pids(a.pid)) > 0;"',
        'psql -h pg -c "select 1;"',
    ]


def test_markdown_undo_said_before_the_block_belongs_to_the_blocks_command() -> None:
    steps = list(
        parse_runbook(
            '## 2. Merges\n\n```bash\nclickhouse-client -h ch --query "SELECT 1"\n```\n\n'
            "## 3. Stop the flood\n\n"
            "Scale the loader to zero; nothing is lost. To undo, scale it back to 3.\n\n"
            "```bash\nkubectl -n a scale deploy/loader --replicas=0\n```\n",
            source_name="t.md",
        ).runbook.steps
    )
    assert [s.command for s in steps] == [
        'clickhouse-client -h ch --query "SELECT 1"',
        "kubectl -n a scale deploy/loader --replicas=0",
    ]
    assert steps[0].rollback is None
    assert steps[1].rollback == "kubectl -n a scale deploy/loader --replicas=3"


def test_approval_said_as_thumbs_up_someones_ok_a_yes_or_must_ok_it() -> None:
    from domain.runbooks import phrases

    assert phrases.needs_approval("get the DBA on-call\u2019s thumbs-up before stepping the clock")
    assert phrases.needs_approval("Needs the platform lead's OK, because configs get through")
    assert phrases.needs_approval("Get a yes from billing-eng in #billing-eng before you unpause")
    assert phrases.needs_approval("stop shipping it (owner of the ns must ok it first):")
    assert phrases.needs_approval("clear them. warehouse shift lead has to ok (labels get lost)")
    assert not phrases.needs_approval("wait until the pod's OK again, then go on")
    assert not phrases.needs_approval("every check has to be ok before you go on")


def test_a_wait_sentence_before_a_lead_in_is_a_wait_step() -> None:
    steps = _steps(
        "3) Lower the redrive count:\n"
        "   aws sqs set-queue-attributes --queue-url <url> --attributes file://a.json\n"
        "4) Wait 5 minutes. The message should land in the DLQ and the pods stop restarting:\n"
        "   kubectl -n f get pods -l app=consumer\n"
    )
    assert [s.command or s.title for s in steps][1].startswith("Wait 5 minutes")
    assert steps[2].command == "kubectl -n f get pods -l app=consumer"


def test_wait_then_colon_over_a_command_is_a_wait_step() -> None:
    steps = _steps(
        "Step 5: Restart\nkubectl -n i rollout restart deploy/x\n\n"
        "Step 6: Check for auth errors\nWait 10 minutes, then:\n"
        "kubectl -n i logs deploy/x --since=10m | grep -c Auth\n"
    )
    titles = [s.title for s in steps if not s.command]
    assert any(t.startswith("Wait 10 minutes") for t in titles)
    assert steps[-1].command == "kubectl -n i logs deploy/x --since=10m | grep -c Auth"


def test_an_undo_in_words_can_name_the_step_before_the_last_one() -> None:
    steps = _steps(
        "Slow down the transport:\n"
        "sudo postconf -e 'rate_delay = 5s'\n"
        "sudo postfix reload\n"
        "Undo: same postconf with 1s, then reload again.\n"
    )
    assert steps[0].rollback == "sudo postconf -e 'rate_delay = 1s'"
    assert steps[1].rollback is None or steps[1].rollback_inferred


def test_a_lower_case_label_before_a_known_tool_is_not_part_of_the_command() -> None:
    commands = [
        s.command
        for s in _steps(
            "fluent-bit backlog\n\nmore flush workers: kubectl -n l set env ds/fb WORKERS=4  # 2\n"
        )
        if s.command
    ]
    assert commands == ["kubectl -n l set env ds/fb WORKERS=4"]


def test_a_longer_situation_question_before_an_imperative_is_a_condition() -> None:
    steps = _steps(
        "7. Deploys are still blocked and something urgent has to go out? Set the webhook to "
        "fail open:\n"
        "   kubectl patch validatingwebhookconfiguration adm --type=json -p='[]'\n"
    )
    assert steps[-1].condition == "Deploys are still blocked and something urgent has to go out"


def test_revert_with_a_value_after_an_inline_command_is_its_own_undo() -> None:
    steps = _steps(
        "omar [08:12]: bounce the pods: kubectl -n kc delete pod kc-0\n"
        "omar [08:16]: cap the reporting user: "
        '`psql -h pg -c "alter role reporting connection limit 20;"` '
        "(revert with connection limit -1)\n"
    )
    capped = next(s for s in steps if "connection limit 20" in (s.command or ""))
    assert capped.rollback == 'psql -h pg -c "alter role reporting connection limit -1;"'


def test_an_undo_flag_in_parentheses_after_a_whole_line_command() -> None:
    steps = _steps(
        "PrintBridge hung\n\n"
        "startup type got flipped (patching does that) -> Invoke-Command -ComputerName h "
        "{ Set-Service Svc -StartupType Automatic }   (undo: -StartupType Manual)\n"
    )
    assert [s.command for s in steps] == [
        "Invoke-Command -ComputerName h { Set-Service Svc -StartupType Automatic }"
    ]
    assert (
        steps[0].rollback
        == "Invoke-Command -ComputerName h { Set-Service Svc -StartupType Manual }"
    )


def test_a_rollback_section_entry_for_two_steps_undoes_both() -> None:
    steps = _steps(
        "Cutover\n\n"
        "Step 3: Send 10 % to green\n"
        "aws elbv2 modify-listener --listener-arn <arn> --default-actions file://ten.json\n\n"
        "Step 5: Send 100 % to green\n"
        "aws elbv2 modify-listener --listener-arn <arn> --default-actions file://all.json\n\n"
        "Rollback\n"
        "Step 3 / Step 5 \u2013 all traffic back to blue:\n"
        "aws elbv2 modify-listener --listener-arn <arn> --default-actions file://blue.json\n"
    )
    changed = [s for s in steps if s.command]
    assert len(changed) == 2
    back = "aws elbv2 modify-listener --listener-arn {{ arn }} --default-actions file://blue.json"
    assert [s.rollback for s in changed] == [back, back]


def test_a_heading_with_an_only_if_aside_guards_its_section() -> None:
    steps = list(
        parse_runbook(
            "# Too many parts\n\n## 4. Buy headroom (only if inserts from other services fail too)"
            '\n\n```bash\nclickhouse-client --query "ALTER TABLE t MODIFY SETTING x = 600"\n```\n',
            source_name="t.md",
        ).runbook.steps
    )
    assert steps[0].condition == "inserts from other services fail too"


@pytest.mark.parametrize(
    ("command", "risk"),
    [
        ("gsutil rm gs://b/cache.zip", "dangerous"),
        ("gsutil ls -l gs://b/", "safe"),
        ("sudo fuser -km /mnt/assets", "caution"),
        ("sudo fuser -vm /mnt/assets", "safe"),
        ("aws ec2 detach-volume --volume-id vol-1 --force", "dangerous"),
        ("az storage account keys renew -g rg --account-name st --key key1", "dangerous"),
        ("consul operator raft remove-peer -address=10.0.0.9:8300", "dangerous"),
        ("consul operator raft list-peers", "safe"),
        ("sudo postsuper -d -", "dangerous"),
        ("sudo postsuper -H ALL", "caution"),
        ("sudo -u zookeeper /opt/zookeeper/bin/zkCleanup.sh -n 5", "dangerous"),
        ("mongosh \"mongodb://h:27017/admin\" --eval 'rs.stepDown(120)'", "dangerous"),
        ("mongosh \"mongodb://h:27017/admin\" --quiet --eval 'printjson(rs.status())'", "safe"),
    ],
)
def test_risk_of_tools_from_the_third_set(command: str, risk: str) -> None:
    from domain.runbooks.risk import classify

    assert classify(command).risk.value == risk


def test_a_note_that_asks_for_approval_guards_the_command_below_it() -> None:
    steps = _steps(
        "Cutover\n\n"
        "Step 5: Send 100 % to green\n"
        "Note: needs a go from the release manager in #release before you flip the rest.\n"
        "aws elbv2 modify-listener --listener-arn <arn> --default-actions file://all.json\n"
    )
    assert steps[-1].require_approval


def test_a_chat_whose_lines_start_with_name_colon_keeps_its_wait() -> None:
    steps = _steps(
        "alex: hpa is flapping\n"
        "bea: add a window\n"
        '    kubectl -n o patch hpa api --type merge -p \'{"spec":{"w":600}}\'\n'
        "alex: done. how long?\n"
        "bea: give it 10 min, the window has to fill up first\n"
    )
    waits = [s.title for s in steps if not s.command]
    assert waits == ["Wait: Give it 10 min, the window has to fill up first"]


def test_markdown_revert_sentence_gives_each_named_step_its_undo() -> None:
    steps = list(
        parse_runbook(
            "# Bucket public\n\n## Contain\n\n"
            "1. Remove the binding:\n\n   ```sh\n"
            "   gcloud storage buckets remove-iam-policy-binding gs://b --member=allUsers\n"
            "   ```\n\n"
            "2. Enforce prevention:\n\n   ```sh\n   gcloud storage buckets update gs://b "
            "--public-access-prevention\n   ```\n\n"
            "If the owner confirms it is meant to be public, revert: step 2 with "
            "`gcloud storage buckets update gs://b --no-public-access-prevention`, step 1 with "
            "`gcloud storage buckets add-iam-policy-binding gs://b --member=allUsers`.\n",
            source_name="t.md",
        ).runbook.steps
    )
    assert [s.rollback for s in steps] == [
        "gcloud storage buckets add-iam-policy-binding gs://b --member=allUsers",
        "gcloud storage buckets update gs://b --no-public-access-prevention",
    ]


def test_markdown_lead_in_that_says_back_to_gives_the_block_command_its_undo() -> None:
    steps = list(
        parse_runbook(
            "# gh-ost lag\n\n## Slow it down\n\n"
            "Smaller chunks (default is 1000, set it back to 1000 when things are calm):\n\n"
            '```\n$ echo "chunk-size=500" | nc -U /tmp/gh.sock\n```\n',
            source_name="t.md",
        ).runbook.steps
    )
    assert steps[0].command == 'echo "chunk-size=500" | nc -U /tmp/gh.sock'
    assert steps[0].rollback == 'echo "chunk-size=1000" | nc -U /tmp/gh.sock'


def test_a_heredoc_with_a_quoted_delimiter_in_a_list_item_is_one_command() -> None:
    steps = _steps(
        "2. Where is the backlog? Count task instances per DAG:\n"
        "   kubectl -n af exec deploy/sched -- airflow db shell <<'SQL'\n"
        "   select dag_id, count(*) from task_instance group by 1;\n"
        "   SQL\n"
        "3. Wait 10 minutes.\n"
    )
    assert steps[0].command is not None
    assert steps[0].command.splitlines()[-1].strip() == "SQL"
    assert "select dag_id" in steps[0].command


def test_an_english_tool_word_followed_by_a_determiner_is_a_sentence_not_a_command() -> None:
    from domain.runbooks import cmdline

    assert not cmdline.is_command(
        "kill the reporting sessions, but ask @db-oncall first, it's ours"
    )
    assert cmdline.is_command("kill -9 1234")
    assert cmdline.is_command("echo the value is $X")


def test_a_chat_speaker_with_a_role_in_parentheses_starts_a_new_message() -> None:
    from domain.runbooks.prose.patterns import _INLINE_SPEAKER_RE

    said = _INLINE_SPEAKER_RE.match("hiro (db-oncall) [08:11]: approved, only that user")
    assert said is not None
    assert "hiro (db-oncall) [08:11]: approved, only that user"[said.end() :].startswith("approved")
