"""Named timeouts and retry policies, so every activity call states its failure behaviour once."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

from schemas.runbook import StepRisk

#: Control-plane work (database reads and writes): retried patiently, it has no side effects
#: beyond idempotent writes.
CONTROL_PLANE_TIMEOUT = timedelta(seconds=30)
CONTROL_PLANE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=0,
)

#: A dead agent is noticed by a missed heartbeat; the agent beats every few seconds.
COMMAND_HEARTBEAT_TIMEOUT = timedelta(seconds=10)

#: Safe (read-only) commands may run again after a failure or a lost agent.
SAFE_COMMAND_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
    maximum_attempts=3,
    non_retryable_error_types=["CommandTimeout", "CommandRejected"],
)

#: Anything that changes state runs at most once; a human decides about a second attempt.
AT_MOST_ONCE = RetryPolicy(maximum_attempts=1)


def command_retry(risk: StepRisk) -> RetryPolicy:
    return SAFE_COMMAND_RETRY if risk is StepRisk.SAFE else AT_MOST_ONCE


def command_timeout(timeout_s: int) -> timedelta:
    """The agent enforces the step's own timeout; Temporal's is a backstop a little later."""
    return timedelta(seconds=timeout_s + 30)


#: Slack calls: patient (Slack may be down for the whole incident) but never on the critical
#: path; a 429's Retry-After arrives as the error's next_retry_delay and overrides the backoff.
SLACK_TIMEOUT = timedelta(seconds=30)
SLACK_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=60),
    maximum_attempts=0,
    non_retryable_error_types=["SlackConfigError"],
)

#: Statuspage pushes: 5xx, 429 and an unreachable page are retried for a while (the update is
#: already on our own status page; the push is a copy), a refusal (wrong key, unknown page) at
#: once: it is recorded and the incident goes on.
STATUSPAGE_TIMEOUT = timedelta(seconds=30)
STATUSPAGE_GIVE_UP = timedelta(minutes=15)
STATUSPAGE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=60),
    maximum_attempts=0,
    non_retryable_error_types=["StatuspageRejected", "StatuspageNotConfigured"],
)
