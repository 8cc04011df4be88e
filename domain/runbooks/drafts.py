"""Walk the Markdown blocks and decide what is an action (a draft step) and what is context.

Sections named Meaning/Impact/… are context; lists, lead-in sentences ("review the logs:")
and code blocks in the other sections become draft steps with their governing conditions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from domain.runbooks import branches, cmdline, commands, phrases
from domain.runbooks.markdown import Block
from domain.runbooks.risk import classify
from domain.runbooks.undo_words import LEAD_UNDO_RE, derive_rollback
from schemas.runbook import StepRisk

_CONTEXT_RE = re.compile(
    r"^(meaning|impact|summary|overview|background|description|about|full context|symptoms?|"
    r"references?|links|see also|related|further reading|notes?|context|purpose|alert details?|"
    r"explanation|why|what does|table of contents|faq|documentation|more info|additional info)",
    re.I,
)
_CATEGORIES = [
    ("rollback", re.compile(r"^(?:roll ?back|rolling back|undo|revert|back ?out)\b", re.I)),
    (
        "prerequisites",
        re.compile(r"prereq|requirements|before you (begin|start)|access needed", re.I),
    ),
    (
        "diagnosis",
        re.compile(
            r"diagnos|investigat|troubleshoot|identif|triage|debug|determin|"
            r"root cause|analy[sz]|inspect|finding|detect",
            re.I,
        ),
    ),
    (
        "mitigation",
        re.compile(
            r"mitigat|remediat|resolution|resolv|fix|workaround|recover|repair|"
            r"procedure|steps|solution|action|respon|restor|handl|how to|"
            r"clean",
            re.I,
        ),
    ),
    ("verify", re.compile(r"verif|validat|confirm|test|post-|after ", re.I)),
    ("escalation", re.compile(r"escalat|contact|support|help", re.I)),
]
_IMPERATIVE = frozenset(
    """check verify ensure make confirm look review inspect investigate examine identify find
    locate determine run execute restart delete remove scale increase decrease add reduce
    raise lower set update upgrade downgrade apply patch edit change modify create open
    navigate go click select choose contact escalate notify talk ask page file collect gather
    capture save export import compare watch monitor observe wait consider try use follow read
    study query search filter list get describe view validate test fix resolve repair recover
    restore rollback revert undo drain cordon uncordon evict free clean clear purge rotate
    renew replace reconfigure configure enable disable stop start kill terminate reboot resize
    expand extend migrate move copy backup back log login ssh connect exec debug obtain fetch
    retrieve record note document report mark approve deny silence acknowledge ack escalate
    expose port-forward curl analyze analyse assess evaluate correct adjust tune reschedule
    redeploy rerun retry trigger reinstall install uninstall provision allocate deploy roll
    bump tag label annotate taint""".split()  # noqa: SIM905
)  # fmt: skip
_LEADING_FILLER_RE = re.compile(
    r"^(?:\d+[.)]\s*|then,?\s+|first,?\s+|next,?\s+|finally,?\s+|please,?\s+|also,?\s+|now,?\s+|"
    r"optionally,?\s+|alternatively,?\s+|afterwards,?\s+|additionally,?\s+|"
    r"you (?:can|should|must|may|need to|might want to|will need to)\s+|"
    r"we (?:can|should|need to)\s+|try to\s+|make sure to\s+|"
    r"be sure to\s+|it is (?:recommended|advisable) to\s+)+",
    re.I,
)
_REMOVE_RE = re.compile(r"(?:^|[;&|]\s*|sudo\s+)rm\s")
_PATH_RE = re.compile(r"/[\w.-]+(?:/[\w.-]+)+")
_SYMPTOM_HEADER_RE = re.compile(
    r"^(?:symptoms?|log(?: line| message)?|error(?: message)?|message|signal|if|when|"
    r"condition|situation|you see|observed|alert)$",
    re.I,
)
_NEGATED_RE = re.compile(r"\b(?:don'?t|do not|never|not|avoid|instead of)\b[^.;]*$", re.I)
_NUMBERED_HEADING_RE = re.compile(r"^(?:step\s*)?(\d{1,2})\s*[.):\-\u2013]\s", re.I)
_STEP_NUMBER_RE = re.compile(r"\bsteps?\s*#?(\d{1,2})\b", re.I)
_ROLLBACK_SENT_RE = re.compile(
    r"^\s*(?:to\s+(?:undo|revert|roll\s*back)|undo|revert|roll\s*back|rollback)\b|"
    r"\b(?:undo|revert|roll\s*back)\s+(?:this|it|the change|that)?\s*(?:with|using|by running)\b",
    re.I,
)
_REVERT_WORD_RE = re.compile(r"\b(?:revert|undo|roll\s*back|rollback|back\s*out)\b", re.I)
_NAMED_STEP_WITH_RE = re.compile(r"\bsteps?\s*#?(\d{1,2})\s+(?:with|by|using|via)\s*`?\s*$", re.I)
_REFERENCE_RE = re.compile(
    r"^\s*(?:for more|more (?:info|information|details)|(?:you|we) can find more|further info|"
    r"see also|for details|refer to|see the|see \[|read more|documentation)",
    re.I,
)
_CHECKLIST_RE = re.compile(
    r"\b(check|verify|look|ensure|consider|investigate|review|confirm|"
    r"possible|causes?|reasons?|things)\b",
    re.I,
)
_ASIDE_RE = re.compile(r"^\s*(?:tip|fyi|info|hint|side note|pro tip)\s*:", re.I)
_LINK_RE = re.compile(r"\[([^\]]*)\]\([^)]*\)|\[([^\]]*)\]\[[^\]]*\]")
_TITLE_TAIL_RE = re.compile(
    r"\s*(?:\b(?:via|with|using|by running|by executing|run|running|execute|the following"
    r"(?: command)?|following command|command|as follows|like this|by)\s*)+[:.]?\s*$",
    re.I,
)


@dataclass
class Draft:
    """A step before ids, variables and risk are settled."""

    section: str
    title: str
    command: str | None
    instructions: list[str] = field(default_factory=list)
    condition: str | None = None
    rollback: str | None = None
    todo: bool = False
    source_text: str = ""
    lines: tuple[int, int] | None = None  # where in the text the step was read (1-based)
    approval: bool = False  # the text says someone must approve it first
    notes: list[str] = field(default_factory=list)  # doubts for the reviewer (ambiguities)
    item: str | None = None  # the list item number it was written under ("3" for "3." / "Step 3:")


@dataclass
class Walk:
    drafts: list[Draft] = field(default_factory=list)
    description: list[str] = field(default_factory=list)
    prerequisites: list[str] = field(default_factory=list)
    h1: str | None = None
    prose_variables: list[str] = field(default_factory=list)  # "the host from the alert"


def category_of(heading: str, parent: str | None) -> str:
    text = branches.clean(heading)
    if _CONTEXT_RE.match(text):
        return "context"
    for name, pattern in _CATEGORIES:
        if pattern.search(text):
            return name
    if parent and parent not in {"context", "intro"}:
        return parent
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:30].strip("-")
    return slug or "steps"


def is_imperative(text: str) -> bool:
    body = _LEADING_FILLER_RE.sub("", branches.clean(_LINK_RE.sub(r"\1\2", text)))
    cond, rest = branches.split_condition(body)
    if cond is not None and rest:
        body = _LEADING_FILLER_RE.sub("", rest)
    first = re.match(r"[A-Za-z-]+", body)
    return bool(first and first.group(0).lower() in _IMPERATIVE)


def make_title(text: str, command: str | None = None, fallback: str = "") -> str:
    """A short, readable title: the sentence without the command, links or trailing 'via'."""
    raw = text
    if command:
        raw = raw.replace(f"`{command}`", " ").replace(command, " ")
    raw = _LINK_RE.sub(r"\1\2", raw)
    raw = re.sub(r"`+([^`]*)`+", r"\1", raw)
    title = branches.clean(raw)
    cond, rest = branches.split_condition(title)
    if cond and len(rest) >= 4:
        title = rest
    title = _TITLE_TAIL_RE.sub("", title).strip(" .,:;-")
    title = title[:1].upper() + title[1:]
    if len(title) < 4:
        title = fallback or (f"Run {command.splitlines()[0][:70]}" if command else "Manual step")
    if len(title) > 120:
        cut = title[:117].rsplit(" ", 1)[0]
        title = cut + "..."
    return title


class _Walker:
    def __init__(self, blocks: list[Block], has_sections: bool) -> None:
        self.blocks = blocks
        self.has_sections = has_sections
        self.out = Walk()
        self.headings: list[tuple[int, str, str | None]] = []  # level, category, condition
        self.item_cond: dict[int, str | None] = {}
        self.item_text: dict[int, str] = {}
        self.lead: str | None = None
        self.lead_line = 0
        self.lead_cond: str | None = None
        self.lead_rollback = False
        self.last_cond: str | None = None
        self.checklist: Draft | None = None
        self.para_cond: str | None = None
        self.index = 0
        self.heading_text = ""
        self.labelled: set[str] = set()
        self.heading_item = ""  # "4" under "## 4. Raise the watermark"
        self.undo_ref = ""  # in a Rollback section: the step number the next undo names

    @property
    def category(self) -> str:
        if self.headings:
            return self.headings[-1][1]
        return "steps" if not self.has_sections else "intro"

    def scope_condition(self, depth: int) -> str | None:
        conds = [c for _, _, c in self.headings] + [self.para_cond]
        conds += [self.item_cond.get(d) for d in sorted(self.item_cond) if d <= depth]
        return branches.combine(*conds)

    def add(self, draft: Draft) -> Draft:
        block = self.blocks[self.index] if self.blocks else None
        if block is not None:
            start = self.lead_line if (self.lead and draft.source_text == self.lead) else block.line
            draft.lines = (start or block.line, max(block.end_line, block.line))
        said = " ".join([draft.source_text, *draft.instructions[:1]])
        draft.approval = phrases.needs_approval(said, draft.command)
        draft.item = (block.item if block is not None else "") or self.heading_item or None
        if draft.command and self.category == "rollback":
            if self.undo_ref and attach_to_item(self.out.drafts, self.undo_ref, draft.command):
                return draft
            if self.attach_rollback(draft.command):
                return draft
        self.out.drafts.append(draft)
        return draft

    def attach_rollback(self, command: str) -> bool:
        """A command in a "Rollback" section undoes the earlier step it resembles most."""
        return attach_rollback(self.out.drafts, command)

    def run(self) -> Walk:
        for index, block in enumerate(self.blocks):
            self.index = index
            following = self.blocks[index + 1] if index + 1 < len(self.blocks) else None
            if block.kind == "heading":
                self.heading(block)
            elif block.kind == "text":
                parts = bare_command_parts(block)
                for n, part in enumerate(parts):
                    after = parts[n + 1] if n + 1 < len(parts) else following
                    if part.kind == "code":
                        self.code(part)
                    else:
                        self.text(part, after)
            else:
                self.code(block)
        said = "\n".join(b.text for b in self.blocks if b.kind == "text")
        phrases.mark_approvals(self.out.drafts, said)  # "Get sign-off ... before step 4."
        return self.out

    def list_has_commands(self, depth: int) -> bool:
        """Whether the list that follows the current block (deeper than `depth`) has commands."""
        for block in self.blocks[self.index + 1 :]:
            if block.kind == "heading" or block.list_depth <= depth:
                return False
            if block.kind == "code" and commands.code_block_commands(block.text, block.lang):
                return True
            if block.kind == "text" and commands.inline_commands(block.text):
                return True
        return False

    def heading(self, block: Block) -> None:
        if block.level == 1 and self.out.h1 is None:
            self.out.h1 = branches.clean(block.text)
        while self.headings and self.headings[-1][0] >= block.level:
            self.headings.pop()
        parent = self.headings[-1][1] if self.headings else None
        if block.level == 1:
            category = "intro" if self.has_sections else "steps"
        else:
            category = category_of(block.text, parent)
        self.headings.append((block.level, category, branches.heading_condition(block.text)))
        self.heading_text = branches.clean(_LINK_RE.sub(r"\1\2", block.text))
        number = _NUMBERED_HEADING_RE.match(self.heading_text)
        self.heading_item = number.group(1) if number else ""
        self.undo_ref = ""
        self.item_cond.clear()
        self.item_text.clear()
        self.lead = self.lead_cond = self.last_cond = self.para_cond = None
        self.checklist = None
        if category == "context" and block.level > 1:
            self.out.description.append(f"{branches.clean(block.text)}:")

    def describe(self, text: str) -> None:
        if self.category not in {"context", "intro"} and self.heading_text not in self.labelled:
            self.labelled.add(self.heading_text)
            self.out.description.append(f"{self.heading_text} (notes):")
        self.out.description.append(" ".join(_LINK_RE.sub(r"\1\2", text).split()))

    def undo_of_named_step(self, sentence: str, command: str) -> bool:
        """An undo given per step in a sentence that reverts ("revert: step 2 with `cmd`"):
        `command` becomes the rollback of the step with that number."""
        at = sentence.find(command)
        if at < 0 or not _REVERT_WORD_RE.search(sentence):
            return False
        named = _NAMED_STEP_WITH_RE.search(sentence[:at])
        if named is None:
            return False
        target = next(
            (
                d
                for d in reversed(self.out.drafts)
                if d.item == named.group(1) and d.command and not d.rollback
            ),
            None,
        )
        if target is None:
            return False
        target.rollback = command
        return True

    def text(self, block: Block, following: Block | None) -> None:
        self.lead = self.lead_cond = None
        self.lead_rollback = False
        text = block.text
        ref = _STEP_NUMBER_RE.search(text) if self.category == "rollback" else None
        self.undo_ref = ref.group(1) if ref else ""  # "Step 4 must be undone once ...:"
        category = self.category
        if category in {"context", "intro"}:
            if category == "intro" and commands.inline_commands(text):
                pass
            else:
                self.describe(text)
                return
        if category == "prerequisites":
            self.out.prerequisites.append(branches.clean(_LINK_RE.sub(r"\1\2", text)))
            return
        if _is_table(text):
            self.table(text)
            return
        previous = self.blocks[self.index - 1] if self.index else None
        if (
            previous is not None
            and previous.kind == "code"
            and self.out.drafts
            and self.out.drafts[-1].command
            and phrases.needs_approval(text, self.out.drafts[-1].command)
            and not commands.inline_commands(text)
            and not (following is not None and following.kind == "code")
            and not text.rstrip().endswith(":")
        ):
            self.out.drafts[-1].approval = True  # "**Needs sign-off from X.**" under the block
        depth = block.list_depth
        sents = branches.sentences(text) or [text]
        if block.item_start:
            for d in [d for d in self.item_cond if d >= depth]:
                self.item_cond.pop(d, None)
                self.item_text.pop(d, None)
            cond, _ = branches.split_condition(sents[0], self.last_cond)
            self.item_cond[depth] = cond
            self.item_text[depth] = text
            if cond:
                self.last_cond = cond
        scope = self.scope_condition(depth)
        found = commands.inline_commands(text)
        if found:
            self.inline(block, sents, found, scope)
            if text.rstrip().endswith(":"):
                self.lead = text
                self.lead_line = block.line
            return
        last = sents[-1]
        cond, _ = branches.split_condition(
            last, self.last_cond, sents[-2] if len(sents) > 1 else None
        )
        if block.item_start and len(sents) == 1:
            cond = None  # already the item's condition
        if cond:
            self.last_cond = cond
        if depth == 0 and (cond or re.match(r"^\s*(otherwise|else)\b", last, re.I)):
            self.para_cond = None
            scope = self.scope_condition(depth)
        if (following is not None and following.kind == "code") or text.rstrip().endswith(":"):
            self.lead, self.lead_cond = text, cond or _any_condition(sents, self.last_cond)
            self.lead_line = block.line
            # a numbered item's own "To roll back to the previous revision:" is its action
            numbered_item = block.item_start and bool(block.item)
            self.lead_rollback = bool(_ROLLBACK_SENT_RE.search(last)) and not numbered_item
            if following is not None and following.kind == "text" and following.list_depth > depth:
                self.lead = None
                if not self.list_has_commands(depth) and (
                    is_imperative(text) or _CHECKLIST_RE.search(text)
                ):
                    self.checklist = self.add(
                        Draft(
                            category,
                            make_title(text),
                            None,
                            [text],
                            branches.combine(scope, cond),
                            source_text=text,
                        )
                    )
                else:
                    self.describe(text)
            elif (
                following is not None
                and following.kind == "text"
                and depth == 0
                and cond
                and not block.item_start
            ):
                self.para_cond = cond  # "If X:" followed by prose: governs until the next heading
                self.lead = None
            return
        drafts = self.out.drafts
        if depth > 0 and not block.item_start and drafts:
            drafts[-1].instructions.append(text)
            return
        parent = self.item_text.get(depth - 1) if depth > 1 else None
        if self.checklist is not None and depth > 0:
            self.checklist.instructions.append(f"- {text}")
            return
        if parent is not None and drafts and not is_imperative(text):
            drafts[-1].instructions.append(f"- {text}")
            return
        if depth == 0:
            self.checklist = None
        without_links = _LINK_RE.sub("", text).strip(" .,;:\n")
        if is_imperative(text) and without_links and not _REFERENCE_RE.match(text):
            self.add(
                Draft(
                    category,
                    make_title(sents[0]),
                    None,
                    [text],
                    branches.combine(scope, cond),
                    source_text=text,
                )
            )
            return
        self.describe(text)

    def table(self, text: str) -> None:
        """A pipe table (a "table of checks"): a row with a command cell is a step. Under a
        "Symptom | Action" header, the first cell says when the row's step applies."""
        rows = [r for r in text.split("\n") if r.strip()]
        header = [c.strip() for c in rows[0].strip().strip("|").split("|")] if rows else []
        symptom_table = bool(header) and bool(_SYMPTOM_HEADER_RE.match(branches.clean(header[0])))
        for row in rows:
            cells = [c.strip() for c in row.strip().strip("|").split("|")]
            if not any(cells) or all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c):
                continue
            label = branches.clean(cells[0]) if cells else ""
            command = next((c for c in map(_cell_command, cells) if c), None)
            scope = self.scope_condition(0)
            if symptom_table and row is not rows[0] and command and command not in cells[0]:
                scope = branches.combine(scope, label)  # "| `bind: address in use` | ... | cmd |"
            if command:
                self.undo_ref = cells[0] if re.fullmatch(r"\d{1,2}", cells[0]) else ""
                self.add(Draft(self.category, make_title(label, None, "Run " + command[:70]),
                               command, [row], scope, source_text=row))  # fmt: skip
                self.undo_ref = ""
            elif len(cells) > 1 and is_imperative(cells[-1]) and label.lower() not in {
                "check", "what", "step", "action"
            }:  # fmt: skip
                self.add(Draft(self.category, make_title(f"{label}: {cells[-1]}"), None, [row],
                               scope, source_text=row))  # fmt: skip
            else:
                self.describe(row)

    def inline(self, block: Block, sents: list[str], found: list[str], scope: str | None) -> None:
        if _ASIDE_RE.match(block.text.replace("*", "")):
            self.describe(block.text)  # "Tip: `kubectl get rs` shows ...": an aside, not a step
            return
        for command in found:
            index = next((i for i, s in enumerate(sents) if command in s), 0)
            sentence = sents[index]
            before = sents[index - 1] if index else None
            cond = None
            if not (block.item_start and index == 0):
                cond, _ = branches.split_condition(sentence, self.last_cond, before)
                if cond:
                    self.last_cond = cond
            if phrases.prohibited(sentence):
                continue
            if self.undo_of_named_step(sentence, command):
                continue  # "revert: step 2 with `cmd2`, step 1 with `cmd1`"
            if _ROLLBACK_SENT_RE.search(sentence) and self.out.drafts:
                self.out.drafts[-1].rollback = command
                continue
            doubt = cmdline.common_word_doubt(command)
            fallback = make_title(sents[index - 1]) if index else ""
            title = make_title(sentence, command, fallback)
            if len(title) < 4 or title.startswith("Run "):
                title = make_title(sents[0], command, title)
            draft = self.add(
                Draft(
                    self.category,
                    title,
                    command,
                    [block.text],
                    branches.combine(scope, cond),
                    source_text=block.text,
                )
            )
            if doubt:
                draft.notes.append(doubt)

    def code(self, block: Block) -> None:
        if self.category in {"context", "prerequisites"}:
            return
        found = commands.code_block_commands(block.text, block.lang)
        found = [c for c in found if (c.command or "").strip() not in {"exit", "logout", "exit 0"}]
        if not found:
            snippet = block.text.strip()
            lang = block.lang or ""
            if self.lead and is_imperative(self.lead) and snippet:
                scope = branches.combine(self.scope_condition(block.list_depth), self.lead_cond)
                sents = branches.sentences(self.lead) or [self.lead]
                self.add(
                    Draft(
                        self.category,
                        make_title(sents[0]),
                        None,
                        [self.lead, f"```{lang}\n{snippet[:2000]}\n```"],
                        scope,
                        source_text=self.lead,
                    )
                )
                self.lead = None
            elif snippet and self.out.drafts and self.out.drafts[-1].section == self.category:
                self.out.drafts[-1].instructions.append(f"```{lang}\n{snippet[:2000]}\n```")
            return
        scope = branches.combine(self.scope_condition(block.list_depth), self.lead_cond)
        item = self.item_text.get(block.list_depth) if block.list_depth else None
        base = self.lead or item or ""
        split = phrases.wait_then(base)
        if split is not None and split[1].endswith(":"):  # "5. Wait a minute, then confirm:"
            self.add(Draft(self.category, make_title(split[0]), None, [split[0]], scope,
                           source_text=split[0]))  # fmt: skip
            base = split[1]
        for cc in found:
            if cc.todo:
                draft = self.add(
                    Draft(
                        self.category,
                        make_title(base or cc.comment or ""),
                        None,
                        [base] if base else [],
                        scope,
                        todo=True,
                        source_text=base,
                    )
                )
                draft.instructions.append(f"(runbook says: {cc.comment})")
                continue
            if cc.command is None:
                continue
            own_undo = None
            if self.lead and (self.lead_rollback or LEAD_UNDO_RE.search(self.lead)):
                # "Scale the loader to zero. To undo, scale it back to 3." over the command: the
                # undo of this command, said before it, not a rollback of the step above
                derived = derive_rollback(cc.command, self.lead)
                own_undo = derived if derived and derived != cc.command else None
            if (
                own_undo is None
                and self.lead_rollback
                and self.out.drafts
                and (self.out.drafts[-1].command)
            ):
                self.out.drafts[-1].rollback = cc.command
                self.lead_rollback = False
                continue
            self.lead_rollback = False  # "To roll back:" over a block it opens: the block's steps
            title = make_title(cc.comment) if cc.comment else make_title(base, None, "")
            if title == "Manual step":
                title = f"Run {cc.command.splitlines()[0][:70]}"
            draft = self.add(
                Draft(
                    self.category,
                    title,
                    cc.command,
                    [base] if base else [],
                    scope,
                    source_text=base,
                )
            )
            if cc.comment and phrases.needs_approval(cc.comment, cc.command):
                draft.approval = True  # "# needs approval from the lead: ..." over the command
            draft.rollback = draft.rollback or own_undo


