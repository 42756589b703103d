"""The shape of the package: what importing (and running) a part of it loads, in a fresh
interpreter, so that the pure core stays pure and each wing stays on its side."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT


def loaded_after(code: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running ``code``."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    completed = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(json.loads(completed.stdout.splitlines()[-1]))


def test_a_plan_with_drift_needs_no_deepdiff() -> None:
    """Flat fields compare with `==`: deepdiff is for the benchmark's yardstick only."""
    loaded = loaded_after(
        "from tests.helpers import big_plan\nassert len(big_plan(50).changes) == 50"
    )
    assert "deepdiff" not in loaded


CORE = (
    "hpconfig.control",
    "hpconfig.diff",
    "hpconfig.plan",
    "hpconfig.project_config",
    "hpconfig.errors",
    "hpconfig.durations",
    "hpconfig.render.text",
    "hpconfig.render.json",
    "hpconfig.render.markdown",
    "hpconfig.render.github",
    "hpconfig.render.sarif",
    "hpconfig.render.diagnostics",
    "hpconfig.safety",
    "hpconfig.owners",
    "hpconfig.apply.saved",
    "hpconfig.apply.gate",
    "hpconfig.apply.outcome",
    "hpconfig.apply.stale",
    "hpconfig.assertions.rules",
    "hpconfig.assertions.ruleset",
    "hpconfig.assertions.cel",
    "hpconfig.assertions.builtins",
    "hpconfig.assertions.evaluate",
    "hpconfig.assertions.check",
    "hpconfig.assertions.report",
    "hpconfig.render.check_text",
    "hpconfig.render.check_machine",
    "hpconfig.render.check_formats",
    "hpconfig.render.refresh",
    "hpconfig.refresh",
)
REMOTE = (
    "hpconfig.remote.settings",
    "hpconfig.remote.auth",
    "hpconfig.remote.client",
    "hpconfig.remote.live",
    "hpconfig.remote.fetch",
    "hpconfig.remote.writes",
    "hpconfig.remote.organization",
)


def _of(loaded: set[str], *packages: str) -> set[str]:
    return {m for m in loaded if any(m == p or m.startswith(p + ".") for p in packages)}


def test_the_core_loads_neither_yaml_nor_the_manifest_loader_nor_requests() -> None:
    loaded = loaded_after("import " + ", ".join(CORE))
    assert not _of(loaded, "yaml", "requests", "urllib3", "click", "hpconfig.manifest.loader")
    assert not _of(loaded, "hpconfig.manifest", "hpconfig.remote", "hpconfig.cli")


def test_the_remote_wing_loads_no_yaml() -> None:
    loaded = loaded_after("import " + ", ".join(REMOTE))
    assert "requests" in loaded  # the import happened
    assert not _of(loaded, "yaml", "hpconfig.manifest.loader", "hpconfig.manifest.composer")


def test_the_manifest_wing_never_loads_requests() -> None:
    loaded = loaded_after(
        "import hpconfig.manifest.project, hpconfig.manifest.config_file, hpconfig.manifest.rewrite"
    )
    assert "yaml" in loaded
    assert not _of(loaded, "requests", "urllib3", "hpconfig.remote")


def test_the_check_loads_a_cel_library_only_when_an_expression_is_compiled() -> None:
    loaded = loaded_after(
        "import hpconfig.assertions.check, hpconfig.manifest.assertions_file, hpconfig.cli.check"
    )
    assert not _of(loaded, "cel_expr_python", "celpy", "yaml.cyaml") - {"yaml.cyaml"}
