"""The private view: a mount namespace in which only what the worker needs exists.

The worker builds it (as process 1 of its PID namespace, before its code is loaded) and moves
into it with pivot_root, so the worker and everything it starts see:

- read-only, and without set-user-ID: Python and its packages, the grader package, the system's
  programs and libraries, and from /etc only the few files Python uses (grader.sandbox.paths);
- /dev with null, zero, full, random and urandom, and a small /dev/shm of its own;
- a /proc of its own PID namespace: the grading's processes, none of the machine's;
- /sys/devices/system/cpu only (numpy's BLAS counts processors there);
- its own folder, /grading, read-write: the only place it can write; a tmpfs of the grading's
  memory_mb and 10,000 files, counted in its memory, so a submission cannot fill the disk.

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
import tempfile
from pathlib import Path

from grader.sandbox.layer import Layer, Stage
from grader.sandbox.libc import libc
from grader.sandbox.mounts import (
    MNT_DETACH,
    MS_BIND,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REC,
    MS_REMOUNT,
    mount,
)
from grader.sandbox.namespaces import (
    CLONE_NEWNS,
    CLONE_NEWPID,
    can_mount_view,
    can_unshare,
    unshare,
    why_no_namespace,
)
from grader.sandbox.paths import SYSTEM_FILES, SYSTEM_FOLDERS, grader_package, python_paths
from grader.sandbox.settings import WorkerSettings

PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")
# /dev/shm: Python's semaphores need a little; what is there counts in the grading's memory.
SHARED_MEMORY = "mode=1777,size=16m"
STANDARD_LINKS = (
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
)
VIEW_HOME = "/grading"  # where the worker's own folder is in the view: its HOME and TMPDIR
FOLDER_FILES = 10_000  # files and folders the worker may make there
KERNEL_FOLDERS = ("/proc", "/sys")  # mounted anew (/proc) or in part (/sys), never bound whole
CPU_FOLDER = "/sys/devices/system/cpu"
ROOT_FOLDER = "root"  # beside a fresh worker's folder: where its view is built, then entered


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
    """Builds a view under ``root``, a fresh tmpfs: folders, links and bind mounts."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.bound: list[str] = []  # real paths bound so far: what lies beneath is there too

    def inside(self, path: str) -> str:
        return self.root + path

    def covered(self, path: str) -> bool:
        return any(path == done or path.startswith(done.rstrip("/") + "/") for done in self.bound)

    def expose(self, path: str) -> None:
        """Make ``path`` of the machine resolve in the view as it does here: each symbolic link
        on the way is made again as a link, and the real file or folder is bound read-only."""
        path = os.path.abspath(path)
        real = os.path.realpath(path)
        if not os.path.exists(real):
            return
        if real != path:
            self._links_to(path)
        if not self.covered(real):
            self._folders_to(os.path.dirname(real))
            self.bind(real, self.inside(real), writable=False)
            self.bound.append(real)

    def bind(self, source: str, target: str, writable: bool) -> None:
        """Bind ``source`` at ``target`` (made here), without set-user-ID and, but for a device,
        without devices; keeping what the source's own mount forbids (a remount may only add)."""
        if os.path.isdir(source):
            os.makedirs(target, mode=0o755, exist_ok=True)
        elif not os.path.exists(target):
            with open(target, "a"):
                pass
        mount(source, target, None, MS_BIND | MS_REC)
        kept = os.statvfs(source).f_flag & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
        flags = kept | MS_NOSUID | (0 if writable else MS_RDONLY)
        flags |= 0 if source in DEVICES else MS_NODEV
        mount(None, target, None, MS_REMOUNT | MS_BIND | flags)

    def _folders_to(self, folder: str) -> None:
        """The view's own folders down to ``folder`` (which has no link on the way), each
        readable by anyone, up to where a bound folder already holds the rest."""
        here = ""
        for part in Path(folder).parts[1:]:
            here += "/" + part
            if self.covered(here):
                return
            os.makedirs(self.inside(here), mode=0o755, exist_ok=True)

    def _links_to(self, path: str) -> None:
        """Each symbolic link met while resolving ``path``, made again in the view, with the
        folders between them."""
        pending = list(Path(path).parts[1:])
        current = "/"
        for _ in range(256):  # more than any chain of links the kernel itself follows
            if not pending:
                return
            candidate = os.path.join(current, pending.pop(0))
            if self.covered(candidate):
                return  # a bound folder resolves the rest as the machine does
            if os.path.islink(candidate):
                target = os.readlink(candidate)
                self._folders_to(current)
                if not os.path.lexists(self.inside(candidate)):
                    os.symlink(target, self.inside(candidate))
                resolved = os.path.normpath(os.path.join(current, target))
                pending = list(Path(resolved).parts[1:]) + pending
                current = "/"
            else:
                current = candidate
        raise OSError(40, f"too many links on the way to {path}")


