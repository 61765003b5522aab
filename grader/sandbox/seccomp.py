"""A system-call filter (seccomp): the worker loses the calls student code has no use for.

Applied last, by the worker on itself, after Landlock and dropping root, and inherited by
everything it starts. Each call listed in `DENIED` fails with EPERM:

- the kernel's keyrings (add_key, request_key, keyctl): they are per user, not per namespace, so
  every `nobody` worker on the machine would share one, and a note left there would outlive the
  grading and reach the next student's;
- making namespaces and mounts (unshare, setns, mount and the new mount API, pivot_root,
  chroot), and clone with any namespace flag: the worker's namespaces are made before it runs;
- other processes' memory and tracing (ptrace, process_vm_readv and _writev), file handles that
  step past the file tree (open_by_handle_at), and kernel surfaces a grading never needs
  (io_uring, userfaultfd, bpf, perf_event_open, modules, kexec, swap, the clock, reboot,
  personality).

clone3 fails with ENOSYS instead, whose flags the filter cannot read: the C library then falls
back to clone, which the filter reads. prctl may do all but set the parent-death signal, which
ends the worker with its grader (grader.sandbox.namespaces): it was set before student code ran,
and it stays. A call made through another architecture's numbers (the
32-bit int 0x80 on x86_64, or x32) fails with EPERM too.

The filter is a classic BPF program built here (no library); Linux 3.17+ on x86_64 and aarch64.
GRADE_NO_SECCOMP=1 switches it off. Standard library only: the worker imports this.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import platform

from grader.sandbox.layer import Layer, Stage, switched_off
from grader.sandbox.libc import libc
from grader.sandbox.settings import WorkerSettings

NO_SECCOMP = "GRADE_NO_SECCOMP"
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 1, 38, 22, 2
SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO = 0x7FFF0000, 0x00050000
# Classic BPF opcodes: load a word of seccomp_data, compare, test bits, return.
LOAD_WORD, JUMP_EQUAL, JUMP_AT_LEAST, JUMP_BITS, RETURN = 0x20, 0x15, 0x35, 0x45, 0x06
NUMBER_OFFSET, ARCH_OFFSET, FIRST_ARGUMENT_OFFSET = 0, 4, 16  # in struct seccomp_data
X32_BIT = 0x40000000
# Any of these in clone's flags makes a namespace.
NAMESPACE_FLAGS = 0x00020000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000
NAMESPACE_FLAGS |= 0x02000000  # CLONE_NEWCGROUP

# System call numbers, by architecture: (AUDIT_ARCH, {name: number}).
ARCHITECTURES: dict[str, tuple[int, dict[str, int]]] = {
    "x86_64": (
        0xC000003E,
        {
            "add_key": 248,
            "request_key": 249,
            "keyctl": 250,
            "unshare": 272,
            "setns": 308,
            "mount": 165,
            "umount2": 166,
            "pivot_root": 155,
            "chroot": 161,
            "open_tree": 428,
            "move_mount": 429,
            "fsopen": 430,
            "fsconfig": 431,
            "fsmount": 432,
            "fspick": 433,
            "mount_setattr": 442,
            "ptrace": 101,
            "process_vm_readv": 310,
            "process_vm_writev": 311,
            "open_by_handle_at": 304,
            "name_to_handle_at": 303,
            "io_uring_setup": 425,
            "io_uring_enter": 426,
            "io_uring_register": 427,
            "userfaultfd": 323,
            "bpf": 321,
            "perf_event_open": 298,
            "init_module": 175,
            "finit_module": 313,
            "delete_module": 176,
            "kexec_load": 246,
            "kexec_file_load": 320,
            "swapon": 167,
            "swapoff": 168,
            "reboot": 169,
            "settimeofday": 164,
            "clock_settime": 227,
            "adjtimex": 159,
            "acct": 163,
            "quotactl": 179,
            "personality": 135,
            "clone": 56,
            "clone3": 435,
            "prctl": 157,
        },
    ),
    "aarch64": (
        0xC00000B7,
        {
            "add_key": 217,
            "request_key": 218,
            "keyctl": 219,
            "unshare": 97,
            "setns": 268,
            "mount": 40,
            "umount2": 39,
            "pivot_root": 41,
            "chroot": 51,
            "open_tree": 428,
            "move_mount": 429,
            "fsopen": 430,
            "fsconfig": 431,
            "fsmount": 432,
            "fspick": 433,
            "mount_setattr": 442,
            "ptrace": 117,
            "process_vm_readv": 270,
            "process_vm_writev": 271,
            "open_by_handle_at": 265,
            "name_to_handle_at": 264,
            "io_uring_setup": 425,
            "io_uring_enter": 426,
            "io_uring_register": 427,
            "userfaultfd": 282,
            "bpf": 280,
            "perf_event_open": 241,
            "init_module": 105,
            "finit_module": 273,
            "delete_module": 106,
            "kexec_load": 104,
            "kexec_file_load": 294,
            "swapon": 224,
            "swapoff": 225,
            "reboot": 142,
            "settimeofday": 170,
            "clock_settime": 112,
            "adjtimex": 171,
            "acct": 89,
            "quotactl": 60,
            "personality": 92,
            "clone": 220,
            "clone3": 435,
            "prctl": 167,
        },
    ),
}
# Every call in the tables above but the two clones, which are handled apart.
DENIED = tuple(
    name for name in ARCHITECTURES["x86_64"][1] if name not in ("clone", "clone3", "prctl")
)


class _Instruction(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_uint16),
        ("jump_true", ctypes.c_uint8),
        ("jump_false", ctypes.c_uint8),
        ("value", ctypes.c_uint32),
    ]


class _Program(ctypes.Structure):
    _fields_ = [("length", ctypes.c_uint16), ("instructions", ctypes.POINTER(_Instruction))]


Instruction = tuple[int, int, int, int]  # code, jump if true, jump if false, value


def program(machine: str) -> list[Instruction]:
    """The filter for ``machine``, as classic BPF instructions (jumps count the instructions
    they skip)."""
    arch, numbers = ARCHITECTURES[machine]
    deny: Instruction = (RETURN, 0, 0, SECCOMP_RET_ERRNO | errno.EPERM)
    steps: list[Instruction] = [
        (LOAD_WORD, 0, 0, ARCH_OFFSET),
        (JUMP_EQUAL, 1, 0, arch),
        deny,  # another architecture's numbers
        (LOAD_WORD, 0, 0, NUMBER_OFFSET),
    ]
    if machine == "x86_64":
        steps += [(JUMP_AT_LEAST, 0, 1, X32_BIT), deny]  # the x32 numbers
    steps += [
        (JUMP_EQUAL, 0, 1, numbers["clone3"]),
        (RETURN, 0, 0, SECCOMP_RET_ERRNO | errno.ENOSYS),  # falls back to clone
        (JUMP_EQUAL, 0, 4, numbers["prctl"]),
        (LOAD_WORD, 0, 0, FIRST_ARGUMENT_OFFSET),  # the option
        (JUMP_EQUAL, 0, 1, PR_SET_PDEATHSIG),
        deny,  # the signal that ends the worker with its grader stays set
        (RETURN, 0, 0, SECCOMP_RET_ALLOW),
        (JUMP_EQUAL, 0, 4, numbers["clone"]),
        (LOAD_WORD, 0, 0, FIRST_ARGUMENT_OFFSET),  # clone's flags (their low 32 bits)
        (JUMP_BITS, 0, 1, NAMESPACE_FLAGS),
        deny,
        (RETURN, 0, 0, SECCOMP_RET_ALLOW),
    ]
    for number in sorted({numbers[name] for name in DENIED}):
        steps += [(JUMP_EQUAL, 0, 1, number), deny]
    steps.append((RETURN, 0, 0, SECCOMP_RET_ALLOW))
    return steps


def install(machine: str) -> bool:
    """Install the filter on the calling process; True if the kernel took it."""
    steps = program(machine)
    instructions = (_Instruction * len(steps))(*[_Instruction(*step) for step in steps])
    filter_program = _Program(len(steps), instructions)
    loaded = libc()
    if loaded.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    return (
        loaded.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(filter_program), 0, 0) == 0
    )


@functools.cache
def _kernel_has_seccomp() -> bool:
    try:
        with open("/proc/self/status") as status:
            return any(line.startswith("Seccomp:") for line in status)
    except OSError:
        return False


class SystemCallFilter(Layer):
    name = "system calls filtered"
    stage = Stage.WORKER
    stops = (
        "seccomp: no keyrings (shared by every `nobody`), no new namespaces or mounts, no "
        "ptrace, io_uring, bpf or other kernel surfaces a grading never needs"
    )

    def missing(self) -> str | None:
        if switched_off(NO_SECCOMP):
            return f"switched off by {NO_SECCOMP}"
        if platform.machine() not in ARCHITECTURES or not _kernel_has_seccomp():
            return (
                "needs Linux seccomp on x86_64 or aarch64: the worker may use every system "
                "call its user may, the kernel's keyrings among them"
            )
        return None

    def apply_in_worker(self, settings: WorkerSettings, applied: dict[str, bool]) -> bool:
        if self.name not in settings.layers or platform.machine() not in ARCHITECTURES:
            return False
        return install(platform.machine())
