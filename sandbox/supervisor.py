"""Trial supervisor: runs one trial command and makes sure nothing of it outlives the trial or tunesmith.

Standalone, standard library only, run by path (never imported by tunesmith)::

    python -I -S supervisor.py <launch.json>

The executor starts it in a new session (``start_new_session=True``) with stdin from /dev/null and
stdout/stderr on pipes, which the trial inherits. The supervisor

1. reads ``launch.json``: ``{"argv": [...], "cwd": str, "parent_pid": int, "status_path": str,
   "rlimits": {"as": bytes, "nofile": n, "fsize": bytes, "nproc": n}, "pids": {"parent": folder,
   "max": n}, "strict": bool}`` (each rlimit, ``pids`` and ``strict`` optional);
2. with ``pids``, creates the pids cgroup ``<parent>/tunesmith-<its pid>`` capped at ``max`` tasks
   (see proclimit.py; a cgroup it cannot create is a launch error, never an unlimited trial);
3. forks the trial into its own process group (pgid = the trial's pid) and into that cgroup, applies
   the rlimits, changes to ``cwd`` and execs ``argv`` with the environment the supervisor was given.
   Keeping the trial out of the supervisor's own group is what lets the supervisor SIGKILL the whole
   trial group and still survive to reap it and write its status;
4. becomes a child subreaper (Linux), so every orphaned descendant of the trial is handed to it and is
   reaped here instead of lingering as a zombie under init (whose reaping may be slow or absent);
5. writes ``status.json`` (atomically, at ``status_path``) as ``{"state": "running", "pid", "pgid"}``;
6. waits, checking every ``POLL`` seconds whether its parent died (``getppid`` changed; a kill -9 of
   tunesmith): if so it SIGKILLs the trial group and exits;
7. when the trial ends, SIGKILLs whatever the trial left behind (group members, descendants that
   escaped the group with setsid, members of its cgroup), reaps all of it, removes the cgroup, writes
   the final ``status.json`` (``state: finished``, ``returncode`` (negative: killed by that signal),
   ``signal``, ``max_rss_kb``, times, ``launch_error``, ``clean``, ``proc_limit_hit``) and exits with
   the trial's code, 128+N for signal N, or 127 when the command could not start.

Signals: SIGTERM and SIGINT are forwarded to the trial's group (once each time they arrive);
SIGUSR1 means "kill the trial now": the trial group gets SIGKILL and the supervisor finishes as above.

``strict``: ``argv`` starts bubblewrap (see strict.py), which is the group leader and dies on SIGTERM
(taking its sandbox with it at once), so forwarded SIGTERM/SIGINT go to every other member of the
group instead; and bubblewrap reports a trial killed by signal N as exit status 128+N, which is
turned back into "killed by N".
"""

from __future__ import annotations

import os
import resource
import select
import sys
import time

# Startup time is on every trial's critical path, and the pure-Python halves of json, signal and typing
# cost ~25 ms of imports (re, enum) on a slow machine. Their C halves do all this script needs.
try:
    import _signal as signal
except ImportError:  # not CPython
    import signal  # type: ignore[no-redef]
try:
    import _json
except ImportError:  # not CPython
    _json = None  # type: ignore[assignment]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar

POLL = 0.2  # seconds between checks that the parent is alive
CLEANUP_TIMEOUT = 2.0  # seconds to kill and reap leftovers before giving up on them
_PR_SET_CHILD_SUBREAPER = 36
_RLIMITS = {
    "as": resource.RLIMIT_AS,
    "nofile": resource.RLIMIT_NOFILE,
    "fsize": resource.RLIMIT_FSIZE,
    "nproc": resource.RLIMIT_NPROC,
}


class _State:
    pgid: int | None = None  # the trial's process group, once it exists
    pending: ClassVar[list[int]] = []  # signals that arrived before the trial existed
    killed = False  # SIGUSR1: we killed the trial on request
    strict = False  # the group leader is bubblewrap: spare it SIGTERM/SIGINT


def _on_signal(signum: int, _frame: object) -> None:
    signum = int(signum)
    if signum == signal.SIGUSR1:
        _State.killed = True
        signum = signal.SIGKILL
    if _State.pgid is None:
        _State.pending.append(signum)
        return
    if _State.strict and signum != signal.SIGKILL:
        _signal_members(_State.pgid, signum)
        return
    try:
        os.killpg(_State.pgid, signum)
    except ProcessLookupError:
        pass


def _signal_members(pgid: int, signum: int) -> None:
    """Send ``signum`` to every process of group ``pgid`` but its leader (found through /proc)."""
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == pgid:
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
            if int(fields[2]) == pgid:
                os.kill(int(name), signum)
        except (OSError, IndexError, ValueError):
            pass  # gone meanwhile, or not ours


class _JsonContext:
    # What _json.make_scanner reads from json.JSONDecoder: plain JSON, NaN/Infinity as floats.
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = float


def _load_json(path: str) -> Any:
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    if _json is None:
        import json

        return json.loads(text)
    return _json.make_scanner(_JsonContext())(text.strip(), 0)[0]  # type: ignore[arg-type]


