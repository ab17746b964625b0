"""Fuzzing spec parsing from dicts, YAML, TOML and JSON text: a ``SpecError`` with one line, or a spec;
never another exception."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from agent.core.spec import StudySpec, load_spec
from agent.errors import SpecError
from tests.fuzz.strategies import FUZZ, JSON, VALID, mutated_specs

BASE = Path(tempfile.gettempdir())


def _load(source: Any) -> StudySpec | None:
    try:
        spec = load_spec(source, base_dir=BASE)
    except SpecError as exc:
        message = str(exc)
        assert message and "\n" not in message and "Traceback" not in message, message
        return None
    assert isinstance(spec, StudySpec)
    assert load_spec(spec.to_dict(), base_dir=BASE) == spec  # what we store reads back the same
    return spec


def _load_text(text: str, suffix: str) -> StudySpec | None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"spec{suffix}"
        path.write_text(text, encoding="utf-8")
        return _load(path)


def test_the_fuzzers_start_from_a_valid_spec() -> None:
    assert _load(VALID) is not None


@FUZZ
@given(JSON.filter(lambda d: not isinstance(d, str)))  # a string is a file path to load_spec
def test_any_json_value_as_a_spec(data: Any) -> None:
    _load(data)


def test_a_folder_or_a_binary_file_as_the_spec_path(tmp_path: Path) -> None:
    (tmp_path / "spec.yaml").mkdir()
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00")
    assert _load(tmp_path / "spec.yaml") is None and _load(tmp_path / "bin.yaml") is None
    assert _load(str(tmp_path)) is None


@FUZZ
@given(mutated_specs())
def test_a_valid_spec_with_random_mutations(data: Any) -> None:
    _load(data)


@FUZZ
@given(st.text(max_size=300))
def test_arbitrary_yaml_text(text: str) -> None:
    _load_text(text, ".yaml")


@FUZZ
@given(mutated_specs())
def test_mutated_specs_written_as_yaml(data: Any) -> None:
    _load_text(yaml.safe_dump(data), ".yaml")


@FUZZ
@given(st.text(max_size=300))
def test_arbitrary_toml_text(text: str) -> None:
    _load_text(text, ".toml")


TOML_LINES = [
    'name = "x"\n',
    '[objective]\nmetric = "a"\ndirection = "max"\n',
    'command = "python t.py"\n',
    '[space.lr]\ntype = "float"\nlow = 0.1\nhigh = 1\n',
    "[budget]\nmax_trials = 3\n",
    'isolation = "strict"\n',
    "workers = 0\n",
    "[space]\n",
    "x = 1979-05-27T07:32:00Z\n",
    '[space.x]\nlow = "a"\n',
    'network = "yes"\n',
    'read_paths = ["data", 3]\n',
]


@FUZZ
@given(st.lists(st.sampled_from(TOML_LINES), max_size=8))
def test_toml_built_from_plausible_lines(lines: list[str]) -> None:
    _load_text("".join(lines), ".toml")


@FUZZ
@given(st.text(max_size=200) | mutated_specs().map(json.dumps))
def test_arbitrary_json_text(text: str) -> None:
    _load_text(text, ".json")
