"""Plain-text shapes from the second round on real-world pastes: steps after a context section,
rollbacks said in words, conditions, approvals and waits written the way engineers write them."""

from __future__ import annotations

from domain.runbooks import parse_runbook
from schemas.runbook import Step


def _steps(text: str) -> list[Step]:
    return list(parse_runbook(text, source_name="t.txt").runbook.steps)


def _commands(text: str) -> list[str]:
    return [s.command for s in _steps(text) if s.command]


def test_a_step_n_item_after_a_symptoms_section_starts_the_steps() -> None:
    commands = _commands(
        "Queue backlog\n"
        "Symptoms\n"
        "\u2022\tConsumers fall behind\n"
        "\u00a0\n"
        "Step 1: Check the queue depth\n"
        "rabbitmqctl list_queues name messages\n"
        "Step 2: Restart the consumer\n"
        "kubectl -n q rollout restart deploy/consumer\n"
    )
    assert commands == [
        "rabbitmqctl list_queues name messages",
        "kubectl -n q rollout restart deploy/consumer",
    ]


def test_a_bare_command_line_after_a_context_heading_is_a_step() -> None:
    commands = _commands(
        "etcd space\n"
        "Symptoms\n"
        "\u2022\tThe API server says the database space is exceeded\n"
        "\u00a0\n"
        "Setup on a control-plane node\n"
        "export ETCDCTL_API=3\n"
    )
    assert commands == ["export ETCDCTL_API=3"]


def _by_command(steps: list[Step], start: str) -> Step:
    return next(s for s in steps if s.command and s.command.startswith(start))


def test_a_script_by_relative_path_after_undo_with_is_the_rollback() -> None:
    steps = _steps(
        "Replica lag\n\n"
        "1) Take the replica out of the pool:\n"
        "   ./scripts/pool-detach.sh --node $REPLICA\n"
        "   Undo with ./scripts/pool-attach.sh --node $REPLICA once it has caught up.\n"
    )
    assert [s.command for s in steps if s.command] == [
        "./scripts/pool-detach.sh --node {{ replica }}"
    ]
    assert steps[0].rollback == "./scripts/pool-attach.sh --node {{ replica }}"


def test_a_label_with_an_equals_sign_is_not_part_of_the_command() -> None:
    steps = _steps(
        "bad release\n\n"
        "helm -n web rollback api 41 --wait\n"
        "undo = roll forward again: helm -n web rollback api 42\n"
    )
    assert [s.command for s in steps if s.command] == ["helm -n web rollback api 41 --wait"]
    assert steps[0].rollback == "helm -n web rollback api 42"


def test_a_rollback_section_does_not_attach_an_undo_to_a_read_only_step() -> None:
    steps = _steps(
        "bad release\n\n"
        "helm -n web status api\n"
        "rollback (restarts pods):\n"
        "  helm -n web rollback api 41 --wait\n"
    )
    assert _by_command(steps, "helm -n web status").rollback is None
    assert _by_command(steps, "helm -n web rollback api 41").command is not None


def test_set_it_back_to_a_number_before_a_semicolon_or_inside_quotes() -> None:
    sql = _steps(
        "MySQL\n\nRaise the limit:\n"
        'mysql -h db1 -e "SET GLOBAL max_connections = 800;"\n'
        "Set it back to 500 after the incident.\n"
    )
    assert sql[0].rollback == 'mysql -h db1 -e "SET GLOBAL max_connections = 500;"'
    es = _steps(
        "ES\n\nbump the flood stage:\n"
        'curl -XPUT localhost:9200/_cluster/settings -d \'{"flood_stage":"97%"}\'\n'
        "put it back to 95% after\n"
    )
    assert (
        es[0].rollback == 'curl -XPUT localhost:9200/_cluster/settings -d \'{"flood_stage":"95%"}\''
    )


def test_set_it_back_to_that_takes_the_value_it_was() -> None:
    steps = _steps(
        "Kafka disk\n\n"
        "- dropped retention to 24h:\n"
        "  kafka-configs.sh --bootstrap-server k:9092 --alter --add-config retention.ms=86400000\n"
        "  (it was 3 days = 259200000, set it back to that afterwards with the same command)\n"
    )
    assert steps[0].rollback == (
        "kafka-configs.sh --bootstrap-server k:9092 --alter --add-config retention.ms=259200000"
    )


