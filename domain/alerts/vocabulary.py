"""Ops vocabulary: the different words on-call people and alert authors use for one thing.

A page says "disk almost full", the runbook is NodeFilesystemAlmostOutOfSpace; a page says
"cert", the runbook "certificate". The tables are generic operations vocabulary, not answers
for particular alerts, and they apply to alerts and runbooks alike, so both meet on the same
terms. Three kinds:

* SPELLINGS: abbreviations and variants, replaced by the canonical word(s);
* CONCEPTS: words that keep their own term and also carry a shared concept term
  ("unreachable" stays, and adds "down");
* PHRASES: word sequences that mean one thing ("out of space", "over and over"); `#` stands
  for any number ("restarted # times").

Words are written naturally; they are reduced with the tokenizer's stemmer when looked up.
"""

from __future__ import annotations

SPELLINGS: dict[str, tuple[str, ...]] = {
    "k8s": ("kubernetes",),
    "kube": ("kubernetes",),
    "kubernetes": ("kubernetes",),
    "prod": (),
    "production": (),
    "staging": (),
    "apiserver": ("api", "server"),
    "crashloop": ("crash", "loop"),
    "crashloops": ("crash", "loop"),
    "crashlooping": ("crash", "loop"),
    "crashloopbackoff": ("crash", "loop", "back", "off", "pod"),
    "oom": ("memory", "oom"),
    "oomkilled": ("memory", "oom", "kill", "crash"),
    "oomkill": ("memory", "oom", "kill", "crash"),
    "clbo": ("crash", "loop", "back", "off", "pod"),
    "imagepullbackoff": ("image", "pull", "back", "off", "container", "waiting"),
    "errimagepull": ("image", "pull", "error", "container", "waiting"),
    "containercreating": ("container", "creat", "waiting"),
    "createcontainerconfigerror": ("container", "configuration", "error", "waiting"),
    "cert": ("certificate",),
    "certs": ("certificate",),
    "certificates": ("certificate",),
    "tls": ("certificate",),
    "ssl": ("certificate",),
    "x509": ("certificate",),
    "persistentvolume": ("persistent", "volume"),
    "persistentvolumes": ("persistent", "volume"),
    "persistentvolumeclaim": ("persistent", "volume", "claim"),
    "pvc": ("persistent", "volume"),
    "pvcs": ("persistent", "volume"),
    "pv": ("persistent", "volume"),
    "pvs": ("persistent", "volume"),
    "hpa": ("horizontal", "pod", "autoscaler"),
    "autoscaler": ("autoscaler",),
    "mem": ("memory",),
    "ram": ("memory",),
    "config": ("configuration",),
    "cfg": ("configuration",),
    "conf": ("configuration",),
    "configured": ("configuration",),
    "ntp": ("clock", "synchronise"),
    "ntpd": ("clock", "synchronise"),
    "chrony": ("clock", "synchronise"),
    "chronyd": ("clock", "synchronise"),
    "timesync": ("clock", "synchronise"),
    "sync": ("synchronise",),
    "syncing": ("synchronise",),
    "synced": ("synchronise",),
    "synchronising": ("synchronise",),
    "synchronizing": ("synchronise",),
    "synchronised": ("synchronise",),
    "synchronized": ("synchronise",),
    "synchronize": ("synchronise",),
    "synchronisation": ("synchronise",),
    "synchronization": ("synchronise",),
    "fd": ("file", "descriptor"),
    "fds": ("file", "descriptor"),
    "am": ("alertmanager",),
    "prom": ("prometheus",),
    "ksm": ("kubernetes", "state", "metric"),  # kube-state-metrics
    "req": ("request",),
    "reqs": ("request",),
    "dup": ("duplicate",),
    "dups": ("duplicate",),
    "ds": ("daemonset",),
    "sts": ("statefulset",),
    "deploy": ("deployment",),
    "ns": ("namespace",),
    "db": ("database",),
    "err": ("error",),
    "errs": ("error",),
    "errors": ("error",),
    "failure": ("fail",),
    "failures": ("fail",),
    "replicas": ("replica",),
    "throttled": ("throttl",),
    "throttling": ("throttl",),
    "throttle": ("throttl",),
    "expires": ("expire",),
    "expired": ("expire",),
    "expiring": ("expire",),
    "expiry": ("expire",),
    "expiration": ("expire",),
    "expirations": ("expire",),
    "renewal": ("renew",),
    "renewals": ("renew",),
    "rotation": ("renew",),
    "rotate": ("renew",),
    "rotating": ("renew",),
    "rotated": ("renew",),
    "ingesting": ("ingest",),
    "ingestion": ("ingest",),
    "ingested": ("ingest",),
    "compaction": ("compact",),
    "compactions": ("compact",),
    "compacting": ("compact",),
    "evaluation": ("evaluate",),
    "evaluations": ("evaluate",),
    "evaluating": ("evaluate",),
    "evaluated": ("evaluate",),
    "eval": ("evaluate",),
    "reconciling": ("reconcile",),
    "reconciliation": ("reconcile",),
    "reconciled": ("reconcile",),
    "reconciler": ("reconcile",),
    "discovery": ("discover",),
    "discovered": ("discover",),
    "provisioning": ("provision",),
    "provisioned": ("provision",),
    "provisioner": ("provision",),
    "scraping": ("scrape",),
    "scraped": ("scrape",),
    "scrapes": ("scrape",),
    "duplicates": ("duplicate",),
    "duplicated": ("duplicate",),
    "dupe": ("duplicate",),
    "dupes": ("duplicate",),
    "duplication": ("duplicate",),
    "rollouts": ("rollout",),
    "readiness": ("ready",),
    "unready": ("not", "ready"),
    "notready": ("not", "ready"),
    "leaderless": ("no", "leader"),
    "packets": ("packet",),
    "pkt": ("packet",),
    "pkts": ("packet",),
    "rx": ("receive",),
    "tx": ("transmit",),
    "nic": ("network", "interface"),
    "iface": ("network", "interface"),
    "cronjob": ("cron", "job"),
    "cronjobs": ("cron", "job"),
    "5xx": ("error", "server"),
    "servfail": ("server", "fail"),  # DNS: the server failed to answer
    "4xx": ("error", "client"),
    "overcommitted": ("overcommit",),
    "oversubscribed": ("overcommit",),
    "oversubscription": ("overcommit",),
    "heartbeat": ("watchdog",),
    "deadman": ("watchdog",),
    "deadmansswitch": ("watchdog",),
    "unschedulable": ("not", "schedul"),
    "reserve": ("reservation",),
    "reserved": ("reservation",),
    "reserves": ("reservation",),
    "router": ("router", "ingress"),  # the ingress controller (OpenShift's router)
    "routers": ("router", "ingress"),
}

