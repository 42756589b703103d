"""Issue 14 figures: `hpconfig check` on 10,000 controls x 10 rules (5 built-in, 5 CEL), against
the fetch alone in the same run, on each CEL implementation installed.

The fetch is what any check must do: a token, the active and archived controls, the users, over
HTTP from the sandbox (real client, real parsing). The evaluation is everything after it:
records built from the answers, every rule on every control, waivers, the report. Printed: both
times, the cost per evaluation (one rule on one control), the ratio of evaluation to fetch, and
the CEL part alone per implementation (pure-Python cel-python against the compiled
cel-expr-python). Best of --rounds. Run: `python benchmarks/check_bench.py`.
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime, timezone

from hpconfig.assertions import cel
from hpconfig.assertions.check import run_check
from hpconfig.assertions.rules import Assertion, Rule, Selection
from hpconfig.assertions.ruleset import RuleSet
from hpconfig.remote.client import HyperproofClient
from hpconfig.remote.organization import check_records, fetch_organization
from hpconfig.remote.secret import Secret
from hpconfig.remote.settings import Settings
from hpconfig.sandbox import Sandbox, generate_org

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
BUILT_INS = [
    Assertion("ownerActive"),
    Assertion("required", fields=("owner", "domain")),
    Assertion("allowed", allowed=(("implementation", ("completed", "inProgress")),)),
    Assertion("atMost", limits=(("freshness.duration", 90 * 86400),)),
    Assertion("evidenceFresh"),
]
EXPRESSIONS = [
    'control.testingStatus == "effective"',
    'control.identifier.startsWith("GEN-") && control.owner.endsWith("@example.com")',
    "control.freshness.duration != null && control.freshness.duration <= 7776000",
    'control.domain in ["Access Control", "Availability", "Confidentiality"]',
    'control.name.matches("^Generated control number [0-9]+$") || control.managed',
]


def ruleset(backend: str, cel_only: bool = False) -> RuleSet:
    rules = (
        []
        if cel_only
        else [
            Rule(f"builtin-{n}", "A built-in rule", "error", Selection(), assertion)
            for n, assertion in enumerate(BUILT_INS)
        ]
    )
    for n, text in enumerate(EXPRESSIONS):
        expression = cel.compile_expression(text, backend)
        assertion = Assertion("expression", expression=expression)
        rules.append(Rule(f"cel-{n}", "A CEL rule", "error", Selection(), assertion))
    return RuleSet(tuple(rules))


def best(rounds: int, work: object) -> tuple[float, object]:
    times, value = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        value = work()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times), value


def _checking(rules: RuleSet, organization: object, backend: str) -> object:
    """The evaluation as a check runs it: records from the answers, then every rule."""
    return lambda: run_check(rules, check_records(organization), {}, NOW, backend=backend)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--controls", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    seed = generate_org(args.controls, 50)
    with Sandbox(seed) as sandbox:
        settings = Settings(
            api_url=sandbox.api_url,
            token_url=sandbox.token_url,
            client_id=sandbox.client_id,
            secret=Secret(sandbox.client_secret),
        )

        def fetch() -> object:
            with HyperproofClient(settings) as client:
                return fetch_organization(client)

        fetched, organization = best(args.rounds, fetch)
    records = check_records(organization)  # type: ignore[arg-type]
    rules = len(BUILT_INS) + len(EXPRESSIONS)
    evaluations = len(records) * rules
    print(
        f"controls: {len(records)}, rules: {rules} ({len(BUILT_INS)} built-in, "
        f"{len(EXPRESSIONS)} CEL), evaluations: {evaluations}"
    )
    print(f"fetch alone (token, 2 control lists, users, over HTTP): {fetched:.3f} s")
    cel_costs = {}
    for backend in cel.available_backends():
        whole, cel_only = ruleset(backend), ruleset(backend, cel_only=True)
        evaluated, report = best(args.rounds, _checking(whole, organization, backend))
        assert len(report.results) == evaluations  # type: ignore[attr-defined]
        cel_time, _ = best(args.rounds, _checking(cel_only, organization, backend))
        cel_costs[backend] = cel_time / (len(records) * len(EXPRESSIONS))
        print(
            f"{backend}: evaluation {evaluated:.3f} s, {evaluated / evaluations * 1e6:.1f} us per "
            f"evaluation, {evaluated / fetched:.2f}x the fetch; CEL alone "
            f"{cel_costs[backend] * 1e6:.1f} us per evaluation"
        )
    if cel.BACKEND_COMPILED in cel_costs and cel.BACKEND_PURE in cel_costs:
        ratio = cel_costs[cel.BACKEND_PURE] / cel_costs[cel.BACKEND_COMPILED]
        print(f"CEL per evaluation: {cel.BACKEND_PURE} / {cel.BACKEND_COMPILED} = {ratio:.1f}x")


if __name__ == "__main__":
    main()
