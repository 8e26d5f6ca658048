"""Optimizers, early-stopping options and the training history of
:meth:`swiftmlp.MLP.fit`.

The optimizer classes are plain descriptions of an optimizer and its
hyperparameters (the library keeps the state: momentum buffers, Adam moments,
the step count).  They do not check value ranges themselves: the library does
that when the optimizer is given to a network (``net.optimizer = ...`` or
``fit(optimizer=...)``), and a value outside its documented domain raises
:class:`swiftmlp.InvalidArgumentError` there, keeping the previous optimizer.

Update formulas (include/swiftmlp.h, swiftmlp_optimizer_kind), per parameter
p with gradient dp and t = optimizer steps taken including this one:

* SGD:   d = dp + weight_decay*p; with momentum > 0: buf = momentum*buf + d,
         d = d + momentum*buf if nesterov else buf; then p -= lr*d.
         (torch.optim.SGD)
* Adam:  d = dp + weight_decay*p; m = b1*m + (1-b1)*d; v = b2*v + (1-b2)*d**2;
         p -= lr * (m/(1-b1**t)) / (sqrt(v/(1-b2**t)) + eps).  (torch.optim.Adam)
* AdamW: p *= 1 - lr*weight_decay, then Adam with d = dp.  (torch.optim.AdamW)

Each takes ``max_grad_norm`` (default 0.0 = off): before every optimizer
step (``net.step()``, ``train_step()`` without lr, ``fit``) the gradients are
clipped by their global norm as torch.nn.utils.clip_grad_norm_ does:
total = sqrt(sum of every dp**2), dp *= min(1, max_grad_norm / (total + 1e-6)).
The gradients the network holds (``get_flat_grads()``) stay unclipped.

Learning-rate schedules for ``fit(lr_schedule=...)`` (swiftmlp_lr_schedule),
applied at the start of every epoch e (0-based, of this fit) from lr0, the
optimizer's lr when fit starts; fit ends with lr0 again:

* ConstantLR():                       lr0
* InvScalingLR(power_t=0.5):          lr0 / (e*n + 1)**power_t   (sklearn "invscaling", n rows)
* AdaptiveLR(tol=1e-4, n_iter_no_change=10): sklearn "adaptive" (lr /= 5 after
  more than n_iter_no_change epochs without a training-loss improvement by
  more than tol; the fit stops when that happens at lr <= 1e-6)
* StepLR(step_size, gamma=0.1):       lr0 * gamma**(e // step_size)   (torch StepLR)
* CosineAnnealingLR(t_max, eta_min=0.0): eta_min + (lr0 - eta_min)(1 + cos(pi e / t_max))/2
                                       (torch CosineAnnealingLR, closed form)
"""

from __future__ import annotations

import math
import operator
from dataclasses import asdict, dataclass, field, fields
from typing import ClassVar, Optional

from . import _lib
from ._convert import sequence_items
from ._errors import InvalidArgumentError
from ._lib import lib, raise_error

__all__ = ["SGD", "Adam", "AdamW", "EarlyStopping", "History", "GradientCheck",
           "ConstantLR", "InvScalingLR", "AdaptiveLR", "StepLR", "CosineAnnealingLR"]


def _real(value, name: str) -> float:
    if isinstance(value, (bool, str, bytes)) or value is None:
        raise TypeError(f"{name} must be a real number, not {type(value).__name__}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, not {type(value).__name__}") from None


def _betas(value) -> tuple:
    items = sequence_items(value, "betas must be a pair of real numbers, e.g. (0.9, 0.999)")
    if len(items) != 2:
        raise_error(InvalidArgumentError,
                    f"betas must be a pair (beta1, beta2), got {len(items)} values")
    return (_real(items[0], "betas[0]"), _real(items[1], "betas[1]"))


class _Optimizer:
    """Base of SGD, Adam and AdamW."""

    _kind: ClassVar[int]

    def _struct(self) -> _lib.Optimizer:
        raise NotImplementedError  # pragma: no cover


