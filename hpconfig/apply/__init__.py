"""``hpconfig apply``: make Hyperproof match the reviewed plan, and lose nothing.

The parts, in the order a run uses them::

    saved     a saved plan (``plan --out``) ↔ a Plan; the inputs' digest; the checks that a
              saved plan is ours, of this version, for this API and these manifests (pure)
    gate      what refuses a run before any write: problems, archives without permission,
              the safety thresholds (pure)
    stale     the stale check: each change against one fresh read of the organization (pure)
    outcome   what became of each change, the events (``--json``, the journal) and the
              summary (pure)
    writer    one change → its writes, reconciling an ambiguous outcome (through remote/)
    execute   the changes → outcomes: bounded parallelism, fail-fast, a stop on a signal
    journal   the journal file: one line per event, flushed and fsynced as it happens

The CLI (``cli/apply.py``) wires them and is the only part that prints. Nothing here rolls
back: a run that stops half-way leaves what it wrote, and says so in the journal and summary.
"""
