"""Run the tunesmith CLI, SIGKILLing itself inside its K-th store write transaction (after the writes,
before COMMIT): a kill that is certainly mid-write. Used by test_chaos.py only::

    python -m tests.agent.faces.cli.chaos_hook K tune SPEC --dir DIR
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from agent.study.store.sqlite import SQLiteStore


def main() -> None:
    kill_at = int(sys.argv[1])
    original = SQLiteStore._writing
    count = 0

    @contextmanager
    def writing(self: SQLiteStore) -> Iterator[object]:
        nonlocal count
        with original(self) as conn:
            yield conn
            count += 1
            if count >= kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

    SQLiteStore._writing = writing  # type: ignore[method-assign]
    from agent.faces.cli.app import app

    sys.argv = ["tunesmith", *sys.argv[2:]]
    app()


if __name__ == "__main__":
    main()
