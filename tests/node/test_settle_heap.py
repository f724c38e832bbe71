"""A serving process sets what it made at start-up aside from the cyclic collector
(node.heap.settle_heap): later full collections walk only what requests make."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import gc
import node.app  # what a serving process has imported: the library, its contexts, the app
from node.heap import settle_heap

junk = []
junk.append(junk)  # a cycle nobody holds: collected, not set aside
del junk
tracked = len(gc.get_objects())
settle_heap()
assert gc.get_freeze_count() >= tracked // 2, (gc.get_freeze_count(), tracked)
# What a full collection walks now: the objects made since, not the start-up heap.
assert len(gc.get_objects()) < 1000, len(gc.get_objects())
print(gc.get_freeze_count())
"""


def test_a_serving_process_sets_its_start_up_objects_aside_from_the_collector() -> None:
    # In a process of its own: a frozen heap is for the process's life.
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 10_000  # the library, its contexts and the app: tens of thousands of objects
