"""Score the runbook parser against runbooks with written expectations (tuning or held-out sets).

Each YAML file holds the pasted `text` and the `expected` steps (kind, command, risk, rollback,
condition, requires_approval) and variables, in the format of tests/data/heldout/runbooks.
Expected and parsed steps are aligned in order (a weighted longest common subsequence), then
scored per set: step recall/precision, command exact-match (placeholder spelling ignored:
`<pod>`, `$POD` and `{{ pod }}` compare equal), commands kept anywhere, commands invented (not in
the text), rollbacks attached to the right step, variable recall, risk agreement (and risks
rated lower than expected), conditions and approvals.

Usage: python bench/parse_eval.py tests/data/tuning/runbooks [more dirs] [--by-style] [--json]
       [--show ID] (one runbook's alignment, for tuning on the tuning set only)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from domain.runbooks import parse_runbook
from schemas.runbook import Step

_PLACEHOLDER_RE = re.compile(
    r"\{\{[^{}]*\}\}|(?<![<\w])<[A-Za-z][\w .:/-]{0,60}?>(?!>)|\$\{[A-Za-z_]\w*\}|\$[A-Za-z_]\w*"
)
_WAIT_RE = re.compile(r"^\s*(wait|give it|let it|sleep|pause)\b", re.I)
_ORDER = {"safe": 0, "caution": 1, "dangerous": 2}
_STOP = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "for",
        "it",
        "is",
        "if",
        "then",
        "with",
        "from",
        "that",
        "this",
    ]
)


def squash(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").replace("\\\n", " ").split())


def norm_command(command: str | None) -> str:
    """A command with placeholders made anonymous and whitespace squashed, for comparison."""
    if not command:
        return ""
    text = squash(command).strip("`").strip()
    return _PLACEHOLDER_RE.sub("{{}}", text)


def _tokens(text: str) -> set[str]:
    return set(norm_command(text).split())


def _jaccard(a: str, b: str) -> float:
    ta, tb = _tokens(a), _tokens(b)
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / len(ta | tb)


def _words(text: str) -> set[str]:
    return {w[:5] for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP and len(w) > 2}


def parsed_kind(step: Step) -> str:
    if step.command:
        return "command"
    return "wait" if _WAIT_RE.match(step.title) else "manual"


def _pair_weight(exp: dict[str, Any], got: Step) -> float:
    """How well a parsed step stands for an expected one (0 = not the same step)."""
    kind = exp.get("kind", "command")
    if kind == "command":
        if not got.command:
            return 0.0
        if norm_command(exp["command"]) == norm_command(got.command):
            return 3.0
        similarity = _jaccard(exp["command"], got.command)
        return 1.0 + similarity if similarity >= 0.5 else 0.0
    if got.command:
        return 0.0
    overlap = _words(str(exp.get("summary", ""))) & _words(f"{got.title} {got.instructions}")
    if not overlap:
        return 0.0
    return 1.5 if parsed_kind(got) == kind else 1.0


def align(expected: list[dict[str, Any]], parsed: list[Step]) -> list[tuple[int, int]]:
    """In-order pairs (expected index, parsed index) maximising the total pair weight."""
    n, m = len(expected), len(parsed)
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            w = _pair_weight(expected[i], parsed[j])
            take = best[i + 1][j + 1] + w if w > 0 else -1.0
            best[i][j] = max(best[i + 1][j], best[i][j + 1], take)
    pairs: list[tuple[int, int]] = []
    i = j = 0
    while i < n and j < m:
        w = _pair_weight(expected[i], parsed[j])
        if w > 0 and best[i][j] == best[i + 1][j + 1] + w:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    return pairs


def in_text(command: str, source: str) -> bool:
    """Whether every literal part of a parsed command (placeholders aside) is in the text."""
    parts = [squash(p) for p in re.split(r"\{\{[^{}]*\}\}", command)]
    return all(p in source for p in parts if p)


def _source_forms(text: str) -> str:
    return squash(text)


def _inferred(step: Step) -> bool:
    return step.rollback_inferred


@dataclass
class Tally:
    """Counts for one set of runbooks (or one style within it)."""

    runbooks: int = 0
    expected_steps: int = 0
    parsed_steps: int = 0
    matched_steps: int = 0
    expected_commands: int = 0
    exact_commands: int = 0
    kept_commands: int = 0
    parsed_commands: int = 0
    invented_commands: int = 0
    expected_rollbacks: int = 0
    attached_rollbacks: int = 0
    misplaced_rollbacks: int = 0
    inferred_rollbacks: int = 0
    expected_variables: int = 0
    found_variables: int = 0
    risk_pairs: int = 0
    risk_agree: int = 0
    risk_lower: int = 0
    expected_conditions: int = 0
    found_conditions: int = 0
    extra_conditions: int = 0
    expected_approvals: int = 0
    found_approvals: int = 0
    extra_approvals: int = 0
    expected_waits: int = 0
    found_waits: int = 0
    parse_errors: int = 0
    notes: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for name, value in vars(other).items():
            if isinstance(value, int):
                setattr(self, name, getattr(self, name) + value)
            else:
                self.notes.extend(value)

    def figures(self) -> dict[str, float | int]:
        def pct(num: int, den: int) -> float:
            return round(100.0 * num / den, 1) if den else 100.0

        return {
            "runbooks": self.runbooks,
            "step_recall": pct(self.matched_steps, self.expected_steps),
            "step_precision": pct(self.matched_steps, self.parsed_steps),
            "command_exact": pct(self.exact_commands, self.expected_commands),
            "commands_kept": pct(self.kept_commands, self.expected_commands),
            "invented_commands": self.invented_commands,
            "rollbacks_attached": pct(self.attached_rollbacks, self.expected_rollbacks),
            "rollbacks_misplaced": self.misplaced_rollbacks,
            "rollbacks_inferred": self.inferred_rollbacks,
            "variable_recall": pct(self.found_variables, self.expected_variables),
            "risk_agreement": pct(self.risk_agree, self.risk_pairs),
            "risk_lower_than_expected": self.risk_lower,
            "condition_recall": pct(self.found_conditions, self.expected_conditions),
            "extra_conditions": self.extra_conditions,
            "approval_recall": pct(self.found_approvals, self.expected_approvals),
            "extra_approvals": self.extra_approvals,
            "wait_recall": pct(self.found_waits, self.expected_waits),
            "expected_steps": self.expected_steps,
            "expected_commands": self.expected_commands,
            "expected_rollbacks": self.expected_rollbacks,
            "expected_variables": self.expected_variables,
            "parse_errors": self.parse_errors,
        }


def score(doc: dict[str, Any], *, show: bool = False) -> Tally:
    """Parse one runbook and compare it with its expectations."""
    tally = Tally(runbooks=1)
    text: str = doc["text"]
    expected: list[dict[str, Any]] = doc["expected"]["steps"]
    exp_vars: list[list[str]] = doc["expected"].get("variables") or []
    try:
        result = parse_runbook(text, source_name=f"{doc['id']}.txt")
    except Exception as err:
        tally.parse_errors = 1
        tally.notes.append(f"{doc['id']}: parse error {err!r}")
        result = None
    steps = list(result.runbook.steps) if result else []
    if result and len(steps) == 1 and "no step a parser could recognise" in steps[0].instructions:
        steps = []
    source = _source_forms(text)
    pairs = align(expected, steps)
    by_exp = dict(pairs)
    tally.expected_steps = len(expected)
    tally.parsed_steps = len(steps)
    tally.matched_steps = len(pairs)
    parsed_commands = [s.command for s in steps if s.command]
    tally.parsed_commands = len(parsed_commands)
    for command in parsed_commands:
        if not in_text(command, source):
            tally.invented_commands += 1
            tally.notes.append(f"{doc['id']}: invented {command!r}")
    for step in steps:
        if step.rollback and _inferred(step):
            tally.inferred_rollbacks += 1
    for i, exp in enumerate(expected):
        got = steps[by_exp[i]] if i in by_exp else None
        kind = exp.get("kind", "command")
        if kind == "command" and exp.get("command"):
            tally.expected_commands += 1
            want = norm_command(exp["command"])
            if got is not None and norm_command(got.command) == want:
                tally.exact_commands += 1
            if any(
                norm_command(c) == want or _jaccard(c, exp["command"]) >= 0.8
                for c in parsed_commands
            ):
                tally.kept_commands += 1
        if kind == "wait":
            tally.expected_waits += 1
            if got is not None and parsed_kind(got) == "wait":
                tally.found_waits += 1
        if exp.get("rollback"):
            tally.expected_rollbacks += 1
            if got is not None and norm_command(got.rollback) == norm_command(exp["rollback"]):
                tally.attached_rollbacks += 1
        if (
            got is not None
            and got.rollback
            and not _inferred(got)
            and norm_command(got.rollback) != norm_command(exp.get("rollback"))
        ):
            tally.misplaced_rollbacks += 1
        if got is not None and kind == "command" and got.command:
            tally.risk_pairs += 1
            want_risk = str(exp.get("risk", "caution"))
            if got.risk.value == want_risk:
                tally.risk_agree += 1
            elif _ORDER[got.risk.value] < _ORDER[want_risk]:
                tally.risk_lower += 1
        if exp.get("condition"):
            tally.expected_conditions += 1
            if got is not None and got.condition:
                tally.found_conditions += 1
        elif got is not None and got.condition:
            tally.extra_conditions += 1
        if exp.get("requires_approval"):
            tally.expected_approvals += 1
            if got is not None and got.require_approval:
                tally.found_approvals += 1
        elif got is not None and got.require_approval:
            tally.extra_approvals += 1
    for step in steps:  # misplaced: a stated rollback on a step that matched nothing
        if step.rollback and not _inferred(step) and steps.index(step) not in by_exp.values():
            tally.misplaced_rollbacks += 1
    names = {v.name for v in result.runbook.variables} if result else set()
    tally.expected_variables = len(exp_vars)
    tally.found_variables = sum(1 for options in exp_vars if names & set(options))
    if show:
        _show(doc, expected, steps, pairs, names)
    return tally


def _show(
    doc: dict[str, Any],
    expected: list[dict[str, Any]],
    steps: list[Step],
    pairs: list[tuple[int, int]],
    names: set[str],
) -> None:
    print(
        f"== {doc['id']}  variables: {sorted(names)}  expected: {doc['expected'].get('variables')}"
    )
    by_exp = dict(pairs)
    used = set(by_exp.values())
    for i, exp in enumerate(expected):
        got = steps[by_exp[i]] if i in by_exp else None
        mark = (
            "  " if got and norm_command(got.command) == norm_command(exp.get("command")) else "!!"
        )
        print(
            f"{mark} E{i} [{exp.get('kind')}/{exp.get('risk')}] {exp.get('command') or exp.get('summary')}"
        )
        print(
            f"      cond={exp.get('condition')!r} rb={exp.get('rollback')!r} "
            f"appr={exp.get('requires_approval')}"
        )
        if got:
            print(
                f"   -> P{by_exp[i]} [{parsed_kind(got)}/{got.risk.value}] {got.command or got.title}"
            )
            print(
                f"      cond={got.condition!r} rb={got.rollback!r} appr={got.require_approval} "
                f"lines={got.source_lines}"
            )
    for j, step in enumerate(steps):
        if j not in used:
            print(
                f"++ P{j} [{parsed_kind(step)}] {step.command or step.title} (cond={step.condition!r})"
            )


def load(paths: list[Path]) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in paths:
        files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
        for file in files:
            doc = yaml.safe_load(file.read_text(encoding="utf-8"))
            doc.setdefault("id", file.stem)
            doc.setdefault("style", "unknown")
            docs.append(doc)
    return docs


def evaluate(docs: list[dict[str, Any]], *, by_style: bool = False) -> dict[str, Tally]:
    """Tallies for the whole set ("all") and, when asked, per style."""
    out: dict[str, Tally] = defaultdict(Tally)
    for doc in docs:
        tally = score(doc)
        out["all"].add(tally)
        if by_style:
            out[str(doc["style"])].add(tally)
    return dict(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--by-style", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--show", action="append", default=[], help="runbook id prefix to show")
    parser.add_argument("--notes", action="store_true", help="list invented commands and errors")
    args = parser.parse_args()
    docs = load(args.paths)
    for doc in docs:
        if any(str(doc["id"]).startswith(p) for p in args.show):
            score(doc, show=True)
    results = evaluate(docs, by_style=args.by_style)
    if args.json:
        print(json.dumps({k: v.figures() for k, v in results.items()}, indent=2))
        return
    keys = list(next(iter(results.values())).figures())
    print(f"{'':26}" + "".join(f"{k[:10]:>11}" for k in results))
    for key in keys:
        print(f"{key:26}" + "".join(f"{results[k].figures()[key]:>11}" for k in results))
    if args.notes:
        for note in results["all"].notes:
            print(note)


if __name__ == "__main__":
    main()
