"""The ``strict`` isolation profile: every trial runs in a bubblewrap (``bwrap``) sandbox.

What a strict trial sees; nothing else exists for it:

=========================================================  ======================================
the host system: /usr, /bin, /sbin, /lib*                  read-only
a few files of /etc (loader, time zone, users, DNS, TLS)   read-only (no pip.conf, npmrc, ...)
the interpreter tunesmith runs in (its prefixes, sys.path  read-only
entries and tunesmith's own packages)
the trial's workdir and ``request.read_paths``             read-only
its own trial folder                                       read-write (control files read-only)
/tmp and /dev/shm                                          private, empty, ``TMPFS_BYTES`` each
/dev                                                       minimal (null, zero, random, tty ...),
                                                           plus NVIDIA device nodes when given GPUs
/proc                                                      its own pid namespace only
=========================================================  ======================================

Namespaces: pid, ipc, uts, cgroup, and network unless ``request.network`` (a new network namespace has
only a loopback of its own, so 127.0.0.1 services of the host are out of reach too); no capabilities;
the sandbox dies with its supervisor. Every study stays out of sight, not only the running one
(``hidden_paths``): an empty read-only tmpfs covers, wherever they lie under a readable path,

- the folders in ``request.hide`` (the running study's folder) and the folder holding the trial folders;
- the studies root: the folder holding a study folder of ``request.hide``, when every sub-folder in it is
  a study folder (the default ``studies/`` layout), so studies started while the trial runs are hidden
  too. It is left visible when it is, or contains, a readable path (``--dir`` in the project itself);
- every other study folder (one holding ``study.db``) up to ``STUDY_SCAN_DEPTH`` levels below the workdir
  and each of ``request.read_paths`` (not inside ``SCAN_SKIP`` folders such as ``.git``), found when
  the trial starts: another study's database, LLM cache, logs and trials.

The trial's own folder is bound read-write on top. No readable path may lie inside a hidden folder, nor
contain the user's home folder (that would expose ~/.ssh and the like); the interpreter's own folders
under home are fine. The trial's environment is not the agent's
(``base_env``). Its process count is capped like any trial's (proclimit.py; ``SANDBOX_TASKS`` more
for bwrap's own two processes).

Files the supervisor and executor write in the trial folder (``CONTROL_FILES``) are bind-mounted
read-only over themselves, so the trial can neither change them nor swap them for links.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping

from sandbox.base import TrialRequest

TMPFS_BYTES = 1 << 30  # size cap of the private /tmp and /dev/shm
STRICT_MAX_TASKS = 4096  # process + thread limit of a strict trial when the spec sets none
SANDBOX_TASKS = 2  # bwrap's own processes inside the trial's limit (outer bwrap + pid-1 reaper)
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC_FILES = (
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "timezone",
    "passwd",
    "group",
    "nsswitch.conf",
    "hosts",
    "host.conf",
    "resolv.conf",
    "gai.conf",
    "ssl",
    "ca-certificates",
    "alternatives",
    "mime.types",
    "os-release",
)
CONTROL_FILES = ("params.json", "params.wandb.json", "launch.json", "status.json", "stdout.log", "stderr.log")
#: The only variables of the agent's environment a strict trial gets (plus those passed by name).
ENV_KEEP = ("PATH", "PYTHONPATH", "LANG", "LANGUAGE", "TZ")
OUR_PACKAGES = ("tunesmith", "agent", "tools", "prompts", "sandbox", "evals")
STUDY_DB = "study.db"  # the file that makes a folder a study folder (agent/study/folder.py's DB_NAME)
#: how deep below the workdir and each read_path other study folders are looked for (studies/NAME is 2)
STUDY_SCAN_DEPTH = 3
#: folders never searched for study folders: no study lives there, and they can hold many files
SCAN_SKIP = frozenset({".git", ".hg", ".svn", "node_modules", "__pycache__"})

__all__ = [
    "CONTROL_FILES",
    "STRICT_MAX_TASKS",
    "base_env",
    "find_bwrap",
    "hidden_paths",
    "preflight",
    "problem",
    "readable_paths",
    "setup_error",
    "wrap",
]


def find_bwrap() -> str | None:
    return shutil.which("bwrap")


def _namespace_args(network: bool) -> list[str]:
    args = ["--die-with-parent", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    if not network:
        args.append("--unshare-net")
    if os.geteuid() == 0:  # bwrap run by root keeps every capability unless told otherwise
        args += ["--cap-drop", "ALL"]
    return args


def _system_args() -> list[str]:
    args: list[str] = []
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for name in ETC_FILES:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    return [
        *args,
        "--dev",
        "/dev",
        "--proc",
        "/proc",
        "--size",
        str(TMPFS_BYTES),
        "--tmpfs",
        "/tmp",
        "--size",
        str(TMPFS_BYTES),
        "--tmpfs",
        "/dev/shm",
    ]


@functools.cache
def preflight() -> str | None:
    """Why strict sandboxes cannot start on this machine (one line with the fix), or None.
    Starts one throw-away sandbox with the namespaces a trial gets; checked once per process."""
    bwrap = find_bwrap()
    if bwrap is None:
        return (
            "isolation 'strict' needs bubblewrap, which is not installed: run 'apt-get install bubblewrap' "
            "(Debian/Ubuntu) or 'dnf install bubblewrap' (Fedora), or use isolation: process"
        )
    true = shutil.which("true") or "/bin/true"
    try:
        res = subprocess.run(
            [bwrap, *_namespace_args(False), *_system_args(), "--remount-ro", "/", "--", true],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"isolation 'strict' cannot start bubblewrap ({exc}); reinstall it or use isolation: process"
    if res.returncode != 0:
        said = (res.stderr.strip().splitlines() or [f"exit status {res.returncode}"])[-1]
        return (
            f"isolation 'strict' cannot create a sandbox here (bwrap: {said.removeprefix('bwrap: ')}); "
            "allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 and "
            "user.max_user_namespaces > 0, or your container runtime's equivalent), or use isolation: process"
        )
    return None


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


@functools.cache
def _interpreter_paths(python: str) -> tuple[str, ...]:
    """What the interpreter needs to run tunesmith's trials: its prefixes, sys.path, our packages.
    Cached per process: looking packages up costs milliseconds on every trial otherwise."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    for exe in (os.path.abspath(python), os.path.realpath(python)):
        paths.add(os.path.dirname(os.path.dirname(exe)))  # <prefix>/bin/python -> <prefix>
    paths.update(p for p in sys.path[1:] if p and os.path.isabs(p))
    import importlib.util

    for name in OUR_PACKAGES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is not None and spec.submodule_search_locations:
            paths.update(spec.submodule_search_locations)
    return tuple(sorted(p for p in paths if os.path.exists(p)))


