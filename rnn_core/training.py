"""Training in plain numpy: SGD and Adam exactly as TensorFlow computes them, clipping, frozen weights.

The reference for rnn_core.tf_train (the same loop traced in TensorFlow, run by the worker). Both
follow one contract: `losses` holds the loss before training and then after every step done; a loss
that is not finite stops training and keeps the last weights whose loss was finite.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .config import MAX_ABS_WEIGHT
from .params import Weights
from .reference import GRAD_NAMES, backward, forward, loss_of
from .state import TrainingSettings

# tf.keras.optimizers.Adam's defaults (Keras 3)
BETA_1 = 0.9
BETA_2 = 0.999
EPSILON = 1e-7
# Two float32 roundings Keras makes even for float64 weights, mirrored so that we match it to ~1e-15:
# its learning_rate is a float32 variable, and ops.cast(self.beta_1, float64) in the bias correction
# goes through a float32 tensor. (The moment updates use the betas as Python floats, exactly.)
BETA_1_POWER = float(np.float32(BETA_1))  # 0.8999999761581421
BETA_2_POWER = float(np.float32(BETA_2))  # 0.9990000128746033


def keras_lr(lr: float) -> float:
    """The learning rate as Keras' Adam uses it: stored in a float32 variable."""
    return float(np.float32(lr))


# why a run stopped
DONE = "done"  # every step asked for was taken
DIVERGED = "diverged"  # the loss became NaN or inf (or a weight passed 1e6): the last finite weights are kept
REACHED = "reached"  # the loss reached settings.stop_loss


@dataclass
class OptState:
    """What the optimizer carries between steps (and between the slices of a training job)."""

    iterations: int = 0  # updates applied so far (Keras' optimizer.iterations)
    m: dict[str, np.ndarray] = field(default_factory=dict)  # Adam's first moments, per weight name
    v: dict[str, np.ndarray] = field(default_factory=dict)  # Adam's second moments

    @classmethod
    def zeros(cls, weights: Weights) -> OptState:
        zero = {name: np.zeros_like(getattr(weights, name)) for name in GRAD_NAMES}
        return cls(0, zero, {name: z.copy() for name, z in zero.items()})


@dataclass(frozen=True)
class TrainResult:
    weights: Weights  # after the last step whose loss was finite
    opt: OptState
    losses: np.ndarray  # (steps + 1,): before training, then after each step
    status: str  # DONE, DIVERGED or REACHED
    message: str = ""

    @property
    def steps(self) -> int:
        return len(self.losses) - 1


def global_norm(grads: list[np.ndarray]) -> np.float64:
    """sqrt(Σ g²) over every array, as tf.linalg.global_norm computes it."""
    return np.sqrt(sum(2.0 * (np.sum(g * g) / 2.0) for g in grads))


def clip_by_global_norm(grads: list[np.ndarray], clip: float) -> list[np.ndarray]:
    """tf.clip_by_global_norm: every gradient times clip·min(1/‖g‖, 1/clip) (so ‖result‖ ≤ clip)."""
    norm = global_norm(grads)
    with np.errstate(divide="ignore", invalid="ignore"):
        # + (norm - norm): NaN when the norm is inf, as TensorFlow does (the run then stops as diverged)
        scale = clip * np.minimum(np.float64(1.0) / norm, 1.0 / clip) + (norm - norm)
    return [g * scale for g in grads]


def adam_update(W, g, m, v, iterations: int, lr: float):
    """One Keras 3 Adam update (keras/src/optimizers/adam.py, update_step): (W, m, v) after it.

    lr as Keras holds it (keras_lr); iterations: the updates before this one."""
    t = float(iterations + 1)
    alpha = lr * np.sqrt(1.0 - np.power(BETA_2_POWER, t)) / (1.0 - np.power(BETA_1_POWER, t))
    m = m + (g - m) * (1.0 - BETA_1)
    v = v + (np.square(g) - v) * (1.0 - BETA_2)
    return W - (m * alpha) / (np.sqrt(v) + EPSILON), m, v


def step(
    weights: Weights, grads: dict[str, np.ndarray], opt: OptState, settings: TrainingSettings
) -> tuple[Weights, OptState]:
    """One update of every weight not frozen; frozen weights (and their Adam moments) stay as they are."""
    names = [name for name in GRAD_NAMES if name not in settings.freeze]
    g = [grads[name] for name in names]
    if settings.clip is not None:  # the norm of the trainable gradients only
        g = clip_by_global_norm(g, settings.clip)
    new, m, v = {}, dict(opt.m), dict(opt.v)
    for name, g_w in zip(names, g, strict=True):
        W = getattr(weights, name)
        if settings.optimizer == "sgd":
            new[name] = W - settings.lr * g_w
        else:
            new[name], m[name], v[name] = adam_update(
                W, g_w, opt.m[name], opt.v[name], opt.iterations, keras_lr(settings.lr)
            )
    return replace(weights, **new), OptState(opt.iterations + 1, m, v)


def train(
    X: np.ndarray,
    weights: Weights,
    activation: str,
    targets: np.ndarray,
    settings: TrainingSettings,
    steps: int | None = None,
    opt: OptState | None = None,
) -> TrainResult:
    """Up to `steps` (default settings.steps) updates; stops early on a loss that is not finite or that
    reaches settings.stop_loss."""
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging run is reported, not warned about
        return _train(X, weights, activation, targets, settings, steps, opt)


def _train(X, weights, activation, targets, settings, steps, opt) -> TrainResult:
    steps = settings.steps if steps is None else steps
    opt = OptState.zeros(weights) if opt is None else opt
    stop_loss = -np.inf if settings.stop_loss is None else settings.stop_loss
    g = backward(X, weights, activation, targets, sensitivities=False)
    if not np.isfinite(g.loss):
        return TrainResult(weights, opt, np.array([]), DIVERGED, "the loss is not finite before training")
    losses = [g.loss]
    for _ in range(steps):
        if losses[-1] <= stop_loss:
            break
        new_weights, new_opt = step(weights, g.grads, opt, settings)
        trace = forward(X, new_weights, activation)
        loss = loss_of(trace.outputs, targets)
        if not np.isfinite(loss) or largest(new_weights) > MAX_ABS_WEIGHT:
            message = diverged_message(new_opt.iterations, loss)
            return TrainResult(weights, opt, np.array(losses), DIVERGED, message)
        weights, opt = new_weights, new_opt
        losses.append(loss)
        g = backward(X, weights, activation, targets, trace, sensitivities=False)  # the last is unused
    if losses[-1] <= stop_loss:
        return TrainResult(
            weights, opt, np.array(losses), REACHED, reached_message(opt.iterations, losses[-1])
        )
    return TrainResult(weights, opt, np.array(losses), DONE)


def largest(weights: Weights) -> float:
    """The largest |w| of all the weights (a state holds at most MAX_ABS_WEIGHT)."""
    return max(float(np.max(np.abs(getattr(weights, name)))) for name in GRAD_NAMES)


def diverged_message(step: int, loss: float) -> str:
    """step: the update (counted from the optimizer's first) that diverged: its loss is NaN or inf, or
    a weight grew past MAX_ABS_WEIGHT, the most a state file holds."""
    what = f"the loss became {loss}" if not np.isfinite(loss) else f"a weight grew past {MAX_ABS_WEIGHT:g}"
    return (
        f"{what} at update {step}: training stopped with the weights before it, the last finite ones "
        "(try a smaller learning rate, or clipping)"
    )


def reached_message(step: int, loss: float) -> str:
    return f"the loss reached {loss:.4g} after {step} steps, at or below the stop loss"
