"""The PR comment, rendered from plans built in the test: where the warning and the unmanaged
list go, the fences, the run that made it, and the escapes for each Markdown context."""

from __future__ import annotations

from datetime import datetime, timezone
from html.parser import HTMLParser

import cmarkgfm
from cmarkgfm.cmark import Options
from hypothesis import given, settings
from hypothesis import strategies as st

from hpconfig.errors import Location
from hpconfig.plan import Change, FieldChange, Plan, Safety, Unmanaged
from hpconfig.render.markdown import code, html_code, prose, render_markdown, run_context
from hpconfig.untrusted import inert

NOW = datetime(2026, 11, 28, 1, 2, 3, tzinfo=timezone.utc)


def _html(markdown: str) -> str:
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


def _plan(**kwargs: object) -> Plan:
    change = Change(
        identifier="C-1",
        action="update",
        source=Location("controls/a.yaml", 7, 5),
        fields=(
            FieldChange("description", "one\nline ``` two\nthree", "one\nline ```` 2\nthree"),
            FieldChange("owner", "alice@example.com", "bob@example.com"),
        ),
        live_id="1",
        updated_by="bob@example.com",
        updated_on="2026-11-20T10:00:00Z",
    )
    defaults: dict[str, object] = {
        "changes": (change,),
        "unmanaged": (Unmanaged("LIVE-1", "9"), Unmanaged("LIVE-2", "10")),
        "in_sync": 3,
    }
    defaults.update(kwargs)
    return Plan(**defaults)  # type: ignore[arg-type]


def test_the_safety_warning_stands_next_to_the_summary() -> None:
    text = render_markdown(
        _plan(safety=Safety(updates=9, existing=10, max_percent=30, min_controls=5))
    )
    warning = text.index("> [!WARNING]")
    assert text.index("**Plan:") < warning < text.index("| create |") < text.index("<details>")
    assert (
        "changes 90% of the 10 existing controls, more than safety.maxChangePercent (30%)" in text
    )


def test_unmanaged_controls_are_listed_collapsed_and_fit_the_limit() -> None:
    text = render_markdown(_plan())
    assert (
        "<details><summary>2 unmanaged controls (in Hyperproof, in no manifest)</summary>" in text
    )
    assert "- `LIVE-1`\n- `LIVE-2`\n" in text
    many = tuple(Unmanaged(f"LIVE-{i:05d}", str(i)) for i in range(20_000))
    big = render_markdown(_plan(unmanaged=many))
    assert len(big.encode()) <= 65_000
    assert "more\n" in big and "20000 unmanaged controls" in big
    assert big.count("<details>") == 2  # the control and the unmanaged list both survive


def test_a_multi_line_change_is_a_diff_block_fenced_longer_than_the_data() -> None:
    text = render_markdown(_plan())
    assert "| `description` | (text, below) | (text, below) |" in text
    assert "`````diff\n" in text  # the data holds a run of four backticks
    page = _html(text)
    assert '<pre lang="diff"><code>' in page or '<pre><code class="language-diff">' in page
    assert "-line ```` 2" in text and "+line ``` two" in text


def test_file_and_line_render_as_code_and_values_as_code_spans() -> None:
    page = _html(render_markdown(_plan()))
    assert "<code>controls/a.yaml:7</code>" in page
    assert "`" not in page.split("<summary>")[1].split("</summary>")[0]
    assert "<code>&quot;bob@example.com&quot;</code>" in page
    assert "mailto:" not in page


def test_the_run_that_made_the_comment_is_named_only_from_well_formed_variables() -> None:
    good = run_context(
        {
            "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
            "GITHUB_SERVER_URL": "https://github.example.com",
            "GITHUB_REPOSITORY": "acme/controls",
            "GITHUB_RUN_ID": "77",
        },
        NOW,
    )
    assert good is not None
    line = good.line()
    assert "`0123456789ab`" in line
    assert "[workflow run 77](https://github.example.com/acme/controls/actions/runs/77)" in line
    assert "2026-11-28 01:02:03 UTC" in line
    hostile = run_context(
        {
            "GITHUB_SHA": "not a sha)](javascript:alert(1))",
            "GITHUB_SERVER_URL": "javascript:alert(1)//",
            "GITHUB_REPOSITORY": "a/b) [x](https://evil.example",
            "GITHUB_RUN_ID": "77",
        },
        NOW,
    )
    assert hostile is not None and hostile.run_url is None and hostile.commit is None
    assert run_context({}, NOW) is None
    assert "Planned" not in render_markdown(_plan())


def test_each_escape_renders_as_the_text_it_was() -> None:
    text = "a *b* _c_ [d](e) <f> `g` | h # i @j & k\\l"
    assert _html(prose(text)).strip() == (
        "<p>a *b* _c_ [d](e) &lt;f&gt; `g` | h # i @\u200dj &amp; k\\l</p>"
    )
    assert _html(code(text)).strip() == (
        "<p><code>a *b* _c_ [d](e) &lt;f&gt; `g` | h # i @j &amp; k\\l</code></p>"
    )
    assert html_code("</code></summary><b>@x</b>") == (
        "<code>&lt;/code&gt;&lt;/summary&gt;&lt;b&gt;@\u200dx&lt;/b&gt;</code>"
    )


class _Text(HTMLParser):
    """The tags of a page, and its text with entities decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text += data


def _parsed(markdown: str) -> _Text:
    page = _Text()
    page.feed(_html(markdown))
    return page


markdownish = st.lists(
    st.sampled_from([*"ab @#*_`[]()!<>/&|\\~-+=:.\"'\n\t{}$%^\x1b", "</details>", "www.x.io"]),
    max_size=20,
).map("".join)


@settings(max_examples=200, deadline=None)
@given(markdownish)
def test_any_text_renders_as_itself_and_nothing_more(text: str) -> None:
    shown = inert(text)
    cell = _parsed(f"| a |\n|---|\n| {code(text, in_table=True)} |\n")
    assert cell.tags == ["table", "thead", "tr", "th", "tbody", "tr", "td", "code"]
    assert cell.text.split("a", 1)[1].strip("\n") == shown or not shown.strip()
    item = _parsed(f"- reason: {prose(text)}\n")
    assert item.tags == ["ul", "li"]
    assert item.text.strip() == ("reason: " + shown.replace("@", "@\u200d")).strip()
    summary = _parsed(f"<details><summary>{html_code(text)} x</summary>\n\nbody\n\n</details>\n")
    assert summary.tags == ["details", "summary", "code", "p"]
