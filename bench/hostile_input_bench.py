"""What replay protection and safe parsing add to one webhook request (issue #16).

- **claim**: `DeliveryStore.claim` (one INSERT, unique key) per delivery, fresh ids and replays,
  on SQLite (WAL file) and PostgreSQL; baseline in the same run: reading the kill switches, one
  of the reads every firing webhook already makes.
- **parse**: `api.body.parse_json` (depth scan, integer/float hooks, surrogate check) on every
  contract sample; baseline: plain `json.loads` of the same bytes.

Usage: python bench/hostile_input_bench.py [--n 300] [--postgres postgresql://127.0.0.1/test]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


from api.body import parse_json
from bench.timing import against_baseline, on_both_databases, timed_ms
from db.deliveries import DeliveryStore
from db.engine import create_schema, make_engine
from db.trust import TrustStore

CONTRACTS = REPO.parent / "shared" / "contracts"


async def _claims(url: str, n: int) -> None:
    engine = make_engine(url)
    await create_schema(engine)
    store, trust = DeliveryStore(engine, 7 * 86400), TrustStore(engine)
    await store.prune()  # the hourly prune, out of the measured loop
    ids = [uuid.uuid4().hex for _ in range(n)]
    it = iter(ids)
    await timed_ms(trust.kill_switches, 20)  # warm the pool
    base = await timed_ms(trust.kill_switches, n)
    fresh = await timed_ms(lambda: store.claim("pagerduty", next(it)), n)
    again = iter(ids)
    replay = await timed_ms(lambda: store.claim("pagerduty", next(again)), n)
    print(url.split("://")[0])
    print(against_baseline("baseline kill_switches", base, base))
    print(against_baseline("claim (new delivery)", fresh, base))
    print(against_baseline("claim (replay)", replay, base))
    await engine.dispose()


def _parse(rounds: int) -> None:
    bodies = [p.read_bytes() for p in sorted(CONTRACTS.rglob("*.json"))]
    base, ours = [], []
    for raw in bodies:
        for fn, into in ((json.loads, base), (parse_json, ours)):
            best = float("inf")
            for _ in range(rounds):
                start = time.perf_counter()
                fn(raw)
                best = min(best, (time.perf_counter() - start) * 1000)
            into.append(best)
    print(f"parse ({len(bodies)} contract bodies, best of {rounds})")
    print(against_baseline("json.loads", base, base))
    print(against_baseline("parse_json", ours, base))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--postgres", default="postgresql://127.0.0.1:5432/test")
    args = parser.parse_args()
    await on_both_databases(lambda url: _claims(url, args.n), args.postgres)
    _parse(20)


if __name__ == "__main__":
    asyncio.run(main())