def test_apostrophes_in_words_do_not_hide_a_backticked_command() -> None:
    steps = _steps(
        "flapping service\n\n"
        "make sure you're on the right box with `cat /etc/hostname` , i've done it wrong before\n"
    )
    assert [s.command for s in steps if s.command] == ["cat /etc/hostname"]


def test_a_sentence_after_an_own_line_command_is_not_part_of_it() -> None:
    commands = _commands(
        "flapping service\n\n"
        'systemctl status app.service  -- if it says "start request repeated" systemd gave up\n'
        "journalctl -u app.service -n 200 --no-pager to see why it died. last time it was creds\n"
        'kubectl describe node <node> and look at Conditions, ours said "PLEG is not healthy"\n'
        "redis-cli -h $REDIS_HOST --latency   (ctrl-c after a few secs, normal is <1)\n"
    )
    assert commands == [
        "systemctl status app.service",
        "journalctl -u app.service -n 200 --no-pager",
        "kubectl describe node {{ node }}",
        "redis-cli -h {{ redis_host }} --latency",
    ]


def test_a_shell_loop_and_a_comment_keep_their_words() -> None:
    commands = _commands(
        "loop\n\nfor h in web1 web2 web3; do ssh $h uptime; done\n"
        "etcdctl endpoint status -w table   # check the DB SIZE column\n"
    )
    assert commands == [
        "for h in web1 web2 web3; do ssh $h uptime; done",
        "etcdctl endpoint status -w table",
    ]


def test_an_aside_with_a_contraction_does_not_swallow_the_next_lines() -> None:
    steps = _steps(
        "Redis memory\n\n"
        "Step 6 \u2013 If more than 2 GB is free, raise the limit a bit:\n"
        "  redis-cli -h r1 CONFIG SET maxmemory 6gb\n"
        "  undo: redis-cli -h r1 CONFIG SET maxmemory 4gb (4gb is what's in redis.conf)\n"
        "Step 7 \u2013 Delete the key: redis-cli -h r1 UNLINK <key>\n"
    )
    assert steps[0].rollback == "redis-cli -h r1 CONFIG SET maxmemory 4gb"
    assert [s.command for s in steps if s.command] == [
        "redis-cli -h r1 CONFIG SET maxmemory 6gb",
        "redis-cli -h r1 UNLINK {{ key }}",
    ]


def test_re_enable_it_with_a_command_is_the_undo_of_the_step_before() -> None:
    steps = _steps(
        "Canary\n"
        "Step 5: Pause auto-sync:\n"
        "argocd app set checkout --sync-policy none\n"
        "Re-enable it after the fix is merged with "
        "argocd app set checkout --sync-policy automated.\n"
        "Step 6: Inform #checkout-dev.\n"
    )
    assert [s.command for s in steps if s.command] == ["argocd app set checkout --sync-policy none"]
    assert steps[0].rollback == "argocd app set checkout --sync-policy automated"


def test_start_it_again_with_after_a_command_on_the_same_line_is_its_undo() -> None:
    steps = _steps(
        "redis latency\n\n"
        "stopped the cron: `sudo systemctl stop cleanup.timer` (you can start it again with "
        "systemctl start cleanup.timer once they fix the script)\n"
    )
    assert [s.command for s in steps if s.command] == ["sudo systemctl stop cleanup.timer"]
    assert steps[0].rollback == "systemctl start cleanup.timer"
    assert not steps[0].rollback_inferred


def test_start_them_again_as_an_item_of_its_own_is_a_step() -> None:
    commands = _commands(
        "Lag\n\n"
        "a) stop the consumers: kubectl -n q scale deployment/proc --replicas=0\n"
        "b) start them again: kubectl -n q scale deployment/proc --replicas=12\n"
    )
    assert len(commands) == 2


