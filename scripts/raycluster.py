"""A throw-away Ray cluster on 127.0.0.1 for tests and benchmarks: a head and N worker nodes.

    with LocalRayCluster(tmp_path, head_cpus=1, worker_cpus=[1]) as cluster:
        RayExecutor(cluster.address, ...)
        cluster.kill_worker(0)          # a lost node: SIGKILL of that node's whole process tree

Every node is a ``ray start --block`` process started in its own session, so stopping a node ends
exactly the processes this helper started (its session), never other Ray processes on the machine.
Ports are picked free; failure detection is shortened so a killed node is noticed in seconds.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import psutil

RAY_ENV = {
    # On Linux clusters are on by default; "0" would refuse the second node (Ray reads it as "disable").
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "1",
    "RAY_AUTH_MODE": "disabled",
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_health_check_initial_delay_ms": "1000",
    "RAY_health_check_period_ms": "1000",
    "RAY_health_check_timeout_ms": "1000",
    "RAY_health_check_failure_threshold": "3",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ray_cli() -> str:
    return str(Path(sys.executable).with_name("ray"))


class LocalRayCluster:
    def __init__(
        self,
        root: Path,
        *,
        head_cpus: float = 1,
        worker_cpus: tuple[float, ...] | list[float] = (1,),
        object_store_mb: int = 80,
        head_resources: str | None = None,
    ) -> None:
        self.root = Path(root)
        self.head_cpus = head_cpus
        self.worker_cpus = list(worker_cpus)
        self.object_store = object_store_mb << 20
        self.head_resources = head_resources
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.nodes: list[subprocess.Popen[bytes]] = []
        self.env = {**os.environ, **RAY_ENV}
        self.temp_dir = tempfile.mkdtemp(prefix="tsray-")  # short: Ray's socket paths must fit in 107 bytes

    # ------------------------------------------------------------------ lifecycle
    def _start_node(self, args: list[str], name: str) -> subprocess.Popen[bytes]:
        log = open(self.root / f"{name}.log", "wb")  # noqa: SIM115 - handed to the child
        common = [
            "--node-ip-address=127.0.0.1",
            f"--object-store-memory={self.object_store}",
            "--disable-usage-stats",
            "--block",
            f"--dashboard-agent-listen-port={free_port()}",
            f"--dashboard-agent-grpc-port={free_port()}",
            f"--metrics-export-port={free_port()}",
            f"--runtime-env-agent-port={free_port()}",
        ]
        proc = subprocess.Popen(
            [_ray_cli(), "start", *args, *common],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
            cwd=self.root,
            start_new_session=True,
        )
        log.close()
        self.nodes.append(proc)
        return proc

    def start(self, timeout: float = 90.0) -> LocalRayCluster:
        self.root.mkdir(parents=True, exist_ok=True)
        head = [
            "--head",
            f"--port={self.port}",
            f"--num-cpus={self.head_cpus}",
            "--include-dashboard=false",
            f"--ray-client-server-port={free_port()}",
            f"--dashboard-port={free_port()}",
            f"--temp-dir={self.temp_dir}",
        ]
        if self.head_resources:
            head.append(f"--resources={self.head_resources}")
        self._start_node(head, "head")
        self._wait_port(timeout)
        for i, cpus in enumerate(self.worker_cpus):
            self._start_node(
                [f"--address={self.address}", f"--num-cpus={cpus}", f'--resources={{"worker{i}": 1}}'], f"worker{i}"
            )
        return self

    def _wait_port(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.nodes[0].poll() is not None:
                raise RuntimeError(f"the Ray head exited; see {self.root / 'head.log'}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"the Ray head did not open port {self.port} in {timeout:g} s")

    def wait_nodes(self, ray: Any, n: int | None = None, timeout: float = 90.0) -> None:
        """Block until ``n`` nodes (default: all) are alive, as seen by the connected driver ``ray``."""
        want = n if n is not None else 1 + len(self.worker_cpus)
        deadline = time.monotonic() + timeout
        while sum(1 for node in ray.nodes() if node["Alive"]) < want:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only some of {want} Ray nodes came up in {timeout:g} s; see {self.root}/*.log")
            time.sleep(0.3)

    def _session(self, proc: subprocess.Popen[bytes]) -> list[psutil.Process]:
        out = []
        for p in psutil.process_iter(["pid"]):
            try:
                if os.getsid(p.pid) == proc.pid:
                    out.append(p)
            except (ProcessLookupError, PermissionError, psutil.Error):
                continue
        return out

    def kill_worker(self, index: int) -> None:
        """SIGKILL every process of worker node ``index`` (a node lost without warning)."""
        proc = self.nodes[1 + index]
        for p in self._session(proc):
            try:
                p.kill()
            except psutil.Error:
                pass
        proc.wait()

    def stop(self) -> None:
        for proc in reversed(self.nodes):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)  # 'ray start --block' stops its node's processes
        deadline = time.monotonic() + 15
        for proc in self.nodes:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for proc in self.nodes:  # whatever survived in the sessions we started
            for p in self._session(proc):
                try:
                    p.kill()
                except psutil.Error:
                    pass
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if not os.environ.get("TUNESMITH_KEEP_RAY_TMP"):
            shutil.rmtree(self.temp_dir, ignore_errors=True)

    def __enter__(self) -> LocalRayCluster:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
