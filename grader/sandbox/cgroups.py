"""One cgroup per grading: its memory, processes and CPU counted together, and killed together.

Every process of a grading (the keeper, the worker, and whatever the student's code
starts) is in the grading's cgroup, which holds:

- memory: the course's ``memory_mb`` for the grading as a whole, swap included, so that a
  submission's children cannot each take the per-process limit (its processes share one budget);
- processes: at most `PROCESS_LIMIT` at once, so a fork bomb stops there;
- CPU: at most one core's worth (a CFS quota), so however many processes it starts, a grading
  slows no other grading beyond one core; with the wall deadline this bounds its CPU time.

A grading ends by killing its cgroup whole (cgroup v2's ``cgroup.kill``; on v1, every process
listed, until none is left), then removing it. A cgroup left by a grader that was killed is
removed, its processes killed first, by the next grader that makes one.

cgroup v2 where the machine has it with these controllers (GitHub's runners), else the v1
hierarchies (memory, pids, and cpu where mounted). Needs root or a delegated v2 subtree.
GRADE_NO_CGROUPS=1 switches the layer off. Standard library only.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import itertools
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from grader.sandbox.layer import NO_CGROUPS, Layer, Stage, switched_off
from grader.sandbox.settings import WorkerSettings

PROCESS_LIMIT = 128  # processes and threads one grading may have at once
CPU_PERIOD_MICROSECONDS = 100_000
CPU_QUOTA_MICROSECONDS = 100_000  # one core per period
NAME_PREFIX = "grade-worker"
KILL_ROUNDS = 50  # on v1, kill-everything-listed rounds before giving up (a fork bomb is bounded)
_numbers = itertools.count(1)  # with the grader's pid, a name no other grading has


@dataclass(frozen=True)
class Hierarchy:
    """A mounted cgroup hierarchy to make gradings' cgroups in: ``version`` 1 or 2, with the
    ``controllers`` a grading uses."""

    root: Path
    version: int
    controllers: frozenset[str]


def _mounts() -> list[tuple[Path, str, set[str]]]:
    """(mount point, file system type, options) of every cgroup file system mounted here."""
    found = []
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        fields = line.split()
        if len(fields) >= 4 and fields[2] in ("cgroup", "cgroup2"):
            found.append((Path(fields[1]), fields[2], set(fields[3].split(","))))
    return found


@functools.cache
def hierarchies() -> tuple[Hierarchy, ...]:
    """Where a grading's cgroup is made: one v2 hierarchy that hands memory and pids to its
    children, else the v1 hierarchies of memory and pids (and cpu). Empty if neither is here."""
    mounts = _mounts()
    for root, kind, _ in mounts:
        if kind == "cgroup2":
            try:
                handed = set((root / "cgroup.subtree_control").read_text().split())
            except OSError:
                continue
            if {"memory", "pids"} <= handed:
                return (Hierarchy(root, 2, frozenset(handed & {"memory", "pids", "cpu"})),)
    v1: dict[Path, set[str]] = {}
    for root, kind, options in mounts:
        wanted = options & {"memory", "pids", "cpu"} if kind == "cgroup" else set()
        taken: set[str] = set().union(*v1.values())
        if wanted - taken:
            v1.setdefault(root, set()).update(wanted - taken)
    if not {"memory", "pids"} <= set().union(*v1.values()):
        return ()
    return tuple(Hierarchy(root, 1, frozenset(names)) for root, names in v1.items())


class GradingCgroups:
    """The cgroup of one grading (one folder per v1 hierarchy, or one v2 folder)."""

    def __init__(self, folders: list[Path], memory_bytes: int) -> None:
        self.folders = folders
        self.memory_bytes = memory_bytes
        self._oom_kills_before = 0  # what the counter said when this grading took the cgroup
        self._hierarchies: tuple[Hierarchy, ...] = ()

    @classmethod
    def make(cls, memory_mb: int) -> GradingCgroups | None:
        """A cgroup limited as the module says, or None where none can be made: one a grading of
        this process released empty, or a new one."""
        found = hierarchies()
        if not found:
            return None
        _sweep_once(found)
        reused = _take_released(memory_mb * 1024 * 1024)
        if reused is not None:
            return reused
        name = f"{NAME_PREFIX}-{os.getpid()}-{next(_numbers)}"
        group = cls([], memory_mb * 1024 * 1024)
        try:
            for hierarchy in found:
                folder = hierarchy.root / name
                folder.mkdir()
                group.folders.append(folder)
                group._limit(hierarchy, folder)
        except OSError:
            group.remove()
            return None
        group._hierarchies = found
        return group

    def _limit_memory(self, memory_bytes: int) -> None:
        """Another grading's memory limit, for a cgroup taken again (written only if it
        differs), and the count of its OOM kills from here on."""
        self._oom_kills_before = self._oom_kills()
        if memory_bytes == self.memory_bytes:
            return
        self.memory_bytes = memory_bytes
        for hierarchy, folder in zip(self._hierarchies, self.folders, strict=True):
            if "memory" in hierarchy.controllers:
                self._limit(
                    Hierarchy(hierarchy.root, hierarchy.version, frozenset({"memory"})), folder
                )

    def _limit(self, hierarchy: Hierarchy, folder: Path) -> None:
        memory, controllers = str(self.memory_bytes), hierarchy.controllers
        settings: list[tuple[str, str]] = []
        if "memory" in controllers:
            settings += (
                [("memory.max", memory), ("memory.swap.max", "0")]
                if hierarchy.version == 2
                # memsw (memory and swap together) exists only with swap accounting
                else [("memory.limit_in_bytes", memory), ("memory.memsw.limit_in_bytes", memory)]
            )
        if "pids" in controllers:
            settings.append(("pids.max", str(PROCESS_LIMIT)))
        if "cpu" in controllers:
            settings += (
                [("cpu.max", f"{CPU_QUOTA_MICROSECONDS} {CPU_PERIOD_MICROSECONDS}")]
                if hierarchy.version == 2
                else [
                    ("cpu.cfs_period_us", str(CPU_PERIOD_MICROSECONDS)),
                    ("cpu.cfs_quota_us", str(CPU_QUOTA_MICROSECONDS)),
                ]
            )
        for file, value in settings:
            if file in ("memory.swap.max", "memory.memsw.limit_in_bytes") and not (
                (folder / file).exists()
            ):
                continue  # a kernel without swap accounting: there is no swap to limit
            (folder / file).write_text(value)

    def join(self) -> None:
        """Move the calling process into the cgroup (in the child, with the grader's rights)."""
        self.join_process(os.getpid())

    def join_process(self, pid: int) -> None:
        """Move process ``pid`` into the cgroup."""
        for folder in self.folders:
            with open(folder / "cgroup.procs", "w") as procs:
                procs.write(str(pid))

    def processes(self) -> list[int]:
        """The pids in the cgroup now."""
        pids: set[int] = set()
        for folder in self.folders:
            with contextlib.suppress(OSError, ValueError):
                pids.update(int(line) for line in (folder / "cgroup.procs").read_text().split())
        return sorted(pids)

    def kill(self) -> None:
        """SIGKILL every process in the cgroup, until it is empty."""
        kill_file = self.folders[0] / "cgroup.kill" if self.folders else None
        if kill_file is not None and kill_file.exists():
            with contextlib.suppress(OSError):
                kill_file.write_text("1")
        for _ in range(KILL_ROUNDS):
            left = self.processes()
            if not left:
                return
            for pid in left:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.002)

    def ran_out_of_memory(self) -> bool:
        """Whether the kernel killed a process of this grading for the cgroup's memory limit."""
        return self._oom_kills() > self._oom_kills_before

    def _tasks_counted(self) -> int:
        """The tasks the pids controller still counts here: killed processes that nobody has
        reaped yet count until they are (a reused cgroup would start short of them)."""
        for folder in self.folders:
            with contextlib.suppress(OSError, ValueError):
                return int((folder / "pids.current").read_text())
        return 1  # unknown: not kept

    def _oom_kills(self) -> int:
        """How many processes the kernel killed in this cgroup, ever, for its memory limit."""
        for folder in self.folders:
            for file in ("memory.events", "memory.oom_control"):
                with contextlib.suppress(OSError, ValueError):
                    for line in (folder / file).read_text().splitlines():
                        key, _, value = line.partition(" ")
                        if key == "oom_kill":
                            return int(value)
        return 0

    def release(self) -> None:
        """The grading is over: kill what is left, and keep the cgroup, emptied, for this
        process's next grading (making and removing one costs more than the grading's whole
        start, measured), or remove it if it will not empty."""
        self.kill()
        reusable = bool(self.folders and self._hierarchies)  # made here, limits known
        if reusable and not self.processes() and not self._tasks_counted():
            owner, released = _released
            if owner == os.getpid() and len(released) < RELEASED_KEPT:
                if not _removed_at_exit:
                    _removed_at_exit.append(atexit.register(remove_released))
                released.append(self)
                return
        self.remove()

    def remove(self) -> None:
        """Kill what is left and remove the cgroup; a few tries, as killed processes take a
        moment to leave."""
        self.kill()
        for folder in self.folders:
            for _ in range(100):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.005)
        self.folders = []


