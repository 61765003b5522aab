"""The grading's cgroup on cgroup v2 and v1, against a stand-in hierarchy in a temporary folder:
which hierarchy is used, the limits written, the kill, the memory verdict. (The real one, where
this machine has it, is tested by tests/test_grading_container.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.sandbox import cgroups
from grader.sandbox.cgroups import GradingCgroups, Hierarchy


@pytest.fixture(autouse=True)
def fresh_lookup() -> Iterator[None]:
    cgroups.remove_released()  # the real ones earlier gradings of this process kept
    cgroups.hierarchies.cache_clear()
    yield
    cgroups.hierarchies.cache_clear()


def mounted(monkeypatch: pytest.MonkeyPatch, mounts: list[tuple[Path, str, set[str]]]) -> None:
    monkeypatch.setattr(cgroups, "_mounts", lambda: mounts)


def test_v2_is_used_where_it_hands_memory_and_pids_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cgroup.subtree_control").write_text("cpuset cpu io memory pids\n")
    mounted(monkeypatch, [(tmp_path, "cgroup2", {"rw"})])
    assert cgroups.hierarchies() == (Hierarchy(tmp_path, 2, frozenset({"cpu", "memory", "pids"})),)


def test_v1_is_used_where_v2_hands_nothing_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unified = tmp_path / "unified"
    unified.mkdir()
    (unified / "cgroup.subtree_control").write_text("\n")
    v1 = {name: tmp_path / name for name in ("memory", "pids", "cpu,cpuacct", "freezer")}
    mounted(
        monkeypatch,
        [(unified, "cgroup2", {"rw"})]
        + [(path, "cgroup", {"rw", *name.split(",")}) for name, path in v1.items()],
    )
    found = {hierarchy.root: hierarchy.controllers for hierarchy in cgroups.hierarchies()}
    assert found == {
        v1["memory"]: {"memory"},
        v1["pids"]: {"pids"},
        v1["cpu,cpuacct"]: {"cpu"},
    }


def test_no_cgroup_without_memory_and_pids(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mounted(monkeypatch, [(tmp_path, "cgroup", {"rw", "cpu"})])
    assert cgroups.hierarchies() == ()
    assert GradingCgroups.make(256) is None


def test_a_v2_cgroup_gets_the_grading_s_limits_and_is_killed_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hierarchy = Hierarchy(tmp_path, 2, frozenset({"cpu", "memory", "pids"}))
    monkeypatch.setattr(cgroups, "hierarchies", lambda: (hierarchy,))
    group = GradingCgroups.make(256)
    assert group is not None
    (folder,) = group.folders
    assert (folder / "memory.max").read_text() == str(256 * 1024 * 1024)
    assert (folder / "pids.max").read_text() == str(cgroups.PROCESS_LIMIT)
    assert (folder / "cpu.max").read_text() == "100000 100000"  # one core
    (folder / "cgroup.kill").write_text("")
    group.kill()
    assert (folder / "cgroup.kill").read_text() == "1"
    assert not group.ran_out_of_memory()
    (folder / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
    assert group.ran_out_of_memory()


def test_v1_cgroups_get_the_grading_s_limits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    roots = {name: tmp_path / name for name in ("memory", "pids", "cpu")}
    for root in roots.values():
        root.mkdir()
    found = tuple(Hierarchy(root, 1, frozenset({name})) for name, root in roots.items())
    monkeypatch.setattr(cgroups, "hierarchies", lambda: found)
    group = GradingCgroups.make(512)
    assert group is not None
    memory, pids, cpu = group.folders
    assert (memory / "memory.limit_in_bytes").read_text() == str(512 * 1024 * 1024)
    assert (pids / "pids.max").read_text() == str(cgroups.PROCESS_LIMIT)
    assert (cpu / "cpu.cfs_quota_us").read_text() == (cpu / "cpu.cfs_period_us").read_text()
    (memory / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
    assert group.ran_out_of_memory()


@pytest.mark.skipif(not cgroups.cgroups_available(), reason="no cgroup can be made here")
def test_a_released_cgroup_is_taken_again_only_empty_and_with_the_new_limit() -> None:
    first = GradingCgroups.make(256)
    assert first is not None
    first.release()
    again = GradingCgroups.make(128)
    assert again is first and not again.ran_out_of_memory()
    memory = next(folder for folder in again.folders if "memory" in str(folder))
    assert int((memory / "memory.limit_in_bytes").read_text()) == 128 * 1024 * 1024
    # A zombie still counts in the pids controller: such a cgroup is not kept.
    import os
    import time

    child = os.fork()
    if child == 0:
        again.join()
        os._exit(0)
    time.sleep(0.2)  # ended, not reaped: a zombie in the cgroup
    again.release()
    os.waitpid(child, 0)
    taken = GradingCgroups.make(128)
    assert taken is not None and taken is not again
    taken.remove()
    again.remove()
    cgroups.remove_released()
