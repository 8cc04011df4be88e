"""Mappings on SQLite and PostgreSQL: add, list, remove; one runbook per selector; checked input."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db.mappings import MappingExistsError, MappingStore, checked_selector
from schemas.runbook import AlertSelector
from tests.harness import unique

pytestmark = pytest.mark.postgres


async def test_add_list_remove(engine: AsyncEngine) -> None:
    store = MappingStore(engine)
    name = unique("Disk")
    selector = AlertSelector(alertname=name, service="payments", labels={"namespace": "~pay.*"})
    added = await store.add(selector, "disk-runbook", created_by="alice", note="ours")
    assert added.id is not None
    assert added.selector == selector
    assert (added.runbook, added.created_by, added.note) == ("disk-runbook", "alice", "ours")
    assert added.created_at is not None
    assert added.created_at.tzinfo is not None

    listed = [m for m in await store.list() if m.selector.alertname == name]
    assert listed == [added]
    assert await store.get(added.id) == added

    removed = await store.remove(added.id)
    assert removed == added
    assert await store.get(added.id) is None
    assert await store.remove(added.id) is None
    assert all(m.selector.alertname != name for m in await store.list())


async def test_the_same_selector_cannot_point_at_two_runbooks(engine: AsyncEngine) -> None:
    store = MappingStore(engine)
    selector = AlertSelector(alertname=unique("Dup"), labels={"b": "2", "a": "1"})
    first = await store.add(selector, "one")
    reordered = AlertSelector(alertname=selector.alertname, labels={"a": "1", "b": "2"})
    with pytest.raises(MappingExistsError) as raised:
        await store.add(reordered, "two")
    assert raised.value.existing == first
    assert f"#{first.id} -> one" in str(raised.value)
    assert first.id is not None
    await store.remove(first.id)
    again = await store.add(reordered, "two")  # free once removed
    assert again.runbook == "two"


async def test_concurrent_adds_of_one_selector_store_one(engine: AsyncEngine) -> None:
    store = MappingStore(engine)
    selector = AlertSelector(alertname=unique("Race"))
    results = await asyncio.gather(
        *(store.add(selector, f"rb-{i}") for i in range(5)), return_exceptions=True
    )
    stored = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, MappingExistsError)]
    assert len(stored) == 1
    assert len(refused) == 4
    mine = [m for m in await store.list() if m.selector.alertname == selector.alertname]
    assert mine == stored


async def test_cached_list_is_dropped_by_add_and_remove(engine: AsyncEngine) -> None:
    cached = MappingStore(engine, fresh_for_s=3600)
    other = MappingStore(engine)
    before = len(await cached.list())
    added = await cached.add(AlertSelector(service=unique("svc-")), "rb")
    assert len(await cached.list()) == before + 1
    assert added.id is not None
    await other.remove(added.id)  # another process: seen once the cache is stale
    assert len(await cached.list()) == before + 1
    assert len(await other.list()) == before


async def test_a_reader_sees_a_mapping_replaced_by_another_process(engine: AsyncEngine) -> None:
    """The reader reloads only when the table changed (count, newest id and creation time): a
    newest mapping removed and another added takes the same id on SQLite, and is still seen."""
    reader, writer = MappingStore(engine), MappingStore(engine)
    first = await writer.add(AlertSelector(service=unique("svc-")), "rb-old")
    assert any(m.runbook == "rb-old" for m in await reader.list())
    assert first.id is not None
    await writer.remove(first.id)
    second = await writer.add(AlertSelector(service=unique("svc-")), "rb-new")
    listed = {m.id: m.runbook for m in await reader.list()}
    assert listed[second.id] == "rb-new"
    assert "rb-old" not in listed.values()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "at least one of"),
        ({"alertname": ""}, "must not be empty"),
        ({"labels": {"namespace": "~(unclosed"}}, "not a valid regex"),
        ({"labels": {"": "x"}}, "names are 1-200"),
        ({"alertname": "x" * 201}, "at most 200"),
    ],
)
def test_bad_selectors_are_refused_with_the_reason(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        checked_selector(**fields)  # type: ignore[arg-type]


async def test_store_refuses_what_it_cannot_keep(engine: AsyncEngine) -> None:
    store = MappingStore(engine)
    with pytest.raises(ValueError, match="runbook id"):
        await store.add(AlertSelector(alertname=unique("X")), "")
