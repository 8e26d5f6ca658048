"""swiftmlp.sklearn's estimators: scikit-learn's own estimator checks, its
tools (Pipeline, GridSearchCV with 2 jobs, cross_val_score, clone,
pickling), the fitted attributes in scikit-learn's layout, and the
estimators' training equal to the same training done with swiftmlp.MLP."""

import inspect
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import load_diabetes, load_iris, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils.estimator_checks import parametrize_with_checks

import swiftmlp
from swiftmlp.sklearn import EXPECTED_FAILED_CHECKS, MLPClassifier, MLPRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@parametrize_with_checks([MLPClassifier(max_iter=100), MLPRegressor(max_iter=100)],
                         expected_failed_checks=lambda e: EXPECTED_FAILED_CHECKS[type(e).__name__])
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def test_at_most_three_expected_failures_each_with_a_reason():
    for name, checks in EXPECTED_FAILED_CHECKS.items():
        assert len(checks) <= 3, name
        assert all(isinstance(reason, str) and len(reason) > 20 for reason in checks.values())


def test_parameters_are_scikit_learns_then_ours():
    """scikit-learn's parameters, in its order, with its defaults and kinds
    (no max_fun: no lbfgs); then dtype, and the regressor's out_activation
    and loss, keyword-only. Each argument, by position or keyword, is kept
    under its name."""
    from sklearn.neural_network import MLPClassifier as SkMLP
    keyword = inspect.Parameter.KEYWORD_ONLY
    theirs = [p for p in inspect.signature(SkMLP).parameters.values() if p.name != "max_fun"]
    classifier = list(inspect.signature(MLPClassifier).parameters.values())
    regressor = list(inspect.signature(MLPRegressor).parameters.values())
    assert classifier == theirs + [inspect.Parameter("dtype", keyword, default="float64")]
    assert regressor == classifier + [inspect.Parameter("out_activation", keyword, default="identity"),
                                      inspect.Parameter("loss", keyword, default="squared_error")]
    reg = MLPRegressor((3, 2), "tanh", tol=0.5, loss="binary_cross_entropy")
    assert reg.get_params() == {**MLPRegressor().get_params(), "hidden_layer_sizes": (3, 2),
                                "activation": "tanh", "tol": 0.5, "loss": "binary_cross_entropy"}
    with pytest.raises(TypeError):
        MLPClassifier(loss="squared_error")
    with pytest.raises(TypeError):
        MLPRegressor((3,), "tanh", "sgd")


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


def test_pipeline_grid_search_with_two_jobs(iris):
    X, y = iris
    pipe = Pipeline([("scale", StandardScaler()),
                     ("mlp", MLPClassifier(max_iter=300, random_state=0))])
    grid = GridSearchCV(pipe, {"mlp__hidden_layer_sizes": [(8,), (32,)], "mlp__alpha": [1e-4, 1e-2]},
                        cv=3, n_jobs=2)
    grid.fit(X, y)
    assert grid.best_score_ >= 0.9, grid.cv_results_["mean_test_score"]
    assert len(grid.cv_results_["params"]) == 4
    assert grid.score(X, y) >= 0.9


def test_cross_val_score_classifier_and_regressor(iris):
    X, y = iris
    scores = cross_val_score(Pipeline([("s", StandardScaler()),
                                       ("m", MLPClassifier(max_iter=300, random_state=0))]), X, y, cv=5)
    assert scores.mean() >= 0.9, scores
    Xd, yd = load_diabetes(return_X_y=True)
    r2 = cross_val_score(MLPRegressor(hidden_layer_sizes=(), solver="sgd", learning_rate_init=0.05,
                                      max_iter=500, random_state=0), StandardScaler().fit_transform(Xd),
                         (yd - yd.mean()) / yd.std(), cv=5)
    assert r2.mean() >= 0.4, r2  # a linear model's R^2 on diabetes is ~0.48


@pytest.mark.parametrize("labels", [np.array(["a", "b", "c"]), np.array([3, 7, 11]), np.array([False, True])])
def test_predict_returns_labels_of_the_type_of_y(iris, labels):
    X, y = iris
    y = labels[y % len(labels)]
    clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=200, random_state=0).fit(X, y)
    pred = clf.predict(X)
    assert pred.dtype == y.dtype and set(pred) <= set(labels)
    assert list(clf.classes_) == sorted(set(labels))
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), len(labels)) and np.allclose(proba.sum(axis=1), 1)
    assert np.array_equal(pred, clf.classes_[proba.argmax(axis=1)])
    assert np.allclose(clf.predict_log_proba(X), np.log(proba))


