"""The patterns and word lists the plain-text reader matches lines against: speakers, chat
noise, notes and warnings, conditions, approvals, step prefixes, variables.
"""

from __future__ import annotations

import re

_FENCE_RE = re.compile(r"^\s{0,3}(```|~~~)", re.M)
_ATX_RE = re.compile(r"^#{1,6}\s+[A-Z0-9`*\[]", re.M)  # "# check disk" is a shell comment
_MARKER_RE = re.compile(
    r"^(?P<m>(?:step|schritt)\s*\d+[a-z]?\s*(?:[:.)]|[-\u2013\u2014])\s*|\d{1,2}[.)]\s+|[a-h][.)]\s+|"
    r"[-*\u2022\u25e6\u25aa\u2023o]\s+)",
    re.I,
)
_SPEAKER_RE = re.compile(
    r"^(?!(?:at|until|by|before|after|around|otherwise|wait|then|next|run|runs)\b)"
    r"[\w.@'-]+(?:\s+[\w.@'-]+){0,2}\s+(?:\d{1,2}:\d{2}(?:\s*[AP]M)?|\[\d{1,2}:\d{2}[^\]]*\])\s*$",
    re.I,
)
_PROMPT_RE = re.compile(r"^(?:\$|[\w.@-]+[$#]|>)\s+(?=\S)")
_FILLER_RE = re.compile(
    r"^(?:(?:then|and|first thing|first|next|finally|also|just|now|so|after that|afterwards|"
    r"1st thing|2nd|last|lastly|optionally|or)\b[,:]?\s+)+",
    re.I,
)
_NOTE_RE = re.compile(
    r"^(?:note|info|tip|fyi|ps|nb|owner|owners|team|contact|contacts|escalation contact|"
    r"links?|see also|reference|references|last reviewed|reviewed|updated|author|purpose|"
    r"applies to|symptoms?|impact|background|context|summary|why|cause|description|"
    r"page owner|owned by|maintainers?|last (?:updated|edited|modified)|created by|version|"
    r"dashboard|runbook|alert|severity|expected(?: result| output)?|result|output)\s*:",
    re.I,
)
_WARNING_RE = re.compile(r"^(?:warning|caution|important|attention|danger|careful)\s*[:!]", re.I)
_STATEMENT_RE = re.compile(
    r"^[\w-]+\s+(?:is|are|was|were|isn'?t|aren'?t|usually|rarely|normally|often|should|will|"
    r"can|may|might|has|have|takes?|means?|happens?|only)\b",
    re.I,
)
_TRAILING_IF_RE = re.compile(
    r"[\s,]+\b(if|unless|in case|when|once)\s+(?P<cond>[^,;]+?)\s*[.!]?$", re.I
)
_ARROW_RE = re.compile(r"(?<!\s)\s*(?:->|\u2192|=>)\s*")  # (?<!\s): linear on long blank runs
_SPLIT_RE = re.compile(r":\s+|\?\s+|\s+[-\u2013\u2014]\s+|\s*(?:->|\u2192|=>)\s*")
_TRIGGER_RE = re.compile(
    r"(?:^|(?<=[\s(:]))(?:run|running|with|using|via|execute|executing|exec|try|type|just|then|so|"
    r"and|do|call|e\.g\.|i\.e\.|like|such as|->|\u2192|:|\()\s*$",
    re.I,
)
_TRAIL_PAREN_RE = re.compile(r"\s+\((?=[^()]*\b[A-Za-z]{3,}\b)[^()$|=;&<>`]*\)\s*\.?$")
_TRAIL_COND_PAREN_RE = re.compile(  # "cmd (only when lag > 10k)": a condition, not arguments
    r"\s+\(\s*((?:only\s+)?(?:if|when|unless|once|in case)\b[^()`]*)\)\s*\.?$", re.I
)
_ACK_RE = re.compile(
    r"^(?:on it|ok(?:ay)?|sure|done|ack|yep|yes|will do|doing it|trying)\W*$", re.I
)
_EMOJI_RE = re.compile(r"(?<!\S):[a-z0-9_+-]+:(?!\S)\s*")  # Slack's :+1: / :tada:
_PANEL_RE = re.compile(r"^(?:note|info|tip|hint|nb|fyi)\s*:\s*", re.I)
_COND_COMMA_RE = re.compile(  # "If not, cmd" / "Otherwise, cmd": the command follows the comma
    r"^\s*(?:if|when|once|otherwise|else|unless|in case|should|failing that)\b[^,]{0,80},\s*$",
    re.I,
)
_QUESTION_RE = re.compile(
    r"^(?!(?:what|why|how|who|which|where|when)\b)([^?.!:]{3,80})\?\s+\S", re.I
)
_TRAIL_COMMENT_RE = re.compile(r"\s+#\s+(.*)$")
_CONTEXT_HEADING_RE = re.compile(
    r"^(?:overview|background|about|purpose|symptoms?|impact|summary|description|context|"
    r"applies to|scope|owners?|contacts?|escalation contacts?|references?|links|see also|"
    r"related|history|change log|changelog|faq|alert details?|meaning|why)\b",
    re.I,
)
_STEP_HEADING_RE = re.compile(
    r"^(?:procedure|steps(?: to follow)?|what to do|actions?|diagnos[ie]s|investigation|"
    r"troubleshooting|mitigation|remediation|resolution|recovery|fix|verification|validation|"
    r"(?:quick )?checks?|triage|immediate actions?|runbook|how to fix|next steps|escalation|"
    r"rollback|roll ?back|undo|cleanup|follow[- ]up)"
    r"(?:\s+(?:steps?|procedure|and\s+\w+))?\s*(?:\([^()]*\))?\s*:?$",
    re.I,
)
_MACRO_RE = re.compile(  # Confluence macro labels left in an export: not prose, not steps
    r"^(?:code(?:\s+block)?|expand\s+source|collapse\s+source|source|bash|shell|sh|sql|console|"
    r"(?:\u26a0\ufe0f?|\u2139\ufe0f?|\u2757)?\s*(?:info|note|tip|warning|caution|important))$",
    re.I,
)
_STEP_REF_RE = re.compile(r"\bsteps?\s*#?(\d{1,2})\b", re.I)
_APPROVAL_LINE_RE = re.compile(  # a sentence that only says who must approve
    r"^\W*(?:this\s+|it\s+|you\s+|we\s+)?(?:needs?|requires?|requiring|must\s+be|"
    r"only\s+(?:with|after|(?:do|run|proceed|continue)\b)|"
    r"approval|sign[- ]?off|get(?:ting)?\s+(?:[\w']+\s+){0,2}(?:\+1|ok|okay|"
    r"(?:explicit\s+|written\s+)?approval|sign[- ]?off|go-ahead|green light|blessing)|"
    r"(?:check|confirm)\s+with|clear\s+it\s+with|talk\s+to|consult|run\s+it\s+(?:past|by)|"
    r"ask\s+(?:the\s+)?[#@]?[\w'.-]+(?:\s+[\w'.-]+){0,2}\s+(?:first|before)|"
    r"(?:do\s+not|don'?t|never)\s+\w+\s+(?:this\s+|it\s+)?without|two[- ]person|four[- ]eyes)\b",
    re.I,
)
_STEP_PREFIX_RE = re.compile(r"(?:steps?|schritt)\s*#?\d{1,2}\s*[:.)\-\u2013\u2014]", re.I)
_PAGE_HANDLE_RE = re.compile(r"^(?:ping|page|call)\s+[@#]")  # "ping @oncall" is a person
_INLINE_SPEAKER_RE = re.compile(  # "[10:03] jane: msg", "jane [10:03]: msg", "[10:03] <jane> msg"
    r"^(?:\[\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AP]M)?\]\s*(?:<[\w.@'-]+>|[\w.@'-]+:)|"
    r"[\w.@'-]+(?:\s+\([\w .@'-]{1,30}\))?\s+\[\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AP]M)?\]:|"
    r"@[\w.'-]+:)\s+(?=\S)",  # "hiro (db-oncall) [08:11]: approved"
    re.I,
)
_PIPE_ROW_RE = re.compile(r"^\|.*\|$")
_FILTER_HEADS = frozenset(
    [
        "grep",
        "egrep",
        "head",
        "tail",
        "sort",
        "uniq",
        "wc",
        "awk",
        "sed",
        "cut",
        "jq",
        "xargs",
        "tr",
        "column",
        "less",
        "tee",
        "yq",
        "base64",
    ]
)
_GAP_RE = re.compile(r"(?<=\S)\s{3,}(?=\S)")  # a flattened table cell: "Check pods    kubectl ..."
_ESCAPED_NBSP = str.maketrans({"\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u200b": ""})
_CURLY = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})
_PROSE_VAR_RE = re.compile(
    r"\bthe\s+(?P<mod>(?:affected|alerting|failing|broken|unhealthy|offending|crashing|"
    r"stuck|lagging|full|sealed|down|bad|slow|noisy|reported|flapping)\s+)?"
    r"(?P<adj>[a-z][a-z0-9-]{1,20}\s+)?"
    r"(?P<noun>instance|host|hostname|node|pod|namespace|service|cluster|server|broker|replica|"
    r"database|queue|topic|bucket|volume|disk|deployment|container|member|agent|vm|machine|"
    r"consumer group|group|index|table|job|mount ?point|device|region|zone)\b"
    r"(?P<tail>\s+(?:(?:named|given|listed|mentioned|reported|shown|referenced|that fired)\s+)?"
    r"(?:from|in|on|of|by)\s+the\s+(?:alert|page|incident|notification))?",
    re.I,
)
_NAMED_VAR_RES = (  # other ways prose names what the reader fills in
    re.compile(
        r"(?<![<\w])<([a-z][a-z0-9]*(?:_[a-z0-9]+)+)>(?!>)"
    ),  # "(<edge_host>)" in a sentence
    re.compile(  # "(or whichever host the alert says)"
        r"\bwhichever\s+(instance|host|node|server|broker|pod|namespace|cluster|replica|vm)\s+"
        r"(?:the\s+)?(?:alert|page|incident)\b",
        re.I,
    ),
    re.compile(  # "(replace 12345 with the id from the list above)"
        r"\breplace\s+\S+\s+with\s+(?:the|your)\s+(?:[a-z]+\s+)?(id|name|host|pod|node|"
        r"revision|pid|ip|port|path|key|index|topic|table|version)\b",
        re.I,
    ),
)
_GENERIC_ADJ = frozenset(
    [
        "the",
        "a",
        "an",
        "this",
        "that",
        "same",
        "one",
        "other",
        "each",
        "every",
        "its",
        "their",
        "new",
        "old",
        "main",
        "primary",
        "current",
        "right",
        "correct",
        "whole",
    ]
)


_QUOTED_RE = re.compile(r"'[^']*'|\"(?:[^\"\\]|\\.)*\"")


_ACTION_WORDS = frozenset(
    """restart reload bump raise lower increase decrease run check scale delete drain kill
    cordon use set add page ping escalate call open tell just then remove stop start roll
    revert undo rerun retry clear flush purge failover promote resize expand apply ssh""".split()  # noqa: SIM905
)


_EXTRA_VERBS = frozenset(
    [
        "tell",
        "post",
        "ping",
        "page",
        "ask",
        "notify",
        "inform",
        "announce",
        "call",
        "open",
        "file",
        "raise",
        "escalate",
        "compare",
        "look",
        "check",
        "verify",
        "confirm",
        "wait",
        "repeat",
        "update",
        "write",
        "let",
        "hand",
        "message",
        "email",
    ]
)


_TARGET_RE = re.compile(
    r"\b(?:on|to|into|onto|from|of|in)\s+(?:the|that)\s+(instance|host|node|server|broker|replica|vm|box)\b"
    r"(?!\s+[\w.-]*\d)(?!\s*(?:pool|group|list|count|name|type|level|side|itself)\b)",
    re.I,
)
