"""choose_runbook: the product's matcher over stored runbooks — confidence, candidates,
threshold, mappings first, variables filled, and an index built once per set of runbooks."""

from __future__ import annotations

from typing import Any

import pytest

from domain.alerts import choose
from domain.alerts.choose import RunbookMatcher, choose_runbook, matcher_for, runbook_set_key
from domain.alerts.match import DEFAULT_THRESHOLD, Mapping
from schemas.incident import MatchCandidate, SelectedRunbook
from schemas.runbook import AlertSelector, Runbook
from tests.unit.alert_support import firing_alert


def runbook(rid: str, title: str, version: int = 1, **extra: Any) -> Runbook:
    data: dict[str, Any] = {
        "id": rid,
        "title": title,
        "version": version,
        "steps": [
            {
                "id": "look",
                "title": "Look at the pod",
                "command": "kubectl -n {{ namespace }} describe pod {{ pod }}",
                "risk": "safe",
            }
        ],
        "variables": [
            {"name": "namespace", "source": "label:namespace"},
            {"name": "pod", "source": "label:pod"},
        ],
    }
    data.update(extra)
    return Runbook.model_validate(data)


RUNBOOKS = [
    runbook(
        "pod-crashloop",
        "KubePodCrashLooping",
        description="Pod is crash looping: the container keeps restarting.",
    ),
    runbook(
        "disk-filling",
        "NodeFilesystemSpaceFillingUp",
        description="The filesystem on a node is running out of space.",
    ),
    runbook(
        "cert-expiry",
        "KubeClientCertificateExpiration",
        description="A client certificate used against the Kubernetes API server expires soon.",
    ),
    runbook(
        "payments-restart",
        "Restart the payments service",
        description="Bounce the payments deployment.",
        selectors=[{"alertname": "PaymentsDown", "service": "payments"}],
    ),
]


def test_name_match_fills_variables_and_reports_confidence_and_candidates() -> None:
    chosen = choose_runbook(
        RUNBOOKS,
        firing_alert("KubePodCrashLooping", labels={"namespace": "payments", "pod": "api-1"}),
    )
    assert isinstance(chosen, SelectedRunbook)
    assert chosen.runbook is not None
    assert chosen.runbook.id == "pod-crashloop"
    assert chosen.method == "name"
    assert chosen.confidence is not None
    assert chosen.confidence >= 0.9
    assert chosen.reason.startswith("matched by alert name")
    assert chosen.variables == {"namespace": "payments", "pod": "api-1"}
    assert chosen.missing_variables == []
    assert chosen.rendered[0].command == "kubectl -n payments describe pod api-1"
    assert chosen.candidates
    assert all(isinstance(c, MatchCandidate) for c in chosen.candidates)
    assert chosen.candidates[0].runbook == "pod-crashloop"
    assert all(0.0 <= c.score <= 1.0 and c.reasons for c in chosen.candidates)


def test_missing_variables_are_named() -> None:
    chosen = choose_runbook(
        RUNBOOKS, firing_alert("KubePodCrashLooping", labels={"namespace": "x"})
    )
    assert chosen.variables == {"namespace": "x"}
    assert chosen.missing_variables == ["pod"]
    assert chosen.rendered[0].command is None  # never run with a hole in it


def test_prose_title_matches_by_text_with_a_confidence_below_one() -> None:
    chosen = choose_runbook(RUNBOOKS, firing_alert("Node disk is running out of space"))
    assert chosen.runbook is not None
    assert chosen.runbook.id == "disk-filling"
    assert chosen.method == "text"
    assert chosen.confidence is not None
    assert 0.45 <= chosen.confidence < 1.0


def test_below_threshold_no_runbook_but_candidates_are_kept() -> None:
    unrelated = firing_alert("Coffee machine on floor 3 is out of beans")
    chosen = choose_runbook(RUNBOOKS, unrelated)
    assert chosen.runbook is None
    assert chosen.reason.startswith("no runbook matched")
    assert chosen.method == "none"
    assert chosen.rendered == []
    assert chosen.variables == {}

    prose = firing_alert("Node disk is running out of space")
    sure = choose_runbook(RUNBOOKS, prose)
    assert sure.confidence is not None
    raised = choose_runbook(RUNBOOKS, prose, threshold=min(1.0, sure.confidence + 0.01))
    assert raised.runbook is None
    assert raised.reason.startswith("no runbook matched")
    assert raised.confidence == sure.confidence
    assert next(c.runbook for c in raised.candidates) == "disk-filling"  # offered, not chosen


