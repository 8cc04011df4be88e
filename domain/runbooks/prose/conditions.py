"""Conditions and approvals in prose: "if you see more than 50 timeouts", "otherwise",
and sentences that only say who must approve.
"""

from __future__ import annotations

import re

from domain.runbooks import branches, cmdline, phrases
from domain.runbooks.drafts import is_imperative
from domain.runbooks.prose.command_spans import find_commands
from domain.runbooks.prose.lines import _Line, _Reader
from domain.runbooks.prose.patterns import (
    _ACK_RE,
    _ACTION_WORDS,
    _APPROVAL_LINE_RE,
    _ARROW_RE,
    _EMOJI_RE,
    _FILLER_RE,
    _QUESTION_RE,
    _SPEAKER_RE,
    _TRAILING_IF_RE,
)


def _cut_action(cond: str) -> str:
    """ "cl_waiting is high reload it with" -> "cl_waiting is high" (no comma between them)."""
    words = cond.split()
    for k in range(2, len(words)):
        if words[k].lower() in _ACTION_WORDS and words[k - 1].lower() not in {
            "to",
            "the",
            "a",
            "is",
            "was",
            "does",
            "did",
            "not",
            "no",
            "and",
            "or",
            "of",
        }:
            return " ".join(words[:k]).rstrip(",;")
    return cond


def _condition_of(prose: str, previous: str | None) -> str | None:
    cond, separated = _condition_text(prose, previous)
    if cond and not separated and not cond.startswith("not ("):
        return _cut_action(cond)  # "if cl_waiting is high reload it": no comma to cut at
    return cond


_CHECK_QUESTION_RE = re.compile(  # "Is the renewal timer alive?": what the command checks
    r"^\W*(?:is|are|was|were|does|do|did|has|have|can|could|will|would|what|why|how|which|where)\b",
    re.I,
)


def _checks(text: str) -> bool:
    """A yes/no question the next command answers ("Is the timer alive? cmd"), unless the text
    goes on "then ..." ("Did that not help? Then cmd": the answer guards the command)."""
    return bool(_CHECK_QUESTION_RE.match(text)) and not re.search(r"\?\s*then\b", text, re.I)


def _condition_text(prose: str, previous: str | None) -> tuple[str | None, bool]:
    """The condition and whether the text separated it from the action (comma, colon...)."""
    text = branches.clean(_FILLER_RE.sub("", _EMOJI_RE.sub("", prose).strip()))
    if not text:
        return None, True
    arrow = _ARROW_RE.split(text, maxsplit=1)
    if len(arrow) == 2 and arrow[0] and not is_imperative(arrow[0]) and not _ACK_RE.match(arrow[0]):
        return re.sub(r"^(?:if|when|once)\s+", "", arrow[0].strip(" :"), flags=re.I), True
    for sentence in branches.sentences(text) or [text]:
        cond, rest = branches.split_condition(_FILLER_RE.sub("", sentence), previous)
        if cond:
            separated = bool(rest) or bool(re.search(r"[,;:]\s*$", sentence))
            return cond, separated
    if (
        text.rstrip().endswith("?")
        and len(text.split()) <= 6
        and not _CHECK_QUESTION_RE.match(text)
    ):
        return text.strip(), True
    question = _QUESTION_RE.match(text)
    words = len(question.group(1).split()) if question else 0
    answer = text[question.end(1) + 1 :].strip() if question else ""
    if (
        question
        and (words <= 8 or (words <= 14 and is_imperative(answer)))  # "... to go out? Set it"
        and not _checks(text)
    ):
        return question.group(1).strip(), True
    match = _TRAILING_IF_RE.search(text)
    if (
        match
        and not phrases.APPROVAL_RE.search(match.group("cond"))
        and len(match.group("cond").split()) >= 2
        and match.group("cond").strip().lower() not in branches._TRIVIAL
        and not (match.group("cond").rstrip().endswith(")") and "(" not in match.group("cond"))
    ):  # "(..., so do it off-peak if you can)": said inside an aside
        return match.group("cond").strip(), True
    return None, True


def _approval_statement(reader: _Reader, lines: list[_Line], i: int, prose: str) -> bool:
    """A line that only says who must approve ("Needs sign-off from the team lead", "check with
    the DBA before you cancel anything"): it guards the step it stands beside, it is not one.

    With an item's lead-in still waiting for its command, it applies to that command; otherwise
    to the command just above it, when no command follows on the next line.
    """
    text = _FILLER_RE.sub("", prose.strip())
    if (
        not _APPROVAL_LINE_RE.match(text)
        or not phrases.needs_approval(text)
        or text.rstrip().endswith(":")
    ):
        return False
    state = reader.state
    if state.lead is not None and not state.lead_used:
        state.approval = text
        return True
    previous = reader.last_command_draft()
    line = lines[i]
    if previous is None or previous.lines is None or line.no - previous.lines[1] > 3:
        return False
    nxt = next((ln for ln in lines[i + 1 :] if not ln.blank), None)
    follows = nxt is not None and not _SPEAKER_RE.match(nxt.text) and find_commands(nxt.text)
    if nxt is not None and follows and (not nxt.marker or (nxt.bullet and state.numbered_item)):
        return False  # the command on the next line is the one it guards
    previous.approval = True
    return True


