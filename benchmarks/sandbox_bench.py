"""Issue 3 figures: the sandbox serving 10,000 controls, alone and to 50 clients at once.

Prints the time to answer `GET /v1/controls` cold (first answer after a write: rendered and
serialised) and warm (served from the per-version cache), against the target of 1 s, and the
wall time and latency spread of 50 concurrent clients. Run: `python benchmarks/sandbox_bench.py`.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import threading
import time

import requests

from hpconfig.sandbox import Sandbox, generate_org


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--controls", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--clients", type=int, default=50)
    args = parser.parse_args()
    seed = generate_org(args.controls, args.users)
    with Sandbox(seed) as sandbox, requests.Session() as session:
        bearer = session.post(
            sandbox.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": sandbox.client_id,
                "client_secret": sandbox.client_secret,
            },
            timeout=10,
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {bearer}"}
        url = sandbox.api_url + "/v1/controls"
        first_id = seed["controls"][0]["id"]
        cold, warm = [], []
        size = 0
        for round_ in range(5):
            # a write invalidates the cache, so the next list is rendered from scratch
            session.patch(
                f"{url}/{first_id}", json={"notes": f"round {round_}"}, headers=headers, timeout=10
            )
            start = time.perf_counter()
            answer = session.get(url, headers=headers, timeout=30)
            cold.append(time.perf_counter() - start)
            size = len(answer.content)
            assert len(answer.json()) == args.controls
            start = time.perf_counter()
            assert session.get(url, headers=headers, timeout=30).content
            warm.append(time.perf_counter() - start)
        print(
            f"GET /v1/controls with {args.controls} controls ({size / 1e6:.1f} MB): "
            f"cold {min(cold) * 1000:.0f} ms (median {statistics.median(cold) * 1000:.0f}), "
            f"warm {min(warm) * 1000:.0f} ms; target < 1000 ms, "
            f"ratio {statistics.median(cold) / 1.0:.2f} of the target"
        )

        latencies: list[float] = []
        wrong: list[int] = []
        # The clients share this process's interpreter with the server: they compare bytes with
        # a reference answer instead of parsing 50 copies of the JSON, which would measure them.
        reference = hashlib.sha256(session.get(url, headers=headers, timeout=30).content).digest()

        def client() -> None:
            with requests.Session() as own:
                start = time.perf_counter()
                answer = own.get(url, headers=headers, timeout=60)
                latencies.append(time.perf_counter() - start)
                if (
                    answer.status_code != 200
                    or hashlib.sha256(answer.content).digest() != reference
                ):
                    wrong.append(answer.status_code)

        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - start
        print(
            f"{args.clients} clients at once: all answered in {wall:.2f} s, per request "
            f"median {statistics.median(latencies) * 1000:.0f} ms, "
            f"max {max(latencies) * 1000:.0f} ms, "
            f"wrong answers: {len(wrong)}"
        )


if __name__ == "__main__":
    main()
