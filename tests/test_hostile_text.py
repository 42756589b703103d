"""Hostile text from Hyperproof and from a pull request, through every output format.

A seed full of workflow commands, legacy ``##[`` commands, ANSI and OSC escapes, HTML, links,
images, mentions, backticks and ``</details>`` is planned through the real sandbox; the output of
each format is then parsed as the Actions runner parses a log (``tests/actions_runner.py``),
rendered as GitHub-flavoured Markdown (cmarkgfm), and checked for raw control characters.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from hpconfig.cli import cli
from hpconfig.sandbox import Sandbox
from tests import actions_runner, helpers
from tests.gfm import ALLOWED, rendered

CANARY = "CANARY-hostile-5d1e-never-print-me"
HOSTILE = (
    "x\n::error file=a.yaml,line=1::pwned\n  ::add-mask::indented\n##[error]legacy\r::warning::cr"
    "\x1b[2J\x1b]8;;https://evil.example\x07osc\x9b31m <img src=x onerror=alert(1)> "
    "<script>alert(1)</script> [link](https://evil.example) ![img](https://evil.example/a.png) "
    "https://evil.example www.evil.example mallory@evil.example @org/team @alice # heading "
    "*emph* _u_ | pipe | `tick` ``` </details> </summary> <!-- c --> &amp; \u202eevil"
)
HOSTILE_LINES = "\n".join(
    [
        "first line",
        "::error::from a description line",
        "   ::warning::indented",
        "##[group]legacy group",
        "````",
        "</details>",
        "<img src=https://evil.example/b.png>",
        "@org/team please look \x1b[31mred\x1b[0m",
        "last line",
    ]
)
LIVE_ID = "::error::unmanaged ##[error]x @org/team <b>bold</b>"
CREATED_ID = "::warning::created##[error]x"
CALM = "a calm text\nin two lines"


def _hostile_seed(example_seed: dict[str, Any]) -> dict[str, Any]:
    seed = copy.deepcopy(example_seed)
    seed["clients"][0]["clientSecret"] = CANARY
    template = seed["controls"][0]
    writer = copy.deepcopy(template["owner"])
    writer.update(email="", givenName=HOSTILE, surname="\x1b[2J")
    drifted = copy.deepcopy(template)
    drifted.update(
        id="hostile-1",
        controlIdentifier="HOSTILE-1",
        name=HOSTILE,
        description=HOSTILE_LINES,
        notes=HOSTILE,
        domainName=HOSTILE,
        updatedBy=writer,
    )
    unmanaged = copy.deepcopy(template)
    unmanaged.update(id="hostile-2", controlIdentifier=LIVE_ID, name=HOSTILE)
    seed["controls"] = [drifted, unmanaged]
    return seed


@pytest.fixture
def hpconfig_sandbox_seed(example_seed: dict[str, Any]) -> dict[str, Any]:
    return _hostile_seed(example_seed)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Manifests and a config a pull request could write, hostile where the schema allows."""
    folder = tmp_path / "repo"
    folder.mkdir()
    (folder / ".git").mkdir()
    (folder / "hpconfig.yaml").write_text(
        "ignore:\n  - fields: [workStatus]\n"
        f"    controls: [{json.dumps('*' + HOSTILE[:40])}]\n"
        f"    reason: {json.dumps(HOSTILE)}\n",
        encoding="utf-8",
    )
    (folder / "controls.yaml").write_text(
        "controls:\n"
        "  - identifier: HOSTILE-1\n"
        "    name: Capacity management\n"
        f"    description: {json.dumps(CALM)}\n"
        "    notes: plain notes\n"
        "    domain: Availability\n"
        f"  - identifier: {json.dumps(CREATED_ID)}\n"
        f"    name: {json.dumps(HOSTILE)}\n"
        f"    description: {json.dumps(HOSTILE_LINES)}\n",
        encoding="utf-8",
    )
    return folder


def env_for(sandbox: Sandbox) -> dict[str, str]:
    """The sandbox's environment with the canary as the secret."""
    return helpers.env_for(sandbox, CANARY, GITHUB_STEP_SUMMARY="", NO_COLOR="")


def run(sandbox: Sandbox, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env_for(sandbox), catch_exceptions=False)


