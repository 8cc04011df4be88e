"""Each extraction feature of the Markdown runbook parser, on small handcrafted inputs."""

from __future__ import annotations

import json

import pytest

from domain.runbooks import ParseResult, RunbookParseError, parse_runbook, runbook_id_from
from domain.runbooks.commands import code_block_commands, inline_commands
from domain.runbooks.rollback import infer
from domain.runbooks.variables import canonical, rewrite
from schemas.runbook import Runbook, StepRisk


def _parse(text: str) -> ParseResult:
    return parse_runbook(text, source_name="Sample.md")


def _commands(result: ParseResult) -> list[str]:
    return [s.command for s in result.runbook.steps if s.command]


# ---- structure, titles, ids ----------------------------------------------------------------


def test_empty_input_raises_clear_error() -> None:
    with pytest.raises(RunbookParseError, match="empty"):
        parse_runbook("  \n\t ")


def test_front_matter_title_and_alertname_selector() -> None:
    text = "---\ntitle: Kube Pod Crash Looping\nweight: 20\n---\n# KubePodCrashLooping\n\n"
    text += "## Diagnosis\n\n- Check pods via `kubectl get pods -n $NAMESPACE`.\n"
    result = parse_runbook(text, source_name="kubernetes/KubePodCrashLooping.md")
    assert result.runbook.title == "Kube Pod Crash Looping"
    assert result.runbook.id == "kubepodcrashlooping"
    assert result.runbook.selectors[0].alertname == "KubePodCrashLooping"


def test_runbook_id_from() -> None:
    assert runbook_id_from("KubePodCrashLooping.md") == "kubepodcrashlooping"
    assert runbook_id_from("a/b/Disk Full (prod).md") == "disk-full-prod"
    assert runbook_id_from("!!!") == "runbook"


def test_meaning_and_impact_are_context_not_steps() -> None:
    text = (
        "# X\n\n## Meaning\n\nRun `kubectl get pods` is what people do.\n\n"
        "## Impact\n\nCheck nothing.\n\n## Mitigation\n\nRestart it with "
        "`kubectl rollout restart deployment/web -n shop`.\n"
    )
    result = _parse(text)
    assert _commands(result) == ["kubectl rollout restart deployment/web -n shop"]
    assert "Meaning:" in result.runbook.description
    assert all(s.id.startswith("mitigation-") for s in result.runbook.steps)


def test_numbered_and_bulleted_lists_and_step_ids() -> None:
    text = (
        "## Diagnosis\n\n1. Check pods: `kubectl get pods -n a`\n"
        "2. Check events: `kubectl get events -n a`\n\n"
        "## Mitigation\n\n- Restart: `kubectl rollout restart deploy/x -n a`\n"
    )
    steps = _parse(text).runbook.steps
    assert [s.id for s in steps] == ["diagnosis-1", "diagnosis-2", "mitigation-1"]
    assert steps[0].title == "Check pods"
    assert steps[0].risk is StepRisk.SAFE
    assert steps[0].risk_reasons


def test_prose_inline_commands() -> None:
    text = (
        "## Diagnosis\n\nCheck the logs with `kubectl logs -n shop web-0`. "
        "Then run kubectl describe pod web-0 -n shop to see the events.\n"
    )
    assert _commands(_parse(text)) == [
        "kubectl logs -n shop web-0",
        "kubectl describe pod web-0 -n shop",
    ]


def test_code_block_one_step_per_command_with_comment_titles() -> None:
    text = (
        "## Mitigation\n\n```bash\n# Look at the pods\nkubectl get pods -n a\n\n\n"
        "# Restart the API\nkubectl rollout restart deploy/api -n a\n```\n"
    )
    steps = _parse(text).runbook.steps
    assert [s.title for s in steps] == ["Look at the pods", "Restart the API"]
    assert [s.command for s in steps] == [
        "kubectl get pods -n a",
        "kubectl rollout restart deploy/api -n a",
    ]


def test_backslash_continuation_and_prompts_and_output() -> None:
    block = (
        "$ kubectl get pods \\\n    -n shop \\\n    -o wide\nNAME   READY\nweb-0  1/1\n"
        "$ kubectl get svc -n shop\n"
    )
    found = code_block_commands(block, "console")
    assert [c.command for c in found] == [
        "kubectl get pods \\\n    -n shop \\\n    -o wide",
        "kubectl get svc -n shop",
    ]


def test_heredoc_and_quotes_stay_one_command() -> None:
    block = (
        "cat <<EOF | kubectl apply -f -\nkind: ConfigMap\nEOF\noc patch x -p '{\n  \"a\": 1\n}'\n"
    )
    found = [c.command for c in code_block_commands(block, "bash")]
    assert len(found) == 2
    assert found[0] is not None
    assert found[0].endswith("EOF")