def _to_json(value: Any) -> str:
    """JSON for the flat dicts of status.json (str, int, float, bool, None values)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_to_json(str(k))}: {_to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str):
        if _json is None:
            import json

            return json.dumps(value)
        return str(_json.encode_basestring_ascii(value))
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)  # int or float; status values are always finite


def _write_status(path: str, data: dict[str, Any]) -> None:
    # The trial may write into its folder: never follow a link it planted, never reuse a name it could
    # have prepared (O_EXCL with a fresh name), and replace status.json atomically. Under strict
    # isolation status.json is bound read-only into the sandbox while bwrap sets it up, so it is
    # rewritten in place (same inode; the trial cannot touch it) instead of replaced.
    text = _to_json(data).encode()
    if _State.strict:
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_NOFOLLOW)
        try:
            os.write(fd, text)
        finally:
            os.close(fd)
        return
    for attempt in range(100):
        tmp = f"{path}.{os.getpid()}.{attempt}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        except FileExistsError:
            continue
        try:
            try:
                os.write(fd, text)
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except OSError:  # a full disk: leave no empty temporary file behind
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return
    raise OSError(f"cannot write {path}: every temporary name is taken")


def _become_subreaper() -> bool:
    try:
        import ctypes  # lazily: only this needs it, and only on Linux

        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError, ImportError):
        return False


def _make_cgroup(pids: dict[str, Any] | None) -> str | None:
    """Create this trial's pids cgroup capped at ``pids["max"]`` tasks; its folder, or None."""
    if not pids:
        return None
    folder = os.path.join(pids["parent"], f"tunesmith-{os.getpid()}")
    try:
        os.mkdir(folder)
    except FileExistsError:
        pass  # left by an earlier supervisor with our pid: empty, or _clean_up empties it
    with open(os.path.join(folder, "pids.max"), "w", encoding="ascii") as fh:
        fh.write(str(int(pids["max"])))
    return folder


def _cgroup_pids(cgroup: str | None) -> list[int]:
    if cgroup is None:
        return []
    try:
        with open(os.path.join(cgroup, "cgroup.procs"), encoding="ascii") as fh:
            return [int(p) for p in fh.read().split()]
    except (OSError, ValueError):
        return []


def _limit_hits(cgroup: str | None) -> int:
    """How many forks the cgroup's pids.max refused (``max N`` in pids.events)."""
    if cgroup is None:
        return 0
    try:
        with open(os.path.join(cgroup, "pids.events"), encoding="ascii") as fh:
            for line in fh:
                key, _, value = line.partition(" ")
                if key == "max":
                    return int(value)
    except (OSError, ValueError):
        pass
    return 0


def _remove_cgroup(cgroup: str | None) -> None:
    if cgroup is None:
        return
    deadline = time.monotonic() + CLEANUP_TIMEOUT
    while True:  # the last tasks may take a moment to leave after they were reaped
        try:
            os.rmdir(cgroup)
            return
        except FileNotFoundError:
            return
        except OSError:
            if time.monotonic() > deadline:
                return
            for pid in _cgroup_pids(cgroup):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.005)


def _exec_child(argv: list[str], cwd: str, rlimits: dict[str, int], err_w: int, cgroup: str | None) -> None:
    """In the forked child: never returns."""
    try:
        # A handler set by the supervisor would run here until exec; restore what a fresh process
        # expects (Python itself ignores SIGPIPE and SIGXFSZ, and an ignored signal survives exec).
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGPIPE, signal.SIGXFSZ):
            signal.signal(sig, signal.SIG_DFL)
        os.setpgid(0, 0)
        if cgroup is not None:  # before exec, so every process the trial starts is counted
            with open(os.path.join(cgroup, "cgroup.procs"), "w", encoding="ascii") as fh:
                fh.write(str(os.getpid()))
        for name, value in rlimits.items():
            _soft, hard = resource.getrlimit(_RLIMITS[name])
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(_RLIMITS[name], (value, value))
        os.chdir(cwd)
        os.execvp(argv[0], argv)
    except BaseException as exc:
        errno = getattr(exc, "errno", None)
        try:
            os.write(err_w, f"{type(exc).__name__}\0{errno or 0}\0{exc}".encode(errors="replace"))
        finally:
            os._exit(127)


def _describe_launch_error(raw: bytes, argv: list[str], cwd: str) -> str:
    kind, errno, text = [*raw.decode(errors="replace").split("\0", 2), "", ""][:3]
    if errno == "2":
        if not os.path.isdir(cwd):
            return f"working directory {cwd!r} does not exist; create it or fix the trial's workdir"
        return f"command {argv[0]!r} not found; install it, fix PATH, or give its full path"
    if errno == "13":
        return (
            f"command {argv[0]!r} is not executable (permission denied); chmod +x it or start it "
            "through its interpreter"
        )
    return f"command {argv[0]!r} could not start: {kind}: {text}"