def readable_paths(request: TrialRequest, python: str = sys.executable) -> list[str]:
    """Folders bound read-only into the sandbox (outermost only, sorted), besides the system's."""
    wanted = [*_interpreter_paths(python), request.workdir, *request.read_paths]
    return _outermost(os.path.abspath(p) for p in wanted if not any(_within(p, s) for s in SYSTEM_DIRS))


def _outermost(paths: Iterable[str]) -> list[str]:
    outer: list[str] = []
    for path in sorted(set(paths)):  # sorted: a parent comes before its children
        if not any(_within(path, kept) for kept in outer):
            outer.append(path)
    return outer


def _is_study(folder: str) -> bool:
    return os.path.isfile(os.path.join(folder, STUDY_DB))


def _studies_root(study: str, readable: list[str]) -> str | None:
    """The folder holding ``study`` when it is a studies root that may be hidden whole (module
    docstring), else None."""
    parent = os.path.dirname(study)
    if parent == study or not any(_within(parent, r) for r in readable):
        return None  # the filesystem root, or not visible to trials anyway
    if any(_within(r, parent) for r in readable):
        return None  # hiding it would hide the workdir, a read_path or the interpreter
    try:
        with os.scandir(parent) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False) and entry.path != study and not _is_study(entry.path):
                    return None  # it holds more than studies: hide the study folders one by one instead
    except OSError:
        return None
    return parent


def _study_folders(root: str, hidden: list[str]) -> list[str]:
    """Study folders at most ``STUDY_SCAN_DEPTH`` levels below ``root`` (``root`` included), outside
    ``hidden``. Links are not followed: what they point at is visible only where it is bound anyway."""
    found: list[str] = []
    level = [root]
    for depth in range(STUDY_SCAN_DEPTH + 1):
        below: list[str] = []
        for folder in level:
            if any(_within(folder, h) for h in hidden):
                continue
            if depth == STUDY_SCAN_DEPTH:  # the last level: one stat each, no listing
                if _is_study(folder):
                    found.append(folder)
                continue
            try:
                with os.scandir(folder) as it:
                    entries = list(it)
            except OSError:
                continue
            if any(e.name == STUDY_DB and e.is_file() for e in entries):
                found.append(folder)  # hidden whole: nothing below it needs a look
                continue
            below += [e.path for e in entries if e.name not in SCAN_SKIP and e.is_dir(follow_symlinks=False)]
        level = below
    return found


