"""Errors the API answers with, mapped to HTTP statuses in one table."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from temporalio.client import WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from services.incidents import IncidentClosedError, IncidentNotFoundError
from services.intake import PERMANENT, IntakeFullError

log = logging.getLogger(__name__)


class ApiError(Exception):
    status_code = 400

    def __init__(self, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class BadRequestError(ApiError):
    status_code = 400


class UnauthorizedError(ApiError):
    status_code = 401


class ForbiddenError(ApiError):
    status_code = 403


class NotFoundError(ApiError):
    status_code = 404


class ConflictError(ApiError):
    status_code = 409


class PayloadTooLargeError(ApiError):
    status_code = 413


class TooManyRequestsError(ApiError):
    """Not now: nothing was done; the Retry-After header says when to try again."""

    status_code = 429


class UnprocessableError(ApiError):
    """Well-formed, but it names something that does not exist or cannot be used."""

    status_code = 422


# Temporal statuses a sender's request can cause (too large, invalid): answered 4xx, so the
# sender stops. Only conditions that pass (server down, overloaded, timed out) get a 503.
#: Temporal's permanent refusals (the ones the intake does not retry either), as HTTP answers:
#: a conflict with the workflow's state is 409, a request Temporal cannot take is 422.
_CONFLICTS = {RPCStatusCode.FAILED_PRECONDITION, RPCStatusCode.ALREADY_EXISTS}
_REFUSED = {code: 409 if code in _CONFLICTS else 422 for code in PERMANENT}
_TRANSIENT = {
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.RESOURCE_EXHAUSTED,
    RPCStatusCode.ABORTED,
    RPCStatusCode.CANCELLED,
}


def refusal(err: WorkflowUpdateFailedError) -> str:
    """Why the workflow refused an update: its validator's words (or the failure's)."""
    cause = err.cause
    return getattr(cause, "message", None) or str(cause or err)


def _problem(status: int, message: str, **extra: object) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, err: ApiError) -> JSONResponse:
        log.warning(
            "%s %s refused (%d): %s", request.method, request.url.path, err.status_code, err.message
        )
        response = _problem(err.status_code, err.message)
        response.headers.update(err.headers)
        return response

    @app.exception_handler(ValidationError)
    async def _invalid(request: Request, err: ValidationError) -> JSONResponse:
        problems = [
            {"loc": ".".join(str(p) for p in e["loc"]), "msg": e["msg"]} for e in err.errors()
        ]
        log.warning("%s %s invalid payload: %s", request.method, request.url.path, problems)
        return _problem(422, "payload does not match the expected schema", problems=problems)

    @app.exception_handler(IncidentNotFoundError)
    async def _not_found(_request: Request, err: IncidentNotFoundError) -> JSONResponse:
        return _problem(404, f"no incident {err.args[0]!r}")

    @app.exception_handler(IntakeFullError)
    async def _intake_full(_request: Request, err: IntakeFullError) -> JSONResponse:
        response = _problem(429, f"{err}; nothing was accepted, retry shortly")
        response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(IncidentClosedError)
    async def _closed(_request: Request, err: IncidentClosedError) -> JSONResponse:
        return _problem(409, err.message)

    @app.exception_handler(WorkflowUpdateFailedError)
    async def _refused(_request: Request, err: WorkflowUpdateFailedError) -> JSONResponse:
        return _problem(409, refusal(err))

    @app.exception_handler(WorkflowQueryFailedError)
    async def _unreadable(request: Request, err: WorkflowQueryFailedError) -> JSONResponse:
        # The worker could not rebuild the incident to answer (e.g. a replay failed): a fault
        # of ours, said plainly rather than as a generic error.
        log.error(
            "%s %s: the incident's state could not be read: %s",
            request.method,
            request.url.path,
            err.message,
        )
        return _problem(500, f"the incident's state could not be read: {err.message}")

    @app.exception_handler(RPCError)
    async def _temporal(request: Request, err: RPCError) -> JSONResponse:
        if err.status is RPCStatusCode.NOT_FOUND:
            return _problem(404, err.message)
        refused = _REFUSED.get(err.status)
        if refused is not None:
            # Permanent: the same request would be refused again, so a retry cannot help.
            log.warning(
                "%s %s: the workflow engine refused (%s): %s",
                request.method,
                request.url.path,
                err.status.name,
                err.message,
            )
            return _problem(refused, f"the workflow engine refused the request: {err.message}")
        if err.status in _TRANSIENT:
            log.error(
                "%s %s: Temporal unavailable (%s): %s",
                request.method,
                request.url.path,
                err.status.name,
                err,
            )
            response = _problem(503, "the workflow engine is unavailable; retry shortly")
            response.headers["Retry-After"] = "5"
            return response
        log.error("%s %s: Temporal error: %s", request.method, request.url.path, err)
        return _problem(500, "the workflow engine failed; this is logged")
