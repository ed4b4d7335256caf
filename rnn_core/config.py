"""Sizes and options of the network, validated against the limits (one place)."""

from __future__ import annotations

from dataclasses import dataclass

# The limits a visitor can reach. Every size check in the project reads these.
LIMITS = {
    "n_inputs": (1, 8),
    "n_neurons": (1, 256),
    "n_steps": (1, 50),
    "batch": (1, 32),
}
WEIGHT_SCALE_RANGE = (0.0, 10.0)  # standard deviation of Wx and Wy
MAX_ABS_INPUT = 1e6  # an input past this is a typo, not a lesson
MAX_ABS_WEIGHT = 1e6
ACTIVATIONS = ("tanh", "relu", "sigmoid")

# The tutorial's network (DESIGN.md section 1).
TUTORIAL_N_NEURONS = 8
TUTORIAL_SEED = 42


class ConfigError(ValueError):
    """A setting that is out of range or unknown; the message names the field."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


def check_size(field: str, value: object, limits: dict | None = None) -> int:
    """Return value as an int within LIMITS[field], or raise ConfigError naming the limit."""
    lo, hi = (limits or LIMITS)[field]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(field, f"must be a whole number, got {value!r}")
    if not lo <= value <= hi:
        raise ConfigError(field, f"must be between {lo} and {hi}, got {value}")
    return value


@dataclass(frozen=True)
class RNNConfig:
    """What the forward pass needs besides the numbers themselves."""

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
        if self.activation not in ACTIVATIONS:
            raise ConfigError(
                "activation", f"must be one of {', '.join(ACTIVATIONS)}, got {self.activation!r}"
            )
        if not isinstance(self.shared_output, bool):
            raise ConfigError("shared_output", "must be true or false")
        lo, hi = WEIGHT_SCALE_RANGE
        scale = self.weight_scale
        if isinstance(scale, bool) or not isinstance(scale, int | float) or not lo <= scale <= hi:
            raise ConfigError("weight_scale", f"must be a number between {lo} and {hi}, got {scale!r}")
        return self