def _spawn(argv: list[str], cwd: str, rlimits: dict[str, int], cgroup: str | None) -> tuple[int, str | None]:
    """Fork and exec the trial; (pid, None) or (pid already reaped, launch error)."""
    err_r, err_w = os.pipe()  # close-on-exec: EOF with no data means exec succeeded
    pid = os.fork()
    if pid == 0:
        os.close(err_r)
        _exec_child(argv, cwd, rlimits, err_w, cgroup)
    os.close(err_w)
    try:
        os.setpgid(pid, pid)  # also here, so the group exists before we may signal it
    except OSError:
        pass  # the child already exec'd (EACCES) or died: it set its group itself
    chunks = []
    while chunk := os.read(err_r, 4096):
        chunks.append(chunk)
    os.close(err_r)
    if chunks:
        os.waitpid(pid, 0)
        return pid, _describe_launch_error(b"".join(chunks), argv, cwd)
    return pid, None


def _wait_trial(pid: int, parent: int) -> int | None:
    """Wait for the trial; its wait status, or None when our parent died first."""
    try:
        pidfd: int | None = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    while True:
        while True:  # reap the trial, and orphans handed to us meanwhile
            wpid, status = os.waitpid(-1, os.WNOHANG)
            if wpid == pid:
                return status
            if wpid == 0:
                break
        if os.getppid() != parent:
            return None
        if pidfd is not None:
            select.select([pidfd], [], [], POLL)  # wakes at once when the trial exits
        else:
            time.sleep(0.01)


def _children() -> list[int]:
    try:
        with open(f"/proc/self/task/{os.getpid()}/children", encoding="ascii") as fh:
            return [int(p) for p in fh.read().split()]
    except OSError:
        return []


def _clean_up(pgid: int, subreaper: bool, cgroup: str | None = None) -> bool:
    """Kill and reap everything the trial left; True when nothing of it is known to be alive."""
    if not subreaper:  # orphans went to init; the group (and the cgroup) is all we can reach
        for pid in _cgroup_pids(cgroup):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            return True
        return False
    deadline = time.monotonic() + CLEANUP_TIMEOUT
    killed_group = False
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0]:
                continue
        except ChildProcessError:
            return True  # as subreaper, no children left means no descendants left
        if time.monotonic() > deadline:
            return False
        if not killed_group:
            killed_group = True
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        else:  # what is still our child escaped the group (setsid): kill it by pid
            for child in _children() + _cgroup_pids(cgroup):
                try:
                    os.kill(child, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        time.sleep(0.002)


def main(argv: list[str]) -> int:
    launch = _load_json(argv[1])
    status_path: str = launch["status_path"]
    parent: int = launch["parent_pid"]
    if os.getppid() != parent:
        return 1  # tunesmith died before we started: run nothing
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1):
        signal.signal(sig, _on_signal)
    _State.strict = bool(launch.get("strict"))
    started = time.time()
    try:
        cgroup = _make_cgroup(launch.get("pids"))
    except OSError as exc:
        _write_status(
            status_path,
            {
                "state": "finished",
                "started_at": started,
                "finished_at": time.time(),
                "clean": True,
                "launch_error": f"cannot create the trial's pids cgroup "
                f"({exc}); check that tunesmith may write under {launch['pids']['parent']}",
            },
        )
        return 127
    pid, launch_error = _spawn(list(launch["argv"]), launch["cwd"], dict(launch.get("rlimits") or {}), cgroup)
    status: dict[str, Any] = {"state": "running", "pid": pid, "pgid": pid, "started_at": started}
    if launch_error is not None:
        _remove_cgroup(cgroup)
        status.update(state="finished", launch_error=launch_error, finished_at=time.time(), clean=True)
        _write_status(status_path, status)
        return 127
    _State.pgid = pid
    # After the fork, so that loading ctypes overlaps the trial's own start-up; the trial cannot have
    # orphaned a process yet.
    subreaper = _become_subreaper()
    _write_status(status_path, status)
    for signum in _State.pending:
        _on_signal(signum, None)
    wait_status = _wait_trial(pid, parent)
    if wait_status is None:
        _clean_up(pid, subreaper, cgroup)
        _remove_cgroup(cgroup)
        return 137
    clean = _clean_up(pid, subreaper, cgroup)
    hits = _limit_hits(cgroup)
    _remove_cgroup(cgroup)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    killer = os.WTERMSIG(wait_status) if os.WIFSIGNALED(wait_status) else None
    code = os.waitstatus_to_exitcode(wait_status)
    if _State.strict and killer is None and 128 < code <= 128 + 64:
        killer, code = code - 128, 128 - code  # bubblewrap's way of saying "killed by signal N"
    status.update(
        state="finished",
        returncode=code,
        signal=killer,
        max_rss_kb=int(usage.ru_maxrss),
        user_time=usage.ru_utime,
        system_time=usage.ru_stime,
        finished_at=time.time(),
        killed=_State.killed,
        clean=clean,
        proc_limit_hit=hits > 0,
    )
    _write_status(status_path, status)
    return 128 + killer if killer is not None else code & 0xFF


if __name__ == "__main__":
    code = main(sys.argv)
    sys.stdout.flush()
    os._exit(code)  # skip interpreter teardown: nothing is left to flush, and it costs milliseconds
