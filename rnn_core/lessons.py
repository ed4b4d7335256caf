"""Lessons: a title, then steps a class walks through on the page (docs/LESSONS.md is the teacher's guide).

A lesson is a YAML (or JSON) file in lessons/. Each step has text (markdown with $math$), the network to
show (a whole `state`, or a `change` merged onto the previous step's network), what the page shows, and
an optional question: multiple choice, a number with a tolerance, or "click the cell that ...". A number
answer may be a reference into the step's trace (`hidden[1][0][3]`, `mean(outputs[2])`), read by the
small expression language below, never by eval.

Loading validates everything against the steps' own networks (computed by the numpy reference) and fails
with one message naming the file, the step, the line and the field:
    lessons/x.yaml, step 3 (line 41): question.answer: must be one of the choices
Pure: no streamlit, no TensorFlow.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from . import reference
from .config import StateError, short
from .state import State, View, state_from_dict, state_to_dict

LESSONS_DIR = Path(os.environ.get("RNN_LESSONS_DIR") or Path(__file__).resolve().parents[1] / "lessons")
MAX_LESSON_BYTES = 200_000  # a long lesson with explicit 8x8 weights is ~15 KB
MAX_STEPS = 100
MAX_EXPRESSION_CHARS = 200
NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")  # a shipped lesson's file name, without suffix
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")  # a step id: stable, for pooling a class's answers
SUFFIXES = (".yaml", ".yml", ".json")

# What a step can show or hide: the page's sections, top to bottom.
DEFAULT_SECTIONS = ("inputs", "hidden", "explain", "outputs", "crosscheck", "share", "code")
SECTIONS = (*DEFAULT_SECTIONS, "training", "gradients")  # (a step shows the last two only by naming them)
# Features a step may require. A step that requires one this app does not have yet is left out of the
# lesson (listed as waiting) until the feature lands: then add its name to AVAILABLE_FEATURES, and its
# section name to SECTIONS.
FEATURES = ("training", "gradients")
AVAILABLE_FEATURES: frozenset[str] = frozenset(FEATURES)  # (training and gradients landed)
KINDS = ("choice", "number", "cell")
DEFAULT_TOLERANCE = 0.05

LESSON_KEYS = ("title", "description", "steps")
STEP_KEYS = (
    "id",
    "title",
    "text",
    "state",
    "change",
    "show",
    "show_upto_step",
    "hide_until_answered",
    "focus",
    "question",
    "requires",
)
QUESTION_KEYS = ("kind", "prompt", "choices", "answer", "tolerance", "explanation")
CELL_KEYS = ("step", "row", "neuron")

Path_ = tuple[Any, ...]  # a place in the file: ("steps", 2, "question", "answer")


class LessonError(ValueError):
    """A lesson that cannot be used; the message names the file, the step, the line and the field."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


# ---- references: a small, safe expression language over a step's trace ------------------------------

FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": np.abs,
    "mean": np.mean,
    "min": np.min,
    "max": np.max,
    "sum": np.sum,
    "std": np.std,
    "tanh": np.tanh,
}
REFERENCE_NAMES = ("inputs", "hidden", "pre_activation", "outputs", "Wx", "Wy", "b", "Wo", "bo")
_TOKEN = re.compile(
    r"\s*(?:(\d+\.\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|\d+(?:[eE][-+]?\d+)?)|([A-Za-z_]\w*)|(.))"
)


def references(state: State) -> dict[str, np.ndarray]:
    """Every array a reference can name, for the state's network (the numpy reference's trace)."""
    weights = state.resolved_weights()
    trace = reference.forward(state.inputs, weights, state.activation)
    return {
        "inputs": state.inputs,  # (T, B, F)
        "hidden": trace.hidden,  # (T, B, N)
        "pre_activation": trace.pre_activation,  # (T, B, N)
        "outputs": trace.outputs,  # (T, B)
        "Wx": weights.Wx,
        "Wy": weights.Wy,
        "b": weights.b,
        "Wo": weights.Wo,
        "bo": weights.bo,
    }


