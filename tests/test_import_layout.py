"""What import writes, offline: file names safe for any domain, defaults only when shorter,
overrides as the manifest language defines them, and every file proven by ``verify``."""

from __future__ import annotations

from typing import Any

import pytest

from hpconfig.control import Control
from hpconfig.errors import ImportVerificationError
from hpconfig.manifest.importing import (
    file_names,
    identifier_order,
    plan_import,
    slug,
    verify,
    with_config,
)
from hpconfig.manifest.writer import choose_defaults, manifest_text
from hpconfig.remote.live import live_control
from tests.test_hostile_text import HOSTILE


def live(identifier: str, **fields: Any) -> Control:
    api: dict[str, Any] = {
        "id": f"id-{identifier}",
        "controlIdentifier": identifier,
        "name": f"Control {identifier}",
        "description": "What it does.",
        "notes": None,
        "domainName": "Access",
        "owner": {"email": "alice@example.com"},
        "status": "active",
        "workStatus": "operating",
        "implementation": "completed",
        "testingStatus": "notTested",
        "freshnessPolicy": "manual",
        "freshForDuration": "P90D",
    }
    api.update(fields)
    return live_control(api)


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("Access Control", "access-control"),
        ("Logical and Physical Access", "logical-and-physical-access"),
        ("../../etc/passwd", "etc-passwd"),
        ("..", "domain"),
        ("/", "domain"),
        ("CON", "con-controls"),
        ("lpt1", "lpt1-controls"),
        ("hpconfig", "hpconfig-controls"),
        ("Über Ärger", "uber-arger"),
        ("数据", "domain"),
        ("a\\b:c*d?e", "a-b-c-d-e"),
        ("x" * 300, "x" * 60),
        (None, "no-domain"),
        ("", "no-domain"),
        (HOSTILE, slug(HOSTILE)),
    ],
)
def test_file_stems_are_safe_for_any_domain(domain: str | None, expected: str) -> None:
    stem = slug(domain)
    assert stem == expected
    assert stem and len(stem) <= 70 and stem == stem.lower()
    assert all(c.isascii() and (c.isalnum() or c == "-") for c in stem)
    assert not stem.startswith("-") and "--" not in stem


def test_colliding_stems_each_get_a_digest_that_does_not_depend_on_the_others() -> None:
    names = file_names(["Access", "access", "Other"])
    assert names["Other"] == "other"
    assert names["Access"] != names["access"]
    assert names["Access"].startswith("access-") and len(names["Access"]) == len("access-") + 8
    assert file_names(["Access", "access", "Third"])["Access"] == names["Access"]
    assert file_names(["Other"], taken={"other"})["Other"].startswith("other-")


def test_identifiers_are_sorted_as_a_person_reads_numbers() -> None:
    identifiers = ["CC6.10", "CC6.2", "CC6.1", "A1", "CC10.1", "cc6.3", "\u00b9", "\u0661"]
    assert sorted(identifiers, key=lambda i: (identifier_order(i), i)) == [
        "A1",
        "CC6.1",
        "CC6.2",
        "CC6.10",
        "CC10.1",
        "cc6.3",
        "\u00b9",  # superscript one and Arabic-Indic one are digits to str.isdigit, not to int
        "\u0661",
    ]


def stated_list(*controls: Control) -> list[dict[str, Any]]:
    from hpconfig.manifest.writer import stated

    return [stated(control) for control in controls]


def test_defaults_take_what_most_controls_share_when_the_file_is_shorter() -> None:
    controls = stated_list(
        live("A"), live("B"), live("C", owner={"email": "bob@example.com"}, freshForDuration="P7D")
    )
    defaults = choose_defaults(controls)
    assert defaults["owner"] == "alice@example.com"
    assert defaults["freshness.duration"] == "90d"
    assert choose_defaults(controls[:1]) == {}  # one control: defaults only add lines


def test_a_field_one_control_does_not_state_never_goes_into_defaults() -> None:
    controls = stated_list(live("A"), live("B"), live("C", workStatus=None))
    assert "workStatus" not in choose_defaults(controls)