@dataclass(frozen=True)
class SGD(_Optimizer):
    """Stochastic gradient descent, as torch.optim.SGD.

    SGD(lr, momentum=0, nesterov=False, weight_decay=0, max_grad_norm=0): lr
    finite > 0, 0 <= momentum < 1, nesterov needs momentum > 0, weight_decay
    (L2, added to the gradient) finite >= 0, max_grad_norm (gradient
    clipping, see the module's doc; 0 = off) finite >= 0.  With momentum 0
    and weight_decay 0 this is the slides' plain step p -= lr * dL/dp.
    """

    lr: float
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0
    max_grad_norm: float = 0.0
    _kind: ClassVar[int] = _lib.OPT_SGD

    def __post_init__(self):
        object.__setattr__(self, "lr", _real(self.lr, "lr"))
        object.__setattr__(self, "momentum", _real(self.momentum, "momentum"))
        object.__setattr__(self, "weight_decay", _real(self.weight_decay, "weight_decay"))
        object.__setattr__(self, "max_grad_norm", _real(self.max_grad_norm, "max_grad_norm"))
        if not isinstance(self.nesterov, bool):
            raise TypeError("nesterov must be True or False")

    def _struct(self) -> _lib.Optimizer:
        s = _default_struct(self._kind)
        s.lr, s.momentum, s.nesterov = self.lr, self.momentum, int(self.nesterov)
        s.weight_decay, s.max_grad_norm = self.weight_decay, self.max_grad_norm
        return s


@dataclass(frozen=True)
class Adam(_Optimizer):
    """Adam, as torch.optim.Adam (bias-corrected moments; weight_decay is an
    L2 term added to the gradient).

    Adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
    max_grad_norm=0): lr finite > 0, each beta in (0, 1), eps finite > 0,
    weight_decay finite >= 0, max_grad_norm (gradient clipping; 0 = off)
    finite >= 0.
    """

    lr: float = 1e-3
    betas: tuple = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 0.0
    max_grad_norm: float = 0.0
    _kind: ClassVar[int] = _lib.OPT_ADAM

    def __post_init__(self):
        object.__setattr__(self, "lr", _real(self.lr, "lr"))
        object.__setattr__(self, "betas", _betas(self.betas))
        object.__setattr__(self, "eps", _real(self.eps, "eps"))
        object.__setattr__(self, "weight_decay", _real(self.weight_decay, "weight_decay"))
        object.__setattr__(self, "max_grad_norm", _real(self.max_grad_norm, "max_grad_norm"))

    def _struct(self) -> _lib.Optimizer:
        s = _default_struct(self._kind)
        s.lr, (s.beta1, s.beta2), s.eps = self.lr, self.betas, self.eps
        s.weight_decay, s.max_grad_norm = self.weight_decay, self.max_grad_norm
        return s


@dataclass(frozen=True)
class AdamW(Adam):
    """AdamW, as torch.optim.AdamW: decoupled weight decay,
    p *= 1 - lr*weight_decay before the Adam step (which then uses the plain
    gradient).  AdamW(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01,
    max_grad_norm=0).
    """

    weight_decay: float = 0.01
    _kind: ClassVar[int] = _lib.OPT_ADAMW


_CLASSES = {_lib.OPT_SGD: SGD, _lib.OPT_ADAM: Adam, _lib.OPT_ADAMW: AdamW}
_NAMES = {"sgd": _lib.OPT_SGD, "adam": _lib.OPT_ADAM, "adamw": _lib.OPT_ADAMW}


def _default_struct(kind: int) -> _lib.Optimizer:
    s = _lib.Optimizer()
    lib.swiftmlp_optimizer_default(kind, s)
    return s


def from_struct(s: _lib.Optimizer) -> _Optimizer:
    """The SGD/Adam/AdamW object describing a swiftmlp_optimizer struct."""
    if s.kind == _lib.OPT_SGD:
        return SGD(lr=s.lr, momentum=s.momentum, nesterov=bool(s.nesterov),
                   weight_decay=s.weight_decay, max_grad_norm=s.max_grad_norm)
    cls = _CLASSES[s.kind]
    return cls(lr=s.lr, betas=(s.beta1, s.beta2), eps=s.eps, weight_decay=s.weight_decay,
               max_grad_norm=s.max_grad_norm)


def to_struct(optimizer) -> _lib.Optimizer:
    """A swiftmlp_optimizer struct from an SGD/Adam/AdamW object or a name
    ("sgd", "adam", "adamw": the library's defaults, swiftmlp_optimizer_default)."""
    if isinstance(optimizer, str):
        kind = _NAMES.get(optimizer.strip().lower())
        if kind is None:
            raise_error(InvalidArgumentError,
                        f"unknown optimizer {optimizer!r}: use one of "
                        f"{', '.join(repr(n) for n in _NAMES)} or swiftmlp.SGD(...), "
                        f"swiftmlp.Adam(...), swiftmlp.AdamW(...)")
        return _default_struct(kind)
    if isinstance(optimizer, _Optimizer):
        return optimizer._struct()
    raise TypeError(f"an optimizer must be swiftmlp.SGD(...), swiftmlp.Adam(...), "
                    f"swiftmlp.AdamW(...) or one of the names 'sgd', 'adam', 'adamw'; "
                    f"got {type(optimizer).__name__}")


