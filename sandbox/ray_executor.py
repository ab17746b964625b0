"""``RayExecutor``: runs each trial as a task on an existing Ray cluster, under the same trial contract.

    ex = RayExecutor("auto", capacity=8)      # or "10.0.0.5:6379"; connects (ray.init) unless connected

Each trial is one Ray task (``sandbox/ray_worker.py``) with the request's ``num_cpus``/``num_gpus``;
Ray's scheduler picks the node and assigns GPUs (``CUDA_VISIBLE_DEVICES``). On the node the trial runs
under ``LocalExecutor``: the same supervisor, timeout, thread caps and process-tree kill as locally. A
thread per trial here follows the task's streamed messages:

- reports become ``Report`` events while the trial runs (the pruner and the agent see them live);
- at the end the trial folder comes back as an archive and is unpacked into ``request.trial_dir``
  (logs, reports, artifacts; files past ``max_archive_mb`` stay on the node and are listed in
  ``info['left_on_node']``);
- ``cancel`` posts to a small mailbox actor that the task polls, so the node itself carries out the
  stop file / SIGTERM / SIGKILL sequence; a trial not yet started is taken off Ray's queue instead;
- a task that dies with its node or worker ends as ``lost`` with the reason, keeping the reports that
  arrived; Ray does not retry it (``max_retries=0``), the study goes on.

Requirements on the cluster: the same Python version and the trial's packages on every node, and the
trial's ``workdir`` at the same path (shared filesystem or image). This package (``sandbox``, standard
library only) is shipped with the job (Ray ``py_modules``), so nodes need not have tunesmith installed.
A command starting with this interpreter (``sys.executable``) runs with the node's ``sys.executable``.
Variables named in ``request.pass_env`` are copied from this process's environment into the request.

Ray itself is imported lazily; without it, constructing the executor raises ``RayMissing``; a cluster
that cannot be reached raises ``RayUnavailable`` with a one-line message.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox._archive import unpack
from sandbox._runs import RunTable
from sandbox.base import (
    EndStatus,
    Report,
    TrialOutcome,
    TrialRequest,
)

SANDBOX_DIR = str(Path(__file__).resolve().parent)
#: how long a trial may outlive its timeout (plus grace) on an unresponsive node before it is abandoned
BACKSTOP = 60.0
#: seconds a request shape that fits some node is not checked again (``ray.nodes()`` is a cluster call)
FITS_TTL = 30.0
#: how often a trial's node is checked for liveness while no message comes (Ray can leave the stream of a
#: task on a killed node pending for minutes; a node GCS no longer lists alive ends its trials as lost)
NODE_CHECK = 2.0

__all__ = ["RayExecutor", "RayMissing", "RayUnavailable", "connect"]


class RayMissing(RuntimeError):
    """Ray is not installed."""


class RayUnavailable(RuntimeError):
    """The Ray cluster cannot be reached or used; the message says how to fix it."""


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise RayMissing("Ray is not installed; install it with: pip install 'tunesmith[ray]'") from None
    return ray


def _first_line(exc: BaseException) -> str:
    """The first sentence of an exception's message (Ray's run to several paragraphs)."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    if not lines:
        return type(exc).__name__
    first = lines[0].split(". ")[0].rstrip(".")
    return first if len(first) <= 200 else first[:197] + "..."


def connect(address: str = "auto", *, ship_sandbox: bool = True, **init_kwargs: Any) -> bool:
    """Connect this process to the cluster at ``address`` unless already connected; True when this call
    connected (and so owns the connection). Raises ``RayMissing`` / ``RayUnavailable``."""
    ray = _ray()
    if ray.is_initialized():
        return False
    if address.startswith("ray://"):
        raise RayUnavailable(
            f"--ray-address {address}: Ray Client (ray://) addresses are not supported; run "
            "tunesmith on a node of the cluster (e.g. the head) with --ray-address auto or HOST:PORT"
        )
    if address != "auto":
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise RayUnavailable(f"--ray-address {address!r} is not HOST:PORT or 'auto'; e.g. 10.0.0.5:6379")
        try:
            socket.create_connection((host, int(port)), timeout=5).close()
        except OSError as exc:
            raise RayUnavailable(
                f"no Ray cluster answers at {address} ({exc.strerror or exc}); start one with "
                "'ray start --head' or fix --ray-address"
            ) from None
    runtime_env = {"py_modules": [SANDBOX_DIR]} if ship_sandbox else None
    try:
        ray.init(address=address, log_to_driver=False, logging_level="warning", runtime_env=runtime_env, **init_kwargs)
    except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError ... for the same problem
        raise RayUnavailable(
            f"cannot connect to the Ray cluster at {address}: {_first_line(exc)}; start one "
            "with 'ray start --head' or fix --ray-address"
        ) from None
    return True


