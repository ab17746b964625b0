"""What tunesmith can read of a training script, without running it: how it takes its parameters and which
metrics it reports.

Used three ways: before a study runs (a script that reads ``--name`` flags for the space's parameters but gets
neither ``pass_args: true`` nor reads the params file would run its own defaults in every trial, so it is
refused with the fix), when a request in plain words is drafted into a spec (the drafter is told how the script
takes its params and what it reports), and in the task context every LLM prompt carries (an excerpt).

The scan is textual (regular expressions over the source): it is a guard against the common cases, not a
parser of every Python program. What it cannot tell, it does not claim.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from agent.core.define_by_run import is_define_by_run
from agent.core.function_source import source_file
from agent.core.space import CategoricalParam

if TYPE_CHECKING:
    from agent.core.spec import StudySpec

#: How params reach a trial: the JSON params file (always written), ``--name value`` flags (``pass_args``),
#: or the arguments of a Python function (``function:``).
PassMode = Literal["params_file", "flags", "name=value", "--name=value", "function", "trial"]

_PYTHON = re.compile(r"python(\d+(\.\d+)?)?")
# a declaration's arguments (one level of parens): argparse's add_argument, optparse's add_option, click's option
_ADD_ARGUMENT = re.compile(r"(?:add_argument|add_option|@(?:click\.)?option)\(((?:[^()]|\([^()]*\))*)")
_FLAG = re.compile(r"[\"']--([A-Za-z_][\w-]*)[\"']")
_SWITCH = re.compile(
    r"action\s*=\s*(?:[\"'](store_true|store_false)[\"']|(?:argparse\.)?(BooleanOptionalAction))|is_flag\s*=\s*True"
)
# argparse's type=bool reads any non-empty string, "false" included, as True: such a flag gets "" for false
_TYPE_BOOL = re.compile(r"\btype\s*=\s*bool\b")
_CLICK_PAIR = re.compile(r"[\"']--([A-Za-z_][\w-]*)\s*/\s*--no-\1[\"']")  # click's "--x/--no-x": --x or --no-x
_LITERAL = re.compile(r"[\"'][^\"'{}]*[\"']")
_KNOWN_ARGS = re.compile(r"parse_known_args|parse_known_intermixed_args")
_GENERIC = re.compile(r"\*\*\s*[A-Za-z_(]|\.items\(\)|\bvars\(|set_params\(|\.update\(")  # params used wholesale
_PARAMS_FILE = re.compile(r"TUNESMITH_PARAMS|tunesmith\s*\.\s*params\s*\(|from\s+tunesmith\s+import[^\n]*\bparams\b")
_REPORT_CALL = re.compile(r"\breport\(([^)]*)\)")
_REPORT_LINE = re.compile(r"TUNESMITH_REPORT")
_KEY = re.compile(r"[\"']([A-Za-z_]\w*)[\"']\s*:")
_SUBSCRIPT = re.compile(r"\[\s*[\"']([A-Za-z_]\w*)[\"']\s*\]|\.get\(\s*[\"']([A-Za-z_]\w*)[\"']")
_NOT_METRICS = {"step", "final"}
_SAVES_CHECKPOINT = re.compile(r"save_checkpoint|checkpoint_dir\s*\(|TUNESMITH_CHECKPOINT_DIR")
_RESTORES = re.compile(r"restore_from\s*\(|TUNESMITH_RESTORE_FROM")


_TYPER = re.compile(r"^\s*(?:import typer\b|from typer import)", re.MULTILINE)
_CONFIGURATOR = re.compile(r"exec\(.*configurator\.py")  # nanoGPT: exec(open('configurator.py').read())
_LITERAL_ARGS = re.compile(r"exec\(.*configurator\.py|\bfire\.Fire\(|from fire import Fire")
_HYDRA = re.compile(r"\bhydra\.main\b|from\s+hydra\s+import\s+[^\n]*\bmain\b")


@dataclass(frozen=True)
class ScriptScan:
    """What one script appears to do (module docstring)."""

    path: Path
    text: str
    flags: frozenset[str] = field(
        default_factory=frozenset
    )  # declared --names (argparse, optparse, click), '_' for '-'
    spelled: dict[str, str] = field(default_factory=dict)  # a flag of ``flags`` -> as declared (``learning-rate``)
    all_flags_seen: bool = False  # every add_argument names its flags literally, and unknown flags are errors
    # a bool-valued flag -> its action: store_true, store_false, optional (--x/--no-x), type_bool (type=bool)
    switches: dict[str, str] = field(default_factory=dict)
    reads_params_file: bool = False  # TUNESMITH_PARAMS or tunesmith.params()
    reported: frozenset[str] = field(default_factory=frozenset)  # metric names of report(...) / TUNESMITH_REPORT
    keys: frozenset[str] = field(default_factory=frozenset)  # names read as params["name"] or dict keys

    @property
    def uses_typer(self) -> bool:
        """A typer app: its options are its function's parameters, ``learning_rate`` as ``--learning-rate`` and a
        bool as ``--x/--no-x`` (typer's conventions; not declared in the text as argparse flags are)."""
        return _TYPER.search(self.text) is not None

    @property
    def uses_literal_args(self) -> bool:
        """It reads ``--name=value`` arguments as Python literals: nanoGPT's ``configurator.py`` (``exec``'d into
        the script's globals) or python-fire (``fire.Fire``)."""
        return _LITERAL_ARGS.search(self.text) is not None

    @property
    def uses_hydra(self) -> bool:
        """A Hydra app (``@hydra.main``): it takes its params as ``name=value`` overrides."""
        return _HYDRA.search(self.text) is not None

    @property
    def params(self) -> list[str]:
        """Names the script appears to read as parameters (report keys are not parameters)."""
        names = (self.flags | self.keys) - self.reported - _NOT_METRICS
        return sorted(n for n in names if not (n.startswith("__") and n.endswith("__")))  # not "__main__"


def _report_spans(text: str) -> list[str]:
    """The text of each ``TUNESMITH_REPORT`` statement (to the end of its bracketed expression)."""
    spans = []
    for m in _REPORT_LINE.finditer(text):
        depth, end = 0, m.end()
        for i in range(m.end(), min(len(text), m.end() + 600)):
            ch = text[i]
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth -= 1
                if depth <= 0:
                    end = i + 1
                    break
            elif ch == "\n" and depth <= 0 and i > m.end() + 1:
                end = i
                break
        spans.append(text[m.end() : end])
    return spans


def scan_text(text: str, path: Path = Path("script.py")) -> ScriptScan:
    reported = {
        m for call in _REPORT_CALL.findall(text) for m in re.findall(r"(\w+)\s*=", call) if m not in _NOT_METRICS
    }
    spans = _report_spans(text)
    reported |= {k for span in spans for k in _KEY.findall(span) if k not in _NOT_METRICS}
    without_reports = text
    for span in spans:
        without_reports = without_reports.replace(span, " ")
    keys = {a or b for a, b in _SUBSCRIPT.findall(without_reports)} | set(_KEY.findall(without_reports))
    calls = _ADD_ARGUMENT.findall(text)
    pairs = {f: "optional" for call in calls for f in _CLICK_PAIR.findall(call)}
    declared = [*(f for call in calls for f in _FLAG.findall(call)), *pairs]
    firsts = [call.split(",", 1)[0] for call in calls]
    return ScriptScan(
        path=path,
        text=text,
        flags=frozenset(f.replace("-", "_") for f in declared),
        spelled={f.replace("-", "_"): f for f in declared},
        switches={
            **{
                f.replace("-", "_"): "optional" if m.group(2) else (m.group(1) or "store_true")
                for call in calls
                if (m := _SWITCH.search(call))
                for f in _FLAG.findall(call)
            },
            **{f.replace("-", "_"): action for f, action in pairs.items()},
            **{
                f.replace("-", "_"): "type_bool"
                for call in calls
                if _TYPE_BOOL.search(call)
                for f in _FLAG.findall(call)
            },
        },
        all_flags_seen=bool(firsts)
        and all(_LITERAL.fullmatch(a.strip()) for a in firsts)
        and not _KNOWN_ARGS.search(text),
        reads_params_file=bool(_PARAMS_FILE.search(text)),
        reported=frozenset(reported),
        keys=frozenset(keys),
    )


def scan_script(path: Path) -> ScriptScan | None:
    """The scan of ``path``; None when it cannot be read."""
    try:
        return scan_text(path.read_text(encoding="utf-8", errors="replace"), path)
    except OSError:
        return None


def script_path(spec: StudySpec) -> Path | None:
    """The Python script a ``command`` runs (``python SCRIPT.py ...``), resolved against ``workdir``."""
    command = spec.command or []
    if len(command) >= 2 and _PYTHON.fullmatch(Path(command[0]).name) and command[1].endswith(".py"):
        return Path(spec.workdir or ".") / command[1]
    if spec.function:
        return source_file(spec.function, Path(spec.workdir or "."))
    return None


def read_scan(spec: StudySpec, scan: ScriptScan | None = None) -> ScriptScan | None:
    """``scan`` when given, else the scan of the spec's script (None when there is none or it cannot be read)."""
    if scan is not None:
        return scan
    path = script_path(spec)
    return scan_script(path) if path is not None else None


def pass_modes(spec: StudySpec) -> list[PassMode]:
    """How params reach a trial of ``spec``, as the task context and the drafted spec state it."""
    if spec.function:
        path = script_path(spec)
        optuna = path is not None and is_define_by_run(path, spec.function.rpartition(":")[2])
        return ["trial" if optuna else "function"]
    return ["params_file", spec.arg_style] if spec.arg_style else ["params_file"]


def params_problem(spec: StudySpec, scan: ScriptScan | None = None) -> str | None:
    """Why the space's params would never reach the script (one line with the fix), or None.

    The cases caught: a ``python SCRIPT.py`` command whose script reads argparse flags named like the space's
    parameters, does not read the params file, and is run without ``pass_args: true``: every trial would run
    the script's own defaults and measure nothing; and a script that reads ``--name=value`` Python literals
    (nanoGPT's ``configurator.py``) run without ``pass_args: --name=value``, or with ``--name value`` flags, which
    the configurator rejects.
    """
    if spec.function or not spec.command or spec.arg_style in ("name=value", "--name=value"):
        return None
    scan = read_scan(spec, scan)
    if scan is None or scan.reads_params_file:
        return None
    configurator = _CONFIGURATOR.search(scan.text) is not None
    if configurator or (scan.uses_literal_args and not spec.pass_args and not scan.flags):
        how = "--name value flags" if spec.pass_args else "the params file only"
        return (
            f"{scan.path.name} reads --name=value arguments as Python literals ("
            f"{'configurator.py' if configurator else 'python-fire'}), but the spec passes "
            f"params as {how}; set pass_args: --name=value in the spec"
        )
    bools = [n for n in spec.space.names if _bool_param(spec, n)]
    if scan.uses_literal_args and spec.arg_style == "flags" and bools:
        return (
            f"{scan.path.name} reads its arguments as Python literals (python-fire), where --{bools[0]} false is "
            "the string 'false', which is true; set pass_args: --name=value in the spec"
        )
    if spec.pass_args:
        return None
    as_flags = sorted(n for n in spec.space.names if n in scan.flags)
    if not as_flags:
        return None
    return (
        f"{scan.path.name} reads {', '.join('--' + n for n in as_flags[:4])} as command-line flags, but the spec "
        "passes params only in the params file; add pass_args: true to the spec (or read tunesmith.params() "
        "in the script)"
    )


def _flags_scan(spec: StudySpec, scan: ScriptScan | None) -> ScriptScan | None:
    """The scan ``pass_args`` flags are judged on: None without ``pass_args``, for a function, or when the
    script cannot be read."""
    if spec.arg_style != "flags" or spec.function or not spec.command:
        return None
    return read_scan(spec, scan)


def flag_names(spec: StudySpec, scan: ScriptScan | None = None) -> dict[str, str]:
    """With ``pass_args``, the params whose flag the script declares with dashes: ``{"learning_rate":
    "learning-rate"}`` (argparse accepts ``--learning-rate`` only as written, so passing ``--learning_rate``
    would fail every trial). Empty without ``pass_args`` or when the script cannot be read."""
    scan = _flags_scan(spec, scan)
    if scan is None:
        return {}
    names = [*spec.space.names, *spec.fixed]
    if scan.uses_typer:  # typer names each option after its parameter, with dashes
        return {n: scan.spelled.get(n, n.replace("_", "-")) for n in names if "_" in n or n in scan.spelled}
    return {n: scan.spelled[n] for n in names if n in scan.spelled and scan.spelled[n] != n}


def flag_switches(spec: StudySpec, scan: ScriptScan | None = None) -> dict[str, str]:
    """With ``pass_args``, the params whose flag takes no value: ``{"amp": "store_true"}``. Such a param is
    named after its flag, so a true value gives the flag alone (``--amp``; for ``store_false`` too:
    ``no_shuffle: true`` gives ``--no-shuffle``) and a false one leaves it out; ``optional`` (argparse's
    ``BooleanOptionalAction``) gives ``--amp`` or ``--no-amp``. ``--amp true`` would fail every trial.
    ``type_bool`` (argparse's ``type=bool``, which reads ``"false"`` as True) gives ``--amp 1`` or ``--amp ""``."""
    scan = _flags_scan(spec, scan)
    if scan is None:
        return {}
    out = {n: scan.switches[n] for n in [*spec.space.names, *spec.fixed] if n in scan.switches}
    if scan.uses_typer:  # a typer bool option is --x/--no-x: a param whose values are true/false is one
        out.update({n: "optional" for n in spec.space.names if n not in out and _bool_param(spec, n)})
        out.update({n: "optional" for n, v in spec.fixed.items() if n not in out and isinstance(v, bool)})
    return out


def _bool_param(spec: StudySpec, name: str) -> bool:
    p = spec.space.params[name]
    return isinstance(p, CategoricalParam) and bool(p.choices) and all(isinstance(c, bool) for c in p.choices)


def undeclared_flags_problem(spec: StudySpec, scan: ScriptScan | None = None) -> str | None:
    """Why ``pass_args: true`` would fail every trial (one line with the fix), or None: the script's argparse
    parser declares its flags literally and rejects unknown ones (``parse_args``), does not read the params
    file, and has no flag for some of the space's (or ``fixed``) params."""
    scan = _flags_scan(spec, scan)
    if scan is None or not scan.all_flags_seen or scan.reads_params_file:
        return None
    missing = [n for n in [*spec.space.names, *spec.fixed] if n.replace("-", "_") not in scan.flags]
    if not missing:
        return None
    declared = ", ".join("--" + f for f in sorted(scan.spelled.values())[:6])
    return (
        f"{scan.path.name} has no flag for {', '.join('--' + n for n in missing[:4])} (it declares {declared}); "
        "with pass_args: true its parser would reject it in every trial: add it to the script's parser, or rename "
        "the param in the spec to one of its flags"
    )


def unread_params_warnings(spec: StudySpec, scan: ScriptScan | None = None) -> list[str]:
    """A warning per space param whose name appears nowhere in the script or the Python files beside it (as
    a word, or as a dashed flag) while other params' names do: it probably never reaches the script (a typo,
    or the script reads another name with ``.get(name, default)`` and runs its default in every trial).
    Nothing is claimed for a script that names none of the params (it hands them on, e.g. ``main(params)``:
    the doctor's identical-results check covers params that reach nothing), that uses them wholesale
    (``**params``, ``.items()``, ``set_params(``), or that cannot be read."""
    scan = read_scan(spec, scan)
    if scan is None or _GENERIC.search(scan.text) or (spec.arg_style == "flags" and scan.all_flags_seen):
        return []  # wholesale use; or argparse flags, which ``undeclared_flags_problem`` checks exactly
    text = scan.text + "\n".join(_sibling_sources(scan.path))

    def named(name: str) -> bool:
        name = name.lstrip("+~")  # a Hydra override that adds (+KEY) or removes (~KEY) a config key
        spellings = {name, name.replace("_", "-")}
        return any(re.search(rf"(?<![\w-]){re.escape(s)}(?![\w-])", text) for s in spellings)

    missing = [n for n in spec.space.names if not named(n)]
    if len(missing) == len(spec.space.names):
        return []
    out = []
    others = [n for n in scan.params if n not in spec.space.names]
    for name in missing:
        near = difflib.get_close_matches(name, others, n=1, cutoff=0.3)
        read = f" (it reads {', '.join(repr(n) for n in near or others[:3])})" if near or others else ""
        out.append(
            f"space.{name}: the name does not appear in {scan.path.name}{read}, so the param may never reach it; "
            "rename the param or read it in the script"
        )
    return out


def _sibling_sources(path: Path, limit: int = 40, max_bytes: int = 400_000) -> list[str]:
    """The text of the Python files beside ``path`` (its local modules), a bounded few."""
    try:
        files = sorted(p for p in path.parent.glob("*.py") if p != path)[:limit]
        return [f.read_text(encoding="utf-8", errors="replace") for f in files if f.stat().st_size <= max_bytes]
    except OSError:
        return []


_OTHER_LOGGERS = {
    "wandb.log(": "wandb.log",
    "mlflow.log_metric": "mlflow.log_metric",
    "mlflow.log_metrics": "mlflow.log_metrics",
    "SummaryWriter": "TensorBoard's SummaryWriter",
    "self.log(": "Lightning's self.log",
    "from transformers import": "the Hugging Face Trainer",
    ".fit(": "Keras's model.fit",
}


def unreported_warning(spec: StudySpec) -> str | None:
    """A warning when a ``python SCRIPT.py`` command's script, and the Python files beside it, never report to
    tunesmith (no ``tunesmith``, no ``TUNESMITH_REPORT``): every trial would end without the objective. Naming
    the logger the script does use (``wandb.log`` ...) says where the one line goes. None when it reports, or
    for a function (it returns its metrics) or a script that cannot be read."""
    if spec.function:
        return None
    scan = read_scan(spec)
    if scan is None:
        return None
    text = scan.text + "\n".join(_sibling_sources(scan.path))
    if "tunesmith" in text.lower():
        return None
    used = [name for needle, name in _OTHER_LOGGERS.items() if needle in text]
    where = f"; it logs with {used[0]}: add the line beside it" if used else ""
    if used and used[0] == "Lightning's self.log":  # the callback reports what self.log logs, and stops on request
        where = "; it logs with Lightning's self.log: add callbacks=[TunesmithCallback()] to its Trainer (from "
        where += "tunesmith.lightning import TunesmithCallback)"
    elif used and used[0] == "the Hugging Face Trainer":
        where = "; it trains with the Hugging Face Trainer: add callbacks=[TunesmithCallback()] to it (from "
        where += "tunesmith.huggingface import TunesmithCallback)"
    elif used and used[0] == "Keras's model.fit" and "keras" in text:
        where = "; it trains with Keras: add callbacks=[TunesmithCallback()] to model.fit (from tunesmith.keras "
        where += "import TunesmithCallback)"
    elif used and used[0] == "Keras's model.fit":
        where = ""  # .fit( of scikit-learn and others: no logger to name
    return (
        f"{scan.path.name} never reports to tunesmith (no tunesmith.report(...) or TUNESMITH_REPORT line), so every "
        f"trial would end without {spec.metric}: add tunesmith.report({spec.metric}=...){where}"
    )


def syntax_problem(spec: StudySpec) -> str | None:
    """The script's syntax error (one line: file, line, message), or None. Only a ``python``/``python3``
    command is judged: it runs tunesmith's own interpreter (``trial_request``), the one that compiles here;
    a script for another interpreter, or a function file, is left to its run."""
    command = spec.command or []
    if len(command) < 2 or command[0] not in ("python", "python3") or not command[1].endswith(".py"):
        return None
    path = Path(spec.workdir or ".") / command[1]
    try:
        source = path.read_bytes()
    except OSError:
        return None
    try:
        compile(source, str(path), "exec", dont_inherit=True)
    except SyntaxError as exc:
        where = f"{path.name} line {exc.lineno}" if exc.lineno else path.name
        return f"{where}: SyntaxError: {exc.msg}; fix the script (every trial would fail before it starts)"
    except ValueError:  # e.g. null bytes: the run will say
        return None
    return None


def checkpoint_problem(spec: StudySpec, scan: ScriptScan | None = None) -> str | None:
    """Why ``scheduler: pbt`` cannot run this script (one line with what to add), or None: Population Based
    Training continues trainings from checkpoints, so the script must save them and load the one it is given.
    Only a Python script (or function file) that can be read is judged."""
    if spec.scheduler is None:
        return None
    scan = read_scan(spec, scan)
    if scan is None:
        return None
    saves, restores = bool(_SAVES_CHECKPOINT.search(scan.text)), bool(_RESTORES.search(scan.text))
    if saves and restores:
        return None
    missing = " and ".join(
        what
        for what, ok in (
            (
                "save a checkpoint each step (with tunesmith.save_checkpoint(step) as path: torch.save(state, path))",
                saves,
            ),
            ("load tunesmith.restore_from() at the start when it is set", restores),
        )
        if not ok
    )
    return f"scheduler pbt: {scan.path.name} does not checkpoint; {missing} (see README, Population Based Training)"