def walk(blocks: list[Block]) -> Walk:
    has_sections = any(b.kind == "heading" and b.level >= 2 for b in blocks)
    return _Walker(blocks, has_sections).run()


def _any_condition(sentences: list[str], previous: str | None) -> str | None:
    for sentence in sentences:
        cond, _ = branches.split_condition(sentence, previous)
        if cond:
            return cond
    return None


def _tokens(command: str) -> set[str]:
    return set(re.sub(r"\{\{[^}]*\}\}|<[^>]+>|\$\w+", "VAR", command).split())


def attach_rollback(drafts: list[Draft], command: str) -> bool:
    """Set `command` as the rollback of the earlier command step it resembles most.

    Same tool required and at least a third of the words shared; a read-only step or one that
    already has a rollback is skipped. Returns False when no step fits (the caller keeps it as a
    step).
    """
    words = _tokens(command)
    head = command.split()[0] if command.split() else ""
    best: tuple[float, Draft] | None = None
    for draft in drafts:
        if not draft.command or draft.rollback or draft.command.split()[0] != head:
            continue
        if (
            classify(draft.command).risk is StepRisk.SAFE
            or draft.command.strip() == command.strip()
        ):
            continue  # an undo undoes a change, not a read, and is not the change itself
        other = _tokens(draft.command)
        score = len(words & other) / len(words | other)
        if _REMOVE_RE.search(command) and set(_PATH_RE.findall(command)) & set(
            _PATH_RE.findall(draft.command)
        ):
            score += 0.5  # "rm /etc/x/override.conf" undoes the step that wrote that file
        if score >= 0.34 and (best is None or score >= best[0]):  # a tie: the later change
            best = (score, draft)
    if best is None:
        return False
    best[1].rollback = command
    return True


