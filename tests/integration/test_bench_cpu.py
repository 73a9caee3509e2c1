"""The network bench's CPU accounting: what each group of processes spent, read from /proc."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from portchain.bench.cometbft import cpu_snapshot

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")

BUSY = (
    "import time\n"
    "end = time.process_time() + 0.4\n"
    "while time.process_time() < end: pass\n"
    "print('done', flush=True)\n"
    "time.sleep(30)\n"
)


def test_a_busy_process_is_charged_its_cpu_time_and_an_idle_one_nothing() -> None:
    busy = subprocess.Popen([sys.executable, "-c", BUSY], stdout=subprocess.PIPE, text=True)
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        before = cpu_snapshot({"busy": [busy.pid], "idle": [idle.pid]})
        assert busy.stdout is not None
        assert busy.stdout.readline() == "done\n"  # it has burnt its 0.4 s of CPU
        after = cpu_snapshot({"busy": [busy.pid], "idle": [idle.pid]})
    finally:
        busy.kill()
        idle.kill()
        busy.wait()
        idle.wait()
    assert after["busy"] - before["busy"] >= 0.3
    assert after["idle"] - before["idle"] < 0.05
    assert after["load"] >= before["load"]  # this process, which makes the load and watches


def test_a_process_that_is_gone_counts_as_nothing() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert cpu_snapshot({"app": [gone.pid]})["app"] == 0.0