@dataclass(frozen=True)
class EarlyStopping:
    """Early stopping for :meth:`swiftmlp.MLP.fit`.

    Training stops after `patience` epochs (>= 1) in a row without an
    improvement of the monitored loss (the validation loss when validation
    data is given, else the training loss) by more than `min_delta`
    (finite, >= 0).  With `restore_best` the network ends with the
    parameters it had after its best epoch.
    """

    patience: int
    min_delta: float = 0.0
    restore_best: bool = True

    def __post_init__(self):
        if isinstance(self.patience, bool):
            raise TypeError("patience must be an integer")
        try:
            patience = operator.index(self.patience)
        except TypeError:
            raise TypeError(f"patience must be an integer, not "
                            f"{type(self.patience).__name__}") from None
        if patience < 1:
            raise_error(InvalidArgumentError,
                        f"early stopping patience must be >= 1, got {patience} "
                        f"(use early_stopping=None to train every epoch)")
        if patience > _lib.SIZE_MAX:
            raise_error(InvalidArgumentError, f"patience {patience} does not fit in size_t")
        object.__setattr__(self, "patience", patience)
        min_delta = _real(self.min_delta, "min_delta")
        if not (math.isfinite(min_delta) and min_delta >= 0):
            raise_error(InvalidArgumentError,
                        f"min_delta must be finite and >= 0, got {min_delta}")
        object.__setattr__(self, "min_delta", min_delta)
        if not isinstance(self.restore_best, bool):
            raise TypeError("restore_best must be True or False")

    @classmethod
    def parse(cls, value) -> Optional["EarlyStopping"]:
        """None / an int patience / a dict / an EarlyStopping (or any object
        with a `patience` attribute and optionally min_delta, restore_best)."""
        if value is None:
            return None
        if isinstance(value, EarlyStopping):
            return value
        if isinstance(value, dict):
            unknown = set(value) - {"patience", "min_delta", "restore_best"}
            if unknown:
                raise TypeError(f"early_stopping: unknown keys {sorted(unknown)} "
                                f"(known: patience, min_delta, restore_best)")
            if "patience" not in value:
                raise TypeError("early_stopping needs a 'patience'")
            return cls(**value)
        if hasattr(value, "patience"):
            return cls(value.patience, getattr(value, "min_delta", 0.0),
                       getattr(value, "restore_best", True))
        return cls(value)


def _positive_count(value, name: str) -> int:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer")
    try:
        count = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, not {type(value).__name__}") from None
    if not 1 <= count <= _lib.SIZE_MAX:
        raise_error(InvalidArgumentError, f"{name} must be >= 1 (and fit in size_t), got {count}")
    return count


def _nonnegative(value, name: str) -> float:
    v = _real(value, name)
    if not (math.isfinite(v) and v >= 0):
        raise_error(InvalidArgumentError, f"{name} must be finite and >= 0, got {v}")
    return v


class _Schedule:
    """Base of the learning-rate schedules of fit(lr_schedule=...).  Each
    checks its parameters when made (the same domains as the library's,
    include/swiftmlp.h swiftmlp_fit_options), so that fit() can refuse a bad
    one before it changes anything."""

    _code: ClassVar[int]

    def _fill(self, opts: _lib.FitOptions) -> None:
        opts.lr_schedule = self._code


@dataclass(frozen=True)
class ConstantLR(_Schedule):
    """lr0 in every epoch (scikit-learn's learning_rate="constant")."""

    _code: ClassVar[int] = _lib.LR_CONSTANT


@dataclass(frozen=True)
class InvScalingLR(_Schedule):
    """scikit-learn's "invscaling": epoch e trains with
    lr0 / (t + 1)**power_t, t = e * n the rows trained on in this fit before
    it (SGDOptimizer.iteration_ends).  power_t finite >= 0."""

    power_t: float = 0.5
    _code: ClassVar[int] = _lib.LR_INVSCALING

    def __post_init__(self):
        object.__setattr__(self, "power_t", _nonnegative(self.power_t, "power_t"))

    def _fill(self, opts):
        super()._fill(opts)
        opts.power_t = self.power_t


@dataclass(frozen=True)
class AdaptiveLR(_Schedule):
    """scikit-learn's "adaptive" (without early_stopping): after each epoch,
    if its training loss > best - tol the no-improvement count grows, else it
    is reset; best = min(best, loss); when the count exceeds
    n_iter_no_change, the fit stops if lr <= 1e-6, else lr /= 5 and the count
    is reset.  tol finite >= 0, n_iter_no_change >= 1.  A stop sets
    History.stopped_early."""

    tol: float = 1e-4
    n_iter_no_change: int = 10
    _code: ClassVar[int] = _lib.LR_ADAPTIVE

    def __post_init__(self):
        object.__setattr__(self, "tol", _nonnegative(self.tol, "tol"))
        object.__setattr__(self, "n_iter_no_change",
                           _positive_count(self.n_iter_no_change, "n_iter_no_change"))

    def _fill(self, opts):
        super()._fill(opts)
        opts.lr_tol, opts.n_iter_no_change = self.tol, self.n_iter_no_change


