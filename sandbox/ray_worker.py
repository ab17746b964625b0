"""What runs on a Ray node for ``RayExecutor``: one trial per Ray task, under the local executor.

``run_trial`` is a streaming-generator task. On the node it runs the trial exactly as ``LocalExecutor``
does on this machine (supervisor, process group, rlimits, thread caps, timeout, SIGTERM/SIGKILL), in a
scratch folder of the node, and yields messages as things happen:

    ("started", {"node_ip", "node_id", "pid", "trial_dir", "gpus"})
    ("reports", [Report, ...])                     # as the trial reports, while it runs
    ("done", TrialOutcome, archive bytes, [paths left on the node])

The archive holds the trial folder (logs, reports, artifacts); the driver unpacks it into the study
folder. Cancel and early-stop requests come through a ``Mailbox`` actor the task polls every ``poll``
seconds, so the reason and the kind of stop arrive intact. If this task's worker process dies (node
lost, force-cancel, the driver gone), the supervisor sees its parent die and kills the trial's tree.

Standard library only at import time; ``ray`` is imported inside the task (it runs in a Ray worker).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

from sandbox._archive import pack
from sandbox.base import Report, TrialOutcome, TrialRequest
from sandbox.local_executor import LocalExecutor

Message = tuple[Any, ...]


class Mailbox:
    """Cancel requests from the driver, per trial id (a Ray actor; plain class so it pickles by name)."""

    def __init__(self) -> None:
        self._box: dict[str, tuple[str, bool]] = {}

    def post(self, trial_id: str, reason: str, stop: bool) -> None:
        held = self._box.get(trial_id)
        if held is None or held[1]:  # a plain cancel overrides an early stop, never the other way round
            self._box[trial_id] = (reason, stop)

    def take(self, trial_id: str) -> tuple[str, bool] | None:
        return self._box.pop(trial_id, None)


def scratch_dir(root: str | None, key: str, trial_id: str) -> str:
    """The node-local folder of one trial: ``<tmp>/tunesmith-ray/<executor key>/<trial id>``."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in trial_id)
    return os.path.join(root or tempfile.gettempdir(), "tunesmith-ray", key, safe)


def node_request(
    request: TrialRequest, trial_dir: str, python_alias: str | None, gpus: tuple[int, ...] | None
) -> TrialRequest:
    """``request`` as it runs on this node: its scratch folder, this node's Python for the driver's
    (``python_alias``), and the GPUs Ray assigned."""
    command = request.command
    if command and python_alias is not None and command[0] == python_alias:
        command = [sys.executable, *command[1:]]
    return dataclasses.replace(
        request, trial_dir=trial_dir, command=command, gpus=gpus if gpus is not None else request.gpus
    )


def _ray_gpus(num_gpus: float) -> tuple[int, ...] | None:
    if num_gpus <= 0:
        return None
    import ray

    ids = [str(g) for g in ray.get_gpu_ids()]
    return tuple(int(g) for g in ids) if all(g.isdigit() for g in ids) else None


def run_trial(
    request: TrialRequest,
    mailbox: Any,
    *,
    key: str,
    python_alias: str | None = None,
    poll: float = 0.25,
    max_archive_bytes: int = 256 << 20,
    scratch_root: str | None = None,
) -> Iterator[Message]:
    """The Ray task body (see module docstring)."""
    import ray

    trial_dir = scratch_dir(scratch_root, key, request.trial_id)
    shutil.rmtree(trial_dir, ignore_errors=True)  # a re-run of the same id must not see old files
    gpus = _ray_gpus(request.num_gpus)
    local_request = node_request(request, trial_dir, python_alias, gpus)
    node_ip = str(ray.util.get_node_ip_address())  # type: ignore[no-untyped-call]
    yield (
        "started",
        {
            "node_ip": node_ip,
            "node_id": ray.get_runtime_context().get_node_id(),
            "pid": os.getpid(),
            "trial_dir": trial_dir,
            "gpus": list(gpus) if gpus else None,
        },
    )
    if not os.path.isdir(request.workdir):
        failed = TrialOutcome(
            request.trial_id,
            "launch_error",
            started_at=time.time(),
            finished_at=time.time(),
            reason=f"working directory {request.workdir!r} does not exist on Ray node "
            f"{node_ip}; every node needs the trial's code at the same path (a "
            "shared filesystem or the same image)",
        )
        yield ("done", failed, b"", [])
        return
    local = LocalExecutor(1, python=sys.executable)
    try:
        local.submit(local_request)
        outcome: TrialOutcome | None = None
        next_mail = 0.0
        while outcome is None:
            events = local.wait(timeout=poll)
            reports = [e for e in events if isinstance(e, Report)]
            if reports:
                yield ("reports", reports)
            outcome = next((e for e in events if isinstance(e, TrialOutcome)), None)
            now = time.monotonic()
            if outcome is None and now >= next_mail:
                next_mail = now + poll
                try:
                    asked = ray.get(mailbox.take.remote(request.trial_id), timeout=30)
                except Exception:  # the mailbox is unreachable: the trial still ends by itself or times out
                    asked = None
                if asked is not None:
                    local.cancel(request.trial_id, asked[0], stop=asked[1])
    finally:
        local.close()
    assert outcome is not None  # the loop above ends only with one
    archive, left = pack(trial_dir, max_archive_bytes)
    if not left:
        shutil.rmtree(trial_dir, ignore_errors=True)
    yield ("done", outcome, archive, left)
