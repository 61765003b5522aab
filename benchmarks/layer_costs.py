"""What each protection layer costs a worker, on this machine.

    python benchmarks/layer_costs.py [--runs 40]

1. Each layer on its own: a process forked from this one (as the fork server forks a worker) goes
   through the layers of grader.sandbox.layers in their order, as grader.sandbox.child.start
   applies them, and times each one's apply (the PID namespace's includes its extra fork, as a
   fresh worker pays it); median over --runs.
2. A worker from creation to "ready", fresh and forked, with every layer this machine allows, with
   the cgroup switched off (GRADE_NO_CGROUPS=1), and with the namespace layers and the private
   view switched off too (GRADE_NO_NAMESPACES=1); median over --runs.

Needs root for the cgroup, the namespaces and the view (the layers this machine lacks are left
out and named). Prints Markdown tables with the machine's description, ready to paste into
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.grading_speed import machine  # noqa: E402
from grader.limits import Limits  # noqa: E402
from grader.sandbox.cgroups import GradingCgroups  # noqa: E402
from grader.sandbox.launcher import Launcher  # noqa: E402
from grader.sandbox.layers import (  # noqa: E402
    Stage,
    all_layers,
    available_child_layers,
    layer_reports,
)
from grader.sandbox.paths import readable_paths  # noqa: E402
from grader.sandbox.settings import WorkerSettings, worker_environment  # noqa: E402


def one_run() -> dict[str, float]:
    """Milliseconds each layer took to apply in one forked child."""
    import shutil
    import tempfile

    limits = Limits()
    folder = tempfile.mkdtemp(prefix=f"grade-worker-{os.getpid()}-")
    home = os.path.join(folder, "work")
    os.mkdir(home, 0o700)
    layers = available_child_layers()
    group = GradingCgroups.make(limits.memory_mb) if "grading cgroup" in layers else None
    settings = WorkerSettings(
        home=home,
        environment=worker_environment(home),
        limits=limits,
        parent=os.getpid(),
        cgroups=tuple(str(path) for path in group.folders) if group else (),
        layers=layers,
    )
    report_read, report_write = os.pipe()
    child = os.fork()
    if child == 0:
        try:
            os.close(report_read)
            os.chdir(home)
            times: dict[str, float] = {}
            for layer in all_layers():
                if layer.stage is Stage.CHILD and layer.applies_to(settings):
                    started = time.perf_counter()
                    layer.apply(settings)
                    times[layer.name] = 1000 * (time.perf_counter() - started)
            applied: dict[str, bool] = {}
            for layer in all_layers():
                if layer.stage is Stage.WORKER:
                    started = time.perf_counter()
                    applied[layer.name] = layer.apply_in_worker(settings, applied)
                    if applied[layer.name]:
                        times[layer.name] = 1000 * (time.perf_counter() - started)
            os.write(report_write, json.dumps(times).encode())
        finally:
            os._exit(0)
    os.close(report_write)
    data = b""
    while chunk := os.read(report_read, 65536):
        data += chunk
    os.close(report_read)
    os.waitpid(child, 0)
    if group is not None:
        group.remove()
    shutil.rmtree(folder, ignore_errors=True)
    return dict(json.loads(data))


def start_to_ready(runs: int, forked: bool, environment: dict[str, str]) -> float:
    """Median milliseconds from asking for a worker to its "ready", under ``environment``."""
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    launcher = Launcher()
    try:
        if forked:
            launcher.use_forkserver()
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            worker = launcher.take(Limits())
            worker.wait_ready()
            times.append(1000 * (time.perf_counter() - started))
            worker.kill()
        return statistics.median(times)
    finally:
        launcher.close()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    runs = parser.parse_args().runs
    readable_paths()  # worked out once, as the fork server does before its first worker
    samples: dict[str, list[float]] = {}
    for _ in range(runs):
        for name, milliseconds in one_run().items():
            samples.setdefault(name, []).append(milliseconds)
    print(f"Machine: {machine()}; {runs} runs each, {time.strftime('%Y-%m-%d')}\n")
    print("| layer | applied by | median (ms) |")
    print("|---|---|---|")
    stages = {layer.name: layer.stage.value for layer in all_layers()}
    for name, values in samples.items():
        print(f"| {name} | {stages[name]} | {statistics.median(values):.2f} |")
    missing = [report.name for report in layer_reports() if not report.active]
    if missing:
        print(f"\nNot on this machine: {', '.join(missing)}.")
    print("\n| worker, creation to ready | fresh (ms) | forked (ms) |")
    print("|---|---|---|")
    for label, environment in (
        ("every layer", {}),
        ("GRADE_NO_CGROUPS=1", {"GRADE_NO_CGROUPS": "1"}),
        (
            "GRADE_NO_CGROUPS=1 GRADE_NO_NAMESPACES=1",
            {"GRADE_NO_CGROUPS": "1", "GRADE_NO_NAMESPACES": "1"},
        ),
    ):
        fresh = start_to_ready(max(runs // 4, 5), False, environment)
        forked = start_to_ready(runs, True, environment)
        print(f"| {label} | {fresh:.1f} | {forked:.1f} |")


if __name__ == "__main__":
    main()
