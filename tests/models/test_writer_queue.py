"""The in-process writer queue of the SQLite path: urgent writers go first."""

from __future__ import annotations

import asyncio

from models.sqlite import WriterQueue


async def test_urgent_writer_goes_before_writers_already_waiting() -> None:
    queue = WriterQueue()
    order: list[str] = []
    holding = asyncio.Event()
    release = asyncio.Event()

    async def write(name: str, urgent: bool = False) -> None:
        async with queue.turn(urgent):
            order.append(name)
            if name == "first":
                holding.set()
                await release.wait()

    first = asyncio.create_task(write("first"))
    await holding.wait()
    batch = asyncio.create_task(write("worker batch"))
    await asyncio.sleep(0.01)  # the batch is waiting
    inbox = asyncio.create_task(write("inbox", urgent=True))
    await asyncio.sleep(0.01)
    release.set()
    await asyncio.gather(first, batch, inbox)
    assert order == ["first", "inbox", "worker batch"]


async def test_one_writer_at_a_time() -> None:
    queue = WriterQueue()
    inside = 0
    most = 0

    async def write(urgent: bool) -> None:
        nonlocal inside, most
        async with queue.turn(urgent):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0)
            inside -= 1

    await asyncio.gather(*(write(i % 3 == 0) for i in range(30)))
    assert most == 1