def test_a_put_them_back_lead_in_makes_the_next_command_the_undo() -> None:
    steps = _steps(
        "ES red\n\n"
        "5. Drop the replicas for now:\n"
        '   curl -s -X PUT "$ES/idx/_settings" -d \'{"number_of_replicas":0}\'\n'
        "   Put them back afterwards (same call with 1):\n"
        '   curl -s -X PUT "$ES/idx/_settings" -d \'{"number_of_replicas":1}\'\n'
        "6. Wait for yellow:\n"
        '   curl -s "$ES/_cluster/health?wait_for_status=yellow"\n'
    )
    assert len([s for s in steps if s.command]) == 2
    assert (
        steps[0].rollback
        == 'curl -s -X PUT "{{ es }}/idx/_settings" -d \'{"number_of_replicas":1}\''
    )


def test_a_conditional_restore_lead_in_still_heads_a_step() -> None:
    steps = _steps(
        "nginx\n\n"
        "sudo nginx -t\n"
        "If the config test fails, restore the old config and reload:\n"
        "sudo cp /etc/nginx/nginx.conf.bak /etc/nginx/nginx.conf\n"
    )
    assert [s.command for s in steps if s.command] == [
        "sudo nginx -t",
        "sudo cp /etc/nginx/nginx.conf.bak /etc/nginx/nginx.conf",
    ]


def _kinds(steps: list[Step]) -> list[str]:
    return ["command" if s.command else s.title for s in steps]


def test_wait_then_a_lead_in_over_a_command_is_a_wait_step_and_a_command_step() -> None:
    steps = _steps(
        "Certs\n\n"
        "Renew it:\ncmctl renew api -n ingress\n\n"
        "Wait about 2 minutes, then check that the secret holds a new certificate:\n"
        "kubectl -n ingress get secret api-tls -o yaml\n"
    )
    assert _kinds(steps) == ["command", "Wait about 2 minutes", "command"]
    assert steps[2].title.lower().startswith("check that the secret")


def test_wait_then_on_the_command_line_is_a_wait_step_first() -> None:
    steps = _steps(
        "node\n\nsudo systemctl restart kubelet\nwait 2-3 min, then: kubectl get node n1\n"
    )
    assert _kinds(steps) == ["command", "Wait 2-3 min", "command"]
    assert steps[2].command == "kubectl get node n1"


def test_wait_a_minute_in_words_is_a_wait() -> None:
    steps = _steps(
        "x\n\nsudo systemctl restart app\nWait about a minute.\ncurl -s localhost/health\n"
    )
    assert steps[1].command is None
    assert steps[1].title.lower().startswith("wait about a minute")


def test_wait_then_check_again_without_a_command_stays_one_wait_step() -> None:
    steps = _steps(
        "x\n\n1. Check: curl -s localhost/health\n2. Wait 5 minutes, then repeat step 1\n"
    )
    assert len(steps) == 2
    assert steps[1].title.startswith("Wait 5 minutes, then repeat step 1")


def test_a_verb_followed_by_a_preposition_in_a_sentence_is_not_a_command() -> None:
    steps = _steps(
        "RDS CPU\n\n"
        "Step 6: If CPU stays pegged, reboot with failover to the standby. "
        "Get sign-off from the IC before running this.\n"
        "  aws rds reboot-db-instance --db-instance-identifier db1 --force-failover\n"
    )
    assert [s.command for s in steps if s.command] == [
        "aws rds reboot-db-instance --db-instance-identifier db1 --force-failover"
    ]
    assert steps[0].require_approval
    assert steps[0].condition is not None


def test_an_approval_sentence_after_a_description_guards_the_command_above() -> None:
    steps = _steps(
        "Replica\n\n"
        "7. If it has not caught up, reinitialise it: patronictl -c /etc/p.yml reinit orders r1\n"
        "This wipes its data directory. Only do this after getting approval from the DBA on call.\n"
    )
    assert len(steps) == 1
    assert steps[0].require_approval


def test_a_warning_after_a_command_that_names_an_approver_guards_it() -> None:
    steps = _steps(
        "Prometheus\n"
        "Step 6: Reduce retention\n"
        "kubectl -n monitoring patch prometheus k8s --type merge "
        '-p \'{"spec":{"retention":"7d"}}\'\n'
        "Warning: Older data is deleted. Only with approval from the monitoring lead.\n"
    )
    assert steps[0].require_approval