# concept term: words that carry it (each keeps its own term too)
CONCEPTS: dict[str, tuple[str, ...]] = {
    "fill": ("full", "fill", "filling", "fully", "exhausted", "exhaustion"),
    "storage": ("disk", "disks", "filesystem", "filesystems", "fs", "partition", "volume", "volumes", "mountpoint", "storage"),  # noqa: E501
    "inode": ("inode", "inodes"),
    "down": ("down", "unreachable", "unavailable", "offline", "dead", "unresponsive", "outage", "disappeared"),  # noqa: E501
    "fault": ("fail", "failing", "failed", "error", "broken", "cannot", "unable", "bad", "invalid", "malformed"),  # noqa: E501
    "slow": ("slow", "slowness", "latency", "latencies", "lag", "lagging", "delay", "delayed", "duration", "durations", "sluggish"),  # noqa: E501
    "high": ("high", "elevated", "excessive", "spike", "spiking", "surge"),
    "crash": ("crash", "crashing", "crashed", "restart", "restarting", "restarted", "restarts", "reboot", "rebooted"),  # noqa: E501
    "mismatch": ("mismatch", "mismatched", "mixed", "inconsistent", "inconsistency", "differ", "differs", "different", "discrepancy", "diverged", "divergent"),  # noqa: E501
    "send": ("send", "sending", "sent", "deliver", "delivery", "delivering", "delivered", "dispatch", "notify", "notifying", "notification", "notifications"),  # noqa: E501
    "alert": ("notification", "notifications", "page", "pages"),
    "limit": ("limit", "limits", "max", "maxed", "maximum", "ceiling", "cap", "capped"),
    "almost": ("almost", "nearly", "near", "approaching"),
    "skew": ("skew", "skewed", "drift", "drifting", "drifted", "offset"),
    "schedul": ("pending",),
    "stuck": ("stuck", "hung", "hang", "hanging", "frozen", "wedged"),
    "flap": ("flap", "flapping", "flaps", "toggling", "oscillating"),
    "member": ("member", "members", "peer", "peers", "quorum"),
    "insufficient": ("quorum", "insufficient"),
    "receive": ("receive", "receiving", "received", "inbound", "incoming", "ingress"),
    "transmit": ("transmit", "transmitting", "transmitted", "outbound", "outgoing", "egress"),
    "complete": ("complete", "completed", "completion", "completing", "finish", "finished", "finishing"),  # noqa: E501
    "overcommit": ("overcommit", "overcommitted", "oversubscribed"),
    "request": ("request", "requests", "call", "calls"),
    "grow": ("grow", "growing", "grows", "grew", "growth", "increasing", "climbing", "rising"),
}  # fmt: skip

