"""The top-level ``tunesmith --help``: every command with its whole description."""

from __future__ import annotations

from typing import Any

from typer.core import TyperGroup


class WholeHelp(TyperGroup):
    """``tunesmith --help`` lists each command with its whole first paragraph, wrapped, never cut to "..."."""

    def format_commands(self, ctx: Any, formatter: Any) -> None:  # click's types (typer may vendor click)
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                text = cmd.short_help or (cmd.help or "").split("\n\n")[0]
                rows.append((name, " ".join(text.split())))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
