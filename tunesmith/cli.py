"""The ``tunesmith`` console entry point: agent's CLI plus the commands of evals/ (which agent may not import)."""

from __future__ import annotations

from agent.faces.cli.app import app
from evals.cli import register

register(app)


def main() -> None:
    """Console-script entry point (pyproject: ``tunesmith = "tunesmith.cli:main"``)."""
    app()


if __name__ == "__main__":
    main()
