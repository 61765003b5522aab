"""What a worker may read: Python, its packages, the grader package, the system's programs and
libraries, and from /etc and /dev only what Python uses. Both the private view
(grader.sandbox.view), which holds only these, and Landlock (grader.sandbox.landlock), which
allows only these, take them from here. Standard library only: the worker imports this.
"""

from __future__ import annotations

import functools
import os
import sys

# Whole system folders the worker may read: programs and libraries, and the kernel's views.
SYSTEM_FOLDERS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/proc", "/sys")
# From /etc and /dev only what Python and its libraries use: where no private view hides the rest,
# the worker may be able to read past file permissions (grader.sandbox.privileges), so nothing
# secret (/etc/shadow, a disk) may be on the list.
SYSTEM_FILES = (
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/nsswitch.conf",
    "/etc/hosts",
    "/etc/passwd",
    "/etc/group",
    "/etc/alternatives",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/os-release",
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
)


def grader_package() -> str:
    """The folder of the installed grader package (the worker's own code is in it)."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@functools.cache
def python_paths() -> list[str]:
    """Python's own folders and its packages' (a virtual environment's and its base's)."""
    import site
    import sysconfig

    return sorted(
        {
            sys.prefix,
            sys.base_prefix,
            sys.exec_prefix,
            sys.base_exec_prefix,
            *site.getsitepackages(),
            *sysconfig.get_paths().values(),
        }
    )


@functools.cache
def readable_paths() -> list[str]:
    """Everything a worker may read. The same for every worker: a fork server works it out once
    for all of them."""
    return sorted({*python_paths(), grader_package(), *SYSTEM_FOLDERS, *SYSTEM_FILES})