_swept: set[Path] = set()
_removed_at_exit: list[object] = []
RELEASED_KEPT = 4  # emptied cgroups a process keeps for its next gradings (one grades, one waits)
_released: tuple[int, list[GradingCgroups]] = (os.getpid(), [])


def _take_released(memory_bytes: int) -> GradingCgroups | None:
    """A cgroup a grading of this process released, limited for ``memory_bytes``, or None."""
    global _released
    owner, released = _released
    if owner != os.getpid():  # a forked child: its parent's cgroups are not its own
        _released = (os.getpid(), [])
        return None
    while released:
        group = released.pop()
        try:
            group._limit_memory(memory_bytes)
            return group
        except OSError:  # still charged above the new limit, say: a new one instead
            group.remove()
    return None


def remove_released() -> None:
    """Remove the cgroups this process kept for gradings that will not come."""
    owner, released = _released
    while owner == os.getpid() and released:
        released.pop().remove()


def _sweep_once(found: tuple[Hierarchy, ...]) -> None:
    for hierarchy in found:
        if hierarchy.root not in _swept:
            _swept.add(hierarchy.root)
            remove_stale(hierarchy.root)


def remove_stale(root: Path) -> None:
    """Remove the cgroups left in ``root`` by graders that were killed (``kill -9``) before they
    could remove their own, killing what still runs in them: their names hold the pid of a
    grader that no longer runs."""
    for folder in root.glob("grade-*-*-*"):
        owner = folder.name.split("-")[-2]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            GradingCgroups([folder], 0).remove()