@dataclass(frozen=True)
class StepLR(_Schedule):
    """torch.optim.lr_scheduler.StepLR: lr0 * gamma**(e // step_size).
    step_size >= 1, gamma in (0, 1]."""

    step_size: int
    gamma: float = 0.1
    _code: ClassVar[int] = _lib.LR_STEP

    def __post_init__(self):
        object.__setattr__(self, "step_size", _positive_count(self.step_size, "step_size"))
        gamma = _real(self.gamma, "gamma")
        if not (math.isfinite(gamma) and 0 < gamma <= 1):
            raise_error(InvalidArgumentError, f"gamma must be in (0, 1], got {gamma}")
        object.__setattr__(self, "gamma", gamma)

    def _fill(self, opts):
        super()._fill(opts)
        opts.step_size, opts.gamma = self.step_size, self.gamma


@dataclass(frozen=True)
class CosineAnnealingLR(_Schedule):
    """torch.optim.lr_scheduler.CosineAnnealingLR in closed form:
    eta_min + (lr0 - eta_min) * (1 + cos(pi * e / t_max)) / 2.
    t_max >= 1, eta_min finite >= 0."""

    t_max: int
    eta_min: float = 0.0
    _code: ClassVar[int] = _lib.LR_COSINE

    def __post_init__(self):
        object.__setattr__(self, "t_max", _positive_count(self.t_max, "t_max"))
        object.__setattr__(self, "eta_min", _nonnegative(self.eta_min, "eta_min"))

    def _fill(self, opts):
        super()._fill(opts)
        opts.t_max, opts.eta_min = self.t_max, self.eta_min


def schedule_options(schedule, opts: _lib.FitOptions) -> None:
    """Write fit(lr_schedule=...) into swiftmlp_fit_options (None: constant)."""
    if schedule is None:
        return
    if not isinstance(schedule, _Schedule):
        raise TypeError(f"lr_schedule must be None or swiftmlp.ConstantLR(), InvScalingLR(...), "
                        f"AdaptiveLR(...), StepLR(...), CosineAnnealingLR(...); "
                        f"got {type(schedule).__name__}")
    schedule._fill(opts)


@dataclass
class History:
    """What :meth:`swiftmlp.MLP.fit` did.

    loss:          mean training loss of every completed epoch (the mean of
                   its batches' losses weighted by rows, each batch's loss
                   taken before that batch's step).
    val_loss:      validation loss after every completed epoch ([] without
                   validation data).
    best_epoch:    0-based epoch with the lowest monitored loss (validation
                   if given, else training), None if no epoch completed.
    best_loss:     that loss (None if no epoch completed).
    epochs_run:    completed epochs (== len(loss)).
    stopped_early: early stopping (or AdaptiveLR's lr floor) ended the fit.
    cancelled:     the callback cancelled the fit (returned True).
    restored_best: the parameters were reset to those after best_epoch.
    lr:            the learning rate every completed epoch trained with
                   (fit's lr_schedule).

    ``history["loss"]`` works as well as ``history.loss``.
    """

    loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    best_epoch: Optional[int] = None
    best_loss: Optional[float] = None
    epochs_run: int = 0
    stopped_early: bool = False
    cancelled: bool = False
    restored_best: bool = False
    lr: list = field(default_factory=list)

    def __getitem__(self, key: str):
        if key not in {f.name for f in fields(self)}:
            raise KeyError(key)
        return getattr(self, key)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class GradientCheck:
    """The worst parameter of a gradient check (swiftmlp_gradcheck).

    max_rel_error: max_i |a_i - n_i| / max(|a_i|, |n_i|, 1e-6 * max_k |a_k|)
    index:         flat parameter index (get_flat_params() layout) of that parameter
    analytic:      a_i, the backward gradient (computed in float64)
    numeric:       n_i, the finite-difference gradient (Richardson-extrapolated
                   central differences, see MLP.gradient_check_details)
    layer, kind, position: where index points: weight layer (0-based), "W"
                   or "b", and the (row, column) of W or (row,) of b.
    """

    max_rel_error: float
    index: int
    analytic: float
    numeric: float
    layer: int
    kind: str
    position: tuple
