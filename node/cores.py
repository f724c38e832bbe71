"""How many CPUs this process may use: what ``serve --workers``, the signing pool and the
offload threads size themselves by.

``os.cpu_count()`` is the machine's count. In a container or a systemd unit the node is often
given fewer: a CPU set (``docker --cpuset-cpus``, ``taskset``, Kubernetes' static CPU manager)
shows in the process's affinity; a CPU quota (``docker --cpus``, a Kubernetes limit,
systemd's ``CPUQuota=``) shows only in its cgroup's ``cpu.max`` (v2) or ``cpu.cfs_quota_us`` /
``cpu.cfs_period_us`` (v1). A node on a 64-core host limited to two CPUs that started 64
workers, each with a pool of 64 signing processes, would thrash; the JVM and Go's runtime read
the same files for the same reason. A quota of 1.5 CPUs counts as 2 (rounded up: the half
is still worth a process).

``pin_process`` keeps every thread of a serving process on one CPU (``pin_cpu``, on by default):
they share one interpreter lock, and handing it between threads that the scheduler spreads
over several CPUs costs far more than handing it on one (a single process verifying at 16
connections on the 2-vCPU machine of bench/README.md: 1.10 ms of CPU a request free, 0.75
pinned). Workers are spread one per CPU (node.workers), but only when they cover every CPU of
the set (``cpus_to_pin``): a node with fewer (``--workers 1``, a quota narrower than its CPU
set, as a container limited to one CPU of a large host has) shares the machine, and nodes
that each pinned themselves to the same first CPUs would crowd them while the rest idled. The
signing pool's processes, which hold no lock in common with anyone, take every CPU back
(node.signing).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

__all__ = ["usable_cpus", "cgroup_cpu_limit", "allowed_cpus", "cpus_to_pin", "pin_process", "unpinned_cpus"]


def usable_cpus(*, cgroup_root: Path = Path("/sys/fs/cgroup"), proc_cgroup: Path = Path("/proc/self/cgroup")) -> int:
    """The CPUs this process may use: its affinity, lowered by any cgroup CPU quota; at least 1."""
    # The set before ``pin_process`` narrowed it: a pinned worker still sizes its signing pool
    # (whose processes take every CPU back) by the CPUs the node may use.
    count = len(unpinned_cpus()) or os.cpu_count() or 1  # no affinity: not Linux
    limit = cgroup_cpu_limit(cgroup_root=cgroup_root, proc_cgroup=proc_cgroup)
    if limit is not None:
        count = min(count, max(1, math.ceil(limit)))
    return max(1, count)


def cgroup_cpu_limit(*, cgroup_root: Path = Path("/sys/fs/cgroup"), proc_cgroup: Path = Path("/proc/self/cgroup")) -> float | None:
    """The smallest CPU quota (in CPUs) set on this process's cgroup or any of its ancestors,
    v2 or v1; None when there is none or it cannot be read."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return None
    limits: list[float] = []
    for line in lines:
        number, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if number == "0" and controllers == "":  # v2: the unified hierarchy
            mounts = [cgroup_root, cgroup_root / "unified"]
            limits += [q for mount in mounts for d in _dirs(mount, path) if (q := _v2(d)) is not None]
        elif "cpu" in controllers.split(","):
            mounts = [cgroup_root / controllers, cgroup_root / "cpu", cgroup_root / "cpu,cpuacct"]
            limits += [q for mount in mounts for d in _dirs(mount, path) if (q := _v1(d)) is not None]
    return min(limits) if limits else None


def _dirs(mount: Path, path: str) -> list[Path]:
    """The cgroup's folder under ``mount`` and its ancestors'. Inside a container the path in
    /proc/self/cgroup may be the host's while the mount shows the container's own root: the
    root is always among them."""
    parts = [p for p in path.strip("/").split("/") if p]
    return [mount.joinpath(*parts[:i]) for i in range(len(parts), -1, -1)]


def _v2(folder: Path) -> float | None:
    try:
        quota, _, period = (folder / "cpu.max").read_text().strip().partition(" ")
        return None if quota == "max" else int(quota) / int(period or "100000")
    except (OSError, ValueError, ZeroDivisionError):
        return None


def _v1(folder: Path) -> float | None:
    try:
        quota = int((folder / "cpu.cfs_quota_us").read_text())
        period = int((folder / "cpu.cfs_period_us").read_text())
        return quota / period if quota > 0 and period > 0 else None
    except (OSError, ValueError):
        return None


# The CPUs this process was allowed before ``pin_process`` narrowed it (None: never pinned).
_unpinned: frozenset[int] | None = None


def allowed_cpus() -> list[int]:
    """The CPUs this process may run on now (its affinity), in order."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return []


def cpus_to_pin(workers: int) -> list[int]:
    """The CPUs ``workers`` serving processes keep to, one each; [] when they are left to the
    scheduler: one CPU, or fewer processes than CPUs in the set."""
    cpus = allowed_cpus()
    return cpus if 1 < len(cpus) <= workers else []


def unpinned_cpus() -> frozenset[int]:
    """The CPUs this process was allowed before it was pinned: what its helper processes take."""
    return _unpinned if _unpinned is not None else frozenset(allowed_cpus())


def pin_process(cpu: int) -> bool:
    """Every thread of this process on ``cpu`` (threads made later inherit it from theirs).
    False when the platform cannot, or the CPU is not ours."""
    global _unpinned
    before = frozenset(allowed_cpus())
    if cpu not in before:
        return False
    if _unpinned is None:  # first, so that a pin failing half way still knows the whole set
        _unpinned = before
    try:
        for task in os.listdir("/proc/self/task"):
            try:
                os.sched_setaffinity(int(task), {cpu})
            except ProcessLookupError:  # a thread that has just ended
                continue
    except (AttributeError, OSError):
        return False
    return True
