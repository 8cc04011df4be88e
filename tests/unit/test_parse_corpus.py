"""The parser on every real runbook in the shared corpus, plus expectations on specific ones."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from domain.runbooks import ParseResult, parse_runbook
from schemas.runbook import Runbook, StepRisk

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
PROM = CORPUS / "prometheus-operator-runbooks"
OPENSHIFT = CORPUS / "openshift-runbooks"

if not (PROM.is_dir() and OPENSHIFT.is_dir()):
    raise RuntimeError(f"runbook corpus not found under {CORPUS}: these tests need it")

PROM_FILES = sorted(PROM.rglob("*.md"))
OPENSHIFT_FILES = sorted(OPENSHIFT.rglob("*.md"))


@cache
def parsed(relative: str) -> ParseResult:
    path = CORPUS / relative
    return parse_runbook(path.read_text(encoding="utf-8"), source_name=path.name)


def _commands(rb: Runbook) -> list[str]:
    return [s.command for s in rb.steps if s.command]


def test_corpus_sizes() -> None:
    assert len(PROM_FILES) == 108
    assert len(OPENSHIFT_FILES) == 272


@pytest.mark.parametrize("path", PROM_FILES + OPENSHIFT_FILES, ids=lambda p: p.name)
def test_every_corpus_runbook_parses(path: Path) -> None:
    result = parsed(str(path.relative_to(CORPUS)))
    rb = result.runbook
    assert rb.steps
    assert rb.title
    Runbook.model_validate(rb.model_dump())  # ids unique, variable names valid
    data = result.to_json_dict()
    assert {"title", "prerequisites", "variables", "steps", "ambiguities"} <= set(data)
    for step in rb.steps:
        assert step.risk_reasons
        if step.command is None:
            assert step.manual
    for variable in rb.variables:
        assert variable.source is None or variable.source.startswith(("label:", "annotation:"))


def test_corpus_totals_are_plausible() -> None:
    runbooks = [parsed(str(p.relative_to(CORPUS))).runbook for p in PROM_FILES + OPENSHIFT_FILES]
    commands = [c for rb in runbooks for c in _commands(rb)]
    conditions = [s for rb in runbooks for s in rb.steps if s.condition]
    rollbacks = [s for rb in runbooks for s in rb.steps if s.rollback]
    assert len(commands) > 800
    assert len(conditions) > 100
    assert len(rollbacks) >= 15


def test_kube_pod_crash_looping() -> None:
    result = parsed("prometheus-operator-runbooks/kubernetes/KubePodCrashLooping.md")
    rb = result.runbook
    assert rb.title == "Kube Pod Crash Looping"
    assert _commands(rb) == [
        "kubectl -n {{ namespace }} get pod {{ pod }}",
        "kubectl -n {{ namespace }} describe pod {{ pod }}",
        "kubectl -n {{ namespace }} logs {{ pod }} -c {{ container }}",
    ]
    assert {v.name: v.source for v in rb.variables} == {
        "namespace": "label:namespace",
        "pod": "label:pod",
        "container": "label:container",
    }
    assert all(s.risk is StepRisk.SAFE for s in rb.steps if s.command)
    assert "CrashLoop" in rb.description
    assert "Service degradation" in rb.description
    assert not any("CrashLoop which means" in s.title for s in rb.steps)


def test_deployment_replicas_mismatch_names_the_deployment() -> None:
    rb = parsed("prometheus-operator-runbooks/kubernetes/KubeDeploymentReplicasMismatch.md").runbook
    assert _commands(rb)[0] == "kubectl -n {{ namespace }} describe deployment {{ deployment }}"
    assert "kubectl with access to the cluster (kubeconfig/context)" in rb.prerequisites


def test_node_filesystem_space_filling_up() -> None:
    result = parsed("prometheus-operator-runbooks/node/NodeFilesystemSpaceFillingUp.md")
    rb = result.runbook
    debug = next(s for s in rb.steps if s.command and "debug node" in s.command)
    assert debug.command == "kubectl -n default debug node/{{ instance }}"
    assert debug.condition is not None
    assert "mountpoint label is /" in debug.condition
    assert [(v.name, v.source) for v in rb.variables] == [("instance", "label:instance")]
    todo = [a for a in result.ambiguities if "TODO" in a.message]
    assert len(todo) == 2
    assert any("interactive" in a.message for a in result.ambiguities)
    assert "extrapolation" in rb.description


def test_openshift_kube_pod_not_ready_has_branch() -> None:
    rb = parsed("openshift-runbooks/cluster-monitoring-operator/KubePodNotReady.md").runbook
    assert _commands(rb) == [
        "oc get pod -n {{ namespace }} {{ pod }}",
        "oc logs -n {{ namespace }} {{ pod }}",
    ]
    assert rb.steps[0].condition is None
    assert rb.steps[1].condition == "the pod is in a Running state"
    assert rb.prerequisites == ["oc CLI logged in to the OpenShift cluster"]
    assert "alertname = KubePodNotReady" not in " ".join(_commands(rb))


def test_virt_handler_rollout_failing() -> None:
    result = parsed(
        "openshift-runbooks/openshift-virtualization-operator/VirtHandlerDaemonSetRolloutFailing.md"
    )
    rb = result.runbook
    assert "oc get pods -n {{ namespace }} -l=kubevirt.io=virt-handler" in _commands(rb)
    assert any("{{ virt_handler }}" in c for c in _commands(rb))
    assert any("sets $NAMESPACE" in a.message for a in result.ambiguities)
    mitigation = [s for s in rb.steps if s.id.startswith("mitigation")]
    assert mitigation[0].manual
    assert mitigation[0].condition is not None
    assert "insufficient resources" in mitigation[0].condition


def test_target_down_comment_binding_and_multiline_pipeline() -> None:
    rb = parsed("openshift-runbooks/cluster-monitoring-operator/TargetDown.md").runbook
    logs = next(c for c in _commands(rb) if "--tail=-1" in c)
    assert logs.startswith("oc -n {{ namespace }} logs -l")
    assert logs.endswith("| sort | uniq -c | sort -n")  # output lines after it are dropped
    assert "oc top pod {{ pod }}" in _commands(rb)
    step = next(s for s in rb.steps if s.command == "oc top pod {{ pod }}")
    assert step.condition == "some basic metrics are not available"


def test_etcd_defrag_is_caution() -> None:
    rb = parsed("openshift-runbooks/cluster-etcd-operator/etcdHighFsyncDurations.md").runbook
    step = next(s for s in rb.steps if s.command == "etcdctl defrag")
    assert step.risk is StepRisk.CAUTION
    assert step.id.startswith("mitigation")
    assert not any("histogram_quantile" in c for c in _commands(rb))


def test_ceph_pod_debug_helper_binds_mypod() -> None:
    rb = parsed(
        "openshift-runbooks/openshift-container-storage-operator/helpers/podDebug.md"
    ).runbook
    assert "oc describe pod/{{ pod }}" in _commands(rb)
    assert not any("MYPOD" in c for c in _commands(rb))
    step = next(s for s in rb.steps if s.command is None and "kubelet" in s.title)
    assert step.condition == "a node was assigned"


def test_storage_autoscaling_restart_has_undo() -> None:
    rb = parsed(
        "openshift-runbooks/openshift-container-storage-operator/StorageAutoScalingFailed.md"
    )
    step = next(s for s in rb.runbook.steps if s.command and "rollout restart" in s.command)
    assert step.rollback == "oc rollout undo deployment rook-ceph-operator -n {{ namespace }}"
    deletes = [s for s in rb.runbook.steps if s.command and " delete pod" in s.command]
    assert deletes
    assert all(s.risk is StepRisk.DANGEROUS for s in deletes)


def test_ha_control_plane_down_drain_is_dangerous_with_uncordon() -> None:
    rb = parsed(
        "openshift-runbooks/openshift-virtualization-operator/HAControlPlaneDown.md"
    ).runbook
    drain = next(s for s in rb.steps if s.command and "drain" in s.command)
    assert drain.risk is StepRisk.DANGEROUS
    assert drain.rollback == "oc uncordon {{ node }}"
    assert drain.condition is not None
    assert "cannot be recovered" in drain.condition
    assert "SSH access to the hosts" in rb.prerequisites


def test_acm_scale_rollback_captures_previous_replicas() -> None:
    rb = parsed(
        "openshift-runbooks/advanced-cluster-management-operator/"
        "ACMMetricsCollectorForwardRemoteWriteError.md"
    ).runbook
    scale_zero = next(s for s in rb.steps if s.command and s.command.endswith("--replicas=0"))
    assert scale_zero.risk is StepRisk.DANGEROUS
    assert scale_zero.rollback is not None
    assert "{{ previous_replicas }}" in scale_zero.rollback
    assert "jsonpath={.spec.replicas}" in scale_zero.capture["previous_replicas"]
    assert not any(c.startswith("err=") for c in _commands(rb))


def test_ceph_osd_flapping_flags_have_inverse() -> None:
    rb = parsed(
        "openshift-runbooks/openshift-container-storage-operator/CephOSDFlapping.md"
    ).runbook
    step = next(s for s in rb.steps if s.command and s.command.startswith("ceph osd set noup"))
    assert step.rollback == "ceph osd unset noup"


def test_vm_memory_pressure_stop_start() -> None:
    rb = parsed(
        "openshift-runbooks/openshift-virtualization-operator/KubeVirtVMGuestMemoryPressure.md"
    ).runbook
    stop = next(s for s in rb.steps if s.command and s.command.startswith("virtctl stop"))
    assert stop.rollback is not None
    assert stop.rollback.startswith("virtctl start")
    assert {"vm", "namespace"} <= {v.name for v in rb.variables}


def test_prose_only_runbook_has_manual_step_and_ambiguity() -> None:
    result = parsed("prometheus-operator-runbooks/node/NodeClockNotSynchronising.md")
    assert len(result.runbook.steps) == 1
    assert result.runbook.steps[0].manual
    assert result.ambiguities[0].step_id is None


def test_same_alert_two_runbooks_both_parse() -> None:
    prom = parsed("prometheus-operator-runbooks/kubernetes/KubePodNotReady.md").runbook
    osh = parsed("openshift-runbooks/cluster-monitoring-operator/KubePodNotReady.md").runbook
    assert prom.selectors[0].alertname == osh.selectors[0].alertname == "KubePodNotReady"
