"""The server's garbage-collection policy: survivors frozen, cycles still reclaimed."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import AsyncIterator

import pytest

from server.gcpolicy import CHECK_INTERVAL_S, GcPolicy


class Node:
    """Something that can sit in a reference cycle."""

    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
async def policy() -> AsyncIterator[GcPolicy]:
    """A started policy, stopped (and everything unfrozen) afterwards."""
    p = GcPolicy(full_interval_s=3600.0)
    p.start()
    try:
        yield p
    finally:
        await p.stop()


async def test_start_freezes_what_exists(policy: GcPolicy) -> None:
    """Everything alive at start-up leaves the collector's reach."""
    assert gc.get_freeze_count() > 0 and policy.freezes == 1


async def test_survivors_of_an_automatic_full_pass_are_frozen(policy: GcPolicy) -> None:
    """After the collector's own full pass, what survived is frozen at once, so the next full
    pass walks only newer objects."""
    frozen_before = gc.get_freeze_count()
    keep = [Node() for _ in range(1000)]
    gc.collect(2)  # as the collector would by itself
    await asyncio.sleep(CHECK_INTERVAL_S * 4)
    assert policy.freezes == 2
    assert gc.get_freeze_count() >= frozen_before + len(keep)
    assert gc.get_objects(2) == [] or len(gc.get_objects(2)) < len(keep)


async def test_the_periodic_full_collection_reclaims_frozen_cycles(policy: GcPolicy) -> None:
    """A cycle that was alive when frozen and died later is reclaimed by the policy's own full
    collection (and not before: frozen objects are out of reach)."""
    a, b = Node(), Node()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    gc.collect(2)
    await asyncio.sleep(CHECK_INTERVAL_S * 4)  # frozen now
    del a, b
    gc.collect()
    assert gone() is not None  # frozen: not collected
    assert policy.full_collection() >= 2
    assert gone() is None and policy.full_collections == 1


async def test_stop_leaves_the_collector_as_python_has_it(policy: GcPolicy) -> None:
    """After stop nothing stays frozen and the callback is gone."""
    await policy.stop()
    assert gc.get_freeze_count() == 0
    assert all(getattr(cb, "__self__", None) is not policy for cb in gc.callbacks)
