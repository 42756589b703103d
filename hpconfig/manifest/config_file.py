"""Reading the project config, ``hpconfig.yaml``, into a ``ProjectConfig``.

Owns: finding the config, reading and checking it (the schema, keys that look like secrets,
ignore rules that expired or are about to, manifests that lead outside the repository). The
values it builds are ``hpconfig.project_config``'s. It must not read the environment
(``remote.settings`` does) or manifests.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from hpconfig.errors import Problem, Severity
from hpconfig.manifest import schema
from hpconfig.manifest.document import Document, YList, YMap, json_path
from hpconfig.manifest.loader import CONFIG_NAMES, load_file
from hpconfig.project_config import IgnoreRule, ProjectConfig
from hpconfig.untrusted import excerpt

# Keys that look like they hold a secret. `tokenUrl` is a URL, not a token, and is allowed.
_SECRET_KEY = re.compile(r"secret|password|passwd|credential|apikey|privatekey|token$|bearer")


def find_config(explicit: Path | None, paths: list[Path]) -> tuple[Path | None, bool]:
    """The config file to use, and whether its ``manifests`` replace the given paths.

    ``--config`` wins; else a single directory argument holding ``hpconfig.yaml`` (its manifests
    replace the directory); else ``./hpconfig.yaml``.
    """
    if explicit is not None:
        return explicit, not paths
    if len(paths) == 1 and paths[0].is_dir():
        for name in CONFIG_NAMES:
            if (paths[0] / name).is_file():
                return paths[0] / name, True
    for name in CONFIG_NAMES:
        if Path(name).is_file():
            return Path(name), not paths
    return None, False


def _secret_keys(document: Document) -> list[Problem]:
    """Problems for keys that look like secrets, anywhere; their values are never shown."""
    found: list[Problem] = []

    def walk(node: Any, path: list[Any]) -> None:
        if isinstance(node, YMap):
            for key in list(node):
                if _SECRET_KEY.search(re.sub(r"[^a-z]", "", key.lower())):
                    found.append(
                        Problem(
                            document.locate([*path, key], key=True),
                            json_path([*path, key]),
                            f"{excerpt(key)} looks like a secret, and hpconfig.yaml is kept in "
                            "git: remove it (rotate the secret if it was pushed) and set "
                            "HYPERPROOF_CLIENT_SECRET or HYPERPROOF_CLIENT_SECRET_FILE instead",
                        )
                    )
                    del node[key]  # so that no later message can echo the value
                else:
                    walk(node[key], [*path, key])
        elif isinstance(node, YList):
            for index, item in enumerate(node):
                walk(item, [*path, index])

    walk(document.data, [])
    return found


# An ignore rule that expires this soon warns, so a nightly job does not start failing unannounced.
EXPIRY_NOTICE_DAYS = 14


def _expiry(
    document: Document, index: int, value: Any, today: date
) -> tuple[date | None, Problem | None]:
    """An ignore rule's expiry date, and the error (expired) or warning (expiring soon) for it."""
    path: list[Any] = ["ignore", index, "expires"]
    where = (document.locate(path), json_path(path))
    try:
        expires = date.fromisoformat(value)
    except (TypeError, ValueError):
        return None, Problem(*where, f"{excerpt(value)} is not a real date")
    if expires < today:
        message = (
            f"this ignore rule expired on {expires.isoformat()}; "
            "review it, then renew `expires` or remove the rule"
        )
        return expires, Problem(*where, message)
    days = (expires - today).days
    if days <= EXPIRY_NOTICE_DAYS:
        when = "today" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"
        message = (
            f"this ignore rule expires {when} ({expires.isoformat()}), and then the check "
            "fails: review it, then renew `expires` or remove the rule"
        )
        return expires, Problem(*where, message, severity=Severity.WARNING)
    return expires, None


def _ignore_rule(
    document: Document, index: int, raw: dict[str, Any], today: date
) -> tuple[IgnoreRule | None, list[Problem]]:
    expires, problem = (None, None)
    if "expires" in raw:
        expires, problem = _expiry(document, index, raw["expires"], today)
        if problem is not None and problem.severity == Severity.ERROR:
            return None, [problem]
    rule = IgnoreRule(
        fields=tuple(raw["fields"]),
        reason=raw["reason"],
        controls=tuple(raw.get("controls", ())),
        expires=expires,
        source=document.locate(["ignore", index]),
    )
    return rule, [problem] if problem is not None else []


def _expiry_despite(document: Document, reported: list[Problem], today: date) -> list[Problem]:
    """Expired and expiring rules of a config with schema errors elsewhere: still worth saying."""
    rules = document.data.get("ignore") if isinstance(document.data, dict) else None
    if not isinstance(rules, list):
        return []
    found = []
    for index, raw in enumerate(rules):
        prefix = json_path(["ignore", index])
        if not isinstance(raw, dict) or not isinstance(raw.get("expires"), str):
            continue
        if any(p.path == prefix or p.path.startswith(prefix + ".") for p in reported):
            continue  # this rule has its own schema problem
        _, problem = _expiry(document, index, raw["expires"], today)
        if problem is not None:
            found.append(problem)
    return found


