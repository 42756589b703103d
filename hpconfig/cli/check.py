"""`hpconfig check`: fetch the organization once, evaluate every rule, report, exit 6 on alarms.

Also what ``plan --check`` and ``demo --check`` share with it: reading the baseline, building
the report from one fetch, writing the baseline, and the exit code. Prints only through
``cli.output`` and the report writers.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from hpconfig.cli.app import cli, note_inputs, plural
from hpconfig.cli.connection import CONNECTION_KEYS, connect, connection_options
from hpconfig.cli.output import message
from hpconfig.cli.reports import write_reports
from hpconfig.errors import ExitCode, InputError, InputProblem, Location, Problem
from hpconfig.files import ReportTarget, report_targets, write_report


def read_baseline(path: Path | None) -> frozenset[tuple[str, str]]:
    """``--baseline FILE``: a regular file, bounded, whose every problem is located."""
    if path is None:
        return frozenset()
    from hpconfig.assertions.report import baseline_entries
    from hpconfig.files import read_bounded

    where = Location(str(path))
    try:
        document = json.loads(read_bounded(path))
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise InputError([Problem(where, "", f"cannot read the baseline: {reason}")]) from None
    except RecursionError:
        raise InputError([Problem(where, "", "the baseline nests too deeply")]) from None
    except ValueError as error:
        line, column = getattr(error, "lineno", 0), getattr(error, "colno", 0)
        problem = Problem(Location(str(path), line, column), "", f"not valid JSON: {error}")
        raise InputError([problem]) from None
    entries, problem_text = baseline_entries(document)
    if problem_text is not None:
        raise InputError([Problem(where, "$", problem_text)])
    return entries


def check_report(
    project: Any,
    organization: Any,
    baseline: frozenset[tuple[str, str]] = frozenset(),
    only: Any = None,
) -> Any:
    """The check of one fetched organization against the project's rules; with ``only``
    (``plan --check --controls``), of the controls whose identifier it accepts."""
    from hpconfig.assertions.check import run_check
    from hpconfig.remote.organization import check_records

    sources = {
        identifier: control.source
        for identifier, control in project.desired.items()
        if control.source is not None
    }
    unreadable = [
        (identifier, item.ids, item.detail)
        for identifier, item in sorted(organization.live.not_compared.items())
        if only is None or only(identifier)
    ]
    records = [r for r in check_records(organization) if only is None or only(r["identifier"])]
    return run_check(
        project.config.assertions,
        records,
        sources,
        datetime.now(timezone.utc),
        unreadable,
        baseline,
    )


def require_rules(project: Any) -> None:
    if not project.config.assertions.rules:
        raise InputProblem(
            "no check rules: list rule files under `assertions: {files: [...]}` in "
            "hpconfig.yaml, or write rules under `assertions: {rules: [...]}` (see the README's "
            "check section)"
        )


def write_baseline(targets: dict[str, ReportTarget], report: Any) -> None:
    from hpconfig.assertions.report import baseline_document

    target = targets.get("write_baseline")
    if target is None:
        return
    text = json.dumps(baseline_document(report.results), indent=2, ensure_ascii=False) + "\n"
    write_report(target, text)
    message(f"hpconfig: wrote a baseline of {plural(len(json.loads(text)['alarms']), 'alarm')}")


def say_outcome(report: Any) -> None:
    if report.fixed:
        message(
            f"hpconfig: {plural(len(report.fixed), 'baseline entry', 'baseline entries')} no "
            "longer alarm; write a new baseline (--write-baseline) to drop them"
        )


def markdown_summary(report: Any, context: Any) -> str:
    from hpconfig.render.check_text import render_markdown
    from hpconfig.render.markdown import STEP_SUMMARY_LIMIT

    return render_markdown(report, STEP_SUMMARY_LIMIT, context=context)


def check_options(function: Any) -> Any:
    """``--baseline`` and ``--write-baseline``, for check and plan --check alike."""
    function = click.option(
        "--write-baseline",
        metavar="FILE",
        help="Write the alarms of this run as a baseline (checked like every report path).",
    )(function)
    return click.option(
        "--baseline",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Only alarms not in this baseline fail the run (adopt a rule gradually).",
    )(function)


def plan_and_check(client: Any, project: Any, only: Any, accepted: Any) -> tuple[Any, Any]:
    """One fetch, then the plan and the check of it."""
    from hpconfig.remote.fetch import plan_from_live
    from hpconfig.remote.organization import fetch_organization

    rules = project.config.assertions.rules
    message(
        f"hpconfig: {plural(len(project.desired), 'control')} declared in "
        f"{plural(len(project.files), 'file')}, {plural(len(rules), 'check rule')}; reading "
        f"Hyperproof at {client.settings.api_url} ..."
    )
    organization = fetch_organization(client)
    result = plan_from_live(
        organization.live, project.desired, project.config, only, users=organization.users
    )
    return result, check_report(project, organization, accepted, only)


def write_both(checked: tuple[Any, Any], report: dict[str, Any], targets: Any) -> bool:
    """Every report of ``plan --check``; True when the check fails the run."""
    from hpconfig.render.check_formats import PLAN_CHECK_FORMATS

    write_reports(checked, report, targets, PLAN_CHECK_FORMATS, _both_summary)
    write_baseline(targets, checked[1])
    say_outcome(checked[1])
    return bool(checked[1].failing)


def _both_summary(checked: tuple[Any, Any], context: Any) -> str:
    from hpconfig.render.check_formats import both_sha256
    from hpconfig.render.markdown import STEP_SUMMARY_LIMIT, render_markdown

    check = markdown_summary(checked[1], None)
    limit = STEP_SUMMARY_LIMIT - len(check.encode("utf-8")) - 10
    digest = both_sha256(checked) if checked[0].context is not None else None
    plan = render_markdown(checked[0], limit, context=context, digest=digest)
    return plan + "\n" + check


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "markdown", "github", "sarif"]),
    default="text",
    show_default=True,
    help="The report on stdout (github: the text report, then workflow annotations).",
)
@click.option("--out", metavar="FILE", help="Also write the JSON report to this file.")
@click.option("--sarif", metavar="FILE", help="Also write a SARIF 2.1.0 report to this file.")
@click.option("--markdown", metavar="FILE", help="Also write the Markdown report here.")
@click.option("--color/--no-color", default=None, help="Colour the text report.")
@check_options
@connection_options
@click.pass_obj
def check(
    obj: dict[str, Any],
    /,
    paths: tuple[Path, ...],
    baseline: Path | None,
    **report: Any,
) -> int:
    """Evaluate the project's compliance rules on every live control (read-only)."""
    from hpconfig.manifest.project import load_project
    from hpconfig.remote.organization import fetch_organization
    from hpconfig.render.check_formats import CHECK_FORMATS

    connection = {key: report.pop(key) for key in list(report) if key in CONNECTION_KEYS}
    targets = report_targets(report)
    project = load_project(list(paths), obj["config_path"])
    note_inputs(project, github=report["output_format"] == "github")
    if project.problems:
        raise InputError(project.problems, annotate=report["output_format"] == "github")
    require_rules(project)
    accepted = read_baseline(baseline)
    rules = project.config.assertions.rules
    with connect(project, connection) as client:
        message(
            f"hpconfig: {plural(len(rules), 'rule')} of "
            f"{plural(len(project.config.assertions.files), 'rule file')}; reading Hyperproof at "
            f"{client.settings.api_url} ..."
        )
        organization = fetch_organization(client)
    result = check_report(project, organization, accepted)
    write_reports(result, report, targets, CHECK_FORMATS, markdown_summary)
    write_baseline(targets, result)
    say_outcome(result)
    return ExitCode.ALARMS if result.failing else ExitCode.OK
