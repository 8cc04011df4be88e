"""The orchestrator worker: incident workflows plus control-plane activities (database, paging).

It never runs runbook commands; those go to the agent's task queue.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.email import EmailActivities
from activities.escalation import EscalationActivities
from activities.incident_claims import IncidentClaimActivities
from activities.match_embeddings import embedding_config
from activities.paging import PagerDutyPager
from activities.runbooks import RunbookActivities
from activities.slack import (
    SlackActivities,
    SlackChannelOptions,
    query_incident_state,
    slack_client,
)
from activities.statuspage import StatuspageActivities
from activities.step_outputs import StepOutputActivities
from activities.trust import TrustActivities
from db.alert_rules import AlertRuleStore
from db.engine import create_schema, make_engine
from db.escalations import EscalationStore
from db.incident_claims import IncidentClaimStore
from db.llm_cache import DbLlmCache, DbVectorCache
from db.mappings import MappingStore
from db.runbooks import RunbookStore
from db.slack_messages import SlackMessageStore
from db.step_outputs import StepOutputStore
from db.trust import TrustStore
from infra.bytecode import ensure_bytecode
from infra.client import connect
from infra.llm import llm_config
from infra.telemetry import setup_logging, setup_tracing
from schemas.settings import Settings
from workflows.incident import IncidentWorkflow
from workflows.slack_catchup import SlackCatchUpWorkflow

log = logging.getLogger(__name__)

# Deterministic, side-effect-free packages shared by every workflow run instead of re-imported
# into each run's sandbox (re-executing the workflow module and `@workflow.defn` cost ~4-5 ms of
# CPU per new run or replay). They hold no module state a workflow mutates: constants, frozen
# options, pure functions (domain's lru_caches memoise pure text functions). The price is that
# the sandbox no longer checks restricted calls inside `workflows/` at run time; the workflow
# helpers were passed through already, and tests/replay replays recorded histories in the
# default sandbox, which still does.
#: Imported once, outside the sandbox: pure code, never re-imported per run.
SANDBOX_PASSTHROUGH = ("schemas", "domain", "pydantic")


def workflow_runner(sandboxed: bool = False) -> WorkflowRunner:
    """How the worker runs the incident workflows.

    Unsandboxed by default: the sandbox cost every workflow task about 2 ms (3 ms in a new
    run's first one), a fifth of the time between two automatic steps (bench/README, issue 13),
    and its checks are kept where they find something: `sandboxed` (the test suite's workers,
    `DDRUN_WORKFLOW_SANDBOX=true`) and every replay of tests/replay run the workflows in the
    strict sandbox, which re-imports `workflows/` for each run and refuses non-deterministic
    calls (clock, randomness, I/O) made from it.
    """
    if not sandboxed:
        return UnsandboxedWorkflowRunner()
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*SANDBOX_PASSTHROUGH)
    )


def build_worker(client: Client, settings: Settings, engine: AsyncEngine) -> Worker:
    if settings.workflow_sandbox:
        ensure_bytecode()  # the sandbox re-imports the workflows per run: read, not recompiled
    runbooks = RunbookActivities(
        RunbookStore(engine),
        MappingStore(engine, settings.runbook_cache_s),
        settings.match_threshold,
        llm=llm_config(settings),
        llm_cache=DbLlmCache(engine),
        rules=AlertRuleStore(engine),
        embeddings=embedding_config(settings),
        vectors=DbVectorCache(engine),
    )
    escalation = EscalationActivities(
        EscalationStore(engine), PagerDutyPager.from_settings(settings)
    )
    slack = SlackActivities(
        slack_client(settings),
        SlackMessageStore(engine),
        query_incident_state(client),
        SlackChannelOptions.from_settings(settings),
    )
    trust = TrustActivities(TrustStore(engine), client, settings.promote_after_clean_runs)
    outputs = StepOutputActivities(StepOutputStore(engine), trust)
    claims = IncidentClaimActivities(IncidentClaimStore(engine))
    email = EmailActivities.from_settings(settings)
    statuspage = StatuspageActivities.from_settings(settings)
    return Worker(
        client,
        task_queue=settings.orchestrator_task_queue,
        workflows=[IncidentWorkflow, SlackCatchUpWorkflow],
        workflow_runner=workflow_runner(settings.workflow_sandbox),
        activities=[
            runbooks.select_runbook,
            escalation.record_escalation,
            escalation.resolve_pages,
            slack.sync_slack,
            slack.post_slack_message,
            trust.check_automation,
            trust.release_automation_slot,
            trust.record_run_outcome,
            outputs.store_step_output,
            outputs.store_step_output_then_check,
            claims.record_incident_close,
            email.send_email,
            statuspage.push_statuspage,
        ],
        graceful_shutdown_timeout=timedelta(seconds=10),
    )


async def prepare_database(settings: Settings) -> AsyncEngine:
    """Create the schema and load the configured runbook folder (unchanged files add nothing)."""
    engine = make_engine(settings.effective_database_url)
    await create_schema(engine)
    if settings.runbooks_dir is not None:
        report = await RunbookStore(engine).import_dir(settings.runbooks_dir)
        created = sum(1 for s in report.saved if s.created)
        log.info(
            "runbooks loaded from %s: %d, new versions: %d",
            settings.runbooks_dir,
            len(report.saved),
            created,
        )
        for error in report.errors:
            log.error("runbook not loaded: %s", error)
    return engine


async def run(settings: Settings) -> None:
    setup_logging()
    setup_tracing("ddrun-orchestrator", settings.otel_exporter_otlp_endpoint)
    engine = await prepare_database(settings)
    client = await connect(settings, identity="ddrun-orchestrator")
    worker = build_worker(client, settings, engine)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("orchestrator worker polling %s", settings.orchestrator_task_queue)
    async with worker:
        await stop.wait()
    await engine.dispose()