def test_indented_code_block_and_non_shell_blocks() -> None:
    text = (
        "## Diagnosis\n\nRun this:\n\n    kubectl get nodes\n\n"
        "```promql\nrate(x[5m])\n```\n\n```yaml\nkind: Pod\n```\n"
    )
    assert _commands(_parse(text)) == ["kubectl get nodes"]


def test_todo_block_becomes_manual_step_with_ambiguity() -> None:
    text = "## Mitigation\n\nRemove unused images:\n\n```shell\n# TODO: Command needed\n```\n"
    result = _parse(text)
    step = result.runbook.steps[0]
    assert step.manual
    assert step.command is None
    assert step.title == "Remove unused images"
    assert any("TODO" in a.message for a in result.ambiguities if a.step_id == step.id)


# ---- decision points ---------------------------------------------------------------------------


def test_if_otherwise_conditions() -> None:
    text = (
        "## Diagnosis\n\nIf the pod is in a `Running` state, review the logs:\n\n"
        "```console\n$ oc logs -n $NAMESPACE $POD\n```\n\n"
        "Otherwise, describe it:\n\n```console\n$ oc describe pod -n $NAMESPACE $POD\n```\n"
    )
    steps = _parse(text).runbook.steps
    assert steps[0].condition == "the pod is in a Running state"
    assert steps[0].title == "Review the logs"
    assert steps[1].condition == "not (the pod is in a Running state)"


def test_if_none_of_this_helps_and_list_item_conditions() -> None:
    text = (
        "## Mitigation\n\n- If the disk is full, clean up with `journalctl --vacuum-size=500M`.\n"
        "- Restart kubelet: `systemctl restart kubelet`\n\n"
        "If none of this helps, escalate to the #storage-oncall channel.\n"
    )
    steps = _parse(text).runbook.steps
    assert steps[0].condition == "the disk is full"
    assert steps[1].condition is None
    assert steps[2].condition == "none of this helps"
    assert steps[2].manual


def test_heading_condition_governs_its_section() -> None:
    text = "## Mitigation\n\n### If etcd has no leader\n\n```bash\netcdctl endpoint status\n```\n"
    assert _parse(text).runbook.steps[0].condition == "etcd has no leader"


# ---- variables --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("$NAMESPACE", "namespace"),
        ("${NS}", "namespace"),
        ("<pod-name>", "pod"),
        ("<my-namespace>", "namespace"),
        ("{{ $labels.instance }}", "instance"),
        ("<instance label from alert>", "instance"),
        ("NODE_NAME", "node"),
        ("{{service}}", "service"),
    ],
)
def test_canonical_names(raw: str, name: str) -> None:
    assert canonical(raw) == name


def test_rewrite_placeholders_but_not_shell_variables() -> None:
    command = (
        "kubectl -n $NAMESPACE logs ${POD} -c <container> --since=1h | "
        "awk '{print $2}' > $HOME/out-$?.txt; echo {{ $labels.instance }} $1"
    )
    rewritten, refs = rewrite(command)
    assert rewritten == (
        "kubectl -n {{ namespace }} logs {{ pod }} -c {{ container }} --since=1h | "
        "awk '{print $2}' > $HOME/out-$?.txt; echo {{ instance }} $1"
    )
    assert [(r.name, r.source) for r in refs] == [
        ("namespace", "label:namespace"),
        ("pod", "label:pod"),
        ("container", "label:container"),
        ("instance", "label:instance"),
    ]


def test_loop_variables_and_go_templates_are_not_runbook_variables() -> None:
    command = "for NODE in $(oc get nodes -o name); do oc describe $NODE; done"
    assert rewrite(command)[1] == []
    go = "oc get pods -o go-template='{{range .items}}{{.metadata.name}}{{end}}'"
    assert rewrite(go) == (go, [])


def test_binding_line_is_dropped_and_aliases_the_variable() -> None:
    text = (
        "## Mitigation\n\n```shell\n$ NODE_NAME=<instance label from alert>\n"
        "$ kubectl -n default debug node/$NODE_NAME\n```\n"
    )
    result = _parse(text)
    assert _commands(result) == ["kubectl -n default debug node/{{ instance }}"]
    assert [(v.name, v.source) for v in result.runbook.variables] == [
        ("instance", "label:instance")
    ]


def test_variables_have_valid_names_and_unknown_sources_are_flagged() -> None:
    text = "## Diagnosis\n\n```bash\noc get pod <virt-launcher-pod> -n $NAMESPACE\n```\n"
    result = _parse(text)
    names = {v.name: v.source for v in result.runbook.variables}
    assert names == {"virt_launcher_pod": None, "namespace": "label:namespace"}
    assert any("virt_launcher_pod" in a.message for a in result.ambiguities)