def hidden_paths(request: TrialRequest, readable: list[str] | None = None) -> list[str]:
    """The folders a strict trial must not see (outermost only, sorted; module docstring): the running
    study, the trial folders, the studies root, and other study folders below the workdir and read_paths.
    ``readable``: ``readable_paths(request)``, when the caller has it already."""
    if readable is None:
        readable = readable_paths(request)
    hidden = {os.path.abspath(p) for p in (*request.hide, os.path.dirname(request.trial_dir))}
    for study in request.hide:
        root = _studies_root(os.path.abspath(study), readable)
        if root is not None:
            hidden.add(root)
    outer = _outermost(hidden)
    for start in _outermost(os.path.abspath(p) for p in (request.workdir, *request.read_paths)):
        hidden.update(_study_folders(start, outer))
    return _outermost(hidden)


def problem(request: TrialRequest, argv: list[str], env: Mapping[str, str], python: str = sys.executable) -> str | None:
    """Why ``request`` cannot run under strict isolation (one line with the fix), or None."""
    found = preflight()
    if found is not None:
        return found
    readable = readable_paths(request, python)
    home = os.path.realpath(os.path.expanduser("~"))
    hidden = hidden_paths(request, readable)
    for path in readable:
        if home != "/" and _within(home, os.path.realpath(path)):
            return (
                f"isolation 'strict': {path} is readable by trials and contains your home folder {home} "
                "(~/.ssh, credentials); point workdir/read_paths at the project folder itself"
            )
        for folder in hidden:
            if _within(path, folder):
                return (
                    f"isolation 'strict': {path} lies inside {folder}, a study folder trials may not see; "
                    "copy what trials need out of the study folder"
                )
    visible = [*SYSTEM_DIRS, *readable]
    exe = argv[0] if os.sep in argv[0] else shutil.which(argv[0], path=env.get("PATH", os.defpath)) or argv[0]
    exe = os.path.join(request.workdir, exe)
    if not any(_within(os.path.abspath(exe), v) for v in visible):
        return (
            f"isolation 'strict': the command {argv[0]!r} ({exe}) is outside what trials can see; add its "
            "folder to read_paths in the spec"
        )
    return None


def base_env(environ: Mapping[str, str], pass_names: Iterable[str]) -> dict[str, str]:
    """The part of the agent's environment a strict trial gets: ``ENV_KEEP`` (search paths, locale, time
    zone), ``LC_*``, the names passed explicitly; HOME and TMPDIR point at the private /tmp."""
    keep = set(pass_names)
    env = {k: v for k, v in environ.items() if k in keep or k in ENV_KEEP or k.startswith("LC_")}
    env.setdefault("PATH", os.defpath)
    env.update(HOME="/tmp", TMPDIR="/tmp")
    return env


def _gpu_args(request: TrialRequest) -> list[str]:
    if request.gpus is None:
        return []
    args = ["--ro-bind-try", "/sys", "/sys"]  # CUDA reads the PCI topology
    try:
        names = sorted(n for n in os.listdir("/dev") if n.startswith("nvidia"))
    except OSError:
        names = []
    for name in names:
        args += ["--dev-bind-try", f"/dev/{name}", f"/dev/{name}"]
    return args


def wrap(request: TrialRequest, argv: list[str], python: str = sys.executable) -> list[str]:
    """The bwrap command line that runs ``argv`` for ``request`` (check ``problem`` first). The control
    files of the trial folder must exist: they are bound read-only over themselves."""
    bwrap = find_bwrap()
    if bwrap is None:
        raise RuntimeError(preflight())
    readable = readable_paths(request, python)
    args = [bwrap, *_namespace_args(request.network), *_system_args(), *_gpu_args(request)]
    for path in readable:
        args += ["--ro-bind", path, path]
    masks = [h for h in hidden_paths(request, readable) if os.path.isdir(h) and any(_within(h, r) for r in readable)]
    for path in masks:
        args += ["--tmpfs", path]
    trial_dir = os.path.abspath(request.trial_dir)
    args += ["--bind", trial_dir, trial_dir]
    for name in CONTROL_FILES:
        path = os.path.join(trial_dir, name)
        args += ["--ro-bind", path, path]
    for path in masks:
        args += ["--remount-ro", path]
    return [*args, "--remount-ro", "/", "--chdir", request.workdir, "--", *argv]


def setup_error(returncode: object, stderr: str, stderr_bytes: int) -> str | None:
    """bubblewrap's own complaint when it could not set up a trial's sandbox (it exits with 1 after one
    'bwrap: ' line on stderr, before the trial runs), as a launch-error reason; None otherwise."""
    lines = stderr.strip().splitlines()
    if returncode != 1 or stderr_bytes > 4096 or len(lines) != 1 or not lines[0].startswith("bwrap: "):
        return None
    return (
        f"the strict sandbox could not start the trial ({lines[0]}); check workdir, read_paths and the "
        "command, or try isolation: process to compare"
    )
