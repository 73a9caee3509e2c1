"""Start, watch and end the processes of a local network, across separate CLI invocations.

A process is known by its pid plus its start time (from ``/proc`` where there is one), so a
later invocation that finds the pid in the state file never signals an unrelated process that
happens to have been given the same pid.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}
"""Processes this interpreter started, so they can be reaped instead of lingering as zombies."""


@dataclass(frozen=True)
class ProcessRef:
    """What the state file records about a running process."""

    pid: int
    start_token: str | None


def spawn(
    command: Sequence[str],
    *,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> ProcessRef:
    """Start ``command`` in its own session (so Ctrl-C in the caller does not reach it).

    Its stdout and stderr are appended to ``log_path``.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(  # the caller chose the command
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=None if env is None else dict(env),
            cwd=cwd,
            start_new_session=True,
        )
    _CHILDREN[process.pid] = process
    return ProcessRef(pid=process.pid, start_token=_start_token(process.pid))


def is_alive(ref: ProcessRef | None) -> bool:
    """True while the process runs (a zombie, or a reused pid, counts as gone)."""
    if ref is None:
        return False
    child = _CHILDREN.get(ref.pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(ref.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # not ours to signal, so not the process we started
    token = _start_token(ref.pid)
    if token is None:
        return ref.start_token is None
    return token == ref.start_token and not _is_zombie(ref.pid)


def end(ref: ProcessRef | None, *, graceful: bool, timeout: float = 15.0) -> None:
    """Stop the process: SIGTERM and wait (then SIGKILL if it lingers), or SIGKILL at once."""
    if ref is None or not is_alive(ref):
        _forget(ref)
        return
    os.kill(ref.pid, signal.SIGTERM if graceful else signal.SIGKILL)
    deadline = time.monotonic() + (timeout if graceful else 5.0)
    while is_alive(ref) and time.monotonic() < deadline:
        time.sleep(0.05)
    if is_alive(ref):
        os.kill(ref.pid, signal.SIGKILL)
        while is_alive(ref):
            time.sleep(0.05)
    _forget(ref)


def _forget(ref: ProcessRef | None) -> None:
    if ref is None:
        return
    child = _CHILDREN.pop(ref.pid, None)
    if child is not None and child.poll() is None:
        _CHILDREN[ref.pid] = child  # still running: keep it so it is reaped later


def _start_token(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (field 22 of ``/proc/PID/stat``)."""
    fields = _stat_fields(pid)
    return fields[19] if fields and len(fields) > 19 else None


def _is_zombie(pid: int) -> bool:
    fields = _stat_fields(pid)
    return fields is not None and bool(fields) and fields[0] == "Z"


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of ``/proc/PID/stat`` after the command name (which may contain spaces)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()