def bare_command_parts(block: Block) -> list[Block]:
    """A paragraph with commands on their own lines (no fence) read as text and code parts."""
    lines = block.text.split("\n")
    is_cmd = [
        "`" not in line
        and not re.search(r"[:.!?]$", line.strip())
        and cmdline.is_command(line.strip(), bare=True)
        and not cmdline.reads_as_prose(line.strip())
        for line in lines
    ]
    if not any(is_cmd):
        return [block]
    parts: list[Block] = []
    buf: list[str] = []
    kind = ""
    for line, cmd in zip(lines, is_cmd, strict=True):
        this = "code" if cmd else "text"
        if kind == "code" and buf and commands._needs_more("\n".join(buf)):
            this = "code"
        if this != kind and buf:
            parts.append(_part(block, kind, buf, first=not parts))
            buf = []
        kind = this
        buf.append(line)
    if buf:
        parts.append(_part(block, kind, buf, first=not parts))
    return parts


def _part(block: Block, kind: str, lines: list[str], *, first: bool) -> Block:
    return Block(
        "code" if kind == "code" else "text",
        "\n".join(lines) + ("\n" if kind == "code" else ""),
        lang="sh" if kind == "code" else "",
        list_depth=block.list_depth,
        item_start=block.item_start and first,
        line=block.line,
        end_line=block.end_line,
    )