def test_an_approval_sentence_on_a_list_item_stays_with_that_item() -> None:
    steps = _steps(
        "nginx\n\n"
        "4. Reload it: `sudo systemctl reload nginx`\n"
        "5. If one host is bad, take it out of DNS: set its weight to 0 in the console. "
        "Needs approval from the on-call lead.\n"
    )
    assert not steps[0].require_approval
    assert steps[1].require_approval


def test_a_check_in_parentheses_then_a_lead_in_guards_the_next_command() -> None:
    steps = _steps(
        "Disk\n\n"
        "If the systemd journal is big (check with journalctl --disk-usage), shrink it to 500M:\n"
        "journalctl --vacuum-size=500M\n"
    )
    assert [s.command for s in steps] == [
        "journalctl --disk-usage",
        "journalctl --vacuum-size=500M",
    ]
    assert steps[0].condition is None
    assert steps[1].condition == "the systemd journal is big"
    assert steps[1].title.startswith("Shrink it to 500M")


def test_a_condition_said_after_a_command_heads_the_next_command() -> None:
    steps = _steps(
        "Disk\n\n"
        "Check whether logrotate ran today (grep logrotate /var/log/syslog | tail -5). "
        "When it did not, run it by hand:\n"
        "logrotate -f /etc/logrotate.d/app\n"
    )
    assert len(steps) == 2
    assert steps[1].command == "logrotate -f /etc/logrotate.d/app"
    assert steps[1].condition == "it did not"


def test_less_than_and_more_than_in_a_sentence_are_not_commands() -> None:
    steps = _steps(
        "Certs\n\n"
        "If the renewal still fails and less than 3 days are left, install the backup "
        "certificate by hand:\n"
        "kubectl -n ing apply -f backup-cert.yaml\n"
    )
    assert [s.command for s in steps if s.command] == ["kubectl -n ing apply -f backup-cert.yaml"]


def test_a_contraction_in_the_sentence_after_a_command_opens_no_quote() -> None:
    commands = _commands(
        "kafka urp\n\n"
        "- the cleaner needs a few min: watch -n 30 df -h /var/lib/kafka until it's under 80%\n"
        "- if disk is fine, restart it: `sudo systemctl restart kafka` on that broker only\n"
    )
    assert commands == ["watch -n 30 df -h /var/lib/kafka", "sudo systemctl restart kafka"]


def test_then_wait_after_a_comma_is_a_wait_step_not_part_of_the_command() -> None:
    steps = _steps(
        "broker down\n\n"
        "disk ok + process dead -> sudo systemctl start kafka, then wait 5-10 min (log recovery)\n"
    )
    assert steps[0].command == "sudo systemctl start kafka"
    assert steps[1].command is None
    assert steps[1].title.lower().startswith("wait 5-10 min")


def test_a_question_before_a_command_is_not_part_of_it() -> None:
    steps = _steps(
        "dns\n\nforwarders changed recently? kubectl -n kube-system get configmap coredns -o yaml\n"
    )
    assert steps[0].command == "kubectl -n kube-system get configmap coredns -o yaml"


def test_a_shell_comment_does_not_make_a_command_line_prose() -> None:
    steps = _steps("mysql\n\ndate +%s.%N   # for the timeline, right before the kill\n")
    assert steps[0].command == "date +%s.%N"


def test_a_status_command_without_arguments_in_backticks_is_a_command() -> None:
    steps = _steps('clock\n\n`timedatectl` should say "System clock synchronized: yes"\n')
    assert steps[0].command == "timedatectl"


def test_a_hyphenated_word_in_the_sentence_after_a_command_is_prose() -> None:
    steps = _steps("es\n\nand fix curator: systemctl status curator.timer on the es-ops box\n")
    assert steps[0].command == "systemctl status curator.timer"


