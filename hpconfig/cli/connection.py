"""How a command reaches Hyperproof: the connection flags ``plan`` and ``check`` share, and
the client they give. The settings themselves (flags over environment over config) are
``remote.settings``'s."""

from __future__ import annotations

from typing import Any

import click

from hpconfig import hyperproof as hp

# The keyword names of the flags below, as click passes them to a command.
CONNECTION_KEYS = (
    "region",
    "api_url",
    "token_url",
    "client_id",
    "connect_timeout",
    "read_timeout",
    "run_timeout",
)


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
    """Where and how to reach Hyperproof: the flags plan and check share."""
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


def connect(project: Any, connection: dict[str, Any]) -> Any:
    """A client for the settings the flags, the environment and the config give."""
    from hpconfig.remote import settings as settings_module
    from hpconfig.remote.client import HyperproofClient

    return HyperproofClient(settings_module.resolve(project.config, **connection))