def test_never_expires_overrides_a_default_duration() -> None:
    controls = [
        live("A"),
        live("B"),
        live("E"),
        live("C", freshnessPolicy="none", freshForDuration="P90D"),
        live("D", freshnessPolicy="none", freshForDuration=None),
    ]
    result = plan_import({c.identifier: c for c in controls})
    [text] = result.files.values()
    assert "  freshness: {policy: manual, duration: 90d}\n" in text
    assert "  - identifier: C\n" in text and "    freshness: {policy: none}\n" in text
    verify(result)


def test_a_null_value_leaves_the_field_unmanaged_and_plans_clean() -> None:
    result = plan_import(
        {"A": live("A", workStatus=None, domainName=None, owner=None, implementation=None)}
    )
    [(path, text)] = result.files.items()
    assert path == "controls/no-domain.yaml"
    for absent in ("workStatus", "domain", "owner", "implementation"):
        assert f"{absent}:" not in text
    assert "notes: ''" in text  # an empty text is stated: the manifest says "no notes"
    verify(result)


def test_multi_line_text_is_a_block_and_durations_are_friendly() -> None:
    result = plan_import(
        {
            "A": live(
                "A", description="First line.\r\nSecond line.  \r\n", freshForDuration="PT2016H"
            ),
            "B": live("B", freshForDuration="PT36H"),
            "C": live("C", freshForDuration="PT90M"),
        }
    )
    [text] = result.files.values()
    assert "    description: |\n      First line.\n      Second line.\n" in text
    assert "duration: 12w" in text and "duration: 36h" in text and "duration: PT1H30M" in text
    verify(result)


def test_owner_kept_as_hyperproof_spells_it() -> None:
    result = plan_import({"A": live("A", owner={"email": "Alice@Example.com"})})
    assert "owner: Alice@Example.com" in next(iter(result.files.values()))
    verify(result)


def test_the_config_names_the_manifests_and_never_a_secret() -> None:
    result = plan_import({"A": live("A")})
    with_config(result, {"region": "eu"})
    config = result.files["hpconfig.yaml"]
    assert config.startswith("# yaml-language-server: $schema=schemas/config.schema.json\n")
    assert "manifests:\n  - controls/\nregion: eu\n" in config
    keys = [line.split(":")[0] for line in config.split("\n") if not line.startswith("#")]
    assert not any("secret" in key.lower() for key in keys) and "clientId" not in config
    verify(result)


def test_verify_refuses_texts_that_do_not_plan_clean() -> None:
    result = plan_import({"A": live("A"), "B": live("B")})
    path = next(iter(result.files))
    result.files[path] = result.files[path].replace("alice@", "mallory@")
    with pytest.raises(ImportVerificationError, match="do not plan clean.*owner"):
        verify(result)
    result.files[path] = "controls: [\n"
    with pytest.raises(ImportVerificationError, match="not valid"):
        verify(result)
    result.files[path] = manifest_text([])
    with pytest.raises(ImportVerificationError, match="A not declared"):
        verify(result)


def test_the_example_organization_imports_as_the_golden_files() -> None:
    """Every file import writes for the example organization, byte for byte (the schemas
    aside: they are the packaged ones); ``HPCONFIG_UPDATE_GOLDEN=1`` rewrites them. Stored as
    ``*.yaml.golden``, so that no directory walk takes them for manifests."""
    import json
    import os

    from hpconfig.remote.live import read_live
    from tests.conftest import EXAMPLES, ROOT

    golden = ROOT / "tests" / "golden" / "import"
    seed = json.loads((EXAMPLES / "sandbox" / "org.json").read_text(encoding="utf-8"))
    live_set = read_live(seed["controls"])
    result = plan_import(live_set.controls)
    with_config(result, {"region": "us"})
    verify(result)
    if os.environ.get("HPCONFIG_UPDATE_GOLDEN") == "1":
        for path, text in result.files.items():
            (golden / f"{path}.golden").parent.mkdir(parents=True, exist_ok=True)
            (golden / f"{path}.golden").write_text(text, encoding="utf-8")
    on_disk = {
        str(path.relative_to(golden)).removesuffix(".golden"): path.read_text(encoding="utf-8")
        for path in sorted(golden.rglob("*.golden"))
    }
    assert on_disk == result.files
