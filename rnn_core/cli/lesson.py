"""`lesson check FILE`: validate a lesson file; a summary (exit 0) or one line naming the field (exit 2)."""

from __future__ import annotations

import argparse

from ..lessons import LessonError, load_file
from .common import fail

NAME = "lesson"
HELP = "check a lesson file (lessons/*.yaml or .json): a summary, or one line naming what is wrong"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    check = sub.add_parser("check", help="validate one lesson file", description="validate one lesson file")
    check.add_argument("file", help="a lesson file (.yaml, .yml or .json)")


def run(args: argparse.Namespace) -> int:
    try:
        lesson = load_file(args.file)
    except LessonError as err:
        return fail(str(err).replace("\n", " "))
    print(f"ok: {lesson.summary()}")
    for i, step in enumerate(lesson.steps, 1):
        kind = step.question.kind if step.question else "no question"
        print(f"  {i}. {step.id}: {step.title} ({kind})")
    return 0