def repository_root(directory: Path) -> Path:
    """The git top level above ``directory`` (a ``.git`` entry), else ``directory`` itself."""
    start = directory.resolve()
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    return start


def _manifest_paths(document: Document, base: Path) -> tuple[tuple[Path, ...], list[Problem]]:
    """``manifests`` resolved against the config's folder; an entry that leads outside the
    repository (``../../etc/passwd``, an absolute path, a symlink out) is a problem, since a
    pull request writes this file and must not make hpconfig read another."""
    root = repository_root(base)
    paths: list[Path] = []
    problems: list[Problem] = []
    for index, entry in enumerate(document.data.get("manifests", ())):
        where: list[Any] = ["manifests", index]
        resolved = (base / entry).resolve()
        if resolved != root and root not in resolved.parents:
            problems.append(
                Problem(
                    document.locate(where),
                    json_path(where),
                    f"{excerpt(entry)} leads outside the repository ({root}); "
                    "list only manifests inside it",
                )
            )
            continue
        paths.append(base / entry)
    return tuple(paths), problems


def _url_problems(document: Document) -> list[Problem]:
    """``apiUrl``/``tokenUrl`` as settings will judge them, found offline so that ``validate``
    (and the pre-commit hook) refuses what ``plan`` would: a pull request writes this file, and
    the client secret goes to the token URL."""
    from hpconfig.errors import SettingsError
    from hpconfig.urls import check_url, trusted_in_a_repository

    problems: list[Problem] = []
    for key, variable in (("apiUrl", "HYPERPROOF_API_URL"), ("tokenUrl", "HYPERPROOF_TOKEN_URL")):
        url = document.data.get(key)
        if not isinstance(url, str):
            continue
        try:
            checked = check_url(key, url)
        except SettingsError as error:
            message = str(error)
        else:
            if trusted_in_a_repository(checked):
                continue
            message = (
                f"{key} names a host that is not Hyperproof's: a repository file may name only "
                "the region table's hosts and loopback, since anyone who can push a branch "
                f"writes it and the client secret would go there; set {variable} (or the flag) "
                "in the CI job to use another host"
            )
        problems.append(Problem(document.locate([key]), json_path([key]), message))
    return problems


def load_config(
    path: Path, today: date, display: str | None = None
) -> tuple[ProjectConfig, list[Problem]]:
    """Read, check and resolve one config file; problems instead of exceptions."""
    document, problems = load_file(path, display)
    if document is None:
        return ProjectConfig(file=display or str(path)), problems
    problems += _secret_keys(document)
    schema_problems = schema.problems_of(document, "config")
    problems += schema_problems
    if schema_problems:
        # Keep the manifest list when it is itself valid: without it, a directory given with
        # this config would be walked whole, and files outside `manifests` reported.
        manifests: tuple[Path, ...] = ()
        if not any(p.path.startswith("$.manifests") for p in schema_problems):
            manifests, manifest_problems = _manifest_paths(document, path.parent)
            problems += manifest_problems
        return ProjectConfig(file=document.file, manifests=manifests), problems + _expiry_despite(
            document, schema_problems, today
        )
    data = document.data
    rules: list[IgnoreRule] = []
    for index, raw in enumerate(data.get("ignore", [])):
        rule, rule_problems = _ignore_rule(document, index, raw, today)
        problems += rule_problems
        if rule:
            rules.append(rule)
    base = path.parent
    manifests, manifest_problems = _manifest_paths(document, base)
    problems += manifest_problems
    problems += _url_problems(document)
    timeouts = data.get("timeouts", {})
    safety = data.get("safety", {})
    config = ProjectConfig(
        file=document.file,
        manifests=manifests,
        region=data.get("region"),
        api_url=data.get("apiUrl"),
        token_url=data.get("tokenUrl"),
        client_id=data.get("clientId"),
        connect_timeout=timeouts.get("connect"),
        read_timeout=timeouts.get("read"),
        ignore=tuple(rules),
        max_change_percent=float(safety.get("maxChangePercent", 30.0)),
        min_controls=int(safety.get("minControls", 10)),
        max_archives=_optional_count(safety, "maxArchives", 5),
        max_creates=_optional_count(safety, "maxCreates", None),
        allow_archive=tuple(safety.get("allowArchive", ())),
    )
    return config, problems


def _optional_count(safety: dict[str, Any], key: str, default: int | None) -> int | None:
    """A count limit: absent → the default; null → no limit (the schema allows both)."""
    if key not in safety:
        return default
    value = safety[key]
    return None if value is None else int(value)