def test_explicit_mapping_wins_over_name_and_selector() -> None:
    payments = firing_alert("PaymentsDown", service="payments", labels={"namespace": "payments"})
    assert choose_runbook(RUNBOOKS, payments).method == "selector"
    mapping = Mapping(
        selector=AlertSelector(labels={"namespace": "payments"}), runbook="cert-expiry", id=7
    )
    chosen = choose_runbook(RUNBOOKS, payments, mappings=[mapping])
    assert chosen.runbook is not None
    assert chosen.runbook.id == "cert-expiry"
    assert (chosen.method, chosen.confidence) == ("mapping", 1.0)
    assert "explicit mapping" in chosen.reason

    crash = firing_alert("KubePodCrashLooping", labels={"namespace": "payments", "pod": "p"})
    mapped = choose_runbook(RUNBOOKS, crash, mappings=[mapping]).runbook
    assert mapped is not None
    assert mapped.id == "cert-expiry"
    # A mapping to a runbook that is not loaded is ignored, not an error.
    gone = Mapping(selector=AlertSelector(alertname="KubePodCrashLooping"), runbook="deleted")
    assert choose_runbook(RUNBOOKS, crash, mappings=[gone]).method == "name"


def test_selector_beats_inference_and_conditions_are_respected() -> None:
    chosen = choose_runbook(RUNBOOKS, firing_alert("PaymentsDown", service="payments"))
    assert chosen.runbook is not None
    assert (chosen.runbook.id, chosen.method, chosen.confidence) == (
        "payments-restart",
        "selector",
        1.0,
    )
    other = choose_runbook(RUNBOOKS, firing_alert("PaymentsDown", service="orders"))
    assert other.method != "selector"


def test_equal_selectors_are_decided_by_runbook_url_then_text() -> None:
    # Two imported runbooks for the same alert name (say upstream and a vendor's copy).
    upstream = runbook(
        "kubernetes-kubepodcrashlooping",
        "KubePodCrashLooping",
        selectors=[{"alertname": "KubePodCrashLooping"}],
        description="Pod is crash looping; use kubectl to inspect it.",
    )
    vendor = runbook(
        "vendor-kubepodcrashlooping",
        "KubePodCrashLooping",
        selectors=[{"alertname": "KubePodCrashLooping"}],
        description="Pod restarts on the vendor platform.",
    )
    url = "https://runbooks.example/runbooks/kubernetes/kubepodcrashlooping"
    with_url = firing_alert("KubePodCrashLooping", annotations={"runbook_url": url})
    chosen = choose_runbook([vendor, upstream], with_url)
    assert chosen.runbook is not None
    assert chosen.runbook.id == "kubernetes-kubepodcrashlooping"
    assert chosen.method == "selector"
    assert "fit equally" in chosen.reason
    assert "runbook_url" in chosen.reason
    without = choose_runbook([vendor, upstream], firing_alert("KubePodCrashLooping"))
    assert without.runbook is not None
    assert without.confidence is not None
    assert without.confidence < 1.0
    assert "fit equally" in without.reason


def test_runbook_url_resolves_to_an_imported_runbook_id() -> None:
    imported = runbook("prometheus-operator-runbooks-node-nodeclockskewdetected", "Clock skew")
    url = "https://runbooks.prometheus-operator.dev/runbooks/node/nodeclockskewdetected"
    chosen = choose_runbook(
        [*RUNBOOKS, imported], firing_alert("SomethingElse", annotations={"runbook_url": url})
    )
    assert chosen.runbook is not None
    assert chosen.runbook.id == imported.id
    assert chosen.method == "runbook_url"


def test_no_runbooks_loaded() -> None:
    chosen = choose_runbook([], firing_alert("KubePodCrashLooping"))
    assert chosen.runbook is None
    assert chosen.reason == "no runbook matched: no runbooks are loaded"


def test_index_is_built_once_per_set_of_ids_and_versions() -> None:
    choose.clear_matchers()
    assert choose.cached_matcher(RUNBOOKS) is None  # not built yet: the API builds it off-loop
    first = matcher_for(RUNBOOKS)
    assert choose.cached_matcher(RUNBOOKS) is first
    copies = [r.model_copy() for r in RUNBOOKS]  # a fresh list from the store, same versions
    assert matcher_for(copies) is first
    bumped = [*RUNBOOKS[:-1], RUNBOOKS[-1].model_copy(update={"version": 2})]
    assert matcher_for(bumped) is not first
    assert matcher_for(RUNBOOKS) is first  # a few sets are kept
    # Unsaved runbooks (version 0) are told apart by content, never confused.
    draft_a = runbook("draft", "KubePodCrashLooping", version=0)
    draft_b = runbook("draft", "NodeFilesystemSpaceFillingUp", version=0)
    assert runbook_set_key([draft_a]) != runbook_set_key([draft_b])
    assert choose_runbook([draft_b], firing_alert("NodeFilesystemSpaceFillingUp")).method == "name"
    assert choose_runbook([draft_a], firing_alert("NodeFilesystemSpaceFillingUp")).method != "name"


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="unique"):
        RunbookMatcher.by_id([RUNBOOKS[0], RUNBOOKS[0]])


def test_default_threshold_matches_the_settings_default() -> None:
    from schemas.settings import Settings

    assert Settings.model_fields["match_threshold"].default == DEFAULT_THRESHOLD
