"""Builders shared by several test modules."""

from __future__ import annotations

from hpconfig.diff import diff
from hpconfig.live import live_control
from hpconfig.loader import load_text
from hpconfig.model import desired_controls
from hpconfig.plan import Plan


def big_plan(count: int, text_size: int = 200) -> Plan:
    """A plan in which each of ``count`` controls has a drifted description."""
    text = "controls:\n" + "".join(
        f"  - {{identifier: C-{i:05d}, description: 'long text {'x' * text_size}'}}\n"
        for i in range(count)
    )
    document, _ = load_text("big.yaml", text.encode())
    assert document is not None
    desired, _ = desired_controls([(document, set())])
    live = {
        f"C-{i:05d}": live_control(
            {"id": str(i), "controlIdentifier": f"C-{i:05d}", "description": "other"}
        )
        for i in range(count)
    }
    return diff(desired, live)