def build_template(root: str) -> None:
    """Build, at ``root`` (an empty folder), all of a view that is the same for every worker:
    Python, its packages, the grader, the system's files; empty mount points for the worker's
    folder, /proc and /dev/shm. Read-only once built. The fork server builds one for all its
    workers; a fresh worker builds its own."""
    os.makedirs(root, mode=0o755, exist_ok=True)
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
    view = _Builder(root)
    system = [path for path in SYSTEM_FOLDERS if path not in KERNEL_FOLDERS]
    for path in [*system, *python_paths(), grader_package(), *SYSTEM_FILES, CPU_FOLDER]:
        view.expose(path)
    for path in (VIEW_HOME, "/dev/shm"):
        os.makedirs(view.inside(path), mode=0o755, exist_ok=True)
    os.makedirs(view.inside("/proc"), mode=0o555, exist_ok=True)
    os.makedirs(view.inside("/tmp"), mode=0o755, exist_ok=True)
    for name, target in STANDARD_LINKS:
        os.symlink(target, view.inside(f"/dev/{name}"))
    # The view's own folders are done: nothing more may be made in them.
    mount(None, root, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def folder_options(size_mb: int) -> str:
    return f"mode=0700,size={size_mb}m,nr_inodes={FOLDER_FILES}"


def private_mounts() -> None:
    """A mount namespace of this process's own, from which nothing reaches the machine's."""
    unshare(CLONE_NEWNS)
    mount(None, "/", None, MS_REC | MS_PRIVATE)


def enter(root: str, folder_mb: int) -> None:
    """Move this process (process 1 of a new PID namespace, in a mount namespace of its own)
    into the view built at ``root``, with a folder of its own at `VIEW_HOME`, a /dev/shm and a
    /proc of its own.

    The worker's folder is a tmpfs of ``folder_mb`` MiB and `FOLDER_FILES` files, not a folder
    on the disk: what the worker writes there counts in its grading's memory, and is gone with
    it, so a submission cannot fill the machine's disk.
    """
    mount("tmpfs", root + VIEW_HOME, "tmpfs", MS_NOSUID | MS_NODEV, folder_options(folder_mb))
    mount("tmpfs", root + "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, SHARED_MEMORY)
    mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _pivot_root(root)
    os.chdir(VIEW_HOME)
    os.environ["HOME"] = os.environ["TMPDIR"] = VIEW_HOME
    tempfile.tempdir = None  # found again from TMPDIR


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
        if can_unshare(CLONE_NEWNS | CLONE_NEWPID) and can_mount_view():
            return None
        return (
            why_no_namespace() + ": the worker sees the machine's files and /proc, as far as "
            "Landlock and file permissions allow, and its folder is on the disk, with no limit "
            "but 16 MB a file"
        )

    def apply(self, settings: WorkerSettings) -> None:
        private_mounts()
        if settings.view_template:
            root = settings.view_template
        else:
            root = os.path.join(os.path.dirname(settings.home), ROOT_FOLDER)
            build_template(root)
        enter(root, settings.limits.memory_mb)
