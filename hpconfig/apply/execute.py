"""The changes → their outcomes: bounded parallelism, fail-fast, and a stop that loses nothing.

At most ``parallelism`` writes are in flight, in the plan's order (creates, updates, restores,
archives). The main thread starts each write (``on_start`` first, so the journal has it before
the request leaves), collects each outcome (``on_outcome``, in the main thread: the journal and
the events are written by one thread only), and stops starting writes when ``stop`` is set (a
signal, a journal that cannot be written) or, unless ``keep_going``, at the first failure. It
then waits for the writes in flight and records every change not started as not attempted. It
never sleeps for backoff: the shared rate gate of the client does the waiting.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from hpconfig.apply.outcome import Outcome, Status
from hpconfig.plan import Change

# How often the main thread looks at ``stop`` while writes are in flight (not a backoff).
POLL_SECONDS = 0.1


def execute(
    changes: list[Change],
    write: Callable[[Change], Outcome],
    parallelism: int,
    keep_going: bool,
    stop: threading.Event,
    on_start: Callable[[Change], None],
    on_outcome: Callable[[Outcome], None],
) -> list[Outcome]:
    pending = deque(changes)
    in_flight: dict[Future[Outcome], Change] = {}
    outcomes: list[Outcome] = []
    failed = False

    def finish(future: Future[Outcome], change: Change) -> None:
        nonlocal failed
        try:
            outcome = future.result()
        except Exception as error:  # a bug in a writer: recorded, never lost
            outcome = Outcome(change, Status.FAILED, message=f"internal error: {error!r}")
        outcomes.append(outcome)
        on_outcome(outcome)
        failed = failed or outcome.status is Status.FAILED

    with ThreadPoolExecutor(max_workers=parallelism, thread_name_prefix="hpconfig-apply") as pool:
        while pending or in_flight:
            while (
                pending
                and len(in_flight) < parallelism
                and not stop.is_set()
                and (keep_going or not failed)
            ):
                change = pending.popleft()
                on_start(change)
                if stop.is_set():  # on_start could not record it (the journal): not sent
                    pending.appendleft(change)
                    break
                in_flight[pool.submit(write, change)] = change
            if not in_flight:
                break
            done, _ = wait(in_flight, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: in_flight[f].sort_key()):
                finish(future, in_flight.pop(future))
    reason = (
        "the run was stopped before it started"
        if stop.is_set()
        else "an earlier write failed (fail-fast; --keep-going goes on)"
    )
    for change in pending:
        outcome = Outcome(change, Status.NOT_ATTEMPTED, message=reason)
        outcomes.append(outcome)
        on_outcome(outcome)
    return outcomes