def test_a_condition_arrow_action_line_guards_itself_not_the_lines_below() -> None:
    steps = _steps(
        "node NotReady\n\n"
        "kubectl describe node <node>\n"
        "DiskPressure -> use the disk-full notes instead, don't drain\n"
        "ssh <node>\n"
        "  systemctl status kubelet\n"
    )
    assert steps[1].command is None
    assert steps[1].condition == "DiskPressure"
    assert _by_command(steps, "ssh").condition is None
    assert _by_command(steps, "systemctl status kubelet").condition is None


def test_a_condition_arrow_over_an_indented_block_guards_the_block() -> None:
    steps = _steps(
        "etcd\n\n"
        "- etcdctl alarm list\n"
        "- >2GB -> compact + defrag\n"
        "    etcdctl compact 42\n"
        "    etcdctl defrag --endpoints=https://m1:2379\n"
    )
    assert _by_command(steps, "etcdctl compact").condition == ">2GB"
    assert _by_command(steps, "etcdctl defrag").condition == ">2GB"


def test_an_approval_on_an_item_with_sub_steps_guards_each_sub_step() -> None:
    steps = _steps(
        "Lag\n\n"
        "7. If lag still grows, it's a poison message. Everything in 7 needs sign-off from "
        "the payments lead.\n"
        "   a) stop the consumers: kubectl -n q scale deployment/proc --replicas=0\n"
        "   b) skip one message:\n"
        "      kafka-consumer-groups.sh --bootstrap-server k:9092 --group proc --reset-offsets "
        "--shift-by 1 --execute\n"
        "   c) start them again: kubectl -n q scale deployment/proc --replicas=12\n"
    )
    assert [s.require_approval for s in steps if s.command] == [True, True, True]


def test_an_approval_after_a_parenthesised_command_guards_the_next_command() -> None:
    steps = _steps(
        "Lag\n\n"
        "Stop the consumers first (kubectl -n s scale deploy/proj --replicas=0), then, only after "
        "the tech lead has approved it, move the offset:\n"
        "kafka-consumer-groups.sh --bootstrap-server k:9092 --group proj --reset-offsets "
        "--to-latest --execute\n"
    )
    assert [s.require_approval for s in steps] == [False, True]


def test_agreed_and_ask_someone_in_a_channel_first_are_approvals() -> None:
    agreed = _steps(
        "Queue\n"
        "Step 7: Purging deletes every message. Only do this when the product owner has agreed:\n"
        "rabbitmqctl purge_queue -p /prod notifications\n"
    )
    assert agreed[0].require_approval
    ask = _steps(
        "mysql\n\nkill the offender -> ask app owner in #orders first\n"
        '  mysql -h h1 -e "KILL 42;"\n'
    )
    assert ask[0].require_approval


def test_a_prose_sentence_naming_a_step_by_number_makes_it_need_approval() -> None:
    steps = _steps(
        "Failover\n"
        "Warning: writes fail for a minute. Get approval from the IC before step 2.\n"
        "Step 1: Check\nmysqladmin -h db1 ping\n"
        "Step 2: Fail over\n./scripts/failover.sh --promote db2 --confirm\n"
    )
    assert [s.require_approval for s in steps] == [False, True]


def _variables(text: str) -> set[str]:
    return {v.name for v in parse_runbook(text, source_name="t.txt").runbook.variables}


def test_variables_named_in_prose_in_more_ways() -> None:
    assert "edge_host" in _variables(
        "502s\n\nOn the edge proxy named in the alert (<edge_host>), look at the error log:\n"
        "tail -n 100 /var/log/nginx/error.log\n"
    )
    assert "host" in _variables(
        "flapping\n\nssh batch-02 (or whichever host the alert says)\nsystemctl status app\n"
    )
    assert "id" in _variables(
        'mysql\n\nmysql -h db1 -e "KILL 12345;"\n(replace 12345 with the id from the list above)\n'
    )
    assert "broker" in _variables("kafka\n\n- disk on that broker: `df -h /var/lib/kafka`\n")
    assert "host" in _variables("clock\n\n`date +%s.%N` on the box and on your laptop\n")


