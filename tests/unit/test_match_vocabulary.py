"""The operations language the matcher reads: each rule of domain/alerts/vocabulary.py, text.py,
query.py and compounds.py on its own, and a few end-to-end paraphrases (worded here, not taken
from any evaluation set) against the shared corpus."""

from __future__ import annotations

import pytest

from bench.match_bench import find_corpus, product_runbooks
from bench.match_eval import alert_of
from domain.alerts import index as index_module
from domain.alerts.choose import RunbookMatcher
from domain.alerts.compounds import split_unknown
from domain.alerts.documents import RunbookDocument
from domain.alerts.index import RunbookIndex
from domain.alerts.quantities import error_rate, nearly_full
from domain.alerts.query import alert_query
from domain.alerts.text import name_concepts, tokens

P = "prometheus-operator-runbooks/"


@pytest.fixture(scope="module")
def matcher() -> RunbookMatcher:
    return RunbookMatcher(product_runbooks(find_corpus()))


def _best(matcher: RunbookMatcher, title: str, description: str = "", **labels: str) -> str | None:
    alert = alert_of({"id": "t", "title": title, "description": description, "labels": labels})
    return matcher.match(alert).runbook


# -- text.py ------------------------------------------------------------------------------------


def test_compound_words_written_apart_meet_the_camel_case_name() -> None:
    assert "prometheusrule" in tokens("Prometheus rule evaluations failing")
    assert "statefulset" in tokens("stateful set has too few replicas")
    assert "configmap" in tokens("config map missing")
    assert "prometheusrule" in name_concepts("PrometheusRuleFailures")


def test_one_word_phrases_apply() -> None:
    """The phrase loop stopped at two words, so a one-word phrase never matched."""
    assert "loop" in tokens("worker killed repeatedly")


def test_numbers_in_phrases_match_any_number() -> None:
    assert "loop" in tokens("api container restarted 12 times in an hour")
    assert "loop" in tokens("restarts > 3 in 10m")
    assert "mismatch" in tokens("2 of 5 ready")
    assert "loop" not in tokens("pod restarted after the node drain")  # once is not a loop


def test_status_classes_stay_one_word_in_camel_case() -> None:
    assert {"error", "server"} <= set(tokens("Ingress5xxErrors"))
    assert "xx" not in tokens("Ingress5xxErrors")
    assert {"error", "client"} <= set(tokens("Gateway4XXRate"))


# -- vocabulary.py ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "term"),
    [
        ("bad config", "fault"),
        ("invalid manifest", "fault"),
        ("errors on gRPC calls", "request"),
        ("mixed versions in the fleet", "mismatch"),
        ("memory above the reserved amount", "reservation"),
        ("router returns 503", "ingress"),
        ("pods keep restarting", "loop"),
        ("back-off restarting failed container", "loop"),
        ("namespace quotas exceed cluster capacity", "overcommit"),
        ("DaemonSet pods land on nodes they should not", "mis"),
        ("3 pods stuck in Pending", "ready"),
        ("pending pods in batch", "ready"),
    ],
)
def test_operations_words_carry_their_concept(text: str, term: str) -> None:
    assert term in tokens(text)


def test_a_growing_volume_is_filling_up() -> None:
    content, _ = alert_query(alert_of({"id": "t", "title": "PVC data-0 at 81% and growing"}))
    assert "fill" in content
    content, _ = alert_query(alert_of({"id": "t", "title": "request rate growing"}))
    assert "fill" not in content  # nothing stored is growing


# -- query.py -----------------------------------------------------------------------------------


def test_a_topic_word_stays_content_when_a_label_value_holds_it() -> None:
    alert = alert_of(
        {
            "id": "t",
            "title": "payment namespace near its cpu quota",
            "labels": {"resource": "requests.cpu", "namespace": "payment"},
        }
    )
    content, context = alert_query(alert, topics={"cpu", "quota"})
    assert "cpu" in content
    assert "payment" in context  # a name, not a topic
    assert "payment" not in content
    content, _ = alert_query(alert)
    assert "cpu" not in content


