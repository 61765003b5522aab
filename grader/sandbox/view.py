"""The private view: a mount namespace in which only what the worker needs exists.

The worker's init builds it (as process 1 of the worker's PID namespace, before it forks the
worker) and moves into it with pivot_root, so the worker and everything it starts see:

- read-only, and without set-user-ID: Python and its packages, the grader package, the system's
  programs and libraries, and from /etc only the few files Python uses (grader.sandbox.paths);
- /dev with null, zero, full, random and urandom, and a small /dev/shm of its own;
- a /proc of its own PID namespace: the grading's processes, none of the machine's;
- /sys/devices/system/cpu only (numpy's BLAS counts processors there);
- its own folder, read-write: the only place it can write.

The answer key, the course, other gradings' folders, the grader's sockets: none of it exists in
the view, so nothing there can be opened, listed, stat-ed or watched. The folders leading to
Python's are the view's own and readable by anyone, so a worker that drops root needs no
capability to reach Python (grader.sandbox.privileges).

Needs root (CAP_SYS_ADMIN) and a PID namespace; GRADE_NO_NAMESPACES=1 switches it off.
Standard library only.
"""

from __future__ import annotations

import ctypes
import os
import platform
from pathlib import Path
from typing import TYPE_CHECKING

from grader.sandbox.layers import Layer, Stage
from grader.sandbox.libc import libc
from grader.sandbox.namespaces import (
    CLONE_NEWNS,
    CLONE_NEWPID,
    can_unshare,
    unshare,
    why_no_namespace,
)
from grader.sandbox.paths import SYSTEM_FILES, SYSTEM_FOLDERS, grader_package, python_paths

if TYPE_CHECKING:
    from grader.sandbox.child import WorkerSettings

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")
SHARED_MEMORY_BYTES = 16 * 1024 * 1024  # /dev/shm: Python's semaphores need a little
KERNEL_FOLDERS = ("/proc", "/sys")  # mounted anew (/proc) or in part (/sys), never bound whole
CPU_FOLDER = "/sys/devices/system/cpu"
ROOT_FOLDER = "root"  # beside the worker's folder: where the view is built, then entered


def _mount(source: str | None, target: str, kind: str | None, flags: int, data: str = "") -> None:
    result = libc().mount(
        None if source is None else os.fsencode(source),
        os.fsencode(target),
        None if kind is None else kind.encode(),
        ctypes.c_ulong(flags),
        data.encode() if data else None,
    )
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"mount {source or kind} on {target}: {os.strerror(error)}")


def _pivot_root(new_root: str) -> None:
    """Make ``new_root`` this mount namespace's root, and drop the old one entirely."""
    number = PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise OSError(0, f"pivot_root is not known on {platform.machine()}")
    os.chdir(new_root)
    if libc().syscall(number, b".", b".") != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"pivot_root: {os.strerror(error)}")
    if libc().umount2(b".", MNT_DETACH) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"detaching the old root: {os.strerror(error)}")
    os.chdir("/")


class _Builder:
    """Builds the view under ``root``, a fresh tmpfs: folders, links and bind mounts."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.bound: list[str] = []  # paths bound so far: what lies beneath them is there too

    def inside(self, path: str) -> str:
        return self.root + path

    def covered(self, path: str) -> bool:
        return any(path == done or path.startswith(done.rstrip("/") + "/") for done in self.bound)

    def expose(self, path: str, writable: bool = False) -> None:
        """Make ``path`` of the machine appear at the same place in the view, read-only unless
        ``writable``. A symbolic link is made again as a link, and what it points to is exposed
        in turn where it is a system path."""
        path = os.path.normpath(path)
        if self.covered(path) or not os.path.lexists(path):
            return
        self._folders_to(os.path.dirname(path))
        if os.path.islink(path):
            target = os.readlink(path)
            if not os.path.lexists(self.inside(path)):
                os.symlink(target, self.inside(path))
            return
        if os.path.isdir(path):
            os.makedirs(self.inside(path), mode=0o755, exist_ok=True)
        else:
            with open(self.inside(path), "a"):
                pass
        flags = MS_BIND | MS_REC
        _mount(path, self.inside(path), None, flags)
        extra = 0 if writable else MS_RDONLY
        device = path in DEVICES
        _mount(
            None,
            self.inside(path),
            None,
            MS_REMOUNT | MS_BIND | MS_NOSUID | extra | (0 if device else MS_NODEV),
        )
        self.bound.append(path)

    def _folders_to(self, folder: str) -> None:
        """The view's own folders down to ``folder``, each readable by anyone; a link on the way
        is made again as a link."""
        here = ""
        for part in Path(folder).parts[1:]:
            here += "/" + part
            if self.covered(here):
                return
            if os.path.islink(here):
                if not os.path.lexists(self.inside(here)):
                    os.symlink(os.readlink(here), self.inside(here))
                return
            os.makedirs(self.inside(here), mode=0o755, exist_ok=True)


def build_view(home: str) -> None:
    """Build the view for a worker whose folder is ``home`` and move this process into it (in a
    new mount namespace, as process 1 of a new PID namespace)."""
    unshare(CLONE_NEWNS)
    # Nothing mounted from here on reaches the machine's namespace, nor the other way round.
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    root = os.path.join(os.path.dirname(home), ROOT_FOLDER)
    os.makedirs(root, mode=0o755, exist_ok=True)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
    view = _Builder(root)
    system = [path for path in SYSTEM_FOLDERS if path not in KERNEL_FOLDERS]
    for path in [*system, *python_paths(), grader_package()]:
        view.expose(path)
    for path in SYSTEM_FILES:
        if not path.startswith("/dev/"):
            view.expose(path)
    for device in DEVICES:
        view.expose(device)
    shm = view.inside("/dev/shm")
    os.makedirs(shm, mode=0o755, exist_ok=True)
    _mount("tmpfs", shm, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={SHARED_MEMORY_BYTES}")
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0")):
        os.symlink(target, view.inside(f"/dev/{name}"))
    os.symlink("/proc/self/fd/1", view.inside("/dev/stdout"))
    os.symlink("/proc/self/fd/2", view.inside("/dev/stderr"))
    view.expose(CPU_FOLDER)
    os.makedirs(view.inside("/proc"), mode=0o555, exist_ok=True)
    _mount("proc", view.inside("/proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    view.expose(home, writable=True)
    os.makedirs(view.inside("/tmp"), mode=0o755, exist_ok=True)
    # The view's own folders are done: nothing more may be made in them.
    _mount(None, root, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    _pivot_root(root)
    os.chdir(home)


class PrivateView(Layer):
    name = "private view"
    stage = Stage.CHILD
    stops = (
        "a mount namespace holding only Python, its packages, the grader's code and the "
        "worker's own folder, with a /proc of its own: the answer key does not exist there"
    )

    def missing(self) -> str | None:
        if platform.machine() not in PIVOT_ROOT:
            return f"not known on {platform.machine()}"
        if can_unshare(CLONE_NEWNS | CLONE_NEWPID):
            return None
        return (
            why_no_namespace() + ": the worker sees the machine's files and /proc, as far as "
            "Landlock and file permissions allow"
        )

    def apply(self, settings: WorkerSettings) -> None:
        build_view(settings.home)
