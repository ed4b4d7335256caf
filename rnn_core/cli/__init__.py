"""Command line: `python -m rnn_core COMMAND ...`.

Each command is one module with NAME, HELP, add_arguments(parser) and run(args) -> exit status.
The core's own commands are listed in CORE_COMMANDS; other packages add theirs through the entry-point
group `rnn_core.commands` (the app's figure export does: the core never imports the page).
Exit status: 0 done, 1 the engine or the output failed, 2 bad input (one line on stderr), 130 Ctrl-C.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from importlib.metadata import entry_points
from types import ModuleType

CORE_COMMANDS = ("run", "check", "code", "grad", "train", "lesson")  # modules rnn_core.cli.<name>
PLUGIN_GROUP = "rnn_core.commands"


def commands() -> list[ModuleType]:
    found = [importlib.import_module(f"{__name__}.{name}") for name in CORE_COMMANDS]
    for point in entry_points(group=PLUGIN_GROUP):
        try:
            found.append(point.load())
        except ImportError:  # an optional command whose package is not installed here
            continue
    return found


def build_parser(modules: list[ModuleType]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m rnn_core", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for module in modules:
        command = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser(commands()).parse_args(argv)
        return int(args.run(args))
    except KeyboardInterrupt:  # Ctrl-C: quiet, the shell's usual status
        print("interrupted", file=sys.stderr)
        return 130
