#!/usr/bin/env python3
"""swiftmlp demo: train a sigmoid MLP on a small real data set from Python,
then check the library against the lecture slides' NumPy code.

    pip install scikit-learn            # the data sets ship inside the package
    PYTHONPATH=python-bindings python3 python-bindings/examples/demo.py

Data: scikit-learn's bundled handwritten digits (1797 8x8 images, 10 classes;
no download).  --dataset iris / breast_cancer are also available.  Targets
are one-hot; the network is [N0, hidden, classes] with sigmoid activations,
MSE loss (mean over batch and outputs) and plain mini-batch SGD -- exactly the
slides' model.  The predicted class is the argmax of the outputs.

The parity check runs one forward/backward/SGD step on a test batch both in
libswiftmlp and in tests/reference.py (a plain transcription of the slides'
NumPy code, computed in float64 from the network's parameters) and prints the
largest difference per quantity: absolute, and relative to the largest
magnitude of the reference array.  Exit status 1 if a relative difference is
above 1e-12 (float64) / 1e-5 (float32).
"""

import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
BINDINGS = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(BINDINGS, "tests"))  # reference.py
try:
    import swiftmlp  # noqa: E402
except ImportError:
    sys.path.insert(0, BINDINGS)  # run from a checkout without PYTHONPATH
    import swiftmlp  # noqa: E402
import reference  # noqa: E402

TOLERANCE = {"float64": 1e-12, "float32": 1e-5}


def load_dataset(name, seed):
    try:
        from sklearn import datasets
        from sklearn.model_selection import train_test_split
    except ImportError:
        sys.exit("this demo needs scikit-learn for its bundled data sets: "
                 "pip install scikit-learn")
    loader = {"digits": datasets.load_digits, "iris": datasets.load_iris,
              "breast_cancer": datasets.load_breast_cancer}[name]
    data = loader()
    x, labels = data.data.astype(np.float64), data.target
    x_train, x_test, l_train, l_test = train_test_split(
        x, labels, test_size=0.25, random_state=seed, stratify=labels)
    # Standardise with the training set's statistics (digits: pixel values 0..16).
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    std[std == 0] = 1.0
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    n_classes = int(labels.max()) + 1
    return x_train, l_train, x_test, l_test, n_classes


def one_hot(labels, n_classes):
    return np.eye(n_classes)[labels]


def accuracy(net, x, labels):
    return float(np.mean(np.argmax(net.forward(x), axis=1) == labels))


def rel(a, r):
    a, r = np.asarray(a, np.float64), np.asarray(r, np.float64)
    return float(np.max(np.abs(a - r)) / max(float(np.max(np.abs(r))), np.finfo(float).tiny))


def parity_check(net, x, y, lr):
    """One training step on the library and on the reference; returns rows
    (quantity, max abs difference, max relative difference)."""
    weights = [np.array(w, dtype=np.float64) for w in net.weights]
    biases = [np.array(b, dtype=np.float64) for b in net.biases]
    x = np.asarray(x, dtype=net.dtype)
    y = np.asarray(y, dtype=net.dtype)

    out = net.forward(x)
    loss = net.backward(y)
    activations = reference.forward(weights, biases, x.astype(np.float64))
    ref_loss = reference.loss(activations[-1], y.astype(np.float64))
    dL_dW, dL_db = reference.backward(weights, activations, y.astype(np.float64))
    rows = [("output g_L", float(np.max(np.abs(out - activations[-1]))),
             rel(out, activations[-1])),
            ("loss", abs(loss - ref_loss), abs(loss - ref_loss) / abs(ref_loss))]
    for l in range(net.num_layers):
        rows.append((f"dL/dW[{l}]", float(np.max(np.abs(net.weight_grads[l] - dL_dW[l]))),
                     rel(net.weight_grads[l], dL_dW[l])))
        rows.append((f"dL/db[{l}]", float(np.max(np.abs(net.bias_grads[l] - dL_db[l]))),
                     rel(net.bias_grads[l], dL_db[l])))
    net.step(lr)
    new_w, new_b = reference.sgd_step(weights, biases, dL_dW, dL_db, lr)
    for l in range(net.num_layers):
        rows.append((f"W[{l}] after step", float(np.max(np.abs(net.weights[l] - new_w[l]))),
                     rel(net.weights[l], new_w[l])))
        rows.append((f"b[{l}] after step", float(np.max(np.abs(net.biases[l] - new_b[l]))),
                     rel(net.biases[l], new_b[l])))
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="digits", choices=["digits", "iris", "breast_cancer"])
    p.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=5.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--report-every", type=int, default=5)
    args = p.parse_args(argv)

    print(f"swiftmlp {swiftmlp.__version__} (library {swiftmlp.version()} at "
          f"{os.path.relpath(swiftmlp.library_path)})")
    x_train, l_train, x_test, l_test, n_classes = load_dataset(args.dataset, args.seed)
    y_train, y_test = one_hot(l_train, n_classes), one_hot(l_test, n_classes)
    sizes = [x_train.shape[1], args.hidden, n_classes]
    print(f"data: {args.dataset}, {len(x_train)} training / {len(x_test)} test samples, "
          f"{x_train.shape[1]} features, {n_classes} classes")

    rng = np.random.default_rng(args.seed)
    with swiftmlp.MLP(sizes, dtype=args.dtype, seed=args.seed) as net:
        print(f"network: {net!r}")
        print(f"training: sigmoid + MSE, SGD lr={args.lr}, batch {args.batch}, "
              f"{args.epochs} epochs\n")
        print(f"{'epoch':>5}  {'train loss':>10}  {'test loss':>10}  {'test acc':>8}")

        def report(epoch):
            train_loss = float(np.mean((net.forward(x_train) - y_train) ** 2))
            test_loss = float(np.mean((net.forward(x_test) - y_test) ** 2))
            acc = accuracy(net, x_test, l_test)
            print(f"{epoch:5d}  {train_loss:10.5f}  {test_loss:10.5f}  {acc:8.2%}")
            return train_loss, acc

        first_loss, _ = report(0)
        start = time.perf_counter()
        for epoch in range(1, args.epochs + 1):
            order = rng.permutation(len(x_train))
            for s in range(0, len(order), args.batch):
                idx = order[s:s + args.batch]
                net.train_step(x_train[idx], y_train[idx], args.lr)
            if epoch % args.report_every == 0 or epoch == args.epochs:
                last_loss, acc = report(epoch)
        elapsed = time.perf_counter() - start

        train_acc = accuracy(net, x_train, l_train)
        print(f"\ntrained in {elapsed:.2f} s; train loss {first_loss:.5f} -> {last_loss:.5f}")
        print(f"accuracy: train {train_acc:.2%}, test {acc:.2%} "
              f"({int(round(acc * len(l_test)))}/{len(l_test)})")

        print(f"\nparity with the slides' NumPy code (tests/reference.py), one SGD step "
              f"on {min(64, len(x_test))} test samples of the trained network:")
        rows = parity_check(net, x_test[:64], y_test[:64], args.lr)
        tol = TOLERANCE[args.dtype]
        print(f"  {'quantity':<18} {'max |lib - ref|':>16} {'relative':>10}")
        for name, abs_diff, rel_diff in rows:
            print(f"  {name:<18} {abs_diff:16.3e} {rel_diff:10.3e}")
        worst = max(rows, key=lambda r: r[2])
        ok = worst[2] <= tol
        print(f"largest relative difference: {worst[2]:.3e} ({worst[0]}) -- "
              f"{'OK' if ok else 'ABOVE'} the {args.dtype} bound {tol:g}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