def test_partial_fit_needs_classes_first_and_keeps_learning(iris):
    X, y = iris
    X = StandardScaler().fit_transform(X)
    clf = MLPClassifier(hidden_layer_sizes=(16,), random_state=0, learning_rate_init=0.01)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[:50], y[:50], classes=[0, 1, 2])
    for _ in range(60):
        clf.partial_fit(X, y)
    assert clf.t_ == 50 + 60 * 150 and len(clf.loss_curve_) == 61
    assert clf.loss_curve_[-1] < clf.loss_curve_[1]
    assert clf.score(X, y) >= 0.9
    with pytest.raises(ValueError, match="early_stopping"):
        MLPClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1, 2])


def test_multilabel_classification():
    X, Y = make_multilabel_classification(n_samples=300, n_features=10, n_classes=4, random_state=0)
    clf = MLPClassifier(hidden_layer_sizes=(32,), max_iter=400, random_state=0).fit(X, Y)
    assert clf.net_.activations[-1] == "sigmoid" and clf.net_.loss == "bce"
    assert clf.predict(X).shape == Y.shape and set(np.unique(clf.predict(X))) <= {0, 1}
    assert clf.predict_proba(X).shape == Y.shape
    assert clf.score(X, Y) >= 0.5  # subset accuracy


def test_multi_output_regression():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 4))
    Y = X @ rng.standard_normal((4, 2))
    reg = MLPRegressor(hidden_layer_sizes=(16,), max_iter=500, random_state=0).fit(X, Y)
    assert reg.predict(X).shape == (300, 2) and reg.n_outputs_ == 2
    assert reg.score(X, Y) >= 0.95


def test_fitted_attributes_in_scikit_learns_layout(iris):
    X, y = iris
    clf = MLPClassifier(hidden_layer_sizes=(7, 5), max_iter=20, random_state=0).fit(X, y)
    assert [c.shape for c in clf.coefs_] == [(4, 7), (7, 5), (5, 3)]
    assert [b.shape for b in clf.intercepts_] == [(7,), (5,), (3,)]
    for c, w in zip(clf.coefs_, clf.net_.weights):
        assert np.array_equal(c, w.T)
    assert clf.n_features_in_ == 4 and clf.n_layers_ == 4 and clf.n_outputs_ == 3
    assert clf.out_activation_ == "softmax" and clf.n_iter_ == 20 and len(clf.loss_curve_) == 20
    assert clf.best_loss_ == min(clf.loss_curve_) and clf.validation_scores_ is None


def test_feature_names_from_a_dataframe(iris):
    X, y = iris
    frame = pd.DataFrame(X, columns=["sl", "sw", "pl", "pw"])
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=50, random_state=0).fit(frame, y)
    assert list(clf.feature_names_in_) == ["sl", "sw", "pl", "pw"]
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(frame.rename(columns={"sl": "other"}))


def test_pickle_and_clone(iris):
    X, y = iris
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=50, random_state=0).fit(X, y)
    again = pickle.loads(pickle.dumps(clf))
    assert np.array_equal(again.predict_proba(X), clf.predict_proba(X))
    fresh = clone(clf)
    assert fresh.get_params() == clf.get_params() and not hasattr(fresh, "net_")
    # Cloning with the same random_state trains the same network.
    assert np.array_equal(fresh.fit(X, y).predict_proba(X), clf.predict_proba(X))


def test_early_stopping_scores_a_validation_split_and_restores_the_best(iris):
    X, y = iris
    X = StandardScaler().fit_transform(X)
    clf = MLPClassifier(hidden_layer_sizes=(16,), early_stopping=True, n_iter_no_change=5,
                        max_iter=500, random_state=0, learning_rate_init=0.01).fit(X, y)
    assert clf.n_iter_ < 500 and len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_) and clf.best_loss_ is None


def test_warm_start_continues_from_the_weights(iris):
    X, y = iris
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=10, warm_start=True, random_state=0).fit(X, y)
    before = clf.coefs_[0].copy()
    clf.fit(X, y)
    assert len(clf.loss_curve_) == 20 and not np.array_equal(clf.coefs_[0], before)


def _seed(random_state):
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def test_the_slides_network_trains_as_swiftmlp_does():
    # out_activation="logistic", loss="squared_error", logistic hidden layers,
    # plain full-batch SGD without shuffling: the lecture's network and step.
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([0, 1, 1, 0], dtype=float)
    reg = MLPRegressor(hidden_layer_sizes=(4,), activation="logistic", out_activation="logistic",
                       solver="sgd", momentum=0.0, alpha=0.0, learning_rate_init=0.5, batch_size=4,
                       shuffle=False, max_iter=50, tol=0.0, n_iter_no_change=1000, random_state=3)
    reg.fit(X, y)
    net = swiftmlp.MLP([2, 4, 1], seed=_seed(3), activations=["sigmoid", "sigmoid"], init="glorot")
    for _ in range(50):
        net.forward(X)
        net.backward(y.reshape(-1, 1))
        net.step(lr=0.5)
    assert net.get_flat_params().tobytes() == reg.net_.get_flat_params().tobytes()


