"""`hpconfig apply`: write the reviewed plan to Hyperproof, check it first, record every step.

``hpconfig apply plan.json`` applies a plan saved by ``plan --out`` exactly (refused when it is
malformed, foreign, of another version, or its manifests changed); ``hpconfig apply PATHS``
plans, shows the plan and asks on a terminal (``--auto-approve`` otherwise). Either way, before
any write: the owners are looked up (one ``GET /v1/users``), the gate refuses problems,
unpermitted archives and thresholds, and the stale check re-reads the organization once. The
parts are in ``hpconfig.apply``; this module wires them and decides the exit code: 0 all done,
3 bad input, 4 a write failed, 5 refused (stale, unsafe, foreign), 64 no terminal to confirm
on, 130 stopped by a signal.
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from hpconfig.cli.app import cli, note_inputs, plural
from hpconfig.cli.apply_saved import paths_inside_repository, read_saved_file
from hpconfig.cli.connection import CONNECTION_KEYS, connection_options, plan_context
from hpconfig.cli.output import emit, message
from hpconfig.cli.plan import _selection
from hpconfig.errors import ExitCode, InputError, UnsafePlanError, UsageError
from hpconfig.manifest.project import load_project

MAX_PARALLELISM = 32  # remote.client.POOL_SIZE keeps a connection for each (a test says so)
INTERRUPTED = 130  # 128 + SIGINT, as the shell reports it (the CLI's Abort too)


def _confirm(auto_approve: bool) -> None:
    if auto_approve:
        return
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise UsageError(
            "no terminal to confirm on: pass --auto-approve to apply without asking (or apply a "
            "reviewed plan file: hpconfig plan --out plan.json, then hpconfig apply plan.json)"
        )
    answer = click.prompt(
        "Apply these changes to Hyperproof? Only 'yes' is taken as approval",
        default="",
        show_default=False,
        err=True,
    )
    if answer.strip() != "yes":
        raise UsageError("apply cancelled: nothing was written")


def _check_sha(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", value):
        raise UsageError("--plan-sha256 takes the 64 hex digits that `hpconfig plan` prints")
    return value


@cli.command()
@click.argument("targets", nargs=-1, type=click.Path(path_type=Path), metavar="PLAN.json|PATHS")
@click.option("--auto-approve", is_flag=True, help="Apply without asking (needed off a terminal).")
@click.option(
    "--plan-sha256",
    metavar="HEX",
    help="Refuse any plan but the one of this digest (printed by `hpconfig plan`).",
)
@click.option(
    "--parallelism",
    type=click.IntRange(1, MAX_PARALLELISM),
    default=4,
    show_default=True,
    help="Writes in flight at once (one shared rate-limit backoff).",
)
@click.option("--json", "json_events", is_flag=True, help="One JSON event per line on stdout.")
@click.option(
    "--controls",
    "--target",
    "controls",
    multiple=True,
    metavar="GLOB",
    help="Apply only the changes of these identifiers (repeat, or separate with commas).",
)
@click.option("--force", is_flag=True, help="Override the safety thresholds (only those).")
@click.option("--allow-archive", is_flag=True, help="Permit archiving (destroy-class) controls.")
@click.option("--skip-stale", is_flag=True, help="Apply what is not stale; report the rest.")
@click.option("--keep-going", is_flag=True, help="Go on after a failed write (default: stop).")
@click.option(
    "--journal",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Append the run's record here (default .hpconfig/journal/apply-TIME-RUN.jsonl).",
)
@connection_options
@click.pass_obj
def apply(obj: dict[str, Any], /, targets: tuple[Path, ...], **options: Any) -> int:
    """Make Hyperproof match a reviewed plan (PLAN.json) or the manifests (PATHS)."""
    from hpconfig import __version__
    from hpconfig.apply.gate import select
    from hpconfig.apply.saved import check_compatible, check_targets
    from hpconfig.remote import settings as settings_module
    from hpconfig.remote.client import HyperproofClient
    from hpconfig.remote.fetch import make_plan
    from hpconfig.render.json import plan_sha256

    expected = _check_sha(options["plan_sha256"])
    saved = len(targets) == 1 and targets[0].suffix.lower() == ".json"
    plan = None
    if saved:
        plan, digest = read_saved_file(targets[0], expected)
        paths = paths_inside_repository(targets[0], plan.context.paths)
    else:
        paths = list(targets)
    project = load_project(paths, obj["config_path"])
    note_inputs(project)
    if project.problems:
        error = InputError(project.problems)
        if plan is not None:  # its paths are relative to where plan ran: say so, last
            shown = ", ".join(f"'{path}'" for path in paths)
            error.args = (
                f"{error}: {targets[0]} names the manifests {shown}, read from the working "
                "directory as plan did; run apply where plan ran",
            )
        raise error
    connection = {k: options[k] for k in CONNECTION_KEYS}
    settings = settings_module.resolve(project.config, **connection)
    with HyperproofClient(settings) as client:
        if plan is not None:
            only = _selection(plan.context.controls, project.desired)
            here = plan_context(project, settings, only, paths, plan.context.controls)
            check_compatible(
                str(targets[0]), plan, __version__, settings.api_url, here.manifests_digest
            )
            check_targets(str(targets[0]), plan, project.desired, project.config.ignore)
        else:
            only = _selection(options["controls"], project.desired)
            message(
                f"hpconfig: planning {plural(len(project.desired), 'declared control')} against "
                f"{settings.api_url} ..."
            )
            plan = make_plan(client, project.desired, project.config, only, owners=False)
            context = plan_context(project, settings, only, paths, options["controls"])
            plan = dataclasses.replace(plan, context=context)
            digest = plan_sha256(plan)
            if expected is not None and digest != expected:
                raise UnsafePlanError(
                    f"the plan made now has sha256 {digest}, not the reviewed {expected}: "
                    "Hyperproof or the manifests changed since; nothing was written. Plan "
                    "again and review the new plan"
                )
        if saved and options["controls"]:
            plan = select(
                plan, _selection(options["controls"], [c.identifier for c in plan.changes])
            )
        recount = None
        if saved:  # the file's count of existing controls is its word: count them again

            def recount(fresh: Any) -> int:
                from hpconfig.remote.fetch import fetch_live, plan_from_live

                if any(key not in fresh.controls for key in project.desired):
                    fresh = fetch_live(client, project.desired)  # archived ones too, as plan
                again = plan_from_live(fresh, project.desired, project.config, only)
                return again.safety.existing if again.safety is not None else 0

        return _run(client, plan, project.config, digest, options, not saved, recount)


def _run(
    client: Any,
    plan: Any,
    config: Any,
    digest: str,
    options: dict[str, Any],
    confirm: bool,
    recount: Any = None,
) -> int:
    from hpconfig.apply.execute import execute
    from hpconfig.apply.gate import refuse_if_unsafe
    from hpconfig.apply.journal import Journal, default_path
    from hpconfig.apply.outcome import Status, summary_text
    from hpconfig.apply.stale import verdict
    from hpconfig.apply.writer import Writer
    from hpconfig.cli.apply_run import Recorder, refusal_for_stale, stop_on_signals
    from hpconfig.owners import directory, owners_to_check, with_owner_problems
    from hpconfig.plan import ChangeKind
    from hpconfig.remote.fetch import fetch_again
    from hpconfig.render.text import render_text

    users = None
    if owners_to_check(plan):
        users = directory(client.list_users(include_deactivated=True))
        plan = with_owner_problems(plan, users)
    emit(render_text(plan), err=options["json_events"])
    message(f"hpconfig: plan sha256 {digest}")
    if not plan.changes:
        message("hpconfig: no changes: Hyperproof matches the manifests; nothing to apply.")
        Recorder(None, options["json_events"], "", digest, threading.Event()).finish(0, False)
        return ExitCode.OK
    refuse_if_unsafe(plan, config.limits, options["allow_archive"], options["force"])
    if confirm:
        _confirm(options["auto_approve"])
    run = os.urandom(6).hex()
    path = options["journal"]
    journal = Journal(path) if path else Journal(default_path(_now(), run), make_folders=True)
    message(f"hpconfig: run {run}; journal {journal.path}")
    stop = threading.Event()
    recorder = Recorder(journal, options["json_events"], run, digest, stop, len(plan.changes))
    try:
        fresh = fetch_again(
            client,
            {c.identifier for c in plan.changes},
            any(c.action == ChangeKind.RESTORE for c in plan.changes),
        )
    except BaseException:
        for change in plan.changes:
            recorder.outcome(_not_attempted(change, "the stale check could not read Hyperproof"))
        recorder.finish(ExitCode.REMOTE, False)
        raise
    if recount is not None and plan.safety is not None:
        # A saved plan's thresholds are judged by the existing controls of this read, not by
        # the number in the file (raised, it would let any share of changes through).
        plan = dataclasses.replace(
            plan, safety=dataclasses.replace(plan.safety, existing=recount(fresh))
        )
        try:
            refuse_if_unsafe(plan, config.limits, options["allow_archive"], options["force"])
        except UnsafePlanError:
            for change in plan.changes:
                recorder.outcome(_not_attempted(change, "the plan is over the safety limits"))
            recorder.finish(ExitCode.UNSAFE, False)
            raise
    to_write = []
    skipped = []
    for change in plan.changes:
        found = verdict(change, fresh)
        (to_write.append(change) if found is None else skipped.append(found))
    stale = [o for o in skipped if o.status is Status.STALE]
    if stale and not options["skip_stale"]:
        for outcome in skipped:
            recorder.outcome(outcome)
        for change in to_write:
            recorder.outcome(_not_attempted(change, "the plan is stale"))
        recorder.finish(ExitCode.UNSAFE, False)
        raise UnsafePlanError(refusal_for_stale(stale))
    for outcome in skipped:
        recorder.outcome(outcome)
    if stale:
        message(f"hpconfig: skipping {plural(len(stale), 'stale control')} (--skip-stale):")
        message(refusal_for_stale(stale).split(":\n", 1)[1])
    writer = Writer(client, users)
    with stop_on_signals(stop):
        execute(
            to_write,
            writer.write,
            options["parallelism"],
            options["keep_going"],
            stop,
            recorder.start,
            recorder.outcome,
        )
    failed = any(o.status is Status.FAILED for o in recorder.outcomes)
    interrupted = stop.is_set() and recorder.journal_error is None
    code = INTERRUPTED if interrupted else ExitCode.REMOTE if failed else ExitCode.OK
    if recorder.journal_error is not None:
        code = ExitCode.OUTPUT
    recorder.finish(code, interrupted)
    emit(summary_text(recorder.outcomes), err=options["json_events"], nl=True)
    if recorder.journal_error is not None:
        message(
            f"Error: the journal could not be written ({recorder.journal_error}): no new writes "
            "were started after that"
        )
    elif failed:
        message("Error: some writes failed (above); what was written stays: nothing rolls back")
    return code


def _not_attempted(change: Any, why: str) -> Any:
    from hpconfig.apply.outcome import Outcome, Status

    return Outcome(change, Status.NOT_ATTEMPTED, message=why)


def _now() -> datetime:
    return datetime.now(timezone.utc)
