"""Deterministic Markdown/prose runbook → structured Runbook, plus what could not be understood.

No model, no network: the same text always gives the same steps, variables, risks and
ambiguities, so a parsed runbook can be reviewed once and trusted.
"""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import Any

from pydantic import BaseModel, ConfigDict

from domain.runbooks import ambiguities, markdown, prerequisites, prose, rollback, variables
from domain.runbooks.ambiguities import Ambiguity
from domain.runbooks.drafts import Draft, walk
from domain.runbooks.errors import RunbookParseError
from domain.runbooks.risk import classify
from schemas.runbook import AlertSelector, Runbook, Step, StepRisk, Variable

MANUAL_STEP_RISK = StepRisk.CAUTION
MANUAL_REASON = "manual step: a person does it and reports back (no command to assess)"
_ALERT_NAME_RE = re.compile(r"^[A-Za-z][a-z0-9]*(?:[A-Z][A-Za-z0-9]*)+$")
_STRAIGHT_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})
_INTERACTIVE_RE = re.compile(r"interactive|opens a root shell")
_NOTHING_RE = re.compile(
    r"\b(?:nothing to (?:roll ?back|undo|revert)|"
    r"no (?:rollback|undo) (?:is )?(?:needed|required|possible))",
    re.I,
)


class ParseResult(BaseModel):
    """The parsed runbook and everything a reviewer should look at before trusting it."""

    model_config = ConfigDict(frozen=True)

    runbook: Runbook
    ambiguities: list[Ambiguity]

    def to_json_dict(self) -> dict[str, Any]:
        rb = self.runbook
        return {
            "id": rb.id,
            "title": rb.title,
            "description": rb.description,
            "selectors": [s.model_dump(exclude_defaults=True) for s in rb.selectors],
            "prerequisites": list(rb.prerequisites),
            "variables": [
                {
                    "name": v.name,
                    "source": v.source,
                    "description": v.description,
                    "required": v.required,
                }
                for v in rb.variables
            ],
            "steps": [
                {
                    "id": s.id,
                    "title": s.title,
                    "command": s.command,
                    "risk": s.risk.value,
                    "risk_reasons": list(s.risk_reasons),
                    "rollback": s.rollback,
                    "condition": s.condition,
                    "manual": s.manual,
                    "require_approval": s.require_approval,
                    "instructions": s.instructions,
                    "capture": dict(s.capture),
                    "source_lines": list(s.source_lines) if s.source_lines else None,
                }
                for s in rb.steps
            ],
            "ambiguities": [{"step_id": a.step_id, "message": a.message} for a in self.ambiguities],
        }


def runbook_id_from(name: str) -> str:
    """A runbook id slug: `KubePodCrashLooping.md` → `kubepodcrashlooping`, spaces → dashes."""
    stem = PurePath(name).name
    stem = re.sub(r"\.(md|markdown|ya?ml|txt)$", "", stem, flags=re.I)
    slug = re.sub(r"[^a-z0-9._-]+", "-", stem.lower()).strip("-._")
    return slug[:100] or "runbook"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40].strip("-") or "steps"


