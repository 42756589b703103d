"""The check's pure core: each built-in, CEL on both implementations and its bounds, message
templates, waivers and the baseline, over records as the remote wing builds them."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import pytest

from hpconfig.assertions import cel
from hpconfig.assertions.check import run_check
from hpconfig.assertions.evaluate import TEMPLATE_NAMES, Status
from hpconfig.assertions.report import baseline_document, baseline_entries
from hpconfig.assertions.rules import (
    Assertion,
    Rule,
    RuleSet,
    Selection,
    Waiver,
    parse_template,
)
from hpconfig.errors import Location

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)
BACKENDS = cel.available_backends()


def record(identifier: str = "C-1", **fields: Any) -> dict[str, Any]:
    freshness = {"policy": "manual", "duration": 90 * 86400, "state": "fresh", "asOf": ""}
    freshness.update(fields.pop("freshness", {}))
    base: dict[str, Any] = {
        "identifier": identifier,
        "id": f"id-{identifier}",
        "name": "A control",
        "description": "",
        "notes": "",
        "domain": "Access",
        "owner": "alice@example.com",
        "ownerType": "activeUser",
        "status": "active",
        "workStatus": "",
        "implementation": "completed",
        "testingStatus": "effective",
        "health": "healthy",
        "freshness": freshness,
        "managed": False,
        "source": "",
    }
    base.update(fields)
    return base


def rule(assertion: Assertion, rule_id: str = "r", **options: Any) -> Rule:
    message = options.pop("message", None)
    template = parse_template(message, TEMPLATE_NAMES)[0] if message else None
    severity = options.pop("severity", "error")
    return Rule(rule_id, "A rule", severity, Selection(**options), assertion, template)


def one(
    assertion: Assertion, rec: dict[str, Any], backend: str | None = None, **options: Any
) -> tuple[Status, str]:
    report = run_check(RuleSet((rule(assertion, **options),)), [rec], {}, NOW, backend=backend)
    assert len(report.results) == 1, report.results
    return report.results[0].status, report.results[0].reason


# --- built-ins -----------------------------------------------------------------------------


def test_required_fields() -> None:
    required = Assertion("required", fields=("owner", "domain"))
    assert one(required, record())[0] == Status.OK
    status, reason = one(required, record(owner="", domain=""))
    assert status == Status.ALARM and reason == "owner, domain are not set"


def test_allowed_values() -> None:
    allowed = Assertion("allowed", allowed=(("testingStatus", ("effective",)),))
    assert one(allowed, record())[0] == Status.OK
    status, reason = one(allowed, record(testingStatus="notTested"))
    assert status == Status.ALARM
    assert reason == "testingStatus is 'notTested', not one of 'effective'"


def test_duration_limits() -> None:
    at_most = Assertion("atMost", limits=(("freshness.duration", 90 * 86400),))
    assert one(at_most, record())[0] == Status.OK
    status, reason = one(at_most, record(freshness={"duration": 365 * 86400}))
    assert status == Status.ALARM and reason == "freshness.duration is 365d, longer than 90d"
    assert one(at_most, record(freshness={"duration": None}))[0] == Status.SKIP
    at_least = Assertion("atLeast", limits=(("freshness.duration", 7 * 86400),))
    status, reason = one(at_least, record(freshness={"duration": 86400}))
    assert status == Status.ALARM and reason == "freshness.duration is 1d, shorter than 7d"


def test_evidence_fresh_reads_the_live_state_and_works_it_out_when_absent() -> None:
    fresh = Assertion("evidenceFresh")
    assert one(fresh, record())[0] == Status.OK
    assert one(fresh, record(freshness={"state": "expired"}))[0] == Status.ALARM
    status, reason = one(fresh, record(freshness={"policy": "none", "state": "noFreshness"}))
    assert status == Status.SKIP and "no freshness policy" in reason
    old = {"state": "", "asOf": "2026-01-01T00:00:00Z"}
    status, reason = one(fresh, record(freshness=old))
    assert status == Status.ALARM and reason == "its evidence expired on 2026-04-01"
    recent = {"state": "unknown", "asOf": "2026-11-01T00:00:00Z"}
    assert one(fresh, record(freshness=recent)) == (
        Status.OK,
        "its evidence is fresh until 2027-01-30",
    )
    assert one(fresh, record(freshness={"state": "unknown"}))[0] == Status.SKIP


@pytest.mark.parametrize(
    ("owner", "kind", "status", "reason"),
    [
        ("alice@example.com", "activeUser", Status.OK, "'alice@example.com' is an active person"),
        ("", "", Status.ALARM, "the control has no owner"),
        (
            "frank@example.com",
            "deactivatedUser",
            Status.ALARM,
            "'frank@example.com' is deactivated",
        ),
        ("", "serviceAccount", Status.ALARM, "its owner is a service account, not a person"),
        (
            "c@example.com",
            "contact",
            Status.ALARM,
            "'c@example.com' is a contact, not an active user",
        ),
        (
            "gone@example.com",
            "",
            Status.ALARM,
            "'gone@example.com' is not a user of the organization",
        ),
    ],
)
def test_owner_is_an_active_person(owner: str, kind: str, status: Status, reason: str) -> None:
    assert one(Assertion("ownerActive"), record(owner=owner, ownerType=kind)) == (status, reason)


# --- selection -----------------------------------------------------------------------------


def test_selection_by_glob_domain_status_and_managed() -> None:
    required = Assertion("required", fields=("owner",))
    records = [
        record("SOC2-1"),
        record("ISO-1"),
        record("SOC2-2", status="archived"),
        record("SOC2-3", domain="Ops"),
    ]
    chosen = RuleSet((rule(required, controls=("SOC2-*",), domains=("Acc*",)),))
    report = run_check(chosen, records, {"SOC2-1": Location("m.yaml", 3, 5)}, NOW)
    assert [r.identifier for r in report.results] == ["SOC2-1"]
    assert report.results[0].source == Location("m.yaml", 3, 5)
    managed = run_check(
        RuleSet((rule(required, managed=False),)), records, {"SOC2-1": Location("m.yaml", 3)}, NOW
    )
    assert [r.identifier for r in managed.results] == ["ISO-1", "SOC2-3"]
    archived = run_check(RuleSet((rule(required, statuses=("archived",)),)), records, {}, NOW)
    assert [r.identifier for r in archived.results] == ["SOC2-2"]


# --- CEL ------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_cel_expressions_on_both_implementations(backend: str) -> None:
    def expression(text: str) -> Assertion:
        return Assertion("expression", expression=cel.compile_expression(text, backend))

    tested = expression(
        'control.testingStatus == "effective" && control.freshness.duration <= 7776000'
    )
    assert one(tested, record(), backend)[0] == Status.OK
    assert one(tested, record(testingStatus="notTested"), backend) == (
        Status.ALARM,
        "the expression is false",
    )
    status, reason = one(expression("control.nosuchfield == 1"), record(), backend)
    assert status == Status.ERROR and reason.startswith("the expression failed on this control: ")
    status, reason = one(expression("control.identifier"), record(), backend)
    assert (status, reason) == (Status.ERROR, "the expression gave a string, not true or false")
    status, _ = one(expression('control.name.matches("[")'), record(), backend)
    assert status == Status.ERROR
    when = cel.compile_expression('control.implementation == "completed"', backend)
    selected = RuleSet((rule(expression("false"), when=when),))
    report = run_check(
        selected, [record("A"), record("B", implementation="notStarted")], {}, NOW, backend=backend
    )
    assert [(r.identifier, r.status) for r in report.results] == [("A", Status.ALARM)]


def test_one_cel_error_is_one_error_result_and_the_rest_still_run() -> None:
    failing = Assertion("expression", expression=cel.compile_expression("control.n > 1"))
    required = Assertion("required", fields=("owner",))
    report = run_check(
        RuleSet((rule(failing, "cel"), rule(required, "req"))), [record("A"), record("B")], {}, NOW
    )
    assert [(r.rule, r.identifier, r.status.value) for r in report.results] == [
        ("cel", "A", "error"),
        ("cel", "B", "error"),
        ("req", "A", "ok"),
        ("req", "B", "ok"),
    ]
    assert len(report.failing) == 2  # a rule that cannot judge a control cannot pass it


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("x" * (cel.MAX_LENGTH + 1), "at most 1000 are allowed"),
        ("(" * 13 + "1" + ")" * 13, "nest deeper than 12"),
        ("[1, 2].all(x, [3].exists(y, y == x))", "comprehensions may not nest"),
        ("[1].map(x, [2].map(y, [3].map(z, z)))", "comprehensions may not nest"),
        ('r"\\" + [1].all(x, [2].all(y, true)) + r"\\"', "comprehensions may not nest"),
        # CEL reads a comment or a form feed as space: neither hides a member call
        ("[1].//\nall(x, [2].//\nall(y, true))", "comprehensions may not nest"),
        ("[1].all//\n(x, [2].all//\n(y, true))", "comprehensions may not nest"),
        ("[1].all\f(x, [2].all\f(y, true))", "comprehensions may not nest"),
        ("[1].\fmap(x, [2] . \t map (y, y))", "comprehensions may not nest"),
        ('"unclosed', "not closed"),
        ("'''never closed", "not closed"),
    ],
)
def test_bounds_refuse_costly_expressions_before_any_parser(text: str, refused: str) -> None:
    with pytest.raises(cel.CelSyntaxError, match=refused):
        cel.compile_expression(text)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_costliest_expression_within_the_bounds_stays_small(backend: str) -> None:
    numbers = ",".join(str(n % 10) for n in range(230))
    text = f"[{numbers}].filter(x, x > 4).size() + [{numbers}].map(x, x * 2).size() > 0"
    assert len(text) <= cel.MAX_LENGTH
    expression = cel.compile_expression(text, backend)
    assert expression.evaluate(cel.bind(record(), backend)) is True
    # brackets and comprehension names inside strings and comments are text, not code
    quoted = '"[1].all(x, [2].all(y, true))" != "" // [1].all(a, [2].all(b, true))'
    assert cel.compile_expression(quoted, backend).evaluate(cel.bind(record(), backend)) is True


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_expression_sees_at_most_max_string_characters_of_any_text(backend: str) -> None:
    # identifier and id come from Hyperproof unbounded (the other texts are cut already), and
    # cel-cpp keeps every intermediate string of one evaluation: `[x, x, ...].all(y, y+y+...)`
    # over a 1 MB identifier asked for tens of GB. What an expression sees is cut; the result
    # keeps the control's whole identifier.
    long = record("I" * 200_000, id="d" * 200_000, source="s" * 5_000)
    text = "control.identifier.size() + control.id.size() + control.source.size()"
    sizes = cel.compile_expression(text, backend).evaluate(cel.bind(long, backend))
    assert sizes == 3 * cel.MAX_STRING
    assertion = Assertion("expression", expression=cel.compile_expression("true", backend))
    report = run_check(RuleSet((rule(assertion),)), [long], {}, NOW, backend=backend)
    assert [r.identifier for r in report.results] == ["I" * 200_000]


# --- messages -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{identifier.__class__}", "is not a field a message can show"),
        ("{identifier!r}", "is not a field a message can show"),
        ("{identifier:>99999}", "is not a field a message can show"),
        ("{0}", "is not a field a message can show"),
        ("{}", "is not a field a message can show"),
        ("a lone { brace", "a lone '{'"),
        ("a lone } brace", "a lone '}'"),
    ],
)
def test_templates_take_field_names_only(template: str, problem: str) -> None:
    parsed, found = parse_template(template, TEMPLATE_NAMES)
    assert parsed is None and found is not None and problem in found


def test_a_template_puts_values_in_as_text_never_interpreted() -> None:
    message = "{identifier} ({freshness.duration}) owned by {owner}: {detail} {{literal}}"
    hostile = record(
        "::error::x", owner="{detail}\x1b[31m@team", freshness={"duration": 365 * 86400}
    )
    status, reason = one(
        Assertion("allowed", allowed=(("health", ("x",)),)), hostile, message=message
    )
    assert status == Status.ALARM
    assert reason == (
        "::error::x (365d) owned by {detail}\x1b[31m@team: health is 'healthy', not one of 'x' "
        "{literal}"
    )  # the renderers make it inert (tests/test_check_reports.py)


# --- waivers and the baseline --------------------------------------------------------------


def _alarm_rule() -> RuleSet:
    return RuleSet((rule(Assertion("required", fields=("owner",))),))


@pytest.mark.parametrize(
    ("expires", "outcome", "fails"),
    [
        (date(2027, 1, 31), "waived", False),
        (None, "waived", False),
        (date(2026, 11, 26), "alarm", True),
    ],
)
def test_waivers_accept_alarms_until_they_expire(
    expires: date | None, outcome: str, fails: bool
) -> None:
    waiver = Waiver("r", ("C-*",), "accepted", "ciso@example.com", "GRC-1", expires)
    ruleset = RuleSet(_alarm_rule().rules, (waiver,))
    result = run_check(ruleset, [record(owner="")], {}, NOW).results[0]
    assert (result.outcome, result.fails) == (outcome, fails)
    if fails:
        assert result.expired_waiver == waiver and result.waiver is None
        assert result.to_dict()["expired_waiver"]["expires"] == "2026-11-26"
    else:
        assert result.to_dict()["waiver"]["reason"] == "accepted"


def test_a_waiver_covers_its_rule_and_controls_only() -> None:
    waiver = Waiver("other-rule", ("C-*",), "not this rule")
    ruleset = RuleSet(_alarm_rule().rules, (waiver,))
    assert run_check(ruleset, [record(owner="")], {}, NOW).results[0].outcome == "alarm"


def test_baseline_new_unchanged_and_fixed() -> None:
    ruleset = _alarm_rule()
    first = run_check(ruleset, [record("OLD", owner=""), record("FIXED", owner="")], {}, NOW)
    baseline, problem = baseline_entries(baseline_document(first.results))
    assert problem is None and baseline == {("r", "OLD"), ("r", "FIXED")}
    later = run_check(
        ruleset,
        [record("OLD", owner=""), record("FIXED"), record("NEW", owner="")],
        {},
        NOW,
        baseline=baseline,
    )
    outcomes = {r.identifier: (r.outcome, r.fails) for r in later.results}
    assert outcomes == {
        "OLD": ("baselined", False),  # unchanged: accepted
        "FIXED": ("ok", False),
        "NEW": ("alarm", True),  # new: fails the run
    }
    assert [(e.rule, e.identifier) for e in later.fixed] == [("r", "FIXED")]
    assert later.summary()["fixed"] == 1


@pytest.mark.parametrize(
    "document",
    [[], {"kind": "x"}, {"kind": "hpconfig-check-baseline", "format_version": "1", "alarms": [1]}],
)
def test_a_malformed_baseline_is_named(document: Any) -> None:
    entries, problem = baseline_entries(document)
    assert not entries and problem


def test_a_template_that_repeats_a_long_field_gives_a_bounded_reason() -> None:
    message = "{description}" * 38
    long = record(description="d" * 1000)
    status, reason = one(Assertion("required", fields=("notes",)), long, message=message)
    assert status == Status.ALARM and len(reason) == 2000 and reason.endswith("...")


def test_a_rule_whose_cel_runs_too_long_in_all_is_stopped_not_waited_for() -> None:
    from hpconfig.assertions.check import subjects
    from hpconfig.assertions.evaluate import RULE_SECONDS, evaluate

    slow = Assertion("expression", expression=cel.compile_expression("true"))
    fast = Assertion("required", fields=("owner",))
    ticks = iter(range(0, 10_000, int(RULE_SECONDS)))  # each CEL evaluation "takes" the budget

    def clock() -> float:
        return float(next(ticks))

    ruleset = RuleSet((rule(slow, "slow"), rule(fast, "fast")))
    found = evaluate(ruleset, subjects([record(f"C-{n}") for n in range(4)], {}), NOW, clock=clock)
    slow_results = [(r.identifier, r.status) for r in found if r.rule == "slow"]
    assert slow_results[:2] == [("C-0", Status.OK), ("C-1", Status.OK)]
    assert [status for _, status in slow_results[2:]] == [Status.ERROR, Status.ERROR]
    stopped = next(r for r in found if r.rule == "slow" and r.status == Status.ERROR)
    assert "was stopped" in stopped.reason
    assert all(r.status == Status.OK for r in found if r.rule == "fast")  # the others still run


def test_many_rules_each_under_its_budget_cannot_hold_the_run_for_long() -> None:
    # A pull request may bring 100 rules: each stopped only past RULE_SECONDS still held a run
    # for 100 x 10 s. All CEL of a check shares CHECK_SECONDS too.
    from hpconfig.assertions.check import subjects
    from hpconfig.assertions.evaluate import CHECK_SECONDS, RULE_SECONDS, evaluate

    step = RULE_SECONDS / 2  # each evaluation "takes" half a rule's budget: no rule is stopped
    ticks = iter(range(0, 100_000, int(step)))

    def clock() -> float:
        return float(next(ticks))

    count = int(CHECK_SECONDS // step) + 5
    rules = tuple(
        rule(Assertion("expression", expression=cel.compile_expression("true")), f"r{n:03}")
        for n in range(count)
    )
    found = evaluate(RuleSet(rules), subjects([record("C-1")], {}), NOW, clock=clock)
    statuses = [r.status for r in found]
    ran = int(CHECK_SECONDS // step) + 1
    assert statuses[:ran] == [Status.OK] * ran
    assert statuses[ran:] == [Status.ERROR] * (count - ran)
    assert "all rules together" in found[-1].reason


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_bad_pattern_is_an_error_result_and_nothing_is_written_past_the_output_path(
    backend: str, capfd: pytest.CaptureFixture[str]
) -> None:
    matches = Assertion(
        "expression",
        expression=cel.compile_expression("control.name.matches(control.notes)", backend),
    )
    status, _ = one(matches, record(notes="[\n::error::pwned"), backend)
    assert status == Status.ERROR
    captured = capfd.readouterr()  # the file descriptors, where a C library would write
    assert "pwned" not in captured.err and "pwned" not in captured.out


def test_sarif_keeps_within_code_scanning_s_cap_and_says_what_it_left_out() -> None:
    from hpconfig.render.check_machine import cap_results, sarif_document

    report = run_check(_alarm_rule(), [record(f"C-{n}", owner="") for n in range(5)], {}, NOW)
    run_ = sarif_document(report)["runs"][0]
    assert len(run_["results"]) == 5 and "invocations" not in run_
    cap_results(run_, limit=3)
    assert len(run_["results"]) == 3
    notice = run_["invocations"][0]["toolExecutionNotifications"][0]
    assert notice["message"]["text"].startswith("2 of 5 results were left out")
