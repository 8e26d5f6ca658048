"""scikit-learn estimators backed by swiftmlp: MLPClassifier and MLPRegressor.

They follow ``sklearn.neural_network.MLPClassifier`` / ``MLPRegressor`` (1.x):
the same parameter names where the meaning is the same, the same fitted
attributes, and scikit-learn's own training loop (epochs, ``tol`` and
``n_iter_no_change``, early stopping on a validation split scored with
``score``, the ``invscaling`` and ``adaptive`` learning rates), with every
epoch's batches trained by the library (``swiftmlp.MLP.fit``, one epoch per
call, the optimizer's state kept across epochs).  Each estimator holds its
network as ``net_`` (a ``swiftmlp.MLP``).

Differences from scikit-learn (defaults are otherwise scikit-learn's):

* ``solver``: ``"adam"`` (default) or ``"sgd"``; no ``"lbfgs"`` (and no
  ``max_fun``).
* Losses: the regressor's ``"squared_error"`` is the mean of (y - p)^2 over
  samples and outputs (scikit-learn's is half of that), so its gradients are
  twice scikit-learn's for one output; the multilabel classifier's binary
  log-loss is averaged over labels too (scikit-learn sums over labels).
  Binary and multiclass log-losses are scikit-learn's.
* ``alpha`` becomes the optimizer's L2 weight decay ``alpha / (batch_size *
  mean sample weight)`` (scikit-learn divides by each batch's weight sum: the
  same for full batches), applied to the biases as well (scikit-learn:
  weights only); ``loss_curve_`` holds the data loss without the L2 term.
* Momentum SGD is PyTorch's form (v = momentum v + g; p -= lr v), which is
  scikit-learn's (v = momentum v - lr g; p += v) whenever lr is constant.
* Initialisation: Glorot uniform weights (scikit-learn's bound for tanh and
  relu; it uses a smaller one for ``logistic``) with zero biases
  (scikit-learn draws biases from the same range).
* ``random_state`` also seeds the network's own shuffling; ``None`` draws a
  seed from NumPy's global generator, as scikit-learn's estimators do.
* ``dtype`` (``"float64"`` default, or ``"float32"``) is the network's
  element type; ``out_activation`` (``"identity"`` default or
  ``"logistic"``) and ``loss`` (``"squared_error"`` default or
  ``"binary_cross_entropy"``, which needs ``out_activation="logistic"``) are
  the regressor's: ``out_activation="logistic", loss="squared_error"`` is
  the lecture slides' network.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import _check_partial_fit_first_call, type_of_target
from sklearn.utils.validation import (_check_sample_weight, check_is_fitted, column_or_1d,
                                      validate_data)

from ._optim import SGD, Adam
from .mlp import MLP

__all__ = ["MLPClassifier", "MLPRegressor", "EXPECTED_FAILED_CHECKS"]

#: Checks of ``sklearn.utils.estimator_checks`` these estimators are known to
#: fail, with the reason (passed to ``parametrize_with_checks`` as
#: ``expected_failed_checks``).
EXPECTED_FAILED_CHECKS: dict = {
    "MLPClassifier": {},
    "MLPRegressor": {},
}

_HIDDEN = {"logistic": "sigmoid", "tanh": "tanh", "relu": "relu", "identity": "identity"}
_DTYPES = {"float64": np.float64, "float32": np.float32}


#: The parameters both estimators take, in signature order, with their
#: defaults (scikit-learn's, plus ``dtype``); the first two may be given by
#: position, the rest by keyword only. The regressor adds its own after them.
_PARAMETERS = {
    "hidden_layer_sizes": (100,), "activation": "relu",
    "solver": "adam", "alpha": 0.0001, "batch_size": "auto", "learning_rate": "constant",
    "learning_rate_init": 0.001, "power_t": 0.5, "max_iter": 200, "shuffle": True,
    "random_state": None, "tol": 1e-4, "verbose": False, "warm_start": False,
    "momentum": 0.9, "nesterovs_momentum": True, "early_stopping": False,
    "validation_fraction": 0.1, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8,
    "n_iter_no_change": 10, "dtype": "float64",
}


def _init_taking(own: dict):
    """An estimator's ``__init__`` over ``_PARAMETERS`` and then ``own`` (name:
    default, keyword-only). It stores each argument under its name and does
    nothing else, as scikit-learn requires; its ``__signature__`` lists every
    parameter, which is where scikit-learn's ``get_params`` and ``clone`` read
    the names."""
    by_position, by_keyword = inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY
    signature = inspect.Signature([inspect.Parameter("self", by_position)] + [
        inspect.Parameter(name, by_position if i < 2 else by_keyword, default=default)
        for i, (name, default) in enumerate({**_PARAMETERS, **own}.items())])

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        for name, value in bound.arguments.items():
            if name != "self":
                setattr(self, name, value)

    __init__.__signature__ = signature
    return __init__


class _BaseMLP(BaseEstimator):
    """scikit-learn's training loop over a swiftmlp network."""

    __init__ = _init_taking({})

    # ---- parameters ---------------------------------------------------------

    def _hidden_sizes(self) -> list:
        sizes = self.hidden_layer_sizes
        sizes = list(sizes) if np.iterable(sizes) else [sizes]
        if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0
                   for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be positive integers, got {self.hidden_layer_sizes!r}")
        return [int(s) for s in sizes]

    def _check_params(self) -> None:
        def choice(name, options):
            if getattr(self, name) not in options:
                raise ValueError(f"{name} must be one of {sorted(options)}, got {getattr(self, name)!r}")

        def number(name, low, high, low_open=False, high_open=False, integer=False):
            value = getattr(self, name)
            kinds = (int, np.integer) if integer else (int, float, np.integer, np.floating)
            ok = isinstance(value, kinds) and not isinstance(value, bool) and np.isfinite(value)
            ok = ok and (value > low if low_open else value >= low)
            ok = ok and (high is None or (value < high if high_open else value <= high))
            if not ok:
                span = f"{'(' if low_open else '['}{low}, {'inf' if high is None else high}{')' if high_open or high is None else ']'}"
                raise ValueError(f"{name} must be {'an integer' if integer else 'a number'} in {span}, got {value!r}")

        choice("activation", _HIDDEN)
        choice("solver", {"adam", "sgd"})
        choice("learning_rate", {"constant", "invscaling", "adaptive"})
        choice("dtype", _DTYPES)
        number("alpha", 0, None)
        number("learning_rate_init", 0, None, low_open=True)
        number("power_t", 0, None)
        number("max_iter", 1, None, integer=True)
        number("tol", 0, None)
        number("momentum", 0, 1, high_open=True)
        number("validation_fraction", 0, 1, low_open=True, high_open=True)
        number("beta_1", 0, 1, low_open=True, high_open=True)
        number("beta_2", 0, 1, low_open=True, high_open=True)
        number("epsilon", 0, None, low_open=True)
        number("n_iter_no_change", 1, None, integer=True)
        if not (self.batch_size == "auto" or (isinstance(self.batch_size, (int, np.integer))
                                              and not isinstance(self.batch_size, bool)
                                              and self.batch_size >= 1)):
            raise ValueError(f"batch_size must be 'auto' or an integer >= 1, got {self.batch_size!r}")
        for name in ("shuffle", "verbose", "warm_start", "nesterovs_momentum", "early_stopping"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        self._hidden_sizes()

    def _optimizer(self, batch_size: int, mean_weight: float):
        # scikit-learn adds alpha W / (the batch's weight sum) to the gradient.
        decay = self.alpha / (batch_size * mean_weight)
        if self.solver == "sgd":
            return SGD(self.learning_rate_init, momentum=self.momentum,
                       nesterov=bool(self.nesterovs_momentum and self.momentum > 0),
                       weight_decay=decay)
        return Adam(self.learning_rate_init, betas=(self.beta_1, self.beta_2), eps=self.epsilon,
                    weight_decay=decay)

    # ---- what differs between classifier and regressor -----------------------

    def _output(self) -> tuple:
        """(output activation, loss) of the network."""
        raise NotImplementedError  # pragma: no cover

    def _targets(self, y, first: bool, classes=None) -> np.ndarray:
        """y as the network's 2-D targets."""
        raise NotImplementedError  # pragma: no cover

    # ---- fitting -------------------------------------------------------------

    def _fit(self, X, y, sample_weight, incremental: bool, classes=None):
        self._check_params()
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        first = not hasattr(self, "net_") or (not self.warm_start and not incremental)
        X, y = validate_data(self, X, y, reset=first, dtype=_DTYPES[self.dtype],
                             multi_output=True, y_numeric=isinstance(self, RegressorMixin))
        if isinstance(self, ClassifierMixin) and y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)  # a column of labels, not one label of a multilabel y
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=_DTYPES[self.dtype])
        targets = self._targets(y, first, classes)
        self._random_state = check_random_state(self.random_state)
        if first:
            self._initialize(X.shape[1], targets.shape[1])
        elif targets.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {targets.shape[1]} outputs, the network {self.n_outputs_}")

        if self.early_stopping:
            stratify = y if isinstance(self, ClassifierMixin) and self.n_outputs_ == 1 else None
            parts = [X, targets, y] + ([sample_weight] if sample_weight is not None else [])
            split = train_test_split(*parts, random_state=self._random_state,
                                     test_size=self.validation_fraction, stratify=stratify)
            X, X_val, targets, _, _, y_val = split[:6]
            sample_weight, sw_val = (split[6], split[7]) if sample_weight is not None else (None, None)
            if X_val.shape[0] < 2:
                raise ValueError("The validation set is too small. Increase 'validation_fraction' "
                                 "or the size of your dataset.")
        n = X.shape[0]
        if self.batch_size == "auto":
            batch = min(200, n)
        else:
            if self.batch_size > n:
                warnings.warn("Got `batch_size` less than 1 or larger than sample size. "
                              "It is going to be clipped")
            batch = int(np.clip(self.batch_size, 1, n))
        if not incremental or self._lr is None:
            mean_weight = 1.0 if sample_weight is None else float(np.mean(sample_weight))
            self.net_.optimizer = self._optimizer(batch, mean_weight)  # fresh state, as scikit-learn
            self._lr = float(self.learning_rate_init)

        self.n_iter_ = 0
        for _ in range(self.max_iter):
            history = self.net_.fit(X, targets, epochs=1, batch_size=batch, shuffle=bool(self.shuffle),
                                    **({"sample_weight": sample_weight} if sample_weight is not None else {}))
            self.n_iter_ += 1
            self.loss_ = float(history.loss[-1])
            self.t_ += n
            self.loss_curve_.append(self.loss_)
            if self.verbose:
                print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}")
            if self.early_stopping:
                self._score_validation(X_val, y_val, sw_val)
            else:
                self._count_loss_improvement()
            if self.solver == "sgd" and self.learning_rate == "invscaling":
                self._set_lr(self.learning_rate_init / (self.t_ + 1) ** self.power_t)
            if self._no_improvement_count > self.n_iter_no_change:
                if self.verbose:
                    what = "Validation score" if self.early_stopping else "Training loss"
                    print(f"{what} did not improve more than tol={self.tol:f} for "
                          f"{self.n_iter_no_change} consecutive epochs.")
                if self.solver == "sgd" and self.learning_rate == "adaptive" and self._lr > 1e-6:
                    self._set_lr(self._lr / 5.0)
                    self._no_improvement_count = 0
                    if self.verbose:
                        print(f"Setting learning rate to {self._lr:f}")
                else:
                    break
            if incremental:
                break
            if self.n_iter_ == self.max_iter:
                warnings.warn(f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached "
                              "and the optimization hasn't converged yet.", ConvergenceWarning)
        if self.early_stopping:
            self.net_.set_flat_params(self._best_params)
        return self

    def _initialize(self, n_features: int, n_outputs: int) -> None:
        hidden = self._hidden_sizes()
        out_activation, loss = self._output()
        seed = int(self._random_state.randint(np.iinfo(np.int32).max))
        self.net_ = MLP([n_features, *hidden, n_outputs], dtype=self.dtype, seed=seed,
                        activations=[_HIDDEN[self.activation]] * len(hidden) + [out_activation],
                        loss=loss, init="glorot")
        self.n_outputs_ = n_outputs
        self.n_layers_ = len(hidden) + 2
        self.out_activation_ = {"sigmoid": "logistic"}.get(out_activation, out_activation)
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_ = []
        self._no_improvement_count = 0
        self._lr = None
        if self.early_stopping:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
            self._best_params = self.net_.get_flat_params().copy()
        else:
            self.best_loss_ = np.inf
            self.validation_scores_ = None
            self.best_validation_score_ = None

    def _set_lr(self, lr: float) -> None:
        self._lr = float(lr)
        self.net_.learning_rate = self._lr

    def _count_loss_improvement(self) -> None:
        if self.loss_curve_[-1] > self.best_loss_ - self.tol:
            self._no_improvement_count += 1
        else:
            self._no_improvement_count = 0
        self.best_loss_ = min(self.best_loss_, self.loss_curve_[-1])

    def _score_validation(self, X_val, y_val, sw_val) -> None:
        score = self.score(X_val, y_val, sample_weight=sw_val)
        self.validation_scores_.append(score)
        if self.verbose:
            print(f"Validation score: {score:f}")
        if score < self.best_validation_score_ + self.tol:
            self._no_improvement_count += 1
        else:
            self._no_improvement_count = 0
        if score > self.best_validation_score_:
            self.best_validation_score_ = score
            self._best_params = self.net_.get_flat_params().copy()

    # ---- fitted model --------------------------------------------------------

    def _outputs(self, X) -> np.ndarray:
        check_is_fitted(self, "net_")
        X = validate_data(self, X, reset=False, dtype=_DTYPES[self.dtype])
        return self.net_.predict(X)

    @property
    def coefs_(self) -> list:
        """Weights per layer in scikit-learn's layout: ``coefs_[i]`` is (n_in, n_out)."""
        check_is_fitted(self, "net_")
        return [np.array(w.T) for w in self.net_.weights]

    @property
    def intercepts_(self) -> list:
        """Biases per layer, ``intercepts_[i]`` of shape (n_out,)."""
        check_is_fitted(self, "net_")
        return [np.array(b) for b in self.net_.biases]

    def to_onnx(self, path=None, opset=None):
        """The fitted network as an ONNX graph (see ``swiftmlp.MLP.to_onnx``):
        its output is the network's (probabilities for a classifier)."""
        check_is_fitted(self, "net_")
        return self.net_.to_onnx(path, opset=opset)


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A multilayer perceptron classifier (``sklearn.neural_network.MLPClassifier``
    parameters; see the module's text for the differences).

    Binary and multilabel targets train sigmoid outputs with binary
    cross-entropy, multiclass targets a softmax output with cross-entropy.
    ``predict`` returns labels of y's type; ``predict_proba`` probabilities
    with a column per class in ``classes_`` order.
    """

    def _output(self):
        return ("softmax", "cross_entropy") if self._label_binarizer.y_type_ == "multiclass" \
            else ("sigmoid", "bce")

    def _targets(self, y, first, classes=None):
        if first and classes is None:
            self._label_binarizer = LabelBinarizer().fit(y)
            self.classes_ = self._label_binarizer.classes_
        elif classes is not None:  # partial_fit's first call
            self._label_binarizer = LabelBinarizer().fit(classes)
            self.classes_ = self._label_binarizer.classes_
        else:
            unknown = np.setdiff1d(np.unique(y), self.classes_) if type_of_target(y) != "multilabel-indicator" else []
            if len(unknown):
                raise ValueError(f"y has labels not in classes_: {unknown!r}")
        return self._label_binarizer.transform(y).astype(_DTYPES[self.dtype])

    def fit(self, X, y, sample_weight=None):
        """Train on (X, y) from scratch (or on from the current weights with
        ``warm_start=True``); y holds labels (any type) or, for multilabel, a
        (n, n_labels) indicator matrix."""
        return self._fit(X, y, sample_weight, incremental=False)

    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch over (X, y), keeping the optimizer's state; ``classes``
        (every label y may ever hold) is required on the first call."""
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = None
            for attr in ("net_", "_lr"):
                self.__dict__.pop(attr, None)
            return self._fit(X, y, sample_weight, incremental=True, classes=classes)
        return self._fit(X, y, sample_weight, incremental=True)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, (n, n_classes) in ``classes_`` order ((n,
        n_labels) for multilabel)."""
        p = self._outputs(X)
        if self.n_outputs_ == 1 and self._label_binarizer.y_type_ == "binary":
            p = np.hstack([1 - p, p])
        return p

    def predict_log_proba(self, X) -> np.ndarray:
        """The logarithm of ``predict_proba``."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X) -> np.ndarray:
        """Labels, of the type of the y given to fit."""
        p = self._outputs(X)
        if self.n_outputs_ == 1:
            p = p.ravel()
        return self._label_binarizer.inverse_transform(p)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, _BaseMLP):
    """A multilayer perceptron regressor (``sklearn.neural_network.MLPRegressor``
    parameters, plus ``out_activation`` and ``loss``; see the module's text)."""

    __init__ = _init_taking({"out_activation": "identity", "loss": "squared_error"})

    def _check_params(self):
        super()._check_params()
        if self.out_activation not in ("identity", "logistic"):
            raise ValueError(f"out_activation must be 'identity' or 'logistic', got {self.out_activation!r}")
        if self.loss not in ("squared_error", "binary_cross_entropy"):
            raise ValueError(f"loss must be 'squared_error' or 'binary_cross_entropy', got {self.loss!r}")
        if self.loss == "binary_cross_entropy" and self.out_activation != "logistic":
            raise ValueError("loss='binary_cross_entropy' needs out_activation='logistic'")

    def _output(self):
        return (_HIDDEN[self.out_activation], {"squared_error": "mse"}.get(self.loss, "bce"))

    def _targets(self, y, first, classes=None):
        y = np.asarray(y, dtype=_DTYPES[self.dtype])
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def fit(self, X, y, sample_weight=None):
        """Train on (X, y) from scratch (or on with ``warm_start=True``); y is
        (n,) or (n, n_outputs)."""
        return self._fit(X, y, sample_weight, incremental=False)

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y), keeping the optimizer's state."""
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X) -> np.ndarray:
        """Predictions, (n,) for one output, else (n, n_outputs)."""
        p = self._outputs(X)
        return p.ravel() if self.n_outputs_ == 1 else p

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