@dataclass(eq=False)
class _RayRun:
    request: TrialRequest
    gen: Any  # ray.ObjectRefGenerator of the task
    started_at: float
    reports: list[Report] = dataclasses.field(default_factory=list)
    started: dict[str, Any] | None = None  # the node's "started" message
    ending: tuple[EndStatus, str] | None = None
    run_since: float | None = None  # monotonic time the node started the trial


class NodeGone(RuntimeError):
    """The node running a trial is no longer alive (raised inside the watcher, ends the trial as lost)."""


class RayExecutor(RunTable["_RayRun"]):
    """Runs up to ``capacity`` trials at once on a Ray cluster (see module docstring)."""

    #: Ray assigns GPUs from ``request.num_gpus``: the engine must not hand out local GPU ids
    schedules_devices = True

    def __init__(
        self,
        address: str = "auto",
        capacity: int = 1,
        *,
        poll: float = 0.25,
        max_archive_mb: int = 256,
        ship_sandbox: bool = True,
        scratch_root: str | None = None,
    ) -> None:
        super().__init__(capacity)
        self.address = address
        ray = _ray()
        self._owns = connect(address, ship_sandbox=ship_sandbox)
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        from sandbox.ray_worker import Mailbox, run_trial

        self._ray = ray
        here = ray.get_runtime_context().get_node_id()
        self._mailbox = (
            ray.remote(Mailbox)
            .options(
                num_cpus=0, max_concurrency=64, scheduling_strategy=NodeAffinitySchedulingStrategy(here, soft=True)
            )
            .remote()
        )
        self._task = ray.remote(run_trial)
        self._key = uuid.uuid4().hex[:12]
        self._poll = poll
        self._max_archive = max_archive_mb << 20
        self._scratch_root = scratch_root
        self._fits: dict[tuple[float, float], float] = {}  # request shape -> until when a node is known to fit
        self._alive_nodes: tuple[float, set[str]] = (0.0, set())  # (when read, node ids GCS reports alive)
        self._threads: set[threading.Thread] = set()

    # ------------------------------------------------------------------ the seam
    def submit(self, request: TrialRequest) -> None:
        self._check(request)
        started = time.time()
        problem = self._unplaceable(request)
        if problem is not None:
            self._launch_error(request, problem, started)
            return
        env = dict(request.env)
        for name in request.pass_env:  # the node has its own environment: send what the spec passes
            if name in os.environ and name not in env:
                env[name] = os.environ[name]
        sent = dataclasses.replace(request, env=env)
        gen = self._task.options(
            num_cpus=request.num_cpus,
            num_gpus=request.num_gpus,
            num_returns="streaming",
            max_retries=0,
            retry_exceptions=False,
        ).remote(
            sent,
            self._mailbox,
            key=self._key,
            python_alias=sys.executable,
            poll=self._poll,
            max_archive_bytes=self._max_archive,
            scratch_root=self._scratch_root,
        )
        run = _RayRun(request, gen, started)
        with self._lock:
            self._runs[request.trial_id] = run
            thread = threading.Thread(
                target=self._watch, args=(run,), name=f"ray-trial-{request.trial_id}", daemon=True
            )
            self._threads.add(thread)
        thread.start()

    def placement(self, trial_id: str) -> dict[str, Any] | None:
        """Where a running trial runs (node_ip, node_id, pid, trial_dir, gpus) once its node started it."""
        with self._lock:
            run = self._runs.get(trial_id)
            return dict(run.started) if run is not None and run.started else None

    def cancel(self, trial_id: str, reason: str, *, stop: bool = False) -> None:
        with self._lock:
            run = self._runs.get(trial_id)
            if run is None:
                return
            if run.ending is None or (not stop and run.ending[0] == "stopped"):
                run.ending = ("stopped" if stop else "cancelled", reason)
            started = run.started is not None
        self._mailbox.post.remote(trial_id, reason, stop)
        if not started:  # still queued for resources: take it off the queue
            self._ray.cancel(run.gen)

    def close(self) -> None:
        with self._lock:
            first = not self._closed
            self._closed = True
            ids = list(self._runs)
        if first:
            for trial_id in ids:
                self.cancel(trial_id, "executor closed")
        with self._lock:
            grace = max((run.request.grace for run in self._runs.values()), default=0.0)
        deadline = time.monotonic() + grace + 15.0
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            stuck = list(self._runs.values())
        for run in stuck:  # an unresponsive node: kill the task's worker (its supervisor then kills the trial)
            self._ray.cancel(run.gen, force=True)
        for thread in list(self._threads):
            thread.join(5.0)
        if first:
            try:
                self._ray.kill(self._mailbox)
            except Exception:
                pass
            if self._owns:
                self._ray.shutdown()

    # ------------------------------------------------------------------ following a trial
    def _unplaceable(self, request: TrialRequest) -> str | None:
        """Why no live node can ever run ``request`` (too many CPUs/GPUs asked), or None."""
        shape = (request.num_cpus, request.num_gpus)
        if time.monotonic() < self._fits.get(shape, 0.0):
            return None
        try:
            nodes = [n for n in self._ray.nodes() if n.get("Alive")]
        except Exception:
            return None  # cannot tell; let Ray decide
        sizes = [(n["Resources"].get("CPU", 0.0), n["Resources"].get("GPU", 0.0)) for n in nodes]
        if any(cpu >= request.num_cpus and gpu >= request.num_gpus for cpu, gpu in sizes):
            self._fits[shape] = time.monotonic() + FITS_TTL
            return None
        biggest = ", ".join(f"{c:g} CPU/{g:g} GPU" for c, g in sorted(sizes, reverse=True)[:3]) or "no nodes"
        return (
            f"no node of the Ray cluster has {request.num_cpus:g} CPUs and {request.num_gpus:g} GPUs for one "
            f"trial (nodes: {biggest}); lower threads_per_trial / gpus_per_trial or add a bigger node"
        )

    def _watch(self, run: _RayRun) -> None:
        try:
            outcome = self._follow(run)
        except BaseException as exc:  # our own bug: end the trial and say so rather than hang the agent
            self._ray.cancel(run.gen, force=True)
            outcome = self._ended(
                run, "lost", f"internal error in the Ray executor: {exc!r}", stderr=traceback.format_exc()
            )
        with self._lock:
            del self._runs[run.request.trial_id]
            self._threads.discard(threading.current_thread())
            self._events.put(outcome)

    def _follow(self, run: _RayRun) -> TrialOutcome:
        ray = self._ray
        from ray.exceptions import RayError, TaskCancelledError

        while True:
            try:
                ready, _ = ray.wait([run.gen], timeout=1.0)
                if not ready:
                    self._check_node(run)
                    if self._overdue(run):
                        ray.cancel(run.gen, force=True)
                        return self._ended(
                            run,
                            "timeout",
                            f"the Ray node did not end the trial within "
                            f"{BACKSTOP:g} s after its timeout; its task was killed",
                        )
                    continue
                message = self._get(run, next(run.gen))
            except StopIteration:
                return self._ended(run, "lost", "the Ray task ended without an outcome")
            except TaskCancelledError:
                with self._lock:
                    ending = run.ending or ("cancelled", "cancelled")
                return self._ended(run, ending[0], ending[1])
            except NodeGone as exc:
                self._cancel(run)
                return self._ended(run, "lost", self._lost_reason(run, exc))
            except RayError as exc:
                return self._ended(run, "lost", self._lost_reason(run, exc))
            kind = message[0]
            if kind == "started":
                with self._lock:
                    run.started, run.run_since = message[1], time.monotonic()
            elif kind == "reports":
                with self._lock:
                    for report in message[1]:
                        run.reports.append(report)
                        self._events.put(report)
            elif kind == "done":
                return self._finish(run, message[1], message[2], message[3])

    def _node_dead(self, node_id: str) -> bool:
        """Whether the node is gone: not among the nodes GCS reports alive (dead nodes may be listed as
        not alive, or be dropped from the list). A cached answer (``NODE_CHECK`` seconds, shared by trials)
        is trusted only when it says alive: a node that joined after the last read is looked up afresh."""
        with self._lock:
            when, alive = self._alive_nodes
            if node_id in alive and time.monotonic() - when < NODE_CHECK:
                return False
        try:
            alive = {str(n["NodeID"]) for n in self._ray.nodes() if n.get("Alive", False)}
        except Exception:  # GCS briefly unreachable: decide on the next check
            return False
        with self._lock:
            self._alive_nodes = (time.monotonic(), alive)
        return bool(alive) and node_id not in alive

    def _get(self, run: _RayRun, ref: Any) -> Any:
        """``ray.get`` that gives up when the trial's node is gone (raises ``NodeGone``)."""
        from ray.exceptions import GetTimeoutError

        while True:
            try:
                return self._ray.get(ref, timeout=NODE_CHECK)
            except GetTimeoutError:
                self._check_node(run)

    def _check_node(self, run: _RayRun) -> None:
        """Raise ``NodeGone`` when the node the trial started on is no longer alive."""
        node = run.started.get("node_id") if run.started else None
        if node is not None and self._node_dead(str(node)):
            raise NodeGone("the node is no longer alive in the cluster")

    def _cancel(self, run: _RayRun) -> None:
        try:
            self._ray.cancel(run.gen, force=True)
        except Exception:  # the task's node is gone: there may be nothing left to cancel
            pass

    def _overdue(self, run: _RayRun) -> bool:
        timeout = run.request.timeout
        return (
            timeout is not None
            and run.run_since is not None
            and time.monotonic() > run.run_since + timeout + run.request.grace + BACKSTOP
        )

    def _lost_reason(self, run: _RayRun, exc: BaseException) -> str:
        where = f" on node {run.started['node_ip']}" if run.started else ""
        return (
            f"the Ray worker running this trial{where} was lost ({type(exc).__name__}: {_first_line(exc)}); "
            "its logs stayed on that node"
        )

    def _node_info(self, run: _RayRun) -> dict[str, Any]:
        info: dict[str, Any] = {"trial_dir": run.request.trial_dir, "executor": "ray"}
        if run.started:
            info.update(
                ray_node_ip=run.started["node_ip"],
                ray_node_id=run.started["node_id"],
                node_trial_dir=run.started["trial_dir"],
            )
            if run.started.get("gpus") is not None:
                info["gpus"] = run.started["gpus"]
        return info

    def _finish(self, run: _RayRun, outcome: TrialOutcome, archive: bytes, left: list[str]) -> TrialOutcome:
        info = {**outcome.info, **self._node_info(run)}
        if archive:
            try:
                unpack(archive, run.request.trial_dir)
            except Exception as exc:  # full disk, bad archive: the outcome still counts
                info["archive_error"] = f"could not unpack the trial folder: {_first_line(exc)}"
        if left:
            info["left_on_node"] = left
        return dataclasses.replace(outcome, info=info)

    def _ended(self, run: _RayRun, status: EndStatus, reason: str, *, stderr: str = "") -> TrialOutcome:
        with self._lock:
            reports = tuple(run.reports)
        return TrialOutcome(
            run.request.trial_id,
            status,
            reports=reports,
            stderr_tail=stderr[-4000:],
            started_at=run.started_at,
            finished_at=time.time(),
            reason=reason,
            memory_limited=run.request.memory_mb is not None,
            info=self._node_info(run),
        )