def _approval_sentence(prose: str) -> str | None:
    """A later sentence of a line that only says who must approve ("This wipes its data
    directory. Only do this after getting approval from the DBA on call.")."""
    parts = branches.sentences(_FILLER_RE.sub("", prose.strip()))
    for sentence in parts[1:]:
        if _APPROVAL_LINE_RE.match(sentence) and phrases.needs_approval(sentence):
            return sentence
    return None


_BEFORE_RUNNING_RE = re.compile(
    r"\bbefore\s+(?:running|doing|you\s+run|issuing|using)\s+(?:the\s+|a\s+)?`?([\w.-]{3,})", re.I
)


def _approval_for_named_command(reader: _Reader, prose: str) -> bool:
    """ "get an ok from the data team before running makestep": the approval guards the latest
    step whose command names that word."""
    for sentence in branches.sentences(prose):
        named = _BEFORE_RUNNING_RE.search(sentence)
        if named is None or not phrases.needs_approval(sentence):
            continue
        word = named.group(1).lower()
        for draft in reversed(reader.out.drafts):
            if draft.command and word in re.split(r"[\s|;&/]+", draft.command.lower()):
                draft.approval = True
                return True
    return False


def _cut_clause(command: str) -> tuple[str, str]:
    """Split "cmd, tell #team" into the command and the prose clause after it."""
    quote: str | None = None
    depth = 0
    for i, ch in enumerate(command):
        if quote:
            if ch == quote:
                quote = None
            continue
        if ch in "'\"":
            quote = ch
        elif ch in "({":
            depth += 1
        elif ch in ")}":
            depth -= 1
        elif ch in ",;" and depth == 0 and command[i + 1 : i + 2] == " ":
            rest = command[i + 1 :].strip()
            if (
                re.match(r"^[A-Za-z]", rest)
                and not cmdline.TECHNICAL_RE.search(rest)
                and len(rest.split()) >= 2
                and (
                    rest.split()[0] not in {"do", "done", "then", "fi", "else", "esac"}
                    or (ch == "," and rest.split()[0] == "then")  # ", then wait": prose
                )
            ):
                head, more = _cut_prose_tail(command[:i].rstrip())
                return head, f"{more}, {rest}" if more else rest
    return _cut_prose_tail(command)


_GAP_COMMENT_RE = re.compile(r"(?<!\s)\s{2,}(?:--|\()\s*(?=[A-Za-z])")  # a "# comment" is the title
_TAIL_WORDS = frozenset(["to", "and", "so", "because", "which", "until", "till"])
_PLAIN_WORD_RE = re.compile(r"(?:[A-Za-z][a-z']*|\d+(?:\.\d+)?%)[,.]?")  # "it's under 80%"


def _cut_prose_tail(command: str) -> tuple[str, str]:
    """A sentence that goes on after an own-line command: "cmd  -- if it says X ...", "cmd
    (ctrl-c after a few secs)" after a wide gap, or "cmd to see why it died. ..." / "cmd and
    look at Conditions, ...": three plain words after "to"/"and"... end the command."""
    if "\n" in command:
        return command, ""
    bare = _QUOTED_SPANS_RE.sub(lambda m: "_" * len(m.group(0)), command)
    gap = _GAP_COMMENT_RE.search(bare)
    if gap and cmdline.is_command(command[: gap.start()]):
        return command[: gap.start()].rstrip(), command[gap.end() :].strip(" )")
    words = list(re.finditer(r"\S+", bare))
    for k in range(2, len(words) - 2):
        if words[k].group(0).lower() not in _TAIL_WORDS:
            continue
        following = [w.group(0) for w in words[k + 1 : k + 4]]
        if len(following) < 3 or not all(_PLAIN_WORD_RE.fullmatch(w) for w in following):
            continue
        head = command[: words[k].start()].rstrip()
        if cmdline.is_command(head):
            return head, command[words[k].start() :].strip()
    return command, ""


_QUOTED_SPANS_RE = re.compile(r"'[^']*'|\"(?:[^\"\\]|\\.)*\"")


def _condition_rest(text: str) -> str:
    _, rest = branches.split_condition(text)
    return rest or text
