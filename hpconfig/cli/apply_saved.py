"""A saved plan file for ``hpconfig apply``: read, checked and turned into a ``Plan``.

Owns what is refused before the plan's manifests are even read: a file of another digest than
``--plan-sha256`` names (exit 5), one that is not JSON or not valid against
``plan.schema.json`` (exit 3), and manifests' paths outside the working directory's repository
(exit 5). What a saved plan means is ``apply.saved``'s; this module reads the file.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from hpconfig.errors import InputProblem, UnsafePlanError

MAX_PLAN_BYTES = 512 * 1024 * 1024


def read_saved_file(file: Path, expected_sha256: str | None) -> tuple[Any, str]:
    """The saved plan and its digest; refused before anything else when the digest differs."""
    from hpconfig.apply.saved import read_saved
    from hpconfig.files import read_bounded
    from hpconfig.manifest.schema import validator
    from hpconfig.remote.answers import parse_json

    try:
        raw = read_bounded(file, MAX_PLAN_BYTES)
    except OSError as error:
        raise InputProblem(f"{file}: cannot read the plan: {error.strerror or error}") from None
    digest = hashlib.sha256(raw).hexdigest()
    if expected_sha256 is not None and digest != expected_sha256:
        raise UnsafePlanError(
            f"{file} has sha256 {digest}, not the {expected_sha256} that --plan-sha256 names: "
            "it is not the plan that was reviewed; nothing was written"
        )
    try:
        document = parse_json(raw)
    except ValueError as error:
        raise InputProblem(f"{file}: not a JSON plan ({error})") from None
    first = next(iter(validator("plan").iter_errors(document)), None)
    if first is not None:
        where = "$" + "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in first.path)
        raise InputProblem(
            f"{file}: {where}: not a plan hpconfig apply can use ({first.message[:200]}); run "
            "`hpconfig plan --out FILE` again"
        )
    return read_saved(str(file), document), digest


def paths_inside_repository(file: Path, named: tuple[str, ...]) -> list[Path]:
    """The manifests' paths a saved plan names, each inside the working directory's repository:
    a plan file is an input as ``hpconfig.yaml`` is, and must not make apply read (and apply)
    manifests from elsewhere on the machine."""
    from hpconfig.manifest.config_file import repository_root
    from hpconfig.untrusted import excerpt

    root = repository_root(Path.cwd())
    paths = [Path(p) for p in named]
    for path in paths:
        resolved = path.resolve()
        if resolved != root and root not in resolved.parents:
            raise UnsafePlanError(
                f"{file}: its apply.paths names {excerpt(str(path))}, outside the repository "
                f"({root}): apply reads only this repository's manifests; nothing was read or "
                "written. Run apply in the repository where plan ran"
            )
    return paths
