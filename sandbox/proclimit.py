"""How a trial's number of processes is capped (``TrialRequest.max_processes``: the fork-bomb limit).

``RLIMIT_NPROC`` is the classic tool, but the kernel ignores it for root (and for anyone with
CAP_SYS_RESOURCE), and it counts every process of the user, not the trial's. A *pids cgroup* counts
exactly the trial's tasks and binds root too, so it is used wherever tunesmith may create one:

- cgroup v1 with the ``pids`` controller mounted (writable by root on most VMs and CI machines);
- cgroup v2 when ``pids`` is enabled for the children of tunesmith's own cgroup (a delegated subtree).

The supervisor creates ``<parent>/tunesmith-<its pid>``, writes ``pids.max``, moves the trial into it
before exec, and removes it when the trial is gone. Without a writable pids cgroup, a non-root user
gets ``RLIMIT_NPROC`` set to the tasks the user already runs plus the limit (so the trial may start
that many more). Root without a writable pids cgroup cannot be limited: ``limit_problem`` says so,
and the executor refuses the trial instead of running it unlimited.

Both mechanisms count threads as well as processes (the kernel's "tasks").
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

CGROUP_PREFIX = "tunesmith-"

__all__ = ["CGROUP_PREFIX", "ProcessLimit", "limit_problem", "pids_cgroup_parent", "plan", "user_tasks"]


@dataclass(frozen=True)
class ProcessLimit:
    """How one trial's limit is applied: in a pids cgroup under ``cgroup_parent``, or by ``nproc``."""

    max_tasks: int
    cgroup_parent: str | None = None
    nproc: int | None = None


def _own_cgroups() -> dict[str, str]:
    """Controller (or '' for v2) -> this process's cgroup path, from /proc/self/cgroup."""
    out: dict[str, str] = {}
    try:
        with open("/proc/self/cgroup", encoding="utf-8") as fh:
            for line in fh:
                _id, controllers, path = line.rstrip("\n").split(":", 2)
                for name in controllers.split(",") if controllers else [""]:
                    out[name] = path
    except (OSError, ValueError):
        pass
    return out


def _candidates() -> list[str]:
    """Folders under which a pids cgroup may be created, best first (not yet checked for writing)."""
    own = _own_cgroups()
    found: list[str] = []
    try:
        with open("/proc/self/mountinfo", encoding="utf-8") as fh:
            lines = fh.readlines()
    except OSError:
        return found
    for line in lines:
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        root, mount_point, fstype, options = fields[3], fields[4], tail[0], tail[2].split(",")
        if fstype == "cgroup" and "pids" in options:
            path = own.get("pids")
        elif fstype == "cgroup2":
            path = own.get("")
        else:
            continue
        if path is None or not (path + "/").startswith(root.rstrip("/") + "/"):
            continue
        folder = os.path.join(mount_point, path[len(root.rstrip("/")) :].lstrip("/"))
        if fstype == "cgroup2":
            try:
                with open(os.path.join(folder, "cgroup.subtree_control"), encoding="utf-8") as fh:
                    if "pids" not in fh.read().split():
                        continue
            except OSError:
                continue
        found.append(folder)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sweep(parent: str) -> None:
    """Remove empty cgroups left by supervisors that were killed before cleaning up."""
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        suffix = name[len(CGROUP_PREFIX) :]
        if name.startswith(CGROUP_PREFIX) and suffix.isdigit() and not _alive(int(suffix)):
            try:
                os.rmdir(os.path.join(parent, name))
            except OSError:
                pass  # still has processes, or not ours to remove


@functools.cache
def pids_cgroup_parent() -> str | None:
    """The folder under which trials' pids cgroups are created, or None when there is none we may
    write. Checked once per process by creating and removing a probe cgroup."""
    for parent in _candidates():
        probe = os.path.join(parent, f"{CGROUP_PREFIX}probe-{os.getpid()}")
        try:
            os.mkdir(probe)
        except OSError:
            continue
        try:
            with open(os.path.join(probe, "pids.max"), "w", encoding="ascii") as fh:
                fh.write("1")
            ok = True
        except OSError:
            ok = False
        finally:
            try:
                os.rmdir(probe)
            except OSError:
                pass
        if ok:
            _sweep(parent)
            return parent
    return None


def user_tasks(uid: int | None = None) -> int:
    """How many tasks (threads included) ``uid`` (default: ours) runs now, as RLIMIT_NPROC counts."""
    uid = os.getuid() if uid is None else uid
    total = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status", encoding="ascii", errors="replace") as fh:
                fields = dict(line.split(":", 1) for line in fh if ":" in line)
            if int(fields["Uid"].split()[0]) == uid:
                total += int(fields["Threads"])
        except (OSError, KeyError, ValueError, IndexError):
            continue
    return total


def limit_problem(max_tasks: int | None) -> str | None:
    """Why a limit of ``max_tasks`` cannot be enforced here (one line with the fix), or None."""
    if max_tasks is None or pids_cgroup_parent() is not None or os.geteuid() != 0:
        return None
    return (
        f"budget.max_processes ({max_tasks}) cannot be enforced: tunesmith runs as root, which the kernel "
        "exempts from RLIMIT_NPROC, and no pids cgroup is writable here; run tunesmith as a regular user, "
        "or make the cgroup pids controller writable (e.g. a delegated cgroup v2 subtree)"
    )


def plan(max_tasks: int | None) -> ProcessLimit | None:
    """How to apply ``max_tasks`` to the next trial; None for no limit. Call ``limit_problem`` first."""
    if max_tasks is None:
        return None
    parent = pids_cgroup_parent()
    if parent is not None:
        return ProcessLimit(max_tasks, cgroup_parent=parent)
    if os.geteuid() == 0:
        raise RuntimeError(limit_problem(max_tasks))
    return ProcessLimit(max_tasks, nproc=user_tasks() + max_tasks)