class _Parser:
    """expr := term (+|- term)*; term := factor (*|/ factor)*; factor := -factor | atom;
    atom := number | name index* | function(expr) | (expr); index := [int, int, ...]"""

    def __init__(self, text: str, refs: dict[str, np.ndarray]):
        self.tokens: list[tuple[str, str]] = []
        for number, name, other in _TOKEN.findall(text):
            if number:
                self.tokens.append(("number", number))
            elif name:
                self.tokens.append(("name", name))
            elif other.strip():
                self.tokens.append(("op", other))
        self.pos = 0
        self.refs = refs

    def peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise ValueError(f"ends early{f'; expected {expected!r}' if expected else ''}")
        token = self.tokens[self.pos]
        if expected is not None and token[1] != expected:
            raise ValueError(f"expected {expected!r}, got {token[1]!r}")
        self.pos += 1
        return token

    def parse(self) -> Any:
        value = self.expr()
        if self.pos != len(self.tokens):
            raise ValueError(f"unexpected {self.tokens[self.pos][1]!r}")
        return value

    def expr(self) -> Any:
        value = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()[1]
            right = self.term()
            value = value + right if op == "+" else value - right
        return value

    def term(self) -> Any:
        value = self.factor()
        while self.peek() in ("*", "/"):
            op = self.take()[1]
            right = self.factor()
            if op == "/" and np.any(np.asarray(right) == 0):
                raise ValueError("division by zero")
            value = value * right if op == "*" else value / right
        return value

    def factor(self) -> Any:
        if self.peek() == "-":
            self.take()
            return -self.factor()
        return self.atom()

    def atom(self) -> Any:
        if self.peek() is None:
            raise ValueError("ends early; expected a number, a name or (")
        kind, text = self.take()
        if kind == "number":
            return float(text)
        if kind == "op":
            if text != "(":
                raise ValueError(f"unexpected {text!r}")
            value = self.expr()
            self.take(")")
            return value
        if text in FUNCTIONS:
            self.take("(")
            value = self.expr()
            self.take(")")
            return FUNCTIONS[text](value)
        if text not in self.refs:
            known = ", ".join(REFERENCE_NAMES)
            raise ValueError(f"unknown name {text!r}; names: {known}; functions: {', '.join(FUNCTIONS)}")
        value, shown = self.refs[text], text
        while self.peek() == "[":
            self.take("[")
            while True:
                value, shown = self.index(value, shown)
                if self.peek() != ",":
                    break
                self.take(",")
            self.take("]")
        return value

    def index(self, value: np.ndarray, shown: str) -> tuple[Any, str]:
        negative = self.peek() == "-"
        if negative:
            self.take()
        if self.peek() is None:
            raise ValueError("ends early; expected an index")
        kind, text = self.take()
        if kind != "number" or not text.isdigit():
            raise ValueError(f"an index must be a whole number, got {text!r}")
        i = -int(text) if negative else int(text)
        if np.ndim(value) == 0:
            raise ValueError(f"{shown} is a number; it has no [{i}]")
        n = len(value)
        if not -n <= i < n:
            raise ValueError(f"index {i} is out of range for {shown} (length {n})")
        return value[i], f"{shown}[{i}]"


def evaluate(expression: str | float, refs: dict[str, np.ndarray]) -> float:
    """A number, or a reference expression evaluated on a step's arrays; a finite float or ValueError."""
    if isinstance(expression, bool):
        raise ValueError("must be a number or a reference like hidden[1][0][3], got a true/false")
    if isinstance(expression, int | float):
        value = float(expression)
    elif isinstance(expression, str):
        if len(expression) > MAX_EXPRESSION_CHARS:
            raise ValueError(f"is longer than {MAX_EXPRESSION_CHARS} characters")
        with np.errstate(all="ignore"):
            value = _Parser(expression, refs).parse()
        if np.ndim(value) != 0:
            raise ValueError(f"{expression!r} is an array of shape {np.shape(value)}, not one number")
        value = float(value)
    else:
        raise ValueError(f"must be a number or a reference like hidden[1][0][3], got {short(expression)}")
    if not math.isfinite(value):
        raise ValueError(f"{short(expression)} is not a finite number ({value})")
    return value


