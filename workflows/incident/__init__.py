"""The incident workflow and its collaborators (see `workflows.incident.workflow`)."""

from workflows.incident.workflow import IncidentWorkflow

__all__ = ["IncidentWorkflow"]
