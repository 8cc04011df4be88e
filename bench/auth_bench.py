"""What authentication adds to one /api request (issue #15).

Every `/api` request verifies its bearer token: one SELECT of the token joined with its person
(and, at most once a minute per token, an UPDATE of last_used_at). Measured on SQLite (WAL file)
and PostgreSQL; baseline in the same run: reading the kill switches, one small read that many
requests already make. Also: a wrong token (same SELECT, refused) and a malformed one (refused
before the database).

Usage: python bench/auth_bench.py [--n 300] [--postgres postgresql://127.0.0.1/test]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


from bench.timing import against_baseline, on_both_databases, timed_ms
from db.engine import create_schema, make_engine
from db.people import PeopleStore
from db.trust import TrustStore
from schemas.identity import PersonIn, Role, Scope


async def _auth(url: str, n: int) -> None:
    engine = make_engine(url)
    await create_schema(engine)
    people, trust = PeopleStore(engine), TrustStore(engine)
    handle = f"bench-{uuid.uuid4().hex[:8]}"
    await people.add(PersonIn(handle=handle, roles=[Role.RESPONDER]))
    issued = await people.issue_token(
        handle, name="bench", scopes=[Scope.READ, Scope.RESPOND], expires_in=None, created_by="b"
    )
    wrong = issued.token[:-6] + "xxxxxx"
    await timed_ms(trust.kill_switches, 20)  # warm the pool
    base = await timed_ms(trust.kill_switches, n)
    good = await timed_ms(lambda: people.authenticate(issued.token), n)
    bad = await timed_ms(lambda: people.authenticate(wrong), n)
    junk = await timed_ms(lambda: people.authenticate("not-a-token"), n)
    print(url.split("://")[0])
    print(against_baseline("baseline kill_switches", base, base))
    print(against_baseline("authenticate (valid)", good, base))
    print(against_baseline("authenticate (wrong)", bad, base))
    print(against_baseline("authenticate (malformed)", junk, base))
    await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--postgres", default="postgresql://127.0.0.1:5432/test")
    args = parser.parse_args()
    await on_both_databases(lambda url: _auth(url, args.n), args.postgres)


if __name__ == "__main__":
    asyncio.run(main())
