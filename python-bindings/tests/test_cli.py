"""The command line (python -m swiftmlp): every subcommand on real CSV
files, and every kind of bad input answered by one line on stderr and exit
status 2, never a traceback.  Each run is a subprocess."""

import csv
import os
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_iris

import swiftmlp
from test_loader import BINDINGS_DIR

SPECIES = ["setosa", "versicolor", "virginica"]


def cli(*args, cwd):
    env = dict(os.environ, PYTHONPATH=BINDINGS_DIR)
    return subprocess.run([sys.executable, "-m", "swiftmlp", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, env=env, timeout=120)


def write_csv(path, header, rows, delimiter=","):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)


@pytest.fixture(scope="module")
def iris(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    x, y = load_iris(return_X_y=True)
    write_csv(d / "iris.csv", ["sl", "sw", "pl", "pw", "species"],
              [[*r, SPECIES[t]] for r, t in zip(x, y)])
    proc = cli("train", "iris.csv", "--target", "species", "--layers", "16", "--epochs", "150",
               "--lr", "0.01", "--validation", "0.2", "--seed", "0", "-o", "iris.safetensors", cwd=d)
    assert proc.returncode == 0, proc.stderr
    return d, proc.stdout


def test_train_reports_losses_and_accuracy(iris):
    d, out = iris
    assert "trained [4, 16, 3] for 150 epochs: train loss" in out and "validation loss" in out
    accuracy = float(out.split("validation accuracy ")[1].split()[0])
    assert accuracy >= 0.9, out
    assert (d / "iris.safetensors").is_file() and not any(p.name.startswith(".swiftmlp-") for p in d.iterdir())
    # The file is an ordinary swiftmlp model file.
    net = swiftmlp.load(d / "iris.safetensors")
    assert net.sizes == (4, 16, 3) and net.loss == "cross_entropy"


def test_predict_writes_labels_and_probabilities(iris):
    d, _ = iris
    proc = cli("predict", "iris.safetensors", "iris.csv", "-o", "out.csv", cwd=d)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.reader(open(d / "out.csv")))
    assert rows[0] == ["species"] and len(rows) == 151
    truth = [r[4] for r in csv.reader(open(d / "iris.csv"))][1:]
    assert np.mean([p[0] == t for p, t in zip(rows[1:], truth)]) >= 0.9
    proba = cli("predict", "iris.safetensors", "iris.csv", "--proba", cwd=d)
    lines = proba.stdout.splitlines()
    assert lines[0] == "p_setosa,p_versicolor,p_virginica"
    p = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    assert p.shape == (150, 3) and np.allclose(p.sum(axis=1), 1, atol=1e-5)
    assert [SPECIES[i] for i in p.argmax(axis=1)] == [r[0] for r in rows[1:]]


def test_evaluate_and_inspect(iris):
    d, _ = iris
    proc = cli("evaluate", "iris.safetensors", "iris.csv", "--target", "species", cwd=d)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("loss ") and float(proc.stdout.split("accuracy ")[1]) >= 0.9
    proc = cli("inspect", "iris.safetensors", cwd=d)
    assert proc.returncode == 0, proc.stderr
    for text in ("sizes        [4, 16, 3]", "activations  relu, softmax", "parameters   131",
                 "dtype        float32", "loss         cross_entropy", "optimizer    Adam(",
                 'cli_classes = ["setosa", "versicolor", "virginica"]', "metadata     seed = 0"):
        assert text in proc.stdout, proc.stdout


def test_regression_with_a_delimiter(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + 0.3
    write_csv(tmp_path / "r.csv", ["a", "b", "c", "y"], [[*r, t] for r, t in zip(x, y)], ";")
    proc = cli("train", "r.csv", "--target", "y", "--loss", "mse", "--layers", "", "--epochs", "300",
               "--lr", "0.05", "--delimiter", ";", "-o", "r.safetensors", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = cli("predict", "r.safetensors", "r.csv", "--delimiter", ";", cwd=tmp_path).stdout.splitlines()
    assert out[0] == "y"
    assert np.max(np.abs(np.array([float(v) for v in out[1:]]) - y)) < 0.05
    assert "loss " in cli("evaluate", "r.safetensors", "r.csv", "--target", "y", "--delimiter", ";",
                          cwd=tmp_path).stdout


def bad(proc, *fragments):
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("swiftmlp: error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for f in fragments:
        assert f in lines[0], lines[0]


def test_bad_inputs_give_one_line_and_status_2(iris, tmp_path):
    d, _ = iris
    write_csv(tmp_path / "nan.csv", ["sl", "sw", "pl", "pw", "species"],
              [[1, 2, 3, 4, "setosa"], [1, "abc", 3, 4, "setosa"]])
    write_csv(tmp_path / "short.csv", ["sl", "sw", "pl", "species"], [[1, 2, 3, "setosa"]])
    write_csv(tmp_path / "other.csv", ["a", "b", "c", "d"], [[1, 2, 3, 4]])
    (tmp_path / "corrupt.safetensors").write_bytes(b"\x10" + b"\x00" * 7 + b"{}")
    model = d / "iris.safetensors"
    bad(cli("train", "missing.csv", "--target", "y", "-o", "m", cwd=tmp_path), "cannot read missing.csv")
    bad(cli("train", d / "iris.csv", "--target", "nope", "-o", "m", cwd=tmp_path), "unknown column 'nope'")
    bad(cli("train", "nan.csv", "--target", "species", "-o", "m", cwd=tmp_path),
        "line 3, column 'sw': 'abc' is not a number")
    bad(cli("predict", "corrupt.safetensors", d / "iris.csv", cwd=tmp_path), "cannot load model")
    bad(cli("predict", "missing.safetensors", d / "iris.csv", cwd=tmp_path), "cannot load model")
    bad(cli("predict", model, "short.csv", cwd=tmp_path), "unknown column 'pw'")
    bad(cli("predict", model, "nan.csv", cwd=tmp_path), "'abc' is not a number")
    bad(cli("evaluate", model, d / "iris.csv", "--target", "sl", cwd=tmp_path), "labels the model does not know")
    bad(cli("train", d / "iris.csv", "--target", "species", "--epochs", "0", "-o", "m", cwd=tmp_path), "epochs")
    bad(cli("train", d / "iris.csv", "--target", "species", "--lr", "-1", "-o", "m", cwd=tmp_path), "learning rate -1.0")
    bad(cli("train", d / "iris.csv", "--target", "species", "--layers", "a,b", "-o", "m", cwd=tmp_path), "--layers")
    bad(cli("train", d / "iris.csv", "--target", "species", "-o", tmp_path / "no" / "m", cwd=tmp_path), "cannot write")
    bad(cli("frobnicate", cwd=tmp_path), "invalid choice")
    bad(cli("train", "x.csv", cwd=tmp_path), "--target")


def test_wrong_feature_count_without_names(tmp_path):
    # A model whose file has no cli_features: every column but the target counts.
    swiftmlp.MLP([3, 2], seed=0).save(tmp_path / "plain.safetensors")
    write_csv(tmp_path / "four.csv", ["a", "b", "c", "d"], [[1, 2, 3, 4]])
    bad(cli("predict", "plain.safetensors", "four.csv", cwd=tmp_path),
        "4 feature columns, the model takes 3")
