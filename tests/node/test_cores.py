"""node.cores: the CPUs a node sizes its workers, signing pool and threads by."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from node.cores import cgroup_cpu_limit, usable_cpus


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def limit(tmp_path: Path, proc: str, files: dict[str, str]) -> float | None:
    (tmp_path / "proc").write_text(proc)
    return cgroup_cpu_limit(cgroup_root=tree(tmp_path / "fs", files), proc_cgroup=tmp_path / "proc")


def test_a_v2_quota_on_the_containers_own_root(tmp_path: Path) -> None:
    assert limit(tmp_path, "0::/\n", {"cpu.max": "150000 100000\n"}) == 1.5


def test_v2_without_a_quota_is_no_limit(tmp_path: Path) -> None:
    assert limit(tmp_path, "0::/\n", {"cpu.max": "max 100000\n"}) is None


def test_the_smallest_quota_of_the_cgroup_and_its_ancestors(tmp_path: Path) -> None:
    files = {"system.slice/cpu.max": "300000 100000", "system.slice/vcnode.service/cpu.max": "max 100000", "cpu.max": "max 100000"}
    assert limit(tmp_path, "0::/system.slice/vcnode.service\n", files) == 3.0


def test_a_host_path_in_proc_with_the_containers_root_mounted(tmp_path: Path) -> None:
    # Inside a container /proc/self/cgroup may name the host's path; the mount is the container's own.
    assert limit(tmp_path, "0::/kubepods/burstable/pod1/abc\n", {"cpu.max": "200000 100000"}) == 2.0


def test_a_v1_quota(tmp_path: Path) -> None:
    files = {"cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "50000\n", "cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n"}
    assert limit(tmp_path, "4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n", files) == 0.5


def test_v1_without_a_quota_and_unreadable_files_are_no_limit(tmp_path: Path) -> None:
    assert limit(tmp_path, "1:cpu:/\n", {"cpu/cpu.cfs_quota_us": "-1", "cpu/cpu.cfs_period_us": "100000"}) is None
    assert limit(tmp_path, "1:cpu:/\n0::/\n", {"cpu.max": "garbage"}) is None
    assert cgroup_cpu_limit(cgroup_root=tmp_path, proc_cgroup=tmp_path / "missing") is None


def test_usable_cpus_is_the_affinity_lowered_by_the_quota_rounded_up(tmp_path: Path) -> None:
    affinity = len(os.sched_getaffinity(0))
    (tmp_path / "proc").write_text("0::/\n")
    fs = tmp_path / "fs"
    fs.mkdir()
    assert usable_cpus(cgroup_root=fs, proc_cgroup=tmp_path / "proc") == affinity
    (fs / "cpu.max").write_text("10000 100000")  # a tenth of a CPU: still one process
    assert usable_cpus(cgroup_root=fs, proc_cgroup=tmp_path / "proc") == 1
    (fs / "cpu.max").write_text("150000 100000")
    assert usable_cpus(cgroup_root=fs, proc_cgroup=tmp_path / "proc") == min(affinity, 2)


@pytest.mark.skipif(not shutil.which("taskset") or len(os.sched_getaffinity(0)) < 2, reason="needs taskset and two CPUs")
def test_the_defaults_follow_a_cpu_set(tmp_path: Path) -> None:
    # A real process confined to one CPU (as docker --cpuset-cpus would): one worker, one signing
    # process, two offload threads (their floor), whatever the machine has.
    code = (
        "from node import offload, signing, workers; "
        "print(workers.default_workers(), signing.default_processes(), offload.default_workers())"
    )
    out = subprocess.run(["taskset", "-c", "0", sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.split() == ["1", "1", "2"]



PINNED = """
import asyncio, json, os, threading
from pathlib import Path
from node import cores, signing

def children(pid):
    found = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
        except OSError:
            pass
    return found

threading.Thread(target=threading.Event().wait, args=(5,), daemon=True).start()  # a thread made before the pin
assert cores.pin_process(cores.allowed_cpus()[-1])
threading.Thread(target=threading.Event().wait, args=(5,), daemon=True).start()  # and one after: it inherits it
signer = signing.ProcessSigner(2)
assert asyncio.run(signer.warm())
pool = [p for server in children(os.getpid()) for p in children(server)]
print(json.dumps({
    "threads": sorted({tuple(sorted(os.sched_getaffinity(int(t)))) for t in os.listdir("/proc/self/task")}),
    "pool": [sorted(os.sched_getaffinity(p)) for p in pool],
    "unpinned": sorted(cores.unpinned_cpus()),
    "sizes": [cores.usable_cpus(), signing.default_processes(), signing.shared_signer().processes],
}))
signer.close()
"""


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs")
def test_a_pinned_process_keeps_every_thread_on_its_cpu_and_its_signing_pool_takes_every_cpu() -> None:
    import json

    out = subprocess.run([sys.executable, "-c", PINNED], capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[2])
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    cpus = sorted(os.sched_getaffinity(0))
    assert seen["threads"] == [[cpus[-1]]], seen  # every thread, made before the pin or after it
    assert seen["unpinned"] == cpus
    assert seen["pool"] == [cpus, cpus], seen  # the pool's two processes: every CPU again
    # and the node's pool is still sized by every CPU the process had, not the one it keeps to
    from node.cores import usable_cpus

    assert seen["sizes"] == [usable_cpus()] * 3, seen


def test_pinning_to_a_cpu_that_is_not_ours_is_refused() -> None:
    from node.cores import pin_process

    assert pin_process(10_000) is False


def test_workers_are_pinned_only_when_they_cover_every_cpu_of_the_set() -> None:
    from node.cores import allowed_cpus, cpus_to_pin

    cpus = allowed_cpus()
    assert cpus_to_pin(len(cpus) - 1) == []  # fewer workers than CPUs (a single process on two)
    assert cpus_to_pin(len(cpus)) == (cpus if len(cpus) > 1 else [])
    assert cpus_to_pin(len(cpus) + 3) == (cpus if len(cpus) > 1 else [])


@pytest.mark.skipif(not shutil.which("taskset") or len(os.sched_getaffinity(0)) < 2, reason="needs taskset and two CPUs")
def test_one_cpu_is_never_pinned() -> None:
    code = "from node.cores import cpus_to_pin; print(cpus_to_pin(1), cpus_to_pin(4))"
    out = subprocess.run(["taskset", "-c", "1", sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.split() == ["[]", "[]"]
