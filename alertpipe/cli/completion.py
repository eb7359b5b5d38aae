"""``alertpipe completion SHELL``: the shell completion script click generates."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

SHELLS = ("bash", "zsh", "fish")


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the shell completion script for SHELL (commands, options, source names).

    \b
      bash:  alertpipe completion bash > ~/.local/share/bash-completion/completions/alertpipe
      zsh:   alertpipe completion zsh > "${fpath[1]}/_alertpipe"
      fish:  alertpipe completion fish > ~/.config/fish/completions/alertpipe.fish
    Or, for the current shell only: eval "$(alertpipe completion bash)" (or zsh);
    alertpipe completion fish | source."""
    ctx = click.get_current_context()
    root = ctx.find_root().command
    cls = get_completion_class(shell)
    assert cls is not None  # one of SHELLS, all built into click
    click.echo(cls(root, {}, "alertpipe", "_ALERTPIPE_COMPLETE").source())