_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.S)
_FORMAT = re.compile(r"\.\d[fge]")


def _split_placeholder(inner: str) -> tuple[str, str]:
    """'hidden[1][0][3] :.3f' -> ('hidden[1][0][3]', '.3f'); the default format is 4 significant digits."""
    expression, _, spec = inner.partition(":")
    spec = spec.strip() or ".4g"
    if not _FORMAT.fullmatch(spec):
        raise ValueError(f"format {spec!r} is not one of .Nf, .Ng, .Ne")
    return expression.strip(), spec


def fill(text: str, refs: dict[str, np.ndarray]) -> str:
    """Text with every {{ expression }} (or {{ expression :.3f }}) replaced by its value."""

    def value(match: re.Match) -> str:
        expression, spec = _split_placeholder(match.group(1))
        return format(evaluate(expression, refs), spec)

    return _PLACEHOLDER.sub(value, text)


# ---- the lesson ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CellPattern:
    """A heatmap cell a click question accepts; None means any."""

    step: int | None = None
    row: int | None = None
    neuron: int | None = None

    def matches(self, step: int, row: int, neuron: int) -> bool:
        return all(
            want is None or want == got for want, got in zip(self.key(), (step, row, neuron), strict=True)
        )

    def key(self) -> tuple[int | None, int | None, int | None]:
        return (self.step, self.row, self.neuron)

    def describe(self) -> str:
        step = "y_t (any step)" if self.step is None else f"y{self.step}"
        row = "any row" if self.row is None else f"row {self.row}"
        neuron = "any neuron" if self.neuron is None else f"neuron {self.neuron}"
        return f"{step}[{row}, {neuron}]"


@dataclass(frozen=True)
class Question:
    id: str  # "lesson/step-id": stable, so a class's answers can be pooled
    kind: str  # choice | number | cell
    prompt: str
    choices: tuple[str, ...] = ()
    answer: Any = None  # choice: the right choice's text; number: a float; cell: tuple[CellPattern, ...]
    answer_source: str = ""  # a number answer as written (a reference, or the number)
    tolerance: float = DEFAULT_TOLERANCE
    explanation: str = ""

    def is_right(self, given: Any) -> bool:
        """given: the chosen text; a number; (step, row, neuron)."""
        if self.kind == "choice":
            return given == self.answer
        if self.kind == "number":
            try:
                value = float(given)
            except (TypeError, ValueError):
                return False
            return math.isfinite(value) and abs(value - self.answer) <= self.tolerance + 1e-12
        try:
            step, row, neuron = (int(v) for v in given)
        except (TypeError, ValueError):
            return False
        return any(cell.matches(step, row, neuron) for cell in self.answer)

    def answer_text(self) -> str:
        if self.kind == "choice":
            return self.answer
        if self.kind == "number":
            return f"{self.answer:.4g} (within ±{self.tolerance:g})"
        return " or ".join(cell.describe() for cell in self.answer)


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    text: str  # markdown with {{ references }} filled in
    state: State  # the network this step shows
    show: tuple[str, ...] = DEFAULT_SECTIONS
    show_upto_step: int | None = None  # the player stops at this step (until the question is answered)
    hide_until_answered: tuple[str, ...] = ()
    focus: str = "hidden"  # the chart a slide shows (presentation mode)
    question: Question | None = None
    line: int = 0


@dataclass(frozen=True)
class Lesson:
    name: str
    title: str
    description: str
    steps: tuple[Step, ...]
    waiting: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (step id, features it waits for)
    source: str = ""

    def summary(self) -> str:
        kinds = [s.question.kind for s in self.steps if s.question]
        counts = ", ".join(f"{kinds.count(k)} {k}" for k in KINDS if k in kinds) or "none"
        text = f"{self.source}: {self.title!r}: {len(self.steps)} steps, {len(kinds)} questions ({counts})"
        if self.waiting:
            waits = "; ".join(f"{step} needs {', '.join(features)}" for step, features in self.waiting)
            text += f"; {len(self.waiting)} steps wait for features this app does not have yet ({waits})"
        return text


