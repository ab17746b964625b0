"""CLI and wiring of the scale-out options: --executor/--ray-address, GPUs from the spec; bad input is one
line that says how to fix it, and nothing is lost."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from agent.core.spec import load_spec
from agent.errors import DependencyError, ResourceError, TunesmithError
from agent.faces.cli.scale import executor_choice
from agent.study.session import Session
from agent.study.wiring import ExecutorChoice, make_executor
from scripts.raycluster import free_port
from tests.agent.study.test_gpus import fake_smi

TRIAL = """
import json, os
x = json.load(open(os.environ["TUNESMITH_PARAMS"]))["x"]
print("TUNESMITH_REPORT " + json.dumps({"y": 1.0 + x, "gpu": float(os.environ.get("CUDA_VISIBLE_DEVICES", "-1"))}))
"""


def write_spec(tmp_path: Path, **extra: Any) -> Path:
    (tmp_path / "train.py").write_text(TRIAL)
    data = {
        "name": "scale",
        "objective": {"metric": "y", "direction": "maximize"},
        "command": [sys.executable, "train.py"],
        "space": {"x": {"type": "float", "low": 0, "high": 1}},
        "budget": {"max_trials": 2},
        "strategy": "random",
        "seed": 0,
        **extra,
    }
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_executor_options_combine_sensibly() -> None:
    assert executor_choice(None, None) is None
    assert executor_choice("ray", None) == ExecutorChoice(kind="ray", ray_address="auto")
    assert executor_choice(None, "10.0.0.5:6379") == ExecutorChoice(kind="ray", ray_address="10.0.0.5:6379")
    assert executor_choice("LOCAL", None) == ExecutorChoice(kind="local")
    with pytest.raises(TunesmithError, match="unknown --executor 'slurm'; choose one of: local, ray"):
        executor_choice("slurm", None)
    with pytest.raises(TunesmithError, match="--ray-address needs --executor ray"):
        executor_choice("local", "auto")


def test_ray_missing_names_the_install_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    spec = load_spec(write_spec(tmp_path))
    with pytest.raises(DependencyError, match=r"pip install 'tunesmith\[ray\]'"):
        make_executor(spec, ExecutorChoice(kind="ray"))


@pytest.mark.parametrize(
    "address, message",
    [
        ("127.0.0.1:{port}", "no Ray cluster answers at 127.0.0.1:{port}"),
        ("ray://head:10001", "Ray Client (ray://) addresses are not supported"),
        ("head-without-port", "is not HOST:PORT or 'auto'"),
    ],
)
def test_unreachable_cluster_is_one_actionable_line(tmp_path: Path, address: str, message: str) -> None:
    ray = pytest.importorskip("ray")
    if ray.is_initialized():
        pytest.skip("this process is connected to a cluster already")
    port = free_port()
    spec = load_spec(write_spec(tmp_path))
    with pytest.raises(ResourceError) as info:
        make_executor(spec, ExecutorChoice(kind="ray", ray_address=address.format(port=port)))
    assert message.format(port=port) in str(info.value) and "\n" not in str(info.value)


def test_cli_ray_errors_then_resume_locally(tmp_path: Path, cli: Any) -> None:
    pytest.importorskip("ray")
    spec = write_spec(tmp_path)
    bad = cli("tune", str(spec), "--dir", str(tmp_path / "s0"), "--executor", "slurm")
    assert bad.returncode == 2 and "unknown --executor 'slurm'" in bad.stderr and not (tmp_path / "s0").exists()
    port = free_port()
    study = tmp_path / "s1"
    down = cli("tune", str(spec), "--dir", str(study), "--ray-address", f"127.0.0.1:{port}", "--quiet")
    assert down.returncode == 2, down.stdout + down.stderr
    assert f"no Ray cluster answers at 127.0.0.1:{port}" in down.stderr and "ray start --head" in down.stderr
    assert len(down.stderr.strip().splitlines()) == 1
    # nothing is lost: the study folder remembers the choice, and can be finished locally instead
    again = cli("resume", str(study), "--executor", "local", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout.strip().splitlines()[-1])["summary"]["trials"] == 2


def test_cli_gpus_from_a_faked_nvidia_smi(tmp_path: Path, cli: Any) -> None:
    spec = write_spec(tmp_path, gpus="auto", gpus_per_trial=0.5, workers=2, budget={"max_trials": 4})
    smi_env = fake_smi(tmp_path, "0, GPU-a, Fake GPU, 1000\n1, GPU-b, Fake GPU, 1000\n")
    done = cli("tune", str(spec), "--dir", str(tmp_path / "gpu"), "--json", env=smi_env)
    assert done.returncode == 0, done.stderr
    session = Session.open(tmp_path / "gpu", readonly=True)
    gpus = sorted(t.metrics["gpu"] for t in session.trials())
    assert all(list(t.info["gpus"]) in ([0], [1]) for t in session.trials())
    assert len(gpus) == 4 and set(gpus) <= {0.0, 1.0}
    none = cli("tune", str(spec), "--dir", str(tmp_path / "cpu"), env={"PATH": str(tmp_path / "empty")})
    message = " ".join(none.stderr.split())  # rich may wrap a long line
    assert none.returncode == 2 and message.startswith("error: no GPU found (nvidia-smi is not on PATH")
    assert "remove 'gpus'/'gpus_per_trial' from the spec to run on CPU" in message
    assert not (tmp_path / "cpu").exists()  # found before the folder: no study that tune and resume refuse