def cgroups_available() -> bool:
    """Whether a grading's cgroup can be made here, and the layer is not switched off."""
    return not switched_off(NO_CGROUPS) and _probe()


@functools.cache
def _probe() -> bool:
    """Whether a grading's cgroup can be made here (tried once)."""
    group = GradingCgroups.make(64)
    if group is None:
        return False
    group.remove()
    return True


class GradingCgroup(Layer):
    name = "grading cgroup"
    stage = Stage.CHILD
    stops = (
        f"one cgroup per grading: its memory_mb for all its processes together, at most "
        f"{PROCESS_LIMIT} processes, one core; killed whole when the grading ends"
    )

    def missing(self) -> str | None:
        if cgroups_available():
            return None
        if switched_off(NO_CGROUPS):
            return f"switched off by {NO_CGROUPS}"
        return (
            "needs a writable cgroup hierarchy with memory and pids (root, or a delegated "
            "cgroup v2): memory is limited per process only, and the number of processes only "
            "where the worker drops root (RLIMIT_NPROC)"
        )

    def apply(self, settings: WorkerSettings) -> None:
        GradingCgroups([Path(folder) for folder in settings.cgroups], 0).join()

    def applies_to(self, settings: WorkerSettings) -> bool:
        return bool(settings.cgroups)