def test_a_hand_off_after_a_prohibition_is_a_manual_step() -> None:
    steps = _steps(
        "drift\n\nterraform plan -detailed-exitcode\n"
        "If the plan wants to destroy anything, do NOT apply. Page the infra lead instead.\n"
    )
    assert steps[1].command is None
    assert steps[1].title.startswith("Page the infra lead")
    assert steps[1].condition is not None
    dont = _steps(
        "replica\n\npsql -h r1 -c 'SELECT 1'\n"
        "Don't rebuild the replica yourself, escalate to #dba-oncall.\n"
    )
    assert dont[1].title.startswith("Escalate to #dba-oncall")


def test_a_later_sentence_of_a_label_line_is_not_a_step() -> None:
    steps = _steps(
        "mysql\n\nPrimary: db1.internal. Connect as the ops user; the password is in ~/.my.cnf.\n"
        'mysql -h db1.internal -e "SHOW PROCESSLIST"\n'
    )
    assert len(steps) == 1


def test_an_approval_before_running_a_named_command_guards_that_command() -> None:
    steps = _steps(
        "clock skew\n\n"
        "forced a step: sudo chronyc makestep\n"
        "and restarted chrony: `sudo systemctl restart chronyd`\n"
        "heads up: makestep jumps the clock. get an ok from the data team before running "
        "makestep on any db host\n"
    )
    assert [s.require_approval for s in steps] == [True, False]


def test_a_condition_in_the_last_clause_before_a_command_guards_it() -> None:
    steps = _steps(
        "failover\n\n"
        "Post in #orders that the failover is done. order-api reconnects by itself; if it has "
        "not reconnected after 2 minutes, restart it (kubectl -n orders rollout restart "
        "deploy/order-api).\n"
    )
    step = _by_command(steps, "kubectl -n orders rollout restart")
    assert step.condition is not None
    assert "not reconnected after 2 minutes" in step.condition


def test_a_yes_no_question_before_a_command_is_what_it_checks_not_a_condition() -> None:
    steps = _steps(
        "certs\n\n"
        "1. Is the renewal timer alive?  systemctl list-timers certbot.timer\n"
        "Step 2 \u2013 Are keys being evicted? `redis-cli -h r1 INFO stats`\n"
    )
    assert [s.condition for s in steps] == [None, None]


def test_a_short_noun_question_still_guards_its_command() -> None:
    steps = _steps("docker\n\ndisk full? docker system df\n")
    assert steps[0].condition is not None
    assert steps[0].condition.startswith("disk full")


def test_a_condition_inside_an_aside_after_a_command_is_not_the_steps() -> None:
    steps = _steps(
        "disk\n\nLook for deleted-but-open files (the space only comes back when the process "
        "closes them):\nsudo lsof +L1 | sort -k7 -rn | head\n"
    )
    assert steps[0].condition is None


def test_when_you_are_done_is_not_a_condition() -> None:
    steps = _steps(
        "restore\n\nWhen you are done, delete the restored instance:\n"
        "aws rds delete-db-instance --db-instance-identifier tmp-restore --skip-final-snapshot\n"
    )
    assert steps[0].condition is None


def test_a_page_level_approval_warning_guards_the_destructive_steps() -> None:
    steps = _steps(
        "MySQL failover\n"
        "Overview\n"
        "Warning: A failover is disruptive. Only do this after getting approval from the "
        "incident commander.\n"
        "Procedure\n"
        "Step 1: Confirm the primary is down\nmysqladmin -h db1 ping\n"
        "Step 2: Fail over\n./scripts/failover.sh --cluster orders --promote db2 --confirm\n"
    )
    assert [s.require_approval for s in steps] == [False, True]


def test_a_command_after_so_is_kept_only_when_it_has_arguments() -> None:
    steps = _steps(
        "node\n\n5. containerd was hung, so sudo systemctl restart containerd && sudo systemctl "
        "restart kubelet\n"
    )
    assert steps[0].command == (
        "sudo systemctl restart containerd && sudo systemctl restart kubelet"
    )
    prose = _steps(
        "mysql\n\nmysql -h db1 -e 'SHOW PROCESSLIST'\n"
        "The credentials are in ~/.my.cnf, so mysql picks them up without a password prompt.\n"
    )
    assert [s.command for s in prose if s.command] == ["mysql -h db1 -e 'SHOW PROCESSLIST'"]