# -- compounds.py -------------------------------------------------------------------------------


def test_unknown_words_split_into_runbook_name_words() -> None:
    known = {"text", "file", "collector", "scrape", "able"}
    names = {"text", "file", "collector", "scrape"}
    got = split_unknown({"textfile": 2.0, "collector": 1.0}, known, names)
    assert got == {"text": 2.0, "file": 2.0, "collector": 1.0}
    # `able` is no name word; known words and short words are left alone
    assert split_unknown({"scrapeable": 1.0}, known, names) == {"scrapeable": 1.0}
    assert split_unknown({"collector": 1.0, "txtf": 1.0}, known, names) == {
        "collector": 1.0,
        "txtf": 1.0,
    }


# -- end to end on the shared corpus -----------------------------------------------------------


def test_rule_failures_are_not_missing_evaluations(matcher: RunbookMatcher) -> None:
    got = _best(matcher, "prometheus rule eval failing on prometheus-main-1")
    assert got == f"{P}prometheus/PrometheusRuleFailures.md"


def test_a_bad_configuration_is_the_bad_config_runbook(matcher: RunbookMatcher) -> None:
    got = _best(matcher, "Prometheus reload: invalid config file", "config reload failed")
    assert got == f"{P}prometheus/PrometheusBadConfig.md"


def test_restarting_over_and_over_is_a_crash_loop(matcher: RunbookMatcher) -> None:
    got = _best(matcher, "orders-api container restarted 9 times in 15m", namespace="shop")
    assert got == f"{P}kubernetes/KubePodCrashLooping.md"


def test_a_run_together_word_finds_the_runbook_named_apart(matcher: RunbookMatcher) -> None:
    got = _best(matcher, "textfile collector failing on host-7")
    assert got == f"{P}node/NodeTextFileCollectorScrapeError.md"


# -- quantities.py ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "volume 93% full",
        "namespace at 88% of its memory quota",
        "pool 81% allocated",
        "object store 76.5% used",
        "only 4% space left on /data",
    ],
)
def test_a_share_close_to_the_whole_is_nearly_full(text: str) -> None:
    assert nearly_full(text)
    content, _ = alert_query(alert_of({"id": "t", "title": text}))
    assert {"almost", "fill"} <= content.keys()


@pytest.mark.parametrize(
    "text",
    [
        "CPU > 95% for 10m",
        "3% of requests failing",
        "volume 40% used",
        "100% full",  # full, not nearly: the words say it
        "62% free on /data",
    ],
)
def test_other_percentages_say_nothing_about_fullness(text: str) -> None:
    assert not nearly_full(text)


def test_a_quota_nearly_used_up_is_the_almost_full_runbook(matcher: RunbookMatcher) -> None:
    got = _best(
        matcher,
        "ns reporting at 91% of its requests.memory ResourceQuota",
        resource="requests.memory",
        namespace="reporting",
    )
    assert got == f"{P}kubernetes/KubeQuotaAlmostFull.md"


# -- index.py: resources ------------------------------------------------------------------------


def test_a_runbook_about_another_resource_is_held_back(monkeypatch: pytest.MonkeyPatch) -> None:
    docs = [
        RunbookDocument(
            key="rb/VolumeUsageNearFull.md",
            title="VolumeUsageNearFull",
            body="The volume usage is high and almost full. Expand the volume.",
        ),
        RunbookDocument(
            key="rb/ServiceMemoryUsageHigh.md",
            title="ServiceMemoryUsageHigh",
            body="Memory usage of the service is high. Raise its limit.",
        ),
    ]
    index = RunbookIndex.build(docs)
    alert = alert_of({"id": "t", "title": "memory usage almost full on app-3"})

    def volume_score() -> float:
        result = index.match(alert, threshold=0.0)
        by_key = {c.runbook: c for c in result.candidates}
        assert by_key["rb/VolumeUsageNearFull.md"].evidence["resource_not_about"] == 1.0
        assert by_key["rb/ServiceMemoryUsageHigh.md"].evidence["resource_not_about"] == 0.0
        return by_key["rb/VolumeUsageNearFull.md"].score

    held_back = volume_score()
    monkeypatch.setattr(index_module, "OTHER_RESOURCE", 1.0)
    assert held_back < 0.7 * volume_score()
    disk = index.match(alert_of({"id": "t", "title": "disk usage almost full"}), threshold=0.0)
    assert disk.candidates[0].runbook == "rb/VolumeUsageNearFull.md"
    assert disk.evidence["other_resource"] == 0.0


