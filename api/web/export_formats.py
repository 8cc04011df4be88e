"""Wiki exports into the Markdown the runbook parser reads.

Confluence's HTML export (a page per .html file, the page body in `#main-content`, code macros
as `<pre class="syntaxhighlighter-pre" data-syntaxhighlighter-params="brush: bash; …">`) is
converted with BeautifulSoup and markdownify after the chrome (breadcrumbs, page metadata,
attachments, footer) is removed. Notion's Markdown export is Markdown already: its file names
carry a 32-hex page id, and callouts come as `<aside>` blocks; both are tidied.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from bs4 import BeautifulSoup, Tag
from markdownify import MarkdownConverter

HTML = (".html", ".htm")
#: Confluence chrome around a page's content: never part of a runbook.
_CHROME = (
    "#breadcrumb-section",
    "#footer",
    ".page-metadata",
    ".pageSection.group",  # attachments, comments
    "#likes-and-labels-container",
    "script",
    "style",
    "nav",
)
_NOTION_ID = re.compile(r"\s+[0-9a-f]{32}$")
_BRUSH = re.compile(r"brush:\s*([\w+#-]+)")
_SPACE_PREFIX = re.compile(r"^[^:]{1,100}\s:\s")  # "Operations : Restart the API"


def _language(el: Tag) -> str:
    params = el.get("data-syntaxhighlighter-params")
    found = _BRUSH.search(params) if isinstance(params, str) else None
    if found:
        return {"shell": "bash", "sh": "bash", "text": ""}.get(found.group(1), found.group(1))
    classes = el.get("class")
    listed: list[str] = [str(c) for c in classes] if isinstance(classes, list) else []
    for cls in listed:
        if cls.startswith("language-"):
            return cls.removeprefix("language-")
    return ""


class _Converter(MarkdownConverter):
    """markdownify with Confluence's code macros as fenced blocks in their language."""

    def __init__(self) -> None:
        super().__init__(
            heading_style="ATX",
            bullets="-",
            code_language_callback=_language,
            escape_underscores=False,
            escape_asterisks=False,
        )


def confluence_title(soup: BeautifulSoup) -> str:
    for selector in ("#title-text", "h1#title-heading", "title"):
        el = soup.select_one(selector)
        if el is not None and el.get_text(strip=True):
            return _SPACE_PREFIX.sub("", " ".join(el.get_text().split()))
    return ""


def confluence_to_markdown(html: str) -> tuple[str, str]:
    """(title, Markdown) of one exported Confluence page."""
    soup = BeautifulSoup(html, "html.parser")
    title = confluence_title(soup)
    body = soup.select_one("#main-content") or soup.body or soup
    for selector in _CHROME:
        for el in body.select(selector):
            el.decompose()
    markdown = _Converter().convert_soup(body)
    markdown = re.sub(r"\n{3,}", "\n\n", markdown).strip()
    return title, (f"# {title}\n\n{markdown}\n" if title else f"{markdown}\n")


def notion_name(path: PurePosixPath) -> PurePosixPath:
    """`Runbooks 0a1b…/Restart the API 3f2a….md` → `Runbooks/Restart the API.md`."""
    parts = [
        _NOTION_ID.sub("", PurePosixPath(p).stem) + PurePosixPath(p).suffix for p in path.parts
    ]
    return PurePosixPath(*parts)


def is_notion(path: PurePosixPath) -> bool:
    return any(_NOTION_ID.search(PurePosixPath(p).stem) for p in path.parts)


def tidy_notion(markdown: str) -> str:
    """Callouts (`<aside>…</aside>`) become their text; links to other pages keep their words."""
    text = re.sub(r"</?aside>", "", markdown)
    text = re.sub(r"\]\(([^)]*?)%20[0-9a-f]{32}(\.md)?\)", r"](\1\2)", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def slug_name(title: str, fallback: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-")
    return (slug or fallback)[:90]