# word: terms it implies without being their synonym (a pod is a Kubernetes thing)
IMPLIES: dict[str, tuple[str, ...]] = dict.fromkeys(
    (
        "pod", "pods", "statefulset", "daemonset", "deployment", "replicaset", "kubelet",
        "pvc", "pvcs", "hpa", "cronjob", "kubectl",
    ),
    ("kubernetes",),
)  # fmt: skip

# phrase (words as written, stopwords included): terms it adds
PHRASES: dict[str, tuple[str, ...]] = {
    "out of space": ("fill",),
    "out of disk": ("fill", "storage"),
    "no space left": ("fill",),
    "run out": ("fill",),
    "running out": ("fill",),
    "ran out": ("fill",),
    "out of memory": ("memory", "oom"),
    "out of files": ("inode",),
    "out of file descriptors": ("fill",),
    "files filling": ("inode",),
    "not running": ("down",),
    "not responding": ("down",),
    "not reachable": ("down",),
    "not available": ("down",),
    "can not": ("fault",),
    "can t": ("fault",),
    "not able": ("fault",),
    "long time": ("slow",),
    "too long": ("slow",),
    "takes long": ("slow",),
    "taking long": ("slow",),
    "too many": ("high",),
    "too much": ("high",),
    "lots of": ("high",),
    "over and over": ("loop",),
    "again and again": ("loop",),
    "repeatedly": ("loop",),
    "keep restarting": ("loop",),
    "keeps restarting": ("loop",),
    "kept restarting": ("loop",),
    "restarting again": ("loop",),
    "restarted again": ("loop",),
    "restarting every": ("loop",),
    "restarts every": ("loop",),
    "back off restarting": ("loop",),
    "restarted # times": ("loop",),
    "restarts #": ("loop",),
    "# restarts": ("loop",),
    "exceed cluster": ("overcommit",),
    "exceed the cluster": ("overcommit",),
    "exceed capacity": ("overcommit",),
    "survive losing": ("overcommit",),
    "tolerate losing": ("overcommit",),
    "they should not": ("mis",),
    "space low": ("almost", "fill"),
    "low space": ("almost", "fill"),
    "low on space": ("almost", "fill"),
    "low disk space": ("almost", "fill"),
    "low on disk": ("almost", "fill"),
    "pods pending": ("not", "ready"),  # a Pending pod is a pod not ready (yet)
    "pending pods": ("not", "ready"),
    "pods stuck pending": ("not", "ready"),
    "pods stuck in pending": ("not", "ready"),
    "# of # ready": ("mismatch", "replica"),
    "# # ready": ("mismatch", "replica"),  # 2/3 ready
    "# # available": ("mismatch", "replica"),
    "# # replicas": ("mismatch",),
    "# of # replicas": ("mismatch",),
    "# of # available": ("mismatch", "replica"),
    "does not match": ("mismatch",),
    "do not match": ("mismatch",),
    "doesn t match": ("mismatch",),
    "not matching": ("mismatch",),
    "do not agree": ("mismatch",),
    "out of sync": ("mismatch",),
    "version skew": ("mismatch",),
    "fewer than": ("mismatch",),
    "maxed out": ("limit",),
    "close to": ("almost",),
    "about to": ("almost",),
    "not scheduled": ("schedul",),
    "not progressing": ("stuck",),
    "up and down": ("flap",),
    "roll out": ("rollout",),
    "rolled out": ("rollout",),
    "rolling out": ("rollout",),
    "rolling update": ("rollout",),
    "out of order": ("disorder",),
    "dead man s switch": ("watchdog",),
    "always firing": ("watchdog",),  # the alert that must always fire (Watchdog)
    "always be firing": ("watchdog",),
    "dead mans switch": ("watchdog",),
    "falling behind": ("behind", "slow"),
    "oom killer": ("crash",),
    "killed by the oom": ("crash",),
    "where they should not": ("mis",),
    "should not be running": ("mis",),
    "should not run": ("mis",),
    "time skew": ("clock",),
    "time drift": ("clock",),
}