# ---- rollbacks --------------------------------------------------------------------------------


def test_inferred_rollbacks() -> None:
    restart = infer("kubectl -n shop rollout restart deployment/web")
    assert restart is not None
    assert restart.command == "kubectl rollout undo deployment/web -n shop"
    cordon = infer("kubectl cordon node-1")
    assert cordon is not None
    assert cordon.command == "kubectl uncordon node-1"
    scale = infer("kubectl scale deployment/web --replicas=5 -n shop")
    assert scale is not None
    assert (
        scale.command == "kubectl scale deployment/web -n shop --replicas={{ previous_replicas }}"
    )
    assert "previous_replicas" in scale.capture
    assert "recorded" in scale.note
    asg = infer(
        "aws autoscaling set-desired-capacity --auto-scaling-group-name web --desired-capacity 9"
    )
    assert asg is not None
    assert "{{ previous_desired_capacity }}" in asg.command
    assert infer("kubectl apply -f x.yaml") is None


def test_stated_rollback_wins_and_scale_capture_reaches_the_step() -> None:
    text = (
        "## Mitigation\n\n1. Scale up: `kubectl scale deploy/web --replicas=6 -n shop`\n"
        "2. Apply the fix: `kubectl apply -f fix.yaml`. To revert, run "
        "`kubectl apply -f previous.yaml`.\n"
    )
    steps = _parse(text).runbook.steps
    assert (
        steps[0].rollback == "kubectl scale deploy/web -n shop --replicas={{ previous_replicas }}"
    )
    assert steps[0].capture["previous_replicas"].startswith("kubectl get deploy/web")
    assert steps[1].rollback == "kubectl apply -f previous.yaml"
    assert len(steps) == 2


# ---- prerequisites and ambiguities ------------------------------------------------------------


def test_prerequisites_from_commands_and_prose() -> None:
    text = (
        "## Prerequisites\n\n- Access to the prod bastion\n\n## Diagnosis\n\n"
        "Connect to the VPN first. You need the cluster-admin role.\n\n"
        "```bash\noc adm top nodes\npsql -c 'select 1'\naws ec2 describe-instances\n```\n"
    )
    prereqs = _parse(text).runbook.prerequisites
    assert "Access to the prod bastion" in prereqs
    assert "VPN connection" in prereqs
    assert "cluster-admin role" in prereqs
    assert any(p.startswith("oc CLI") for p in prereqs)
    assert any(p.startswith("psql") for p in prereqs)
    assert any(p.startswith("AWS CLI") for p in prereqs)


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("Check the logs.", "check the logs"),
        ("Check the dashboard for errors.", "check the dashboard"),
        ("Restart the service.", "restart a service"),
        ("Run the failover script.", "script"),
        ("Escalate if it persists.", "who"),
    ],
)
def test_vague_steps_are_ambiguities(line: str, fragment: str) -> None:
    result = _parse(f"## Mitigation\n\n{line}\n")
    assert any(fragment in a.message for a in result.ambiguities), result.ambiguities


def test_specific_steps_are_not_ambiguous() -> None:
    result = _parse("## Mitigation\n\nCheck the logs with `kubectl logs -n a web-0`.\n")
    assert result.ambiguities == []


def test_manual_steps_are_caution_with_reason() -> None:
    step = _parse("## Mitigation\n\nTalk to the database team in #db.\n").runbook.steps[0]
    assert step.manual
    assert step.risk is StepRisk.CAUTION
    assert "manual step" in step.risk_reasons[0]


def test_description_only_runbook_gets_one_manual_step() -> None:
    result = _parse("# X\n\n## Meaning\n\nSomething is wrong.\n")
    assert len(result.runbook.steps) == 1
    assert result.runbook.steps[0].manual
    assert any(a.step_id is None for a in result.ambiguities)


def test_inline_commands_ignore_promql_and_words() -> None:
    assert inline_commands("The metric `up == 0` and `Running` and `kubectl`.") == []


def test_json_output_shape_roundtrips_into_the_model() -> None:
    text = "## Diagnosis\n\n- If pods crash, check `kubectl get pods -n $NAMESPACE`.\n"
    data = _parse(text).to_json_dict()
    json.dumps(data)
    assert {"title", "prerequisites", "variables", "steps", "ambiguities"} <= set(data)
    step = data["steps"][0]
    assert {"id", "title", "command", "risk", "rollback", "condition"} <= set(step)
    assert data["variables"] == [
        {
            "name": "namespace",
            "source": "label:namespace",
            "description": data["variables"][0]["description"],
            "required": True,
        }
    ]
    Runbook.model_validate(
        {k: data[k] for k in ("id", "title", "description", "prerequisites")}
        | {"steps": [dict(s.items()) for s in data["steps"]]}
    )
