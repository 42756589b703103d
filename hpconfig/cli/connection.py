"""The options and values every command that talks to Hyperproof shares: where and how to
connect (``connection_options``), and what a saved plan records of its run (``plan_context``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from hpconfig import hyperproof as hp


class _Seconds(click.ParamType):  # type: ignore[type-arg]  # generic since click 8.3 only
    """Seconds above 0 and at most ``maximum``: ``inf``, ``nan`` and huge values are usage
    errors (click's FloatRange lets NaN through)."""

    name = "seconds"

    def __init__(self, maximum: float) -> None:
        self.maximum = maximum

    def convert(self, value: Any, param: Any, ctx: Any) -> float:
        from hpconfig.errors import SettingsError
        from hpconfig.remote.settings import parse_seconds

        try:
            return parse_seconds(value, "the value", self.maximum)
        except SettingsError as error:
            self.fail(str(error).removeprefix("the value "), param, ctx)


def connection_options(function: Any) -> Any:
    """Where and how to connect: the options of every command that talks to Hyperproof."""
    options = [
        click.option("--region", type=click.Choice(list(hp.REGIONS)), help="Hyperproof region."),
        click.option("--api-url", help="API host root; overrides the region's."),
        click.option("--token-url", help="OAuth token URL; overrides the region's."),
        click.option(
            "--client-id", help="The API client's id (the secret only from the environment)."
        ),
        click.option(
            "--connect-timeout", type=_Seconds(300), help="Seconds to connect (default 10)."
        ),
        click.option(
            "--read-timeout", type=_Seconds(3600), help="Longest silence of a server, seconds (60)."
        ),
        click.option(
            "--timeout",
            "run_timeout",
            type=_Seconds(86400),
            help="Seconds the whole run may take talking to Hyperproof, retries included (600; "
            "HPCONFIG_TIMEOUT).",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def plan_context(
    project: Any, settings: Any, only: Callable[[str], bool] | None, paths: Any, controls: Any
) -> Any:
    """What a saved plan must match to be applied (``plan.PlanContext``)."""
    from hpconfig import __version__
    from hpconfig.apply.saved import inputs_digest
    from hpconfig.plan import PlanContext

    desired = {k: c for k, c in project.desired.items() if only is None or only(k)}
    config = project.config
    globs = tuple(g.strip() for value in controls for g in value.split(",") if g.strip())
    return PlanContext(
        hpconfig_version=__version__,
        api_url=settings.api_url,
        manifests_digest=inputs_digest(desired, config.ignore, config.limits, globs),
        paths=tuple(str(path) for path in paths),
        controls=globs,
    )
