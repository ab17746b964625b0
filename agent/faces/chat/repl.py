"""The terminal chat: a read-eval-print loop over a ``Conversation``, with live study events.

Answers are printed as they stream. A background follower prints what happens in the open study (trials
finishing, commands and chat from other faces) above the prompt without disturbing what is being typed.
Ctrl-C or Ctrl-D leave: a study this chat was running is stopped the way ``tunesmith tune`` is on Ctrl-C
(running trials are re-run once on resume), and the command to continue it is printed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any, TextIO

from agent.errors import TunesmithError
from agent.faces.chat.conversation import Conversation
from agent.faces.chat.text import event_line

PROMPT = "tunesmith> "


class Follower:
    """Prints new events of the conversation's current study every ``interval`` seconds."""

    def __init__(self, conv: Conversation, out: TextIO, interval: float = 0.5) -> None:
        self.conv = conv
        self.out = out
        self.interval = interval
        self.at_prompt = False
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._dir = None if conv.handle is None else conv.handle.dir
        self._after = self._latest()
        self._thread = threading.Thread(target=self._main, name="chat-follower", daemon=True)

    def _latest(self, after: int = 0) -> int:
        """The id of the current study's last event (following starts after it, not from its history)."""
        handle = self.conv.handle
        if handle is None:
            return after
        events = handle.events(after=after)
        return events[-1].id if events else after

    def start(self) -> Follower:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _main(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.poll()
            except TunesmithError:
                continue  # the study folder went away or is busy: try again next tick

    def poll(self) -> None:
        handle = self.conv.handle
        if handle is None:
            return
        if handle.dir != self._dir:  # switched study: start following from now, not from its history
            self._dir, self._after = handle.dir, self._latest()
            return
        metric = handle.spec.metric
        for ev in handle.events(after=self._after):
            self._after = ev.id
            line = event_line(ev, metric, self.conv.source)
            if line:
                self.show(line)

    def show(self, line: str) -> None:
        with self.lock:
            if self.at_prompt:
                try:
                    import readline

                    typed = readline.get_line_buffer()
                except ImportError:
                    typed = ""
                self.out.write(f"\r\x1b[K  · {line}\n{PROMPT}{typed}")
            else:
                self.out.write(f"  · {line}\n")
            self.out.flush()


class _Interrupt:
    """Ctrl-C that reaches the prompt even while other threads run.

    The kernel may hand a terminal's SIGINT to any thread; Python then only sets a flag, and the main thread,
    blocked in ``input()``, does not notice until the next keystroke (a study running in this process has
    many threads, so this is the common case). A watcher thread reads the signal wakeup fd and, when the main
    thread has not reacted, re-sends SIGINT to it. The handler raises KeyboardInterrupt once; later Ctrl-Cs
    are ignored while the chat stops its study resumably.
    """

    def __init__(self) -> None:
        self.count = 0

    def handler(self, signum: int, frame: Any) -> None:
        self.count += 1
        if self.count == 1:
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        r, w = os.pipe()
        os.set_blocking(w, False)
        previous = signal.signal(signal.SIGINT, self.handler)
        old_fd = signal.set_wakeup_fd(w, warn_on_full_buffer=False)
        main = threading.main_thread().ident
        watcher = threading.Thread(target=self._watch, args=(r, main), name="chat-sigint", daemon=True)
        watcher.start()
        try:
            yield
        finally:
            signal.set_wakeup_fd(old_fd)
            os.close(w)  # ends the watcher's read
            watcher.join(2)
            os.close(r)
            signal.signal(signal.SIGINT, previous)

    def _watch(self, r: int, main: int | None) -> None:
        while True:
            try:
                data = os.read(r, 64)
            except OSError:
                return
            if not data:
                return
            if signal.SIGINT in data and main is not None:
                time.sleep(0.05)  # the main thread reacts at once when the signal reached it
                if self.count == 0:
                    signal.pthread_kill(main, signal.SIGINT)


def banner(conv: Conversation) -> str:
    """The first line: the open study, and whether free text has a model that answers (checked now)."""
    where = f"study {conv.handle.dir}" if conv.handle else "no study open (/studies, /open STUDY, /start SPEC)"
    assistant = conv.assistant
    if assistant is None:
        llm = "no LLM: slash-commands only (/help; free text says how to connect one)"
    else:
        problem = assistant.check()
        llm = (
            f"LLM connected: {assistant.label}"
            if problem is None
            else f"LLM UNREACHABLE: {problem}; free text fails until it answers (check OPENAI_BASE_URL "
            "and that the server runs), slash-commands work (/help)"
        )
    return f"tunesmith chat — {where}; {llm}. Ctrl-D or /quit leaves."


def completions(conv: Conversation, line: str, text: str) -> list[str]:
    """What Tab may complete ``text`` to, the word being typed at the end of ``line``: a slash-command at the
    start of the line; after ``/plot`` a plot, after ``/export`` a format, after ``/open`` a study name."""
    from agent.faces import plots
    from agent.faces.catalog import list_studies
    from agent.faces.chat.slash import COMMANDS, EXPORT_FORMATS

    before = line[: len(line) - len(text)].split()
    if not before:
        words = [f"/{name}" for name in (*COMMANDS, "quit", "exit")]
    elif len(before) >= 1 and before[0] == "/plot":
        words = list(plots.ALL_KINDS)  # "population" answers with a reason for a non-PBT study
    elif len(before) == 1 and before[0] == "/export":
        words = list(EXPORT_FORMATS)
    elif len(before) == 1 and before[0] == "/open":
        words = [p.name for p in list_studies(conv.root)]
    else:
        return []
    return [w + " " for w in sorted(words) if w.startswith(text)]


def _line_editing(conv: Conversation) -> None:
    """Line editing and history for ``input()``, and Tab completion (GNU readline or libedit)."""
    try:
        import readline
    except ImportError:
        return
    found: list[str] = []

    def complete(text: str, state: int) -> str | None:
        if state == 0:
            found[:] = completions(conv, readline.get_line_buffer()[: readline.get_endidx()], text)
        return found[state] if state < len(found) else None

    readline.set_completer_delims(" \t\n")
    readline.set_completer(complete)
    libedit = "libedit" in (readline.__doc__ or "")
    readline.parse_and_bind("bind ^I rl_complete" if libedit else "tab: complete")


def repl(conv: Conversation, *, live: bool = True, out: TextIO = sys.stdout) -> int:
    """Run the chat until the person leaves; returns the exit status (130 after Ctrl-C)."""
    _line_editing(conv)
    out.write(banner(conv) + "\n")
    with _Interrupt().installed():
        return _loop(conv, live=live, out=out)


def _loop(conv: Conversation, *, live: bool, out: TextIO) -> int:
    follower = Follower(conv, out).start() if live else None
    code = 0
    try:
        while True:
            if follower:
                follower.at_prompt = True
            try:
                line = input(PROMPT)
            except EOFError:
                out.write("\n")
                break
            finally:
                if follower:
                    follower.at_prompt = False
            if line.strip() in ("/quit", "/exit"):
                break
            wrote = False
            for chunk in conv.send(line):
                with follower.lock if follower else threading.Lock():
                    out.write(chunk)
                    out.flush()
                wrote = wrote or bool(chunk)
            if wrote:
                out.write("\n")
    except KeyboardInterrupt:
        out.write("\ninterrupted.\n")
        code = 130
    finally:
        if follower:
            follower.stop()
        here = [h.dir for h in conv.handles.running_here()]
        if here:
            out.write("stopping the study run by this chat; nothing is lost...\n")
            out.flush()
        conv.close()
        for d in here:
            out.write(f"stopped. Continue with: tunesmith resume {d}  (or /resume in tunesmith chat {d})\n")
        out.flush()
    return code
