"""The fair job queue on its own."""

from __future__ import annotations

import threading

from daemon.jobs import FairQueue, Job
from daemon.protocol import CANCELLED, SHUTTING_DOWN


def job(client: bytes, number: int) -> Job:
    return Job(f"j-{client.decode()}{number}", (client,), f"r{number}", "generate", {})


def test_clients_take_turns_however_many_jobs_one_has_queued():
    queue = FairQueue(limit=20)
    for number in range(6):
        assert queue.put(job(b"a", number)) is None
    for number in range(2):
        assert queue.put(job(b"b", number)) is None
    order = []
    for _ in range(8):
        taken = queue.take()
        order.append(taken.id)
        queue.finish(taken)
    assert order == ["j-a0", "j-b0", "j-a1", "j-b1", "j-a2", "j-a3", "j-a4", "j-a5"]
    assert queue.done == 8 and len(queue) == 0


def test_the_queue_refuses_past_its_limit_a_clients_share_and_repeated_ids():
    queue = FairQueue(limit=4)
    assert [queue.put(job(b"a", n)) for n in range(3)] == [None, None, "full"]
    assert queue.put(job(b"b", 0)) is None and queue.put(job(b"b", 0)) == "duplicate"
    assert queue.put(job(b"c", 0)) is None and queue.put(job(b"d", 0)) == "full"


def test_cancel_takes_queued_jobs_out_and_flags_the_running_one():
    queue = FairQueue(limit=8)
    for number in range(3):
        queue.put(job(b"a", number))
    running = queue.take()
    assert queue.cancel((b"a",), "r1", CANCELLED)[0] == "queued" and len(queue) == 1
    assert queue.cancel((b"b",), "r2", CANCELLED) == ("unknown", None)  # not another client's job
    assert queue.cancel((b"a",), "r0", CANCELLED) == ("running", running) and running.should_cancel()
    assert queue.put(job(b"a", 0)) == "duplicate"  # still running until finished


def test_close_wakes_the_worker_and_returns_what_was_queued():
    queue = FairQueue(limit=8)
    taken = []
    worker = threading.Thread(target=lambda: taken.append(queue.take()))
    worker.start()
    worker.join(0.1)
    assert worker.is_alive()  # waiting for work
    assert queue.close() == []
    worker.join(5)
    assert taken == [None]
    queue = FairQueue(limit=8)
    for number in range(3):
        queue.put(job(b"a", number))
    running = queue.take()
    assert [j.id for j in queue.close()] == ["j-a1", "j-a2"]
    assert running.cancel_code == SHUTTING_DOWN and queue.put(job(b"a", 5)) == "closed"
