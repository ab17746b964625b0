"""The ``TrialExecutor`` seam and the plain data that crosses it.

Call order: ``submit`` a request per free slot; ``wait`` returns events (intermediate ``Report``s and
final ``TrialOutcome``s) as they happen; ``cancel`` withdraws or early-stops a running trial; ``close``
stops everything and releases resources. An executor never raises for a trial's own failure: a crash,
a signal, a timeout or a launch error all come back as a ``TrialOutcome``. It raises only for misuse
(unknown trial id, submitting past capacity) or for its own infrastructure being unusable.

Stdlib only (see package docstring): the agent turns these into ``agent.core.records`` types.
"""

from __future__ import annotations

import abc
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

#: How a trial process ended, as the executor saw it (the agent derives the trial state from this).
EndStatus = Literal["exited", "timeout", "cancelled", "stopped", "launch_error", "lost"]

REPORT_PREFIX = "TUNESMITH_REPORT "
STOP_GRACE_FLOOR = 1.0  # seconds: the shortest grace an early-stopped trial gets (unless grace is shorter)
STOP_GRACE_STEPS = 2.0  # an early-stopped trial's grace, in its own steps: time to finish one and exit


@dataclass(frozen=True)
class TrialRequest:
    """Everything needed to run one trial. Paths are absolute."""

    trial_id: str
    params: dict[str, Any]
    trial_dir: str
    workdir: str
    command: list[str] | None = None  # argv; exactly one of command/function
    function: str | None = None  # 'module:function' or '/path/file.py:function'
    pass_args: bool = False  # also append every param as an argument, in ``arg_style``
    arg_style: str = "flags"  # "flags": --name value; "name=value": Hydra overrides; "--name=value": Python literals
    hydra_app: bool = False  # a Hydra app: with name=value, its run dir goes into the trial's folder
    flag_names: dict[str, str] = field(default_factory=dict)  # param -> its flag as the script spells it
    switches: dict[str, str] = field(default_factory=dict)  # param -> store_true | store_false | optional | type_bool
    env: dict[str, str] = field(default_factory=dict)  # set explicitly (never scrubbed)
    pass_env: tuple[str, ...] = ()  # names passed through the secret scrub
    timeout: float | None = None  # wall-clock seconds
    memory_mb: int | None = None  # address-space limit
    threads: int | None = None  # OMP/MKL/... threads
    gpus: tuple[int, ...] | None = None  # CUDA_VISIBLE_DEVICES; None leaves it unset
    seed: int | None = None
    grace: float = 5.0  # seconds between SIGTERM and SIGKILL
    isolation: str = "process"  # 'process' or 'strict' (bubblewrap; see sandbox/strict.py)
    network: bool = False  # strict only: keep the host's network
    max_processes: int | None = None  # processes + threads at once (fork-bomb limit; proclimit.py)
    read_paths: tuple[str, ...] = ()  # strict only: extra folders the trial may read (data sets)
    hide: tuple[str, ...] = ()  # strict only: folders never shown (the study folder)
    num_cpus: float = 1.0  # resources asked of a cluster scheduler
    num_gpus: float = 0.0


@dataclass(frozen=True)
class Report:
    """One ``TUNESMITH_REPORT`` from a running trial."""

    trial_id: str
    metrics: dict[str, float]
    step: int | None = None
    final: bool = False
    time: float = 0.0


@dataclass(frozen=True)
class TrialOutcome:
    """How a trial ended. ``reports`` holds every report, in order, including ones already streamed."""

    trial_id: str
    status: EndStatus
    returncode: int | None = None
    signal: int | None = None
    reports: tuple[Report, ...] = ()
    stdout_tail: str = ""
    stderr_tail: str = ""
    started_at: float = 0.0
    finished_at: float = 0.0
    reason: str | None = None  # cancel/stop reason, launch error, lost worker
    memory_limited: bool = False  # a memory limit was set for this trial
    max_rss_kb: int | None = None
    info: dict[str, Any] = field(default_factory=dict)


ExecutorEvent = Report | TrialOutcome


def stop_grace(grace: float, reports: Sequence[Report], started_at: float) -> float:
    """Seconds between SIGTERM and SIGKILL for an early-stopped trial: ``STOP_GRACE_STEPS`` times its mean
    interval between steps so far (the first step counted from ``started_at``; reports at one step count
    once), at least ``STOP_GRACE_FLOOR``, at most ``grace`` (the request's, i.e. the spec's grace_period).
    A trial with no report yet gets ``grace``: nothing tells how long its steps are."""
    firsts: dict[object, float] = {}
    for i, r in enumerate(reports):
        firsts.setdefault(r.step if r.step is not None else ("unnumbered", i), r.time)
    if not firsts:
        return grace
    times = sorted(firsts.values())
    interval = (times[-1] - times[0]) / (len(times) - 1) if len(times) > 1 else times[0] - started_at
    return min(grace, max(STOP_GRACE_FLOOR, STOP_GRACE_STEPS * max(0.0, interval)))


def check_submit(request: TrialRequest, *, running: Collection[str], capacity: int, closed: bool) -> None:
    """The misuse every executor's ``submit`` refuses: ``ValueError`` for a request with neither or both of
    command and function; ``RuntimeError`` once closed, for an id already running, or with every slot busy."""
    if (request.command is None) == (request.function is None):
        raise ValueError(f"trial {request.trial_id}: give exactly one of command and function")
    if closed:
        raise RuntimeError("this executor is closed; create a new one")
    if request.trial_id in running:
        raise RuntimeError(f"trial {request.trial_id} is already running")
    if len(running) >= capacity:
        raise RuntimeError(f"all {capacity} slots are busy; wait for an outcome before submitting another trial")


class TrialExecutor(abc.ABC):
    """Runs trials; ``capacity`` of them at once."""

    capacity: int = 1

    @abc.abstractmethod
    def submit(self, request: TrialRequest) -> None:
        """Start ``request`` now. Raises ``RuntimeError`` when all slots are busy."""

    @abc.abstractmethod
    def wait(self, timeout: float | None = None) -> list[ExecutorEvent]:
        """Block until at least one event is available or ``timeout`` passes; return the events."""

    @abc.abstractmethod
    def cancel(self, trial_id: str, reason: str, *, stop: bool = False) -> None:
        """End a running trial: SIGTERM at once, SIGKILL after the grace period; it ends 'cancelled'.
        ``stop=True`` is an early stop (pruning): the stop file is written and SIGTERM sent at once too
        (a script that never polls ``should_stop()`` dies of it, one that polls finishes its step), and
        the grace before SIGKILL is ``stop_grace`` (about two of the trial's steps); it ends 'stopped',
        with ``info['stop_seen']`` saying whether the trial acted on the stop (``should_stop()`` returned
        True to it), when the executor can tell. Unknown or finished ids are ignored."""

    @property
    def running(self) -> list[str]:
        """Ids of trials submitted and not yet returned as an outcome."""
        return []

    def close(self) -> None:
        """Cancel everything still running and release resources. Idempotent."""
        for trial_id in list(self.running):
            self.cancel(trial_id, "executor closed")

    def __enter__(self) -> TrialExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
