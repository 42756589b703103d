"""Retries: which failures are tried again, how long to wait, and saying so on stderr.

Owns ``Deadline`` (the run's clock: every request, retry and wait stays inside it), ``RateGate``
(one backoff that every thread sending to the API honours after a 429 or a quota 403, so that
parallel writers do not hammer a throttled API) and ``Retrier.call``, one explicit loop:

- 429 and the transient 403 "Bandwidth quota exceeded" (known by its body) are safe to retry for
  any method: the API refused the request before doing anything;
- a connection that was never made is safe to retry for any method: nothing was sent;
- 502, 503, 504, a timeout or a dropped connection are retried for reads only. For a write they
  are AMBIGUOUS (it may have landed) and come back to the caller, never re-sent blindly;
- every wait is logged at WARNING (status, request, delay, attempt), honours ``Retry-After``
  (capped), and never goes past the run's deadline.

Why not urllib3's ``Retry``: it cannot read a body (the quota 403), log a wait in words, share a
deadline with the body read, or tell an ambiguous write from a safe one. hynek's ``stamina`` is
the model (attempts and time bounded, delays off in tests), but it retries on exception types
and keeps no gate shared across threads; this loop is small enough to own. It must not talk
HTTP itself: the attempt is a callable.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable

from hpconfig.errors import ApiError
from hpconfig.remote.answers import Answer, TransportFailure, is_quota_exceeded, retry_after
from hpconfig.remote.settings import ENV_TIMEOUT, RetryPolicy

log = logging.getLogger("hpconfig.retry")

READ_METHODS = frozenset({"GET", "HEAD"})
GATEWAY_STATUSES = frozenset({502, 503, 504})
Clock = Callable[[], float]


class Deadline:
    """A point in time on a monotonic clock, ``seconds`` after it was made."""

    def __init__(self, seconds: float, clock: Clock = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self.at = clock() + seconds

    def remaining(self) -> float:
        return self.at - self.clock()


class RateGate:
    """After a 429, no thread sends before the throttle's delay has passed."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._open_at = 0.0

    def hold(self, seconds: float) -> None:
        with self._lock:
            self._open_at = max(self._open_at, self._clock() + seconds)

    def wait_time(self) -> float:
        with self._lock:
            return max(0.0, self._open_at - self._clock())


def _throttled(answer: Answer) -> bool:
    return answer.status == 429 or is_quota_exceeded(answer)


def retry_reason(read: bool, answer: Answer | None, failure: TransportFailure | None) -> str:
    """Why this outcome is worth another try ('' when it is not); ``read``: the request
    changes nothing, so sending it twice is harmless."""
    if answer is not None:
        if _throttled(answer):
            return "quota exceeded (HTTP 403)" if answer.status == 403 else "HTTP 429"
        if read and answer.status in GATEWAY_STATUSES:
            return f"HTTP {answer.status}"
        return ""
    assert failure is not None
    if failure.kind == "connect" or (read and failure.kind in ("timeout", "dropped")):
        return failure.message
    return ""


class Retrier:
    def __init__(
        self,
        policy: RetryPolicy,
        deadline: Deadline,
        gate: RateGate | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.policy = policy
        self.deadline = deadline
        self.gate = gate or RateGate(deadline.clock)
        self.sleep = sleep

    def out_of_time(self, method: str, url: str) -> ApiError:
        return ApiError(
            method,
            url,
            None,
            f"the run's time limit of {self.deadline.seconds:g} s ran out",
            f"--timeout or {ENV_TIMEOUT} gives it longer",
        )

    def _delay(self, answer: Answer | None, attempt: int) -> float:
        policy = self.policy
        after = retry_after(answer.headers) if answer is not None else None
        if after is not None:
            return min(after, policy.retry_after_max)
        delay = min(policy.backoff_max, policy.backoff_factor * (2 ** (attempt - 1)))
        return delay + random.uniform(0, policy.jitter) if delay else 0.0

    def call(
        self,
        method: str,
        url: str,
        attempt_once: Callable[[float], Answer],
        safe: bool | None = None,
    ) -> Answer:
        """``attempt_once(deadline_at)`` until it succeeds or is not worth retrying; the last
        answer comes back (its status is the caller's to judge), a last failure as ApiError."""
        read = method.upper() in READ_METHODS if safe is None else safe
        attempt = 0
        first_failure: float | None = None
        while True:
            gated = self.gate.wait_time()
            if gated > 0:
                if gated >= self.deadline.remaining():
                    raise self.out_of_time(method, url)
                self.sleep(gated)
            if self.deadline.remaining() <= 0:
                raise self.out_of_time(method, url)
            answer: Answer | None = None
            failure: TransportFailure | None = None
            try:
                answer = attempt_once(self.deadline.at)
            except TransportFailure as caught:
                failure = caught
            reason = retry_reason(read, answer, failure)
            if not reason:
                return self._finish(method, url, answer, failure, attempt, read)
            now = self.deadline.clock()
            first_failure = now if first_failure is None else first_failure
            attempt += 1
            delay = self._delay(answer, attempt)
            if (
                attempt > self.policy.attempts
                or now - first_failure + delay > self.policy.total_seconds
            ):
                return self._finish(method, url, answer, failure, attempt - 1, read, gave_up=True)
            if delay >= self.deadline.remaining():
                raise self.out_of_time(method, url)
            log.warning(
                "%s %s: %s; retry %d of %d in %.1f s",
                method,
                url,
                reason,
                attempt,
                self.policy.attempts,
                delay,
            )
            if answer is not None and _throttled(answer):
                self.gate.hold(delay)
            else:
                self.sleep(delay)

    def _finish(
        self,
        method: str,
        url: str,
        answer: Answer | None,
        failure: TransportFailure | None,
        retries: int,
        read: bool,
        gave_up: bool = False,
    ) -> Answer:
        if answer is not None:
            return answer
        assert failure is not None
        hint = f"gave up after {retries} retries" if gave_up else ""
        if not read and failure.kind in (
            "timeout",
            "dropped",
            "deadline",
        ):
            hint = (
                "the write may or may not have landed; hpconfig never sends it again blindly: "
                "plan again to see where it stands"
            )
        if failure.kind == "deadline" and self.deadline.remaining() <= 0:
            raise self.out_of_time(method, url)
        raise ApiError(method, url, None, failure.message, hint)
