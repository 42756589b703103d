"""`hpconfig sandbox`: the local Hyperproof API in the foreground.

Owns the command's options and their checks (every number finite and in range, faults checked
as the admin path checks them); a bad seed or ``--state`` file is an ``InputError`` (exit 3)
raised by the sandbox itself.
"""

from __future__ import annotations

import math
import signal
import sys
from pathlib import Path
from typing import Any

import click

from hpconfig.cli.app import cli
from hpconfig.errors import ExitCode, InputError, InputProblem, Location, Problem
from hpconfig.loopback import is_loopback_host


def _finite(low: float, high: float) -> Any:
    """A click callback: the number is finite and within [low, high]."""

    def check(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
        if value is not None and not (math.isfinite(value) and low <= value <= high):
            raise click.BadParameter(f"{value} is not a number from {low:g} to {high:g}")
        return value

    return check


def _fault_option(text: str) -> dict[str, Any]:
    """``rate-limit,path=/v1/controls,count=2,retry_after=1`` → Fault keyword arguments."""
    kind, *pairs = text.split(",")
    options: dict[str, Any] = {"kind": kind.strip()}
    numbers = {
        "count": int,
        "fraction": float,
        "retry_after": float,
        "status": int,
        "size": int,
        "delay": float,
    }
    texts = ("path", "method", "message", "location", "identifier")
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in (*numbers, *texts):
            raise click.BadParameter(
                f"{pair!r}: expected key=value with a key of {', '.join([*numbers, *texts])}"
            )
        try:
            options[key] = numbers[key](value) if key in numbers else value
        except ValueError:
            raise click.BadParameter(f"{pair!r}: {key} takes a number") from None
    return options


def _faults(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> list[Any]:
    """A click callback: each --fault as a sandbox fault, checked as the admin path checks one."""
    from hpconfig.sandbox.admin import fault_from_json
    from hpconfig.sandbox.faults import MAX_FAULTS
    from hpconfig.sandbox.rules import ApiProblem

    if len(values) > MAX_FAULTS:  # what the fault book holds at most
        raise click.BadParameter(f"at most {MAX_FAULTS} faults")
    faults = []
    for text in values:
        try:
            faults.append(fault_from_json(_fault_option(text)))
        except ApiProblem as problem:
            raise click.BadParameter(problem.message) from None
    return faults


@cli.command()
@click.option(
    "--seed",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Seed organization (JSON). Default: examples/sandbox/org.json when present, "
    "else a generated organization of 20 controls.",
)
@click.option(
    "--state",
    "state_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Keep the organization in this file (and FILE.journal) across runs; every "
    "acknowledged write survives a killed sandbox.",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to bind; anything but loopback exposes the unauthenticated admin path.",
)
@click.option(
    "--port",
    default=8765,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port; 0 picks a free one.",
)
@click.option(
    "--latency-ms",
    default=0.0,
    show_default=True,
    callback=_finite(0, 600_000),
    help="Delay added to every request.",
)
@click.option(
    "--token-lifetime",
    default=3600.0,
    show_default=True,
    callback=_finite(0, 10 * 365 * 86400),
    help="Seconds an access token lives (expires_in).",
)
@click.option(
    "--workers",
    default=32,
    show_default=True,
    type=click.IntRange(1, 1024),
    help="Connections served at once; more wait their turn.",
)
@click.option(
    "--idle-timeout",
    default=15.0,
    show_default=True,
    callback=_finite(0.001, 86400),
    help="Seconds a kept-alive connection may wait for its next request.",
)
@click.option(
    "--request-timeout",
    default=30.0,
    show_default=True,
    callback=_finite(0.001, 86400),
    help="Seconds for a request, once begun, to arrive whole (headers and body).",
)
@click.option(
    "--compact-every",
    type=click.IntRange(1, 10_000_000),
    help="With --state: journal lines between two snapshots of the state file "
    "(default: as many as there are controls, at least 1000).",
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    callback=_faults,
    metavar="KIND[,key=value...]",
    help="A fault from the start, e.g. rate-limit,path=/v1/controls,count=2. Kinds: "
    "rate-limit, quota, unauthorized, server-error, bad-gateway, unavailable, "
    "gateway-timeout, drop, malformed, html, trickle, huge, gzip-bomb, redirect, "
    "malformed-control, duplicate-identifier, and, after the write lands, commit-drop, "
    "commit-error, commit-stall, commit-conflict, commit-late. Repeatable.",
)
def sandbox(
    seed: Path | None,
    state_path: Path | None,
    host: str,
    port: int,
    latency_ms: float,
    token_lifetime: float,
    workers: int,
    idle_timeout: float,
    request_timeout: float,
    compact_every: int | None,
    faults: list[Any],
) -> int:
    """Run the local Hyperproof API in the foreground (Ctrl-C stops it)."""
    from hpconfig.sandbox import Sandbox, generate_org, load_seed
    from hpconfig.sandbox.seeds import EXAMPLE_SEED
    from hpconfig.sandbox.server import Limits, SandboxOptions

    if seed is None and EXAMPLE_SEED.is_file():
        seed = EXAMPLE_SEED
    organization = load_seed(seed) if seed else generate_org(controls=20, users=5)
    fault_list = faults
    if not is_loopback_host(host):
        click.echo(
            f"Warning: binding {host}: the sandbox's admin path (/_sandbox) has no "
            "authentication; anyone who can reach this address can change its state.",
            err=True,
        )
    settings = SandboxOptions(
        latency=latency_ms / 1000,
        token_lifetime=token_lifetime,
        idle_timeout=idle_timeout,
        request_timeout=request_timeout,
    )
    limits = Limits(workers=workers, compact_every=compact_every)
    try:
        runner = Sandbox(organization, state_path, host, port, settings=settings, limits=limits)
    except OSError as error:
        if error.filename:  # the state file or its directory
            where = Location(str(error.filename))
            raise InputError([Problem(where, "", f"cannot use it: {error.strerror}")]) from None
        raise InputProblem(
            f"cannot listen on {host}:{port}: {error.strerror}; stop what uses that port, or "
            "give another with --port (--port 0 picks a free one)"
        ) from None
    for fault in fault_list:
        runner.server.faults.add(fault)
    # `docker stop` and CI runners send SIGTERM: stop as cleanly as on Ctrl-C (the journal
    # folded into the snapshot), not in the middle of everything. SIGINT is set too: a shell
    # starts a background job with SIGINT ignored, and Python then never raises
    # KeyboardInterrupt, so `hpconfig sandbox &` could not be stopped as documented.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    try:
        org = runner.server.org
        click.echo(
            f"# hpconfig sandbox: {len(org.controls)} controls, {len(org.users)} users"
            + (f", state in {state_path}" if state_path else "")
            + ". Ctrl-C stops it.",
            err=True,
        )
        click.echo(f"export HYPERPROOF_API_URL={runner.api_url}")
        click.echo(f"export HYPERPROOF_TOKEN_URL={runner.token_url}")
        click.echo(f"export HYPERPROOF_CLIENT_ID={runner.client_id}")
        # the sandbox's own made-up secret, from the seed: printing it is the point
        click.echo(f"export HYPERPROOF_CLIENT_SECRET={runner.client_secret}")
        sys.stdout.flush()
        runner.server.serve_forever()
    except KeyboardInterrupt:
        click.echo("# sandbox stopped", err=True)
    finally:
        runner.server.server_close()
    return ExitCode.OK


def _interrupt(signum: int, frame: Any) -> None:
    for number in (signal.SIGTERM, signal.SIGINT):  # a second one must not cut the clean stop
        signal.signal(number, signal.SIG_IGN)
    raise KeyboardInterrupt
