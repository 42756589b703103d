"""GitHub-flavoured Markdown as GitHub renders it (cmark-gfm, through cmarkgfm), and the
elements a rendered page holds: to prove that no data in a comment became one."""

from __future__ import annotations

from html.parser import HTMLParser

import cmarkgfm
from cmarkgfm.cmark import Options


class Elements(HTMLParser):
    """The elements a rendered comment holds, and the text outside code."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.ends: list[str] = []
        self.links: list[str] = []
        self.prose: list[str] = []
        self.depth_code = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag in ("code", "pre"):
            self.depth_code += 1
        if tag == "a":
            self.links.append(dict(attrs).get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        self.ends.append(tag)
        if tag in ("code", "pre"):
            self.depth_code -= 1

    def handle_data(self, data: str) -> None:
        if not self.depth_code:
            self.prose.append(data)


ALLOWED = {
    "h3",
    "p",
    "strong",
    "em",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "details",
    "summary",
    "code",
    "pre",
    "ul",
    "li",
    "blockquote",
    "sub",
    "a",
}


def rendered(markdown: str) -> Elements:
    # UNSAFE keeps raw HTML, as GitHub does before sanitising: data must be inert even so.
    page = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    elements = Elements()
    elements.feed(page)
    return elements
