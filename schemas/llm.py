"""What the LLM must return when it improves a parsed runbook (validated before use)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from schemas.runbook import StepRisk


class LlmVariable(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str = Field(pattern=r"^[a-z_][a-z0-9_]{0,63}$")
    description: str = ""
    source: str | None = None


class LlmStep(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,99}$")
    title: str = Field(min_length=1, max_length=300)
    command: str | None = None
    risk: StepRisk = StepRisk.CAUTION
    rollback: str | None = None
    condition: str | None = None
    explanation: str = ""


class LlmAmbiguity(BaseModel):
    model_config = ConfigDict(extra="ignore")

    step_id: str | None = None
    message: str


class LlmRunbook(BaseModel):
    model_config = ConfigDict(extra="ignore")

    title: str = Field(min_length=1, max_length=300)
    prerequisites: list[str] = Field(default_factory=list)
    variables: list[LlmVariable] = Field(default_factory=list)
    steps: list[LlmStep] = Field(min_length=1)
    ambiguities: list[LlmAmbiguity] = Field(default_factory=list)


class LlmOutcome(BaseModel):
    """How the LLM pass went, told to the user beside the result."""

    model_config = ConfigDict(extra="forbid")

    used: bool
    model: str | None = None
    message: str
    cached: bool = False
    attempts: int = 0
    tokens: int = 0
