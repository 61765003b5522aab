"""Grading as an ordinary user: the namespaces and the private view are made in a user namespace
of the worker's own where the kernel allows it, and the worker holds no capability.

The grader runs here as `nobody`, started by root through util-linux's unshare and setpriv, with
/root replaced (in that process's own mount namespace) by a folder holding only the Python this
machine has there: as on a machine whose Python an ordinary user can reach.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from tests.helpers import REPO

AS_NOBODY = """
set -e
python_home="$1"; shift
if [ -n "$python_home" ]; then
    mkdir -p /tmp/.grade-python-hold
    mount --bind "$python_home" /tmp/.grade-python-hold
    mount -t tmpfs -o mode=0755 tmpfs /root
    mkdir -p "$python_home"
    mount --move /tmp/.grade-python-hold "$python_home"
fi
exec setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all "$@"
"""

PROBE = textwrap.dedent(
    """
    import json, os, sys, time
    from grader.limits import Limits
    from grader.student_code.objects import StudentModule
    from grader.student_code.session import StudentSession
    from grader.sandbox.launcher import Launcher
    from grader.sandbox.layers import available_child_layers
    from grader.submission import Source

    CODE = '''
    import os
    def where(secret):
        capabilities = open("/proc/self/status").read().split("CapEff:")[1].split()[0]
        seen = sorted(int(name) for name in os.listdir("/proc") if name.isdigit())
        return [os.getpid(), os.getuid(), capabilities, os.path.exists(secret), seen]
    '''
    seen = {"layers": list(available_child_layers())}
    for started in ("fresh", "forked"):
        launcher = Launcher()
        if started == "forked":
            launcher.use_forkserver()
        session = StudentSession(
            Source("probe.py", "probe.py", CODE), Limits(), time.monotonic() + 60,
            start_worker=launcher.take,
        )
        assert session.load(), session.load_error
        seen[started] = StudentModule(session).where(sys.argv[1])
        session.close()
        launcher.close()
    print(json.dumps(seen))
    """
)


def _python_home() -> str:
    """The folder under /root that holds this Python, if it is there (pyenv), else ""."""
    prefix = Path(sys.base_prefix).resolve()
    return str(Path("/root", prefix.parts[2])) if prefix.is_relative_to("/root") else ""


@pytest.mark.skipif(
    os.geteuid() != 0 or not (shutil.which("unshare") and shutil.which("setpriv")),
    reason="started as nobody by root, with util-linux's unshare and setpriv",
)
def test_an_ordinary_user_s_worker_gets_its_namespaces_and_view() -> None:
    folder = Path(tempfile.mkdtemp(prefix="grade-as-nobody-"))  # pytest's own is root's alone
    os.chmod(folder, 0o755)
    try:
        _probe_as_nobody(folder)
    finally:
        shutil.rmtree(folder)


def _probe_as_nobody(folder: Path) -> None:
    (folder / "probe.py").write_text(PROBE)
    (folder / "as_nobody.sh").write_text(AS_NOBODY)
    done = subprocess.run(
        [
            *("unshare", "--mount", "--propagation", "private", "sh"),
            *(str(folder / "as_nobody.sh"), _python_home()),
            *(sys.executable, str(folder / "probe.py"), str(REPO / "solutions")),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout)
    if "user namespace" not in seen["layers"]:
        pytest.skip("this kernel does not let an ordinary user make a user namespace")
    assert {"whole process tree killed", "private view", "private IPC"} <= set(seen["layers"])
    for started in ("fresh", "forked"):
        pid, uid, capabilities, answer_key_seen, processes = seen[started]
        assert (pid, uid) == (1, 65534), started  # process 1 of its own, as the grader's user
        assert int(capabilities, 16) == 0, started  # none kept from its user namespace
        assert answer_key_seen is False and processes == [1], started