def attach_to_item(drafts: list[Draft], item: str, command: str) -> bool:
    """A Rollback section's undo that names its step ("Step 4 must be undone", a table row
    "| 1 | cmd |"): the rollback of the command step written under that number."""
    named = [d for d in drafts if d.item == item and d.command]
    if attach_rollback(named, command):  # the step of that number the undo resembles most
        return True
    target = named[-1] if named else None
    if target is None or target.rollback or target.command == command:
        return False
    target.rollback = command
    return True


def _cell_command(cell: str) -> str | None:
    """The command a table cell holds: the whole cell, or a code span inside a sentence
    ("find it with `ss -ltnp` and kill it"), never the sentence around a span."""
    whole = cell.strip()
    bare = whole.strip("`").strip()
    if not bare:
        return None
    if "`" not in bare:
        return bare if cmdline.is_command(bare) else None
    for span in commands.inline_commands(whole):
        before = whole[: max(whole.find(span), 0)]
        if not _NEGATED_RE.search(before[-25:]):  # "(don't `kubectl set image` by hand)"
            return span
    return None


def _is_table(text: str) -> bool:
    rows = [r for r in text.split("\n") if r.strip()]
    return (
        len(rows) >= 2
        and all(r.lstrip().startswith("|") for r in rows)
        and any(re.fullmatch(r"\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?", r.strip()) for r in rows)
    )