# ---- reading a file: values, and the line of every place in it --------------------------------------


class _Loader(yaml.SafeLoader):
    """YAML 1.2's plain scalars: only true/false are booleans (a choice "No" stays text), 1e-3 is a float."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+$"),
    list("-+0123456789."),
)


def _walk(node: yaml.Node, path: Path_, lines: dict[Path_, int], seen: set[int]) -> None:
    if id(node) in seen:
        raise LessonError(
            f"(line {node.start_mark.line + 1}): anchors and aliases (& and *) are not supported"
        )
    seen.add(id(node))
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        keys: set = set()
        for key, value in node.value:
            name = key.value
            if name in keys:
                raise LessonError(f"(line {key.start_mark.line + 1}): duplicate key {name!r}")
            keys.add(name)
            lines[(*path, name)] = key.start_mark.line + 1
            _walk(value, (*path, name), lines, seen)
            lines[(*path, name)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, (*path, i), lines, seen)


def parse_text(text: str, suffix: str = ".yaml") -> tuple[Any, dict[Path_, int]]:
    """The file's data, and the line of every place in it (what the messages quote)."""
    lines: dict[Path_, int] = {}
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is not None:
                _walk(node, (), lines, set())
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as err:
        if suffix != ".json":
            mark = getattr(err, "problem_mark", None)
            where = f"(line {mark.line + 1}): " if mark else ""
            problem = getattr(err, "problem", None) or str(err).splitlines()[0]
            raise LessonError(f"{where}not valid YAML: {problem}") from None
        data = None  # JSON that YAML cannot read (rare): the values from json, without lines
    if suffix == ".json":
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as err:
            raise LessonError(f"not valid JSON: {err}") from None
    return data, lines


def read_file(path: str | Path) -> str:
    """A regular file of at most MAX_LESSON_BYTES, as text; LessonError otherwise."""
    path = Path(path)
    try:
        info = os.stat(path)
    except OSError as err:
        raise LessonError(f"{path}: cannot read it ({err.strerror or err})") from None
    if not stat.S_ISREG(info.st_mode):
        raise LessonError(f"{path}: not a regular file")
    if info.st_size > MAX_LESSON_BYTES:
        raise LessonError(f"{path}: {info.st_size} bytes; a lesson file may have at most {MAX_LESSON_BYTES}")
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_LESSON_BYTES + 1)
        if len(raw) > MAX_LESSON_BYTES:
            raise LessonError(f"{path}: more than {MAX_LESSON_BYTES} bytes")
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise LessonError(f"{path}: not UTF-8 text") from None
    except OSError as err:
        raise LessonError(f"{path}: cannot read it ({err.strerror or err})") from None


# ---- validation ------------------------------------------------------------------------------------


