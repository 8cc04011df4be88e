"""Decision points in prose: "If …, do X", "Otherwise …", "If none of this helps …".

A condition is kept as readable prose (the executor asks a human to judge prose conditions);
"otherwise" becomes `not (<the previous condition>)`.
"""

from __future__ import annotations

import re

_IF_RE = re.compile(
    r"^\s*(?:and\s+|then\s+|but\s+|also,?\s+)?"
    r"(?P<kw>if|when|whenever|in case(?: of| that)?|in the case (?:of|that)|for the case that|"
    r"should|unless|only if|only (?:for|on|when)|once|as soon as|assuming(?: that)?|"
    r"provided(?: that)?)\s+(?P<cond>.+?)"
    r"(?:\s*(?:,|;|\s-{1,2}\s)\s*(?:then\s+)?(?P<rest>.*)|\s+then\s+(?P<rest2>.*)|:\s*$|\.?\s*$)",
    re.I | re.S,
)
_ELSE_RE = re.compile(
    r"^\s*(?P<kw>otherwise|else|if not|if (?:that|this|it) fails|if (?:that|this|it)"
    r" (?:does not|doesn'?t|did not|didn'?t) (?:help|work|fix it)|failing that)\b[,:]?\s*"
    r"(?P<rest>.*)$",
    re.I | re.S,
)
_TRIVIAL = frozenset(
    {
        "possible",
        "necessary",
        "needed",
        "required",
        "applicable",
        "desired",
        "appropriate",
        "any",
        "you want",
        "you wish",
        "you like",
        "in doubt",
        "you are done",
        "you're done",
        "done",
        "finished",
        "you are finished",
    }
)
_SENTENCE_RE = re.compile(
    r"(?<=[.!?])\s+(?=[A-Z`*_(])|(?<=[a-z][.!])\s+(?=(?:if|when|once|otherwise|unless)\s)"
)
_MARKUP_RE = re.compile(r"\*{1,2}(?=\w)|(?<=\w)\*{1,2}|(?<!\w)_{1,2}(?=\w)|(?<=\w)_{1,2}(?!\w)")


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_RE.split(" ".join(text.split())) if s.strip()]


def clean(text: str) -> str:
    text = _MARKUP_RE.sub("", " ".join(text.split())).replace("`", "")
    return text.strip().rstrip(":").strip()


_ASKED_RE = re.compile(
    r"^(?!(?:what|why|how|who|which|where|when|whose|whom|any\s+questions|is|are|was|were|"
    r"does|do|did|has|have|can|could|will|would|should)\b)"
    r"(?P<cond>[^?.!:]{3,}?)\?(?:\s+(?P<rest>.*))?$",
    re.I,
)


_FOR_CASE_RE = re.compile(
    r"^\s*for\s+(?!each\b|every\b|all\b|example\b|instance\b|more\b|details?\b|reference\b|"
    r"now\b|a\s+while\b|this\b|that\b)(?P<cond>[^,:;.]{2,40}?),\s*"
    r"(?P<rest>(?:check|run|use|verify|confirm|make|look|set|restart|add|remove|delete|scale|"
    r"ensure|open|test|inspect|query)\b.*)$",
    re.I | re.S,
)


def split_condition(
    sentence: str, previous: str | None = None, before: str | None = None
) -> tuple[str | None, str]:
    """The condition a sentence opens with, and the rest of the sentence (the action).

    `previous` is the latest condition, used to spell out "otherwise"; `before` is the sentence
    just before, used to spell out "if so".
    """
    text = " ".join(sentence.split())
    match = _ELSE_RE.match(text)
    if match:
        rest = match.group("rest")
        if previous:
            return f"not ({previous})", rest
        return "the previous steps did not resolve the problem", rest
    match = _IF_RE.match(text)
    scoped = _FOR_CASE_RE.match(text) if not match else None
    if scoped:  # "For HTTP-01 challenges, check that ...": the case the action is for
        return clean(scoped.group("cond")), scoped.group("rest").strip()
    if not match:
        asked = _ASKED_RE.match(text)  # "Pods `Pending`? Check quota": the question guards it
        if asked and len(asked.group("cond").split()) <= 10:
            return clean(asked.group("cond")), (asked.group("rest") or "").strip()
        return None, text
    cond = clean(match.group("cond")).rstrip(".")
    rest = match.group("rest") or match.group("rest2") or ""
    kw = match.group("kw").lower()
    if kw in {"when", "whenever", "should", "once", "as soon as"} and not rest:
        return None, text
    if cond.lower() in _TRIVIAL:
        return None, rest or text
    if cond.lower() in {"so", "yes"}:
        cond = clean(before).rstrip(".") if before else f"{kw} {cond}"
    if kw == "unless":
        cond = f"not ({cond})"
    if len(cond) > 200:
        cond = cond[:197] + "..."
    return cond, rest.strip()


def heading_condition(heading: str) -> str | None:
    """A heading such as "If the PVC is full" or "When etcd has no leader" guards its section."""
    text = clean(heading)
    if re.match(r"^(if|when|in case|unless|only if)\b", text, re.I):
        cond, _ = split_condition(text)
        return cond
    aside = re.search(r"\((?:only\s+)?(?:if|when|in\s+case)\s+([^()]{3,100})\)\s*$", text, re.I)
    if aside:  # "4. Buy headroom (only if inserts from other services fail too)"
        return aside.group(1).strip(" .")
    return None


def combine(*conditions: str | None) -> str | None:
    parts: list[str] = []
    for cond in conditions:
        if cond and cond not in parts:
            parts.append(cond)
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return " and ".join(f"({p})" for p in parts)