def test_the_services_own_name_stays_a_name_even_when_a_runbook_uses_it() -> None:
    alert = alert_of(
        {"id": "t", "title": "payments pods crashing", "labels": {"service": "payments"}}
    )
    content, context = alert_query(alert, topics={"payment", "crash"})
    assert "payment" in context
    assert "payment" not in content
    assert "crash" in content
    # a namespace named for the component is where, not which service
    alert = alert_of(
        {
            "id": "t",
            "title": "cluster version operator not reporting",
            "labels": {"namespace": "openshift-cluster-version"},
        }
    )
    content, _ = alert_query(alert, topics={"cluster", "version", "operator"})
    assert {"cluster", "version"} <= content.keys()


def test_software_named_only_in_the_description_does_not_make_a_runbook_foreign() -> None:
    docs = [
        RunbookDocument(
            key="rb/NodeNotReady.md", title="NodeNotReady", body="A node is not ready."
        ),
        RunbookDocument(key="rb/KubeletDown.md", title="KubeletDown", body="The kubelet is down."),
    ]
    index = RunbookIndex.build(docs)

    def foreign(title: str, description: str) -> float:
        alert = alert_of({"id": "t", "title": title, "description": description})
        by_key = {c.runbook: c for c in index.match(alert, threshold=0.0).candidates}
        return by_key["rb/NodeNotReady.md"].evidence["software_not_about"]

    assert foreign("node worker-7 not ready", "kubelet stopped posting node status") == 0.0
    assert foreign("kubelet on worker-7 not ready", "") == 1.0


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("errors on 6% of RPC calls", True),
        ("DNS answering SERVFAIL for >2% of queries", True),
        ("log output failing > 10%", True),
        ("CPU at 95% for 10m", False),  # a share, but nothing failing (and not over a bound)
        ("API calls failing", False),  # failing, but no share
    ],
)
def test_a_share_of_failures_is_a_high_error_rate(text: str, rate: bool) -> None:
    assert error_rate(text) is rate
    content, _ = alert_query(alert_of({"id": "t", "title": text}))
    assert ("high" in content) is (rate or "high" in tokens(text))


def test_a_failure_share_prefers_the_high_failure_runbook(matcher: RunbookMatcher) -> None:
    got = _best(matcher, "etcd: 7% of gRPC calls return errors")
    assert got is not None
    assert got.endswith("etcdHighNumberOfFailedGRPCRequests.md")


def test_every_member_of_a_group_means_the_whole_cluster() -> None:
    content, _ = alert_query(alert_of({"id": "t", "title": "every broker replica unreachable"}))
    assert content.get("cluster") == 0.5
    content, _ = alert_query(alert_of({"id": "t", "title": "one broker replica unreachable"}))
    assert "cluster" not in content


def test_hyphenated_vocabulary_words_are_the_word() -> None:
    assert "overcommit" in tokens("memory over-committed")
    assert "filesystem" in tokens("file-system errors")
    assert tokens("crash-looping pods").count("loop") == 1  # no double weight
    assert tokens("payment-svc down") == ["payment", "svc", "down"]  # unknown joins: nothing


def test_low_space_is_nearly_full() -> None:
    assert {"almost", "fill"} <= set(tokens("disk space low on /var"))
    assert {"almost", "fill"} <= set(tokens("node low on disk"))
    assert "almost" not in tokens("low latency mode")


def test_a_state_label_says_what_is_wrong() -> None:
    alert = alert_of(
        {"id": "t", "title": "pod trouble in shop", "labels": {"reason": "CrashLoopBackOff"}}
    )
    content, _ = alert_query(alert)
    assert {"crash", "loop"} <= content.keys()
