"""Turn runbook Markdown into a flat list of blocks (headings, text, code) with list context.

Uses markdown-it-py (pure Python, CommonMark) for tokenising, and PyYAML for Hugo front matter,
so that the step extraction can reason about blocks instead of raw lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

_FRONT_MATTER_RE = re.compile(
    r"\A(?:\ufeff)?(---|\+\+\+)[ \t]*\r?\n(.*?)\r?\n\1[ \t]*(?:\r?\n|\Z)", re.S
)
_TOML_TITLE_RE = re.compile(r"^\s*title\s*=\s*[\"'](.*?)[\"']\s*$", re.M)
_MD = MarkdownIt("commonmark")

BlockKind = Literal["heading", "text", "code"]


@dataclass
class Block:
    """One unit of the document: a heading, a paragraph (or list-item paragraph) or code."""

    kind: BlockKind
    text: str
    level: int = 0  # heading level
    lang: str = ""  # code fence info word
    list_depth: int = 0  # 0 outside lists
    item_start: bool = False  # first block of a list item
    line: int = 0
    end_line: int = 0  # last line of the block (1-based), 0 when unknown
    item: str = ""  # the number of the top-level ordered list item it belongs to ("3" for "3.")


def split_front_matter(text: str) -> tuple[dict[str, object], str]:
    """Front matter as a mapping (empty if absent or unreadable) and the remaining body."""
    match = _FRONT_MATTER_RE.match(text)
    if not match:
        return {}, text
    body = text[match.end() :]
    raw = match.group(2)
    if match.group(1) == "+++":
        title = _TOML_TITLE_RE.search(raw)
        return ({"title": title.group(1)} if title else {}), body
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError:
        return {}, body
    return (data if isinstance(data, dict) else {}), body


def _inline_text(token: Token | None) -> str:
    if token is None:
        return ""
    return token.content


def blocks(markdown: str) -> list[Block]:
    """Flatten the Markdown token stream; HTML blocks and thematic breaks are dropped."""
    tokens = _MD.parse(markdown)
    out: list[Block] = []
    depth = 0
    item_pending = False
    item = ""
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        line = (tok.map[0] + 1) if tok.map else 0
        end = tok.map[1] if tok.map else 0
        if tok.type in {"bullet_list_open", "ordered_list_open"}:
            depth += 1
        elif tok.type in {"bullet_list_close", "ordered_list_close"}:
            depth -= 1
            item = item if depth else ""
        elif tok.type == "list_item_open":
            item_pending = True
            if depth == 1:
                item = tok.info if tok.info.isdigit() else ""
        elif tok.type == "heading_open":
            content = _inline_text(tokens[i + 1] if i + 1 < len(tokens) else None)
            out.append(
                Block("heading", content.strip(), level=int(tok.tag[1:]), line=line, end_line=end)
            )
            i += 3
            continue
        elif tok.type == "paragraph_open":
            content = _inline_text(tokens[i + 1] if i + 1 < len(tokens) else None)
            out.append(
                Block(
                    "text",
                    content.strip(),
                    list_depth=depth,
                    item_start=item_pending,
                    line=line,
                    end_line=end,
                    item=item,
                )
            )
            item_pending = False
            i += 3
            continue
        elif tok.type in {"fence", "code_block"}:
            lang = (
                tok.info.strip().split(" ")[0].strip("{}.").lower() if tok.type == "fence" else ""
            )
            out.append(
                Block(
                    "code",
                    tok.content,
                    lang=lang,
                    list_depth=depth,
                    item_start=item_pending,
                    line=line,
                    end_line=end,
                    item=item,
                )
            )
            item_pending = False
        i += 1
    return out
