"""Sizes and limits of the network (one place), the one error type for bad settings, and RNNConfig:
what the forward pass needs besides the numbers themselves."""

from __future__ import annotations

from dataclasses import dataclass

from .activations import NAMES as ACTIVATION_NAMES

# The limits a visitor can reach. Every size check in the project reads these (through check_size).
LIMITS = {
    "n_inputs": (1, 8),
    "n_neurons": (1, 256),
    "n_steps": (1, 50),
    "batch": (1, 32),
}
WEIGHT_SCALE_RANGE = (0.0, 10.0)  # standard deviation of Wx and Wy
MAX_ABS_INPUT = 1e6  # an input past this is a typo, not a lesson
MAX_ABS_WEIGHT = 1e6
MAX_ABS_TARGET = 1e6
SEED_MAX = 2**32 - 1

# The tutorial's network (DESIGN.md section 1).
TUTORIAL_N_NEURONS = 8
TUTORIAL_SEED = 42


class StateError(ValueError):
    """A setting or state that cannot be used; the message names the field (`field: what is wrong`)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def renamed(self, field: str) -> StateError:
        """The same problem, reported under another name (e.g. view.step for step)."""
        return StateError(field, self.message)


ConfigError = StateError  # one error type: a bad setting is a bad state


def check_size(field: str, value: object, limits: dict | None = None) -> int:
    """Return value as an int within LIMITS[field], or raise StateError naming the limit."""
    lo, hi = (limits or LIMITS)[field]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise StateError(field, f"must be a whole number, got {short(value)}")
    if not lo <= value <= hi:
        raise StateError(field, f"must be between {lo} and {hi}, got {value}")
    return value


def check_activation(value: object) -> str:
    if not isinstance(value, str) or value not in ACTIVATION_NAMES:
        raise StateError("activation", f"must be one of {', '.join(ACTIVATION_NAMES)}, got {short(value)}")
    return value


def check_weight_scale(value: object) -> float:
    lo, hi = WEIGHT_SCALE_RANGE
    if isinstance(value, bool) or not isinstance(value, int | float) or not lo <= value <= hi:
        raise StateError("weight_scale", f"must be a number between {lo} and {hi}, got {short(value)}")
    return float(value)


def short(value: object) -> str:
    """repr, cut to 40 characters (messages quote what they were given, never all of it)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass(frozen=True)
class RNNConfig:
    """What the forward pass needs besides the numbers themselves (derived from a State)."""

    n_inputs: int = 2
    n_neurons: int = TUTORIAL_N_NEURONS
    n_steps: int = 3
    batch: int = 3
    activation: str = "tanh"
    shared_output: bool = False  # False: one dense head per step, as the tutorial does
    weight_scale: float = 1.0  # std of Wx and Wy

    def validate(self, limits: dict | None = None) -> RNNConfig:
        for field in LIMITS:
            check_size(field, getattr(self, field), limits)
        check_activation(self.activation)
        if not isinstance(self.shared_output, bool):
            raise StateError("shared_output", "must be true or false")
        check_weight_scale(self.weight_scale)
        return self