@pytest.mark.parametrize("params,message", [
    ({"hidden_layer_sizes": (0,)}, "hidden_layer_sizes"),
    ({"activation": "softplus"}, "activation"),
    ({"solver": "lbfgs"}, "solver"),
    ({"alpha": -1.0}, "alpha"),
    ({"batch_size": 0}, "batch_size"),
    ({"learning_rate": "cosine"}, "learning_rate"),
    ({"learning_rate_init": 0.0}, "learning_rate_init"),
    ({"max_iter": 0}, "max_iter"),
    ({"momentum": 1.0}, "momentum"),
    ({"validation_fraction": 1.0}, "validation_fraction"),
    ({"beta_1": 1.0}, "beta_1"),
    ({"epsilon": 0.0}, "epsilon"),
    ({"n_iter_no_change": 0}, "n_iter_no_change"),
    ({"dtype": "float16"}, "dtype"),
    ({"shuffle": "yes"}, "shuffle"),
])
def test_bad_parameters_are_refused_at_fit(iris, params, message):
    X, y = iris
    with pytest.raises(ValueError, match=message):
        MLPClassifier(**params).fit(X, y)


@pytest.mark.parametrize("params,message", [
    ({"out_activation": "softmax"}, "out_activation"),
    ({"loss": "poisson"}, "loss"),
    ({"loss": "binary_cross_entropy"}, "needs out_activation='logistic'"),
])
def test_bad_regressor_parameters(params, message):
    with pytest.raises(ValueError, match=message):
        MLPRegressor(**params).fit(np.zeros((4, 2)), np.zeros(4))


def test_to_onnx_of_a_fitted_estimator(iris):
    import onnxruntime as ort
    X, y = iris
    clf = MLPClassifier(hidden_layer_sizes=(8,), max_iter=50, random_state=0).fit(X, y)
    session = ort.InferenceSession(clf.to_onnx(), providers=["CPUExecutionProvider"])
    proba = session.run(None, {"input": X})[0]
    assert np.allclose(proba, clf.predict_proba(X), rtol=0, atol=1e-12)


def test_convergence_warning_at_max_iter(iris):
    X, y = iris
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        MLPClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(X, y)
    assert any(issubclass(w.category, ConvergenceWarning) for w in caught)


def _scaled_iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("epochs", [1, 2, 7])
def test_invscaling_learning_rate_is_scikit_learns(epochs):
    from sklearn.neural_network import MLPClassifier as SkMLP
    X, y = _scaled_iris()
    common = dict(hidden_layer_sizes=(5,), solver="sgd", learning_rate="invscaling", power_t=0.3,
                  learning_rate_init=0.2, max_iter=epochs, tol=0.0, n_iter_no_change=1000, random_state=0)
    ours = MLPClassifier(**common).fit(X, y)
    theirs = SkMLP(**common).fit(X, y)
    assert ours.t_ == theirs.t_ == epochs * len(X)
    assert ours._lr == theirs._optimizer.learning_rate
    assert ours.net_.learning_rate == pytest.approx(ours._lr, rel=1e-15)


def test_adaptive_learning_rate_divides_by_five_and_stops_as_scikit_learn():
    from sklearn.neural_network import MLPClassifier as SkMLP
    X, y = _scaled_iris()
    # tol so large that no epoch ever improves: the lr is divided by 5 after
    # every n_iter_no_change + 1 epochs until it is at most 1e-6, then fit stops.
    common = dict(hidden_layer_sizes=(5,), solver="sgd", learning_rate="adaptive", tol=1e9,
                  n_iter_no_change=2, learning_rate_init=0.1, max_iter=500, random_state=0)
    ours = MLPClassifier(**common).fit(X, y)
    theirs = SkMLP(**common).fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_ < 500
    assert ours._lr == pytest.approx(theirs._optimizer.learning_rate, rel=1e-12)


def test_sample_weight_two_equals_a_repeated_row():
    # Full batches without shuffling: weight 2 on a row is the row twice.
    X, y = _scaled_iris()
    X, y = X[::5], y[::5]
    w = np.ones(len(X))
    w[:4] = 2.0
    common = dict(hidden_layer_sizes=(6,), solver="sgd", batch_size=1000, shuffle=False, alpha=0.0,
                  max_iter=30, tol=0.0, n_iter_no_change=1000, random_state=0, momentum=0.0,
                  learning_rate_init=0.1)
    weighted = MLPClassifier(**common).fit(X, y, sample_weight=w)
    repeated = MLPClassifier(**common).fit(np.vstack([X, X[:4]]), np.concatenate([y, y[:4]]))
    a, b = weighted.net_.get_flat_params(), repeated.net_.get_flat_params()
    assert np.max(np.abs(a - b)) <= 1e-12 * np.max(np.abs(b))
    unweighted = MLPClassifier(**common).fit(X, y)
    assert not np.allclose(unweighted.net_.get_flat_params(), b, rtol=1e-6)
