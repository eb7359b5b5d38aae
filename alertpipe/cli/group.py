"""The command groups' own conventions: an unknown subcommand is a usage error naming the
valid ones, and command lists show each command's whole first sentence (click clips it)."""

from __future__ import annotations

import click


class CommandGroup(click.Group):
    """A click group for every ``alertpipe`` group (``@click.group(cls=CommandGroup)``); its
    own subgroups are CommandGroups too."""

    group_class = type

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0]
        unknown = self.get_command(ctx, name) is None and not name.startswith("-")
        if unknown and not ctx.resilient_parsing:
            known = ", ".join(self.list_commands(ctx))
            ctx.fail(f"no such command {name!r}; choose from: {known}")
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Each command's first sentence whole (the formatter wraps it), not cut at 45
        characters with '...'."""
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.get_command(ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((name, cmd.get_short_help_str(limit=1000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
