"""Fixtures shared by the sandbox tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox import strict
from scripts.raycluster import LocalRayCluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRayCluster]:
    """A two-node Ray cluster on 127.0.0.1 (head and worker node, 1 CPU each), one per test module.

    Ray is imported here, not at the top, so the modules that need no Ray load without it.
    """
    ray = pytest.importorskip("ray")
    from sandbox.ray_executor import connect

    c = LocalRayCluster(tmp_path_factory.mktemp("ray"), head_cpus=1, worker_cpus=[1]).start()
    try:
        connect(c.address)
        c.wait_nodes(ray)
        yield c
    finally:
        ray.shutdown()  # before the nodes go: a driver that loses its cluster exits the process
        c.stop()


@pytest.fixture
def no_bwrap(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No bubblewrap on this machine, as far as the strict profile's preflight can tell."""
    monkeypatch.setattr(strict, "find_bwrap", lambda: None)
    strict.preflight.cache_clear()
    yield
    strict.preflight.cache_clear()