# Compound words CamelCase would split apart (Kubernetes kinds are one word in prose too).
COMPOUNDS = frozenset(
    {
        "statefulset", "daemonset", "replicaset", "configmap", "cronjob", "servicemonitor",
        "podmonitor", "prometheusrule", "alertmanagerconfig", "filesystem", "timestamp",
        "timestamps", "endpointslice", "ingressclass", "storageclass", "persistentvolume",
    }
)  # fmt: skip

# A command-line tool names the platform its runbook is written for.
PLATFORM_OF_TOOL: dict[str, str] = {
    "kubectl": "kubernetes",
    "helm": "kubernetes",
    "oc": "openshift",
    "aws": "aws",
    "gcloud": "gcp",
    "az": "azure",
    "nomad": "nomad",
    "docker": "docker",
    "systemctl": "linux",
    "journalctl": "linux",
}

# Label names that only Kubernetes workloads carry: an alert labelled with them is about one.
KUBERNETES_LABELS = frozenset(
    {
        "namespace", "pod", "container", "node", "deployment", "statefulset", "daemonset",
        "replicaset", "job_name", "cronjob", "persistentvolumeclaim", "persistentvolume",
        "horizontalpodautoscaler", "kubernetes_namespace", "kubernetes_pod_name",
    }
)  # fmt: skip

# Label names that say what kind of thing is affected, as words a runbook uses for it: an alert
# labelled `mountpoint` is about a filesystem, `persistentvolumeclaim` a volume. (weight, words)
LABEL_MEANINGS: dict[str, tuple[float, str]] = {
    "mountpoint": (1.0, "filesystem"),
    "fstype": (0.5, "filesystem"),
    "persistentvolumeclaim": (1.0, "persistent volume claim"),
    "persistentvolume": (1.0, "persistent volume"),
    "statefulset": (1.0, "statefulset"),
    "daemonset": (1.0, "daemonset"),
    "deployment": (1.0, "deployment"),
    "replicaset": (0.5, "deployment"),
    "horizontalpodautoscaler": (1.0, "horizontal pod autoscaler"),
    "hpa": (1.0, "horizontal pod autoscaler"),
    "job_name": (1.0, "job"),
    "cronjob": (1.0, "cron job"),
    "container": (0.5, "container"),
    "pod": (0.5, "pod"),
    "node": (0.5, "node"),
    "quota": (1.0, "quota"),
    "resourcequota": (1.0, "quota"),
    "certificate": (1.0, "certificate"),
    "remote_name": (0.5, "remote write"),
    "url": (0.3, "remote"),
}