class _Checker:
    """Raises LessonError("<source>, step K (line L): field: message") for the first problem found."""

    def __init__(self, source: str, lines: dict[Path_, int]):
        self.source, self.lines = source, lines

    def line(self, path: Path_) -> int | None:
        for end in range(len(path), -1, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None

    def fail(self, path: Path_, message: str) -> LessonError:
        where = self.source
        rest = path
        if len(path) >= 2 and path[0] == "steps" and isinstance(path[1], int):
            where += f", step {path[1] + 1}"
            rest = path[2:]
        line = self.line(path)
        if line is not None:
            where += f" (line {line})"
        name = _field_name(rest)
        return LessonError(f"{where}: {name + ': ' if name else ''}{message}", field=name)

    def mapping(self, value: Any, path: Path_, known: tuple[str, ...], required: tuple[str, ...]) -> dict:
        if not isinstance(value, dict):
            raise self.fail(path, f"must be a mapping with {', '.join(required or known)}")
        for key in value:
            if key not in known:
                raise self.fail((*path, key), f"unknown key; known: {', '.join(known)}")
        for key in required:
            if key not in value:
                raise self.fail(path, f"{key} is missing")
        return value

    def text(self, value: Any, path: Path_, max_chars: int = 10_000) -> str:
        if isinstance(value, bool):
            raise self.fail(path, f"must be text, got {value} (quote it: YAML reads {value} as true/false)")
        if isinstance(value, int | float):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, f"must be text, got {short(value)}")
        if len(value) > max_chars:
            raise self.fail(path, f"is {len(value)} characters; at most {max_chars}")
        return value

    def whole(self, value: Any, path: Path_, lo: int, hi: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise self.fail(path, f"must be a whole number from {lo} to {hi}, got {short(value)}")
        return value

    def sections(self, value: Any, path: Path_) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise self.fail(path, f"must be a list of sections: {', '.join(SECTIONS)}")
        for i, name in enumerate(value):
            if name not in SECTIONS:
                raise self.fail((*path, i), f"unknown section {short(name)}; sections: {', '.join(SECTIONS)}")
        return tuple(dict.fromkeys(value))

    def filled(self, text: str, path: Path_, refs: dict) -> str:
        try:
            return fill(text, refs)
        except ValueError as err:
            raise self.fail(path, f"{{{{ }}}}: {err}") from None


def _field_name(path: Path_) -> str:
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name


def _state_path(field: str) -> Path_:
    """StateError field 'weights.Wy[2][0]' -> ('weights', 'Wy', 2, 0)."""
    return tuple(int(p[1:-1]) if p.startswith("[") else p for p in re.findall(r"\[\d+\]|[^.\[\]]+", field))


def _merge(base: dict, change: dict) -> dict:
    """change merged onto base: mappings key by key, anything else replaced."""
    merged = dict(base)
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _step_state(check: _Checker, raw: dict, path: Path_, previous: State) -> State:
    if "state" in raw and "change" in raw:
        raise check.fail((*path, "change"), "a step has a state or a change, not both")
    if "state" in raw:
        key, data = "state", raw["state"]
        if not isinstance(data, dict):
            raise check.fail(
                (*path, key), "must be a mapping of state keys (inputs, n_neurons, weights, ...)"
            )
    elif "change" in raw:
        key = "change"
        if not isinstance(raw["change"], dict):
            raise check.fail(
                (*path, key), "must be a mapping of state keys (inputs, n_neurons, weights, ...)"
            )
        data = _merge(state_to_dict(previous, include_view=False), raw["change"])
    else:
        return previous.with_changes(view=View())
    try:
        state = state_from_dict(data)
    except StateError as err:
        raise check.fail((*path, key, *_state_path(err.field)), err.message) from None
    return state.with_changes(view=replace_present(state.view))


def replace_present(view: View) -> View:
    """A lesson never switches presentation mode: the page keeps its own."""
    return View(view.step, view.row, view.neuron, False)


def _cells(check: _Checker, value: Any, path: Path_, state: State) -> tuple[CellPattern, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or len(items) > 64:
        raise check.fail(path, "must be a cell {step, row, neuron}, or a list of 1 to 64 cells")
    T, B, _ = state.inputs.shape
    sizes = {"step": T, "row": B, "neuron": state.n_neurons}
    cells = []
    for i, item in enumerate(items):
        where = (*path, i) if isinstance(value, list) else path
        check.mapping(item, where, CELL_KEYS, ())
        if not item:
            raise check.fail(where, "name at least one of step, row, neuron")
        for key, size in sizes.items():
            if key in item:
                check.whole(item[key], (*where, key), 0, size - 1)
        cells.append(CellPattern(**item))
    return tuple(cells)


def _question(
    check: _Checker, raw: Any, path: Path_, step_id: str, lesson: str, state: State, refs
) -> Question:
    q = check.mapping(raw, path, QUESTION_KEYS, ("kind", "prompt", "answer"))
    kind = q["kind"]
    if kind not in KINDS:
        raise check.fail((*path, "kind"), f"must be one of {', '.join(KINDS)}, got {short(kind)}")
    prompt = check.filled(check.text(q["prompt"], (*path, "prompt")), (*path, "prompt"), refs)
    explanation = ""
    if "explanation" in q:
        explanation = check.filled(
            check.text(q["explanation"], (*path, "explanation")), (*path, "explanation"), refs
        )
    qid = f"{lesson}/{step_id}"
    for key in ("choices", "tolerance"):
        wanted = {"choices": "choice", "tolerance": "number"}[key]
        if key in q and kind != wanted:
            raise check.fail((*path, key), f"only a {wanted} question has {key}")
    answer = q["answer"]
    if kind == "choice":
        choices = q.get("choices")
        if not isinstance(choices, list) or not 2 <= len(choices) <= 8:
            raise check.fail((*path, "choices"), "a choice question needs a list of 2 to 8 choices")
        texts = tuple(check.text(c, (*path, "choices", i), 500) for i, c in enumerate(choices))
        if len(set(texts)) != len(texts):
            raise check.fail((*path, "choices"), "two choices are the same")
        if isinstance(answer, int | float) and not isinstance(answer, bool):
            answer = str(answer)
        if answer not in texts:
            raise check.fail((*path, "answer"), "must be one of the choices (its exact text)")
        return Question(qid, kind, prompt, texts, answer, str(answer), explanation=explanation)
    if kind == "number":
        tolerance = q.get("tolerance", DEFAULT_TOLERANCE)
        if isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or not 0 < tolerance <= 1e6:
            raise check.fail((*path, "tolerance"), f"must be a number above 0, got {short(tolerance)}")
        try:
            value = evaluate(answer, refs)
        except ValueError as err:
            raise check.fail((*path, "answer"), str(err)) from None
        return Question(qid, kind, prompt, (), value, str(answer), float(tolerance), explanation)
    cells = _cells(check, answer, (*path, "answer"), state)
    return Question(qid, kind, prompt, (), cells, "", explanation=explanation)


def _step(check: _Checker, raw: dict, i: int, lesson: str, state: State, seen_ids: set) -> Step:
    path: Path_ = ("steps", i)
    step_id = raw["id"]
    T = state.inputs.shape[0]
    refs = references(state)
    text = check.filled(check.text(raw["text"], (*path, "text")), (*path, "text"), refs)
    show = check.sections(raw["show"], (*path, "show")) if "show" in raw else DEFAULT_SECTIONS
    hide: tuple[str, ...] = ()
    if "hide_until_answered" in raw:
        hide = check.sections(raw["hide_until_answered"], (*path, "hide_until_answered"))
        if "question" not in raw:
            raise check.fail((*path, "hide_until_answered"), "needs a question (hidden until it is answered)")
    upto = None
    if "show_upto_step" in raw:
        upto = check.whole(raw["show_upto_step"], (*path, "show_upto_step"), 0, T - 1)
    focus = raw.get("focus", "hidden")
    if focus not in SECTIONS:
        raise check.fail((*path, "focus"), f"unknown section {short(focus)}; sections: {', '.join(SECTIONS)}")
    question = None
    if "question" in raw:
        question = _question(check, raw["question"], (*path, "question"), step_id, lesson, state, refs)
        if question.kind == "cell":
            where = (*path, "question", "answer")
            if "hidden" not in show or "hidden" in hide:
                raise check.fail(where, "a click question needs the hidden section shown (it is hidden)")
            for cell in question.answer:
                if upto is not None and (cell.step is None or cell.step > upto):
                    shown = "any step" if cell.step is None else f"step {cell.step}"
                    raise check.fail(
                        where, f"{shown} cannot be clicked: the page shows y0 … y{upto} until answered"
                    )
    return Step(
        step_id,
        check.text(raw["title"], (*path, "title"), 200),
        text,
        state,
        show,
        upto,
        hide,
        focus,
        question,
        check.line(path) or 0,
    )


def lesson_from_data(data: Any, lines: dict[Path_, int], source: str, name: str) -> Lesson:
    """Validate decoded lesson data: every step's network, sections, question and answer."""
    check = _Checker(source, lines)
    top = check.mapping(data, (), LESSON_KEYS, ("title", "steps"))
    title = check.text(top["title"], ("title",), 200)
    description = check.text(top["description"], ("description",)) if "description" in top else ""
    raw_steps = top["steps"]
    if not isinstance(raw_steps, list) or not 1 <= len(raw_steps) <= MAX_STEPS:
        raise check.fail(("steps",), f"must be a list of 1 to {MAX_STEPS} steps")
    steps, waiting, seen_ids = [], [], set()
    state = State()
    for i, raw in enumerate(raw_steps):
        path: Path_ = ("steps", i)
        check.mapping(raw, path, STEP_KEYS, ("id", "title", "text"))
        step_id = raw["id"]
        if not isinstance(step_id, str) or not ID_PATTERN.fullmatch(step_id):
            raise check.fail(
                (*path, "id"), "must be a short id of a-z, 0-9 and - (it names the step's answers)"
            )
        if step_id in seen_ids:
            raise check.fail((*path, "id"), f"{step_id!r} is the id of an earlier step; ids must be unique")
        seen_ids.add(step_id)
        requires = raw.get("requires", [])
        if isinstance(requires, str):
            requires = [requires]
        if not isinstance(requires, list) or any(f not in FEATURES for f in requires):
            raise check.fail((*path, "requires"), f"must be a list of some of {', '.join(FEATURES)}")
        missing = tuple(f for f in requires if f not in AVAILABLE_FEATURES)
        if missing:
            check.text(raw["title"], (*path, "title"), 200)
            waiting.append((step_id, missing))
            continue
        state = _step_state(check, raw, path, state)
        steps.append(_step(check, raw, i, name, state, seen_ids))
    if not steps:
        raise check.fail(("steps",), "every step waits for a feature this app does not have yet")
    return Lesson(name, title, description, tuple(steps), tuple(waiting), source)


def load_text(text: str, source: str = "lesson", suffix: str = ".yaml", name: str = "") -> Lesson:
    try:
        data, lines = parse_text(text, suffix)
    except LessonError as err:
        raise LessonError(f"{source} {err}" if str(err).startswith("(") else f"{source}: {err}") from None
    return lesson_from_data(data, lines, source, name or Path(source).stem)


def load_file(path: str | Path) -> Lesson:
    """A lesson file (.yaml, .yml or .json): read (a regular file, size-limited) and validated."""
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise LessonError(f"{path}: a lesson file ends in {', '.join(SUFFIXES)}")
    return load_text(read_file(path), str(path), path.suffix.lower(), path.stem)


# ---- the shipped lessons -----------------------------------------------------------------------------


def shipped(directory: Path | None = None) -> dict[str, Path]:
    """Lesson name -> file, for the regular files in lessons/ with a plain name. The page opens lessons
    only by a name from this list, never by a path from a URL."""
    directory = directory or LESSONS_DIR
    found: dict[str, Path] = {}
    try:
        entries = sorted(directory.iterdir())
    except OSError:
        return found
    for path in entries:
        if path.suffix.lower() in SUFFIXES and NAME_PATTERN.fullmatch(path.stem) and path.is_file():
            found.setdefault(path.stem, path)
    return found


def load_shipped(name: str, directory: Path | None = None) -> Lesson:
    lessons = shipped(directory)
    if not isinstance(name, str) or name not in lessons:
        known = ", ".join(lessons) or "none"
        raise LessonError(f"there is no lesson named {short(name)} (lessons: {known})")
    path = lessons[name]
    return load_text(read_file(path), f"lessons/{path.name}", path.suffix.lower(), name)


@dataclass
class Answer:
    """A student's answer to one question (what a class pool would collect, under Question.id)."""

    question_id: str
    given: Any  # the chosen text, a number, (step, row, neuron); None when skipped
    right: bool
    skipped: bool = False
    extra: dict = field(default_factory=dict)
