"""Risk never rated below what a command's own arguments say it can destroy: forced shard
allocations that accept data loss, retention changes, dumps piped into a live database,
helm --force, and chronyc's clock steps."""

from __future__ import annotations

from domain.runbooks import classify
from schemas.runbook import StepRisk


def test_a_reroute_that_accepts_data_loss_is_dangerous() -> None:
    command = (
        "curl -XPOST localhost:9200/_cluster/reroute -H 'Content-Type: application/json' "
        '-d \'{"commands":[{"allocate_stale_primary":{"index":"i","shard":0,"node":"n",'
        '"accept_data_loss":true}}]}\''
    )
    assert classify(command).risk is StepRisk.DANGEROUS


def test_a_retention_change_is_dangerous_but_reading_it_is_safe() -> None:
    patch = 'kubectl -n mon patch prometheus k8s --type merge -p \'{"spec":{"retention":"7d"}}\''
    assert classify(patch).risk is StepRisk.DANGEROUS
    read = "kubectl -n mon get prometheus k8s -o jsonpath='{.spec.retention}'"
    assert classify(read).risk is StepRisk.SAFE


def test_a_dump_piped_into_a_sql_client_is_dangerous() -> None:
    command = "pg_dump -h restore -U admin -d accounts --data-only -t t1 | psql -h prod -d accounts"
    assert classify(command).risk is StepRisk.DANGEROUS
    assert classify('psql -h prod -c "SELECT 1"').risk is StepRisk.SAFE


def test_helm_rollback_with_force_is_dangerous() -> None:
    assert classify("helm -n web rollback api 41 --force").risk is StepRisk.DANGEROUS
    assert classify("helm -n web rollback api 41 --wait").risk is StepRisk.CAUTION


def test_chronyc_makestep_changes_the_clock_and_tracking_only_reads() -> None:
    assert classify("sudo chronyc makestep").risk is StepRisk.CAUTION
    assert classify("chronyc tracking").risk is StepRisk.SAFE
    assert classify("chronyc sources -v").risk is StepRisk.SAFE