# A `device` label's value names its kind: eth0 is a network interface, md0 a RAID array.
DEVICE_KINDS: tuple[tuple[str, str], ...] = (
    (r"^(eth|en[ops]|eno|ens|bond|wlan|wl|ib|veth|br)\w*$", "network interface"),
    (r"^md\d+$", "raid disk"),
    (r"^(/dev/)?(sd[a-z]|nvme\d|xvd[a-z]|vd[a-z]|dm-\d|mapper/)\S*$", "disk"),
)

# Terms that together mean a third: a storage thing filling up is running out of space (unless
# the alert is about inodes or a Kubernetes volume). (all of, none of, adds)
INFERENCES: tuple[tuple[frozenset[str], frozenset[str], str], ...] = (
    (frozenset({"storage", "grow"}), frozenset(), "fill"),  # a volume growing is filling up
    (frozenset({"storage", "fill"}), frozenset({"inode", "persistent"}), "space"),
)

# Software an alert can be about. An alert that names one (and no Kubernetes workload that
# might merely be called after it, like a `postgres` StatefulSet) is poorly answered by a
# runbook whose name, folder and selectors never say it: "Redis memory high" is not a runbook
# about node memory, "Prometheus config reload failed" not Alertmanager's reload runbook.
COMPONENTS = frozenset(
    {
        "prometheus", "alertmanager", "etcd", "kubelet", "ceph", "coredns", "thanos", "grafana",
        "loki", "elasticsearch", "opensearch", "kafka", "redis", "postgres", "postgresql",
        "mysql", "mariadb", "nginx", "haproxy", "vault", "consul", "rabbitmq", "zookeeper",
        "cassandra", "mongodb", "mongo", "memcached", "jenkins", "argocd", "airflow", "snowflake",
        "twilio", "stripe", "veeam", "terraform", "istio", "envoy", "traefik", "cilium",
        "calico", "noobaa", "kubevirt", "velero", "fluentd", "logstash", "kibana", "spark",
        "minio", "containerd", "bigquery", "dynamodb", "cloudsql", "sendgrid", "clickhouse",
    }
)  # fmt: skip

# Software that is part of a platform: a runbook named for the platform (Kube...) is about it
# too ("Mixed kubelet versions" is KubeVersionMismatch's topic, not another product's).
PART_OF: dict[str, str] = {"kubelet": "kubernetes"}

# Words that name a Kubernetes workload or object: with one of them, a component's name in the
# alert is likely the workload's name, not the subject.
WORKLOAD_WORDS = frozenset(
    {
        "pod", "container", "deployment", "statefulset", "daemonset", "replicaset", "cronjob",
        "persistent", "volume", "claim", "namespace", "horizontal",
    }
)  # fmt: skip

# Kinds of resource a runbook's name can be about. An alert about one (host memory) is poorly
# answered by a runbook whose name is about another and not it (a volume filling up), however
# many other words they share ("usage", "almost", "high").
RESOURCES = frozenset({"memory", "cpu", "storage", "inode", "network"})

# Words that say every member of a group is affected ("all Alertmanagers", "every replica"):
# runbooks name that case for the whole group, the cluster (AlertmanagerClusterDown). They
# are stopwords in prose, so the alert's own title and description are read for them.
WHOLE_GROUP_WORDS = ("all", "every", "entire", "whole")
WHOLE_GROUP_TERM = "cluster"