def assert_inert_terminal(text: str) -> None:
    """No control character but the newline; no bidi control."""
    raw = re.findall(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", text)
    assert raw == [], f"raw control characters: {raw!r}"


def ours(found: list[tuple[str, actions_runner.Command]]) -> list[str]:
    return [command.name for _, command in found]


@pytest.mark.parametrize("output_format", ["text", "json", "markdown", "sarif"])
def test_no_format_lets_data_act_in_a_log_or_a_terminal(
    hpconfig_sandbox: Sandbox, project: Path, output_format: str
) -> None:
    result = run(hpconfig_sandbox, "plan", str(project), "--format", output_format)
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    for text in (result.stdout, result.stderr):
        assert actions_runner.run(text) == []
        assert actions_runner.loose_commands(text) == []
        assert_inert_terminal(text)
        assert CANARY not in text
    if output_format == "text":
        listed = run(hpconfig_sandbox, "plan", str(project), "--show-unmanaged").stdout
        assert actions_runner.loose_commands(listed) == []
        assert "\\x1b[2J" in listed  # shown, escaped
        assert "  ? ::error::unmanaged ##\\x5berror]x" in listed


def test_json_keeps_the_values_exactly(hpconfig_sandbox: Sandbox, project: Path) -> None:
    result = run(hpconfig_sandbox, "plan", str(project), "--format", "json")
    document = json.loads(result.stdout)
    update = next(c for c in document["changes"] if c["identifier"] == "HOSTILE-1")
    actual = {item["field"]: item["actual"] for item in update["fields"]}
    assert actual["name"] == HOSTILE
    assert actual["description"] == HOSTILE_LINES
    assert document["unmanaged"][0]["identifier"] == LIVE_ID
    assert "##[" not in result.stdout and "\x1b" not in result.stdout


def test_github_format_prints_only_hpconfig_s_commands(
    hpconfig_sandbox: Sandbox, project: Path
) -> None:
    result = run(hpconfig_sandbox, "plan", str(project), "--format", "github")
    assert result.exit_code == 0, result.stderr
    found = actions_runner.run(result.stdout)
    names = ours(found)
    assert names[0] == "stop-commands"
    token = found[0][1].data
    assert names[1] == token  # resumed only by hpconfig's own line
    assert names[2:] == ["warning", "warning"]
    titles = sorted(command.properties["title"] for _, command in found[2:])
    assert titles == sorted(["Drift: HOSTILE-1", f"Missing in Hyperproof: {CREATED_ID}"])
    for _, command in found[2:]:
        assert command.properties["file"].endswith("controls.yaml")
        assert "\n" not in command.data and "\x1b" not in command.data
    # between stop and resume, data lines are still defused, for a runner without stop-commands
    log = result.stdout.split(f"::{token}::")[0].split("\n", 1)[1]
    assert actions_runner.loose_commands(log) == []
    assert_inert_terminal(result.stdout)


def test_markdown_renders_no_data_as_an_element_link_image_or_mention(
    hpconfig_sandbox: Sandbox, project: Path, tmp_path: Path
) -> None:
    report = tmp_path / "plan.md"
    env = {
        **env_for(hpconfig_sandbox),
        "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/controls",
        "GITHUB_RUN_ID": "4242",
    }
    args = ["plan", str(project), "--markdown", str(report), "--show-unmanaged"]
    result = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    markdown = report.read_text(encoding="utf-8")
    elements = rendered(markdown)
    assert set(elements.tags) <= ALLOWED, set(elements.tags) - ALLOWED
    assert elements.links == ["https://github.com/acme/controls/actions/runs/4242"]
    assert elements.tags.count("details") == 3  # two controls, the unmanaged list
    assert elements.ends.count("details") == 3  # no </details> from data closed one early
    assert elements.tags.count("h3") == 1
    prose = "".join(elements.prose)
    assert not re.search(r"(^|[^\w])@[A-Za-z0-9]", prose), "a mention would notify"
    assert "0123456789ab" in markdown and "workflow run 4242" in markdown
    # a multi-line change is a diff block, with a fence longer than the data's backtick runs
    assert "`````diff\n" in markdown
    assert "-::error::from a description line" in markdown
    # file:line renders as code, not literal backticks
    assert "<code>" in markdown and "controls.yaml:2</code>" in markdown
    assert CANARY not in markdown
    # the summary keeps the unmanaged control, collapsed
    assert "1 unmanaged control (in Hyperproof, in no manifest)" in markdown


def test_validate_formats_keep_file_names_and_values_inert(tmp_path: Path) -> None:
    folder = tmp_path / "repo"
    folder.mkdir()
    name = "evil\n::error file=x::name ##[error]\x1b[2J.yaml"
    (folder / name).write_text(
        "controls:\n"
        f"  - identifier: {json.dumps(HOSTILE[:30])}\n"
        f"    owner: {json.dumps(HOSTILE)}\n"
        f"    status: {json.dumps(HOSTILE)}\n",
        encoding="utf-8",
    )
    for output_format in ("text", "json", "github"):
        result = CliRunner().invoke(
            cli,
            ["validate", str(folder), "--format", output_format],
            env={"GITHUB_STEP_SUMMARY": ""},
            catch_exceptions=False,
        )
        assert result.exit_code == 3
        assert "Traceback" not in result.stderr
        found = actions_runner.run(result.stdout + "\n" + result.stderr)
        names = ours(found)
        if output_format == "github":
            assert names[0] == "stop-commands" and names[1] == found[0][1].data
            assert set(names[2:]) == {"error"}
            for _, command in found[2:]:
                assert command.properties["file"].startswith(str(folder))
        else:
            assert names == []
            assert actions_runner.loose_commands(result.stdout + result.stderr) == []
        assert_inert_terminal(result.stdout + result.stderr)
        if output_format == "text":
            assert len(result.stdout.splitlines()) == 3  # one line per problem


def test_an_api_s_error_text_is_data_too(hpconfig_sandbox: Sandbox, project: Path) -> None:
    hpconfig_sandbox.add_fault("server-error", path="/v1/controls", count=100, message=HOSTILE)
    for args in (["plan"], ["--debug", "plan"]):
        result = run(hpconfig_sandbox, *args, str(project), "--format", "github")
        assert result.exit_code == 4
        assert "HTTP 500" in result.stderr and "Traceback" not in result.stderr
        assert actions_runner.run(result.stdout + "\n" + result.stderr) == []
        assert actions_runner.loose_commands(result.stderr) == []
        assert_inert_terminal(result.stderr)


def test_the_secret_stays_out_of_every_new_output_path(
    hpconfig_sandbox: Sandbox, project: Path, tmp_path: Path
) -> None:
    summary = tmp_path / "summary.md"
    env = {**env_for(hpconfig_sandbox), "GITHUB_STEP_SUMMARY": str(summary)}
    for args in (
        ["--debug", "plan", str(project), "--format", "github"],
        # Markdown on stdout by --format: `--markdown -` beside the text report is a usage error
        [
            "--debug",
            "plan",
            str(project),
            "--format",
            "markdown",
            "--out",
            str(tmp_path / "p.json"),
        ],
    ):
        result = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
        assert CANARY not in result.stdout + result.stderr
    assert summary.read_text(encoding="utf-8").count("<!-- hpconfig-plan -->") == 2
    assert CANARY not in summary.read_text(encoding="utf-8")
    # a server that echoes the secret in its error text: redacted on the way out
    hpconfig_sandbox.add_fault("server-error", path="/v1/controls", count=100, message=CANARY)
    result = run(hpconfig_sandbox, "--debug", "plan", str(project))
    assert result.exit_code == 4
    assert CANARY not in result.stdout + result.stderr


def test_apply_s_plan_progress_stale_report_events_and_journal_keep_data_inert(
    hpconfig_sandbox: Sandbox, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hpconfig.remote import writes
    from hpconfig.remote.client import HyperproofClient

    monkeypatch.chdir(project)
    assert run(hpconfig_sandbox, "plan", ".", "--out", "plan.json").exit_code == 0
    with HyperproofClient(helpers.settings_for(hpconfig_sandbox)) as client:  # someone edits it
        writes.patch_control(client, "hostile-1", {"name": HOSTILE_LINES})
    stale = run(hpconfig_sandbox, "apply", "plan.json", "--json")
    assert stale.exit_code == 5, stale.stderr
    assert "HOSTILE-1: changed in Hyperproof since the plan" in stale.stderr
    assert "::error::from a description line" in stale.stderr  # shown, never at a line's start
    applied = run(hpconfig_sandbox, "apply", ".", "--auto-approve", "--json")
    assert applied.exit_code == 0, applied.stderr
    events = [json.loads(line) for line in applied.stdout.splitlines()]
    created = next(e for e in events if e.get("identifier") == CREATED_ID and "outcome" in e)
    assert created["outcome"] == "applied"  # the values themselves stay exact in JSON
    journals = sorted((project / ".hpconfig" / "journal").glob("*.jsonl"))
    assert len(journals) == 2
    texts = [stale.stdout, stale.stderr, applied.stdout, applied.stderr]
    for text in texts + [path.read_text(encoding="utf-8") for path in journals]:
        assert actions_runner.run(text) == []
        assert actions_runner.loose_commands(text) == []
        assert_inert_terminal(text)
        assert CANARY not in text
