"""What a sentence in a runbook says about its step: forbidden, an undo, needs approval, a wait.

Shared by the plain-text reader and the Markdown walker so both read prose the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

PROHIBIT_RE = re.compile(
    r"^(?:(?:but|and|also|please|important|warning|note|caution)\s*:?\s+)?"
    r"(?:do\s*n[o']?t|don'?t|dont|never|avoid|no need to|there is no need|you don'?t need|"
    r"do NOT|must not|should not|shouldn'?t)\b",
    re.I,
)

ROLLBACK_RE = re.compile(
    r"^\W*(?:rb|rollback|roll-back|roll back|undo|revert|back ?out)\s*[:=]"
    r"|[\s(](?:rb|rollback|undo)\s*:"
    r"|\bto\s+(?:undo|revert|roll\s*back)\b"
    r"|\b(?:undo|revert|roll\s*back)\s+(?:it|this|that|these|them|the changes?|everything)\b"
    r"|^\W*(?:undo|revert|roll\s*back)\s+(?:when|once|after|if)\b"
    r"|\b(?:can|could|may|then)\s+(?:undo|revert|roll\s*back)\b"
    r"|\b(?:undo|revert|roll\s*back)\s+(?:with|using|via|by)\b"
    r"|\b(?:goes|went|go)\s+(?:sideways|south|wrong|badly)\b|\bto\s+go\s+back\b|"
    r"\bback(?:ing)?\s+out\b|\brestore\s+the\s+(?:old|previous|original)\b|"
    r"^\W*(?:rollback|roll\s*back|undo|revert)\s+(?:of|for)\s+step"
    r"|\bmakes?\s+(?:it|things|this|that)\s+worse\b|\bgets?\s+worse\b"
    r"|\b(?:scale|set|put|turn|change|switch|move|bring)\s+(?:it\s+|them\s+|this\s+|that\s+)?back\b"
    r"|\bback\s+to\b"
    r"|\broll(?:ing)?\s+(?:it\s+|this\s+|that\s+)?back\s+(?:with|using|via|by)\b"
    r"|^\W*re-?enable\s+(?:it|them|this|that)\b"
    r"|\b(?:start|enable|resume|turn)\s+(?:it|them)\s+(?:again|back\s+on)\s+(?:with|using|via)\b"
    # "(to pause it again, same patch with true)", "remove the label again with ...",
    # "rb (once caught up): ...", "...; `undrain x` puts it back"
    r"|\bto\s+(?:pause|stop|suspend|disable|enable|resume|lock|unlock|close|reopen|re-?enable|"
    r"turn|switch|put|set|bring)\s+(?:it|them|this|that)\s+(?:again|back)\b"
    r"|\b(?:remove|delete|drop|disable|pause|stop)\s+(?:it|them|the\s+[\w-]+)\s+again\b"
    r"|^\W*(?:rb|rollback|undo)\s*\([^()]{0,40}\)\s*:"
    r"|\bputs?\s+(?:it|them)\s+back\b"
    r"|^\W*to\s+(?:release|unpause|unhold|unblock|unlock|uncordon|undrain|re-?enable|restore)\s+"
    r"(?:it|them|this|that)\b",
    re.I,
)

APPROVAL_RE = re.compile(
    r"\b(?:approval|approved\s+by|approves\b|(?:must|has to|have to|needs? to|should|to|will|"
    r"can|shall)\s+(?:first\s+)?approve\b|approving|sign[- ]?off|signs?\s+off|signed\s+off|"
    r"(?:an?\s+|the\s+)?ok\s+from|says?\s+ok|gives?\s+(?:the\s+|an?\s+|you\s+)?(?:ok|go)\b|"
    r"\b(?:ask|check with|clear it with|run it by)\s+@?[\w.-]+(?:\s+[\w#@.-]+){0,4}\s+first\b|"
    r"\b(?:has|have)\s+agreed\b|"
    r"go-ahead|green light|permission\s+(?:from|of)\b|\bok\s+(?:needed|required|first)\b|"
    r"needs?\s+(?:an?\s+|the\s+|their\s+|his\s+|her\s+)?ok\b|get(?:ting)?\s+(?:an?\s+|the\s+)?ok\b|"
    r"\bwith\s+(?:an?\s+)?ok\b|must\s+(?:be\s+)?(?:ok'?d|agreed)|"
    r"after\s+(?:the\s+)?\w+(?:\s+\w+)?\s+(?:agrees|confirms|says\s+(?:so|yes))|"
    r"\+1\s+from\b|get\s+(?:their|his|her|a|an|the)\s+(?:ok|okay|\+1|go)\b|"
    r"\b(?:check|confirm|clear it|talk)\s+with\s+(?:the\s+|an?\s+)?[#@]?[\w.-]+(?:\s+[\w.-]+){0,2}"
    r"\s+(?:first|before)\b|\b(?:ask|ping)\s+(?:the\s+)?[#@][\w.-]+(?:\s+[\w.-]+){0,2}\s+first\b|"
    r"\brun\s+it\s+(?:past|by)\b|\bsigned[- ]off\b|\bok'?d\s+by\b|blessing|"
    r"\b(?:has|have|had)\s+approved\b|\b(?:a|the)\s+go\s+from\b|two[- ]person\s+rule|"
    r"four[- ]eyes|\b(?:ask|confirm\s+with|talk\s+to|consult)\s+(?:the\s+|an?\s+)?[#@]?[\w'.-]+"
    r"(?:\s+[\w'.-]+){0,2}\s+(?:first|before)\b|"
    r"\b(?:not|never|n't)\s+(?:\w+\s+){0,3}without\s+(?:the\s+|an?\s+)?[\w'.-]+(?:\s+[\w'.-]+)?"
    r"\s+(?:ok|okay|approval|sign[- ]?off|go-ahead|\+1)\b)"
    r"|(?:^|\s)\+1\s+(?:from|by)\b"
    # "the DBA on-call's thumbs-up", "the platform lead's OK", "get a yes from billing-eng",
    # "owner of the ns must ok it first"
    r"|\bthumbs[- ]?up\b|\b(?:lead|owner|on-?call|manager|commander|dba|team|sre|admin|"
    r"security|director|ic)(?:'|\u2019)s\s+(?:ok|okay|go|yes|sign[- ]?off)\b"
    r"|\bget\s+(?:a|an|the|their)\s+(?:yes|thumbs[- ]?up)\b"
    r"|\b(?:must|has\s+to|have\s+to|needs?\s+to)\s+(?:ok|okay)\b(?!\s+(?:now|again|before)\b)",
    re.I,
)

NO_APPROVAL_RE = re.compile(
    r"\b(?:no|without|not need|doesn'?t need|does not need|not required|no need for)\s+"
    r"(?:\w+\s+){0,2}(?:approval|sign-?off|permission)",
    re.I,
)

WAIT_RE = re.compile(
    r"^(?:wait|give it|give them|let it|let them|let the\b[^,.;]*?|allow|sleep|pause|hold off|"
    r"hold on|after)\b.*?\b(?:\d+|a few|few|(?:a\s+)?couple(?:\s+of)?|several|some|an?|one|two|"
    r"three|four|five|ten|fifteen|thirty)"
    r"\s*(?:s|sec|secs|seconds?|m|min|mins|minutes?|h|hrs?|hours?)\b",
    re.I,
)


WAIT_THEN_RE = re.compile(  # "Wait about 2 minutes, then check ...": a wait, then the next step
    r"^\W*(?P<wait>.+?)(?:,?\s+then\b|[.;]\s+(?=[A-Za-z]))[\s:,]*(?P<rest>.*)$", re.I | re.S
)


_WAIT_AND_RE = re.compile(r"^\W*(?P<wait>.+?)\s+and\s+(?=[a-z])(?P<rest>.*)$", re.I | re.S)


def wait_then(prose: str, *, loose: bool = False) -> tuple[str, str] | None:
    """ "Give it 10 minutes, then look at the depth again:" -> ("Give it 10 minutes", "look at
    the depth again:"), when the part before "then" is a wait; None otherwise."""
    match = WAIT_THEN_RE.match(prose.strip())
    if loose and (match is None or not WAIT_RE.match(match.group("wait"))):
        match = _WAIT_AND_RE.match(prose.strip())  # "Wait 15 minutes and compare ...": no command
    if match is None:
        return None
    wait = match.group("wait").strip(" ,;")
    if not WAIT_RE.match(wait) or re.search(r"[.;]", wait):
        return None
    return wait, match.group("rest").strip()


_LIMIT_RE = re.compile(
    r"\b(?:more than|above|over|beyond|greater than|exceeding|at least)\s+(\d+)|>\s*(\d+)", re.I
)
_SENTENCE_END_RE = re.compile(r"(?<=[.!?;])\s+")


def needs_approval(text: str, command: str | None = None) -> bool:
    """Whether the text says the step needs someone's approval.

    A stated limit ("scaling above 20 replicas needs approval from capacity") does not apply
    to a command whose numbers all stay within it (`--replicas=12`), nor to one with none.
    """
    double_negative = re.search(r"\b(?:not|never|n't)\s+(?:\w+\s+){0,3}without\b", text, re.I)
    if not APPROVAL_RE.search(text) or (NO_APPROVAL_RE.search(text) and not double_negative):
        return False
    if command is None:
        return True
    for sentence in _SENTENCE_END_RE.split(text):
        if not APPROVAL_RE.search(sentence):
            continue
        clause = re.sub(r"^\W*(?:if|when|once|in case)\b[^,:]*[,:]", "", sentence, flags=re.I)
        limit = _LIMIT_RE.search(clause)
        if limit is None:
            return True
        bound = int(limit.group(1) or limit.group(2))
        numbers = [int(n) for n in re.findall(r"(?:^|[\s=:])(\d{1,6})(?=$|[\s,;)])", command)]
        if any(n > bound for n in numbers):
            return True
    return False


_STEP_NAMED_RE = re.compile(r"\b(?:before|for|in|of)\s+steps?\s*#?(\d{1,2})\b", re.I)


def approval_step_refs(text: str) -> set[str]:
    """Step numbers a sentence says need approval ("Get sign-off from the IC before step 4.")."""
    refs: set[str] = set()
    for sentence in _SENTENCE_END_RE.split(text):
        if needs_approval(sentence):
            refs.update(m.group(1) for m in _STEP_NAMED_RE.finditer(sentence))
    return refs


class _NumberedStep(Protocol):
    command: str | None
    item: str | None
    approval: bool


def mark_approvals(drafts: Sequence[_NumberedStep], text: str) -> None:
    """Set require-approval on the command steps a sentence names by number."""
    refs = approval_step_refs(text)
    for draft in drafts:
        if draft.command and draft.item in refs:
            draft.approval = True


def prohibited(text: str) -> bool:
    """ "Do not restart nginx (systemctl restart nginx)": the command in it is not a step."""
    return bool(PROHIBIT_RE.match(" ".join(text.replace("*", "").split())))


def says_undo(text: str) -> bool:
    return bool(ROLLBACK_RE.search(text))
