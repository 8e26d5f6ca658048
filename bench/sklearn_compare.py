"""swiftmlp.sklearn against scikit-learn's own MLP on scikit-learn's shipped
data sets: 5-fold cross-validated score and fit time, side by side.

    python3 bench/sklearn_compare.py [--out bench/results/sklearn_compare.md]

Both estimators get the same hyper-parameters (scikit-learn's defaults:
hidden_layer_sizes=(100,), relu, adam, learning_rate_init=1e-3,
max_iter=200, alpha=1e-4, batch_size="auto"; random_state=0) behind a
StandardScaler; the diabetes target is standardized too
(TransformedTargetRegressor), as an MLP regressor needs. Folds: stratified
for the classifiers, shuffled with random_state 0. Scores: accuracy
(classifiers), R^2 (regression). OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are
unset for the run, as for every benchmark here.
"""

import os

for _var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    os.environ.pop(_var, None)

import argparse  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn import neural_network  # noqa: E402
from sklearn.compose import TransformedTargetRegressor  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import KFold, StratifiedKFold, cross_validate  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python-bindings"))
import swiftmlp  # noqa: E402
from swiftmlp import sklearn as smlp  # noqa: E402

PARAMS = dict(hidden_layer_sizes=(100,), max_iter=200, random_state=0)
DATASETS = [("digits", load_digits, "classifier"), ("breast_cancer", load_breast_cancer, "classifier"),
            ("iris", load_iris, "classifier"), ("diabetes", load_diabetes, "regressor")]


def cpu() -> str:
    info = {}
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            key, _, value = line.partition(":")
            info[key.strip()] = value.strip()
    except OSError:
        pass
    return (f"{info.get('Model name', platform.processor())} (family {info.get('CPU family', '?')}, "
            f"model {info.get('Model', '?')}), {os.cpu_count()} CPUs")


def estimator(module, kind):
    if kind == "classifier":
        return make_pipeline(StandardScaler(), module.MLPClassifier(**PARAMS))
    return TransformedTargetRegressor(make_pipeline(StandardScaler(), module.MLPRegressor(**PARAMS)),
                                      transformer=StandardScaler())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                      "results", "sklearn_compare.md"))
    args = parser.parse_args()
    rows, ok = [], True
    for name, loader, kind in DATASETS:
        X, y = loader(return_X_y=True)
        cv = (StratifiedKFold if kind == "classifier" else KFold)(5, shuffle=True, random_state=0)
        result = {}
        for label, module in (("scikit-learn", neural_network), ("swiftmlp", smlp)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                r = cross_validate(estimator(module, kind), X, y, cv=cv)
            result[label] = (r["test_score"], r["fit_time"])
        (s_sk, t_sk), (s_sm, t_sm) = result["scikit-learn"], result["swiftmlp"]
        within = s_sm.mean() >= s_sk.mean() - s_sk.std()
        ok &= within
        rows.append(f"| {name} ({X.shape[0]}×{X.shape[1]}, {'accuracy' if kind == 'classifier' else 'R²'}) "
                    f"| {s_sk.mean():.4f} ± {s_sk.std():.4f} | {s_sm.mean():.4f} ± {s_sm.std():.4f} "
                    f"| {'yes' if within else 'NO'} | {t_sk.mean():.3f} s | {t_sm.mean():.3f} s "
                    f"| {t_sk.mean() / t_sm.mean():.1f}× |")
        print(rows[-1], flush=True)
    text = "\n".join([
        "# swiftmlp.sklearn vs sklearn.neural_network, 5-fold cross-validation", "",
        f"CPU: {cpu()}; swiftmlp {swiftmlp.version()} ({swiftmlp.blas_info()}); "
        f"scikit-learn {sklearn.__version__}, NumPy {np.__version__}; "
        "OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset.", "",
        f"Hyper-parameters (both): {PARAMS}, otherwise scikit-learn's defaults; StandardScaler "
        "in front; diabetes' target standardized.", "",
        "| data set | scikit-learn score | swiftmlp score | within 1 std of scikit-learn or better "
        "| scikit-learn fit per fold | swiftmlp fit per fold | fit speed-up |",
        "|---|---|---|---|---|---|---|", *rows, ""])
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(text)
    print(f"wrote {args.out} at {time.strftime('%Y-%m-%d %H:%M')}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
