"""Seeded weights, the tutorial's data, and the defaults."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import RNNConfig


def tutorial_inputs() -> np.ndarray:
    """The tutorial's batch: X0 = [[1 2] [3 4] [5 6]], X1 = [[7 8] ...], X2 = [[13 14] ...]."""
    return np.arange(1, 19, dtype=np.float64).reshape(3, 3, 2)  # (T, B, F)


@dataclass(frozen=True)
class Weights:
    """The parameters named as in the equations. Wo/bo are per step unless shared."""

    Wx: np.ndarray  # (F, N)
    Wy: np.ndarray  # (N, N)
    b: np.ndarray  # (N,)
    Wo: np.ndarray  # (T, N), or (N,) when shared
    bo: np.ndarray  # (T,), or (1,) when shared

    @property
    def shared_output(self) -> bool:
        return self.Wo.ndim == 1

    def output_heads(self, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
        """Wo as (T, N) and bo as (T,), repeating a shared head at every step."""
        if self.shared_output:
            return np.tile(self.Wo, (n_steps, 1)), np.repeat(self.bo, n_steps)
        return self.Wo, self.bo

    def to_lists(self) -> dict[str, list]:
        return {name: getattr(self, name).tolist() for name in ("Wx", "Wy", "b", "Wo", "bo")}


def glorot_limit(fan_in: int, fan_out: int) -> float:
    return float(np.sqrt(6.0 / (fan_in + fan_out)))


def init_weights(config: RNNConfig, seed: int) -> Weights:
    """Wx, Wy ~ N(0, scale^2); b = 0; Wo Glorot-uniform; bo = 0. Same seed, same numbers."""
    rng = np.random.default_rng(seed)
    F, N, T = config.n_inputs, config.n_neurons, config.n_steps
    Wx = rng.normal(0.0, config.weight_scale, size=(F, N))
    Wy = rng.normal(0.0, config.weight_scale, size=(N, N))
    limit = glorot_limit(N, 1)
    head_shape = (N,) if config.shared_output else (T, N)
    Wo = rng.uniform(-limit, limit, size=head_shape)
    bo = np.zeros(1 if config.shared_output else T)
    return Weights(Wx=Wx, Wy=Wy, b=np.zeros(N), Wo=Wo, bo=bo)