class _Assembler:
    def __init__(self, drafts: list[Draft]) -> None:
        self.drafts = drafts
        self.aliases: dict[str, str] = {}
        self.vars: dict[str, Variable] = {}
        self.raw_seen: dict[str, str] = {}
        self.issues: list[Ambiguity] = []
        self.steps: list[Step] = []
        self.counters: dict[str, int] = {}

    def bind(self) -> list[Draft]:
        """Drop `VAR=<placeholder>` lines: they only say which alert value fills `$VAR`."""
        kept: list[Draft] = []
        for draft in self.drafts:
            bound = variables.binding(draft.command) if draft.command else None
            if bound is None:
                kept.append(draft)
                continue
            shell_name, name, ref = bound
            self.aliases[shell_name] = name
            self.note_var(ref)
        return kept

    def note_var(self, ref: variables.VarRef) -> None:
        current = self.vars.get(ref.name)
        if current is None:
            if ref.source:
                description = f"from the alert's {ref.source.replace(':', ' ')} (written {ref.raw})"
            else:
                description = f"no alert field known to fill it; written {ref.raw} in the runbook"
            self.vars[ref.name] = Variable(
                name=ref.name, source=ref.source, description=description
            )
        elif current.source is None and ref.source:
            self.vars[ref.name] = current.model_copy(update={"source": ref.source})

    def next_id(self, section: str) -> str:
        slug = _slug("steps" if section == "intro" else section)
        self.counters[slug] = self.counters.get(slug, 0) + 1
        return f"{slug}-{self.counters[slug]}"

    def build(self, draft: Draft, later_text: str) -> None:
        if draft.command is None and _NOTHING_RE.search(draft.title):
            return  # "Rollback: nothing to roll back" says there is no step
        step_id = self.next_id(draft.section)
        instructions = "\n\n".join(dict.fromkeys(i for i in draft.instructions if i))
        if draft.command is None:
            self.manual(step_id, draft, instructions)
            return
        command, refs = variables.rewrite(draft.command, self.aliases)
        for ref in refs:
            self.note_var(ref)
        assessment = classify(command.translate(_STRAIGHT_QUOTES))  # a wiki's curly quotes
        rollback_cmd: str | None = None
        rollback_inferred = False
        capture: dict[str, str] = {}
        if draft.rollback:
            rollback_cmd, rb_refs = variables.rewrite(draft.rollback, self.aliases)
            for ref in rb_refs:
                self.note_var(ref)
        elif assessment.risk is not StepRisk.SAFE:
            inferred = rollback.infer(command)
            if inferred is not None:
                rollback_cmd, capture = inferred.command, inferred.capture
                rollback_inferred = True
                note = "Rollback inferred: " + (inferred.note or "the well-known inverse")
                instructions = f"{instructions}\n\n{note}".strip()
        self.steps.append(
            Step(
                id=step_id,
                title=draft.title,
                command=command,
                instructions=instructions,
                risk=assessment.risk,
                risk_reasons=list(assessment.reasons),
                rollback=rollback_cmd,
                rollback_inferred=rollback_inferred,
                condition=draft.condition,
                capture=capture,
                require_approval=draft.approval,
                source_lines=draft.lines,
            )
        )
        for note in draft.notes:
            self.issues.append(Ambiguity(step_id=step_id, message=note))
        unsourced = sorted({r.name for r in refs if self.vars[r.name].source is None})
        for message in ambiguities.in_command(command, unsourced):
            self.issues.append(Ambiguity(step_id=step_id, message=message))
        if any(_INTERACTIVE_RE.search(r) for r in assessment.reasons):
            self.issues.append(
                Ambiguity(
                    step_id=step_id,
                    message=(
                        "opens an interactive session; the commands written after it are meant "
                        "to run inside it, but each step runs on its own"
                    ),
                )
            )
        exported = {n for n in variables.assigned_names(command) if n.isupper()}
        used_later = sorted(n for n in exported if re.search(rf"\${{?{n}\b", later_text))
        for name in used_later:
            self.issues.append(
                Ambiguity(
                    step_id=step_id,
                    message=(
                        f"sets ${name} for later steps, but each step runs in its own shell: "
                        f"fill the variable '{variables.canonical(name)}' instead"
                    ),
                )
            )

    def manual(self, step_id: str, draft: Draft, instructions: str) -> None:
        self.steps.append(
            Step(
                id=step_id,
                title=draft.title,
                command=None,
                instructions=instructions or draft.title,
                risk=MANUAL_STEP_RISK,
                risk_reasons=[MANUAL_REASON],
                condition=draft.condition,
                manual=True,
                require_approval=draft.approval,
                source_lines=draft.lines,
            )
        )
        if draft.todo:
            self.issues.append(
                Ambiguity(
                    step_id=step_id,
                    message=("the runbook marks this step TODO and gives no command"),
                )
            )
        for message in ambiguities.in_prose(draft.source_text or draft.title):
            self.issues.append(Ambiguity(step_id=step_id, message=message))


def parse_runbook(text: str, *, source_name: str | None = None) -> ParseResult:
    """Parse Markdown (or plain prose) into a Runbook; raises RunbookParseError only when empty."""
    if not text or not text.strip():
        raise RunbookParseError(f"{source_name or '<text>'}: runbook text is empty")
    front, body = markdown.split_front_matter(text.replace("\r\n", "\n"))
    walked = prose.read(body) if prose.is_plain_text(body) else walk(markdown.blocks(body))
    stem = PurePath(source_name).stem if source_name else None
    fm_title = front.get("title")
    title = str(fm_title).strip() if fm_title else (walked.h1 or stem or "Untitled runbook")
    assembler = _Assembler(walked.drafts)
    kept = assembler.bind()
    for index, draft in enumerate(kept):
        later = "\n".join(d.command or "" for d in kept[index + 1 :])
        assembler.build(draft, later)
    for name in walked.prose_variables:
        if name not in assembler.vars:  # named in words only: no command needs it filled
            source = variables.source_hint(name)
            assembler.vars[name] = Variable(
                name=name,
                source=source,
                required=False,
                description=f"named in the text ('the {name.replace('_', ' ')}'), "
                "not used in a command",
            )
    steps = assembler.steps
    if not steps:
        steps = [
            Step(
                id="manual-1",
                title=f"Read and follow: {title}"[:120],
                manual=True,
                instructions="The runbook has no step a parser could recognise.",
                risk=MANUAL_STEP_RISK,
                risk_reasons=[MANUAL_REASON],
            )
        ]
        assembler.issues.append(
            Ambiguity(
                step_id=None,
                message=("no actionable steps found: the runbook only describes the problem"),
            )
        )
    elif all(s.command is None for s in steps):
        assembler.issues.append(
            Ambiguity(
                step_id=None, message=("no runnable commands: every step is a manual instruction")
            )
        )
    prereqs = list(
        dict.fromkeys(
            [
                *walked.prerequisites,
                *prerequisites.from_commands([s.command for s in steps if s.command]),
                *prerequisites.from_text(body),
            ]
        )
    )
    candidate = walked.h1 if walked.h1 is not None else stem
    alertname = candidate if candidate and _ALERT_NAME_RE.match(candidate) else None
    runbook = Runbook(
        id=runbook_id_from(source_name or title),
        title=title,
        description="\n".join(walked.description).strip(),
        selectors=[AlertSelector(alertname=alertname)] if alertname else [],
        variables=list(assembler.vars.values()),
        prerequisites=prereqs,
        steps=steps,
    )
    return ParseResult(runbook=runbook, ambiguities=assembler.issues)
