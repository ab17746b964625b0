"""The ``tunesmith`` command line (typer + rich)."""

from agent.faces.cli.app import app, main

__all__ = ["app", "main"]
