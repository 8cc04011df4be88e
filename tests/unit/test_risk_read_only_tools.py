"""Operations tools whose subcommand says they only read: RabbitMQ diagnostics, mysqladmin's
status verbs and the Argo Rollouts kubectl plugin (its changing verbs stay a change)."""

from __future__ import annotations

from domain.runbooks import classify
from schemas.runbook import StepRisk


def test_rabbitmq_diagnostics_only_reads() -> None:
    assert classify("rabbitmq-diagnostics alarms").risk is StepRisk.SAFE
    assert classify("rabbitmq-diagnostics memory_breakdown --unit mb").risk is StepRisk.SAFE
    assert classify("rabbitmq-diagnostics -n rabbit@n1 check_running").risk is StepRisk.SAFE


def test_mysqladmin_status_verbs_read_and_shutdown_is_dangerous() -> None:
    assert classify("mysqladmin -h db1 ping").risk is StepRisk.SAFE
    assert classify("mysqladmin -h db1 processlist status").risk is StepRisk.SAFE
    assert classify("mysqladmin -h db1 flush-hosts").risk is StepRisk.CAUTION
    assert classify("mysqladmin -h db1 shutdown").risk is StepRisk.DANGEROUS


def test_argo_rollouts_get_reads_and_abort_changes() -> None:
    assert classify("kubectl argo rollouts get rollout web -n shop").risk is StepRisk.SAFE
    assert classify("kubectl argo rollouts abort web -n shop").risk is StepRisk.CAUTION
