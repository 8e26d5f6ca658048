#!/usr/bin/env python3
"""swiftmlp demo: train a classifier on a small real data set from Python,
then check the library against the lecture slides' NumPy code.

    bash scripts/demo.sh                       # installs what is missing, builds, runs this
    PYTHONPATH=python-bindings python3 python-bindings/examples/demo.py [--dtype float32]

Data: scikit-learn's bundled handwritten digits (1797 8x8 images, 10 classes;
no download).  --dataset iris / breast_cancer are also available.  A fixed
stratified split: 20 % test, and 20 % of the rest for validation; features
standardised with the training set's statistics.

Training: a [64, 128, 10] network, ReLU hidden layer (He initialisation),
softmax output, cross-entropy loss, Adam, mini-batches of 32, trained with
net.fit() with the validation data and early stopping (patience 8; the best
epoch's parameters are restored), and a tqdm progress bar.  Printed: test
accuracy and the confusion matrix; saved: the training and validation loss
per epoch as a PNG in the current directory (swiftmlp_digits_loss.png).

Parity: the slides' own network -- sigmoid everywhere, MSE, plain SGD --
trained briefly on the same data, then one forward/backward/SGD step on a
test batch both in libswiftmlp and in tests/reference.py (a plain
transcription of the slides' NumPy code, computed in float64 from the
network's parameters); printed: the largest difference per quantity,
absolute and relative to the largest magnitude of the reference array.  The
same comparison of the trained ReLU/softmax network's forward and backward
pass against reference.py's general version follows.  Exit status 1 if a
relative difference is above 1e-12 (float64) / 1e-5 (float32).
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
    x_rest, x_test, l_rest, l_test = train_test_split(
        x, labels, test_size=0.2, random_state=seed, stratify=labels)
    x_train, x_val, l_train, l_val = train_test_split(
        x_rest, l_rest, test_size=0.2, random_state=seed, stratify=l_rest)
    # Standardise with the training set's statistics (digits: pixel values 0..16).
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    std[std == 0] = 1.0
    x_train, x_val, x_test = ((a - mean) / std for a in (x_train, x_val, x_test))
    n_classes = int(labels.max()) + 1
    return (x_train, l_train), (x_val, l_val), (x_test, l_test), n_classes


def confusion_matrix(true, predicted, n_classes):
    m = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(m, (true, predicted), 1)
    return m


def print_confusion_matrix(m):
    n = len(m)
    width = max(3, len(str(m.max())) + 1)
    print("confusion matrix (rows: true class, columns: predicted class)")
    print(" " * 6 + "".join(f"{c:>{width}d}" for c in range(n)))
    for r in range(n):
        print(f"{r:>5d} " + "".join(f"{v:>{width}d}" if v else f"{'.':>{width}}"
                                    for v in m[r]))


def save_loss_curve(history, path, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = np.arange(1, len(history.loss) + 1)
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    ax.plot(epochs, history.loss, marker="o", markersize=3, label="training loss")
    if history.val_loss:
        ax.plot(epochs, history.val_loss, marker="o", markersize=3, label="validation loss")
    if history.best_epoch is not None:
        ax.axvline(history.best_epoch + 1, color="gray", linestyle=":",
                   label=f"best epoch ({history.best_epoch + 1})")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy loss")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def rel(a, r):
    a, r = np.asarray(a, np.float64), np.asarray(r, np.float64)
    return float(np.max(np.abs(a - r)) / max(float(np.max(np.abs(r))), np.finfo(float).tiny))


def row(name, lib_value, ref_value):
    return (name, float(np.max(np.abs(np.asarray(lib_value, np.float64) - ref_value))),
            rel(lib_value, ref_value))


def slides_parity_check(net, x, y, lr):
    """One training step of the slides' network on the library and on the
    reference; returns rows (quantity, max abs difference, max relative difference)."""
    weights = [np.array(w, dtype=np.float64) for w in net.weights]
    biases = [np.array(b, dtype=np.float64) for b in net.biases]
    x = np.asarray(x, dtype=net.dtype)
    y = np.asarray(y, dtype=net.dtype)

    out = net.forward(x)
    loss = net.backward(y)
    activations = reference.forward(weights, biases, x.astype(np.float64))
    ref_loss = reference.loss(activations[-1], y.astype(np.float64))
    dL_dW, dL_db = reference.backward(weights, activations, y.astype(np.float64))
    rows = [row("output g_L", out, activations[-1]),
            ("loss", abs(loss - ref_loss), abs(loss - ref_loss) / abs(ref_loss))]
    for l in range(net.num_layers):
        rows.append(row(f"dL/dW[{l}]", net.weight_grads[l], dL_dW[l]))
        rows.append(row(f"dL/db[{l}]", net.bias_grads[l], dL_db[l]))
    net.step(lr)
    new_w, new_b = reference.sgd_step(weights, biases, dL_dW, dL_db, lr)
    for l in range(net.num_layers):
        rows.append(row(f"W[{l}] after step", net.weights[l], new_w[l]))
        rows.append(row(f"b[{l}] after step", net.biases[l], new_b[l]))
    return rows


def general_parity_check(net, x, labels):
    """Forward and backward of any network against reference.py's general
    transcription (every activation and loss); the slides' quantities too."""
    weights = [np.array(w, dtype=np.float64) for w in net.weights]
    biases = [np.array(b, dtype=np.float64) for b in net.biases]
    x = np.asarray(x, dtype=net.dtype)
    y = np.eye(net.sizes[-1])[labels]
    store = (lambda a: a.astype(np.float32).astype(np.float64)) if net.dtype == np.float32 \
        else (lambda a: a)
    out = net.forward(x)
    loss = net.backward(labels)
    fs, gs = reference.forward_general(weights, biases, x.astype(np.float64), net.activations,
                                       net.leaky_slope, store)
    ref_loss = reference.loss_general(net.loss, fs[-1], gs[-1], y)
    dL_dW, dL_db, dL_df, _ = reference.backward_general(weights, fs, gs, y, net.activations,
                                                        net.loss, net.leaky_slope, store)
    rows = [row("output g_L", out, gs[-1]),
            ("loss", abs(loss - ref_loss), abs(loss - ref_loss) / abs(ref_loss))]
    quantities = net.inspect()
    for l in range(net.num_layers):
        rows.append(row(f"dL/df^({l + 1})", quantities[l + 1]["dL_df"], dL_df[l + 1]))
        rows.append(row(f"dL/dW[{l}]", net.weight_grads[l], dL_dW[l]))
        rows.append(row(f"dL/db[{l}]", net.bias_grads[l], dL_db[l]))
    return rows


def print_rows(rows, tol, dtype):
    print(f"  {'quantity':<18} {'max |lib - ref|':>16} {'relative':>10}")
    for name, abs_diff, rel_diff in rows:
        print(f"  {name:<18} {abs_diff:16.3e} {rel_diff:10.3e}")
    worst = max(rows, key=lambda r: r[2])
    ok = worst[2] <= tol
    print(f"largest relative difference: {worst[2]:.3e} ({worst[0]}) -- "
          f"{'OK' if ok else 'ABOVE'} the {dtype} bound {tol:g}")
    return ok


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="digits", choices=["digits", "iris", "breast_cancer"])
    p.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--patience", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--png", default=None,
                   help="loss-curve file (default: swiftmlp_<dataset>_loss.png in the current "
                        "directory)")
    p.add_argument("--no-progress", action="store_true", help="no tqdm progress bar")
    args = p.parse_args(argv)
    png = args.png or f"swiftmlp_{args.dataset}_loss.png"

    print(f"swiftmlp {swiftmlp.__version__} (library {swiftmlp.version()} at "
          f"{os.path.relpath(swiftmlp.library_path)})")
    (x_train, l_train), (x_val, l_val), (x_test, l_test), n_classes = \
        load_dataset(args.dataset, args.seed)
    sizes = [x_train.shape[1], args.hidden, n_classes]
    print(f"data: {args.dataset}, {len(x_train)} training / {len(x_val)} validation / "
          f"{len(x_test)} test samples, {x_train.shape[1]} features, {n_classes} classes")

    with swiftmlp.MLP(sizes, activations=["relu", "softmax"], loss="cross_entropy",
                      init="he", dtype=args.dtype, seed=args.seed) as net:
        print(f"network: {net!r}")
        print(f"training: Adam lr={args.lr}, batch {args.batch}, up to {args.epochs} epochs, "
              f"early stopping with patience {args.patience}\n")
        start = time.perf_counter()
        history = net.fit(x_train, l_train, epochs=args.epochs, batch_size=args.batch,
                          optimizer=swiftmlp.Adam(lr=args.lr),
                          validation_data=(x_val, l_val),
                          early_stopping={"patience": args.patience, "restore_best": True},
                          progress=not args.no_progress)
        elapsed = time.perf_counter() - start
        predicted = np.argmax(net.predict(x_test), axis=1)
        accuracy = float(np.mean(predicted == l_test))
        train_accuracy = float(np.mean(np.argmax(net.predict(x_train), axis=1) == l_train))

        print(f"\ntrained {history.epochs_run} epochs in {elapsed:.2f} s "
              f"({'stopped early, ' if history.stopped_early else ''}best epoch "
              f"{history.best_epoch + 1}: validation loss {history.best_loss:.4f}"
              f"{', its parameters restored' if history.restored_best else ''})")
        print(f"training loss {history.loss[0]:.4f} -> {history.loss[-1]:.4f}")
        print(f"accuracy: train {train_accuracy:.2%}, test {accuracy:.2%} "
              f"({int(np.sum(predicted == l_test))}/{len(l_test)})\n")
        print_confusion_matrix(confusion_matrix(l_test, predicted, n_classes))
        save_loss_curve(history, png, f"swiftmlp on {args.dataset}: {sizes}, ReLU/softmax, "
                                      f"Adam, {args.dtype}")
        print(f"\nloss curve saved to {os.path.abspath(png)}")

        tol = TOLERANCE[args.dtype]
        print(f"\nparity of the trained network's forward/backward with reference.py's "
              f"general transcription, on {min(64, len(x_test))} test samples:")
        ok_general = print_rows(general_parity_check(net, x_test[:64], l_test[:64]), tol,
                                args.dtype)

    # The slides' network: sigmoid everywhere, MSE, plain SGD.
    y_train, y_test = np.eye(n_classes)[l_train], np.eye(n_classes)[l_test]
    with swiftmlp.MLP([x_train.shape[1], 32, n_classes], dtype=args.dtype,
                      seed=args.seed) as slides:
        slides.fit(x_train, y_train, epochs=5, batch_size=32, optimizer=swiftmlp.SGD(lr=5.0))
        acc = float(np.mean(np.argmax(slides.predict(x_test), axis=1) == l_test))
        print(f"\nthe slides' network {list(slides.sizes)} (sigmoid, MSE, SGD lr 5), 5 epochs: "
              f"test accuracy {acc:.2%}")
        print(f"parity with the slides' NumPy code (tests/reference.py), one SGD step on "
              f"{min(64, len(x_test))} test samples:")
        ok_slides = print_rows(slides_parity_check(slides, x_test[:64], y_test[:64], 5.0), tol,
                               args.dtype)
    return 0 if ok_slides and ok_general else 1


if __name__ == "__main__":
    sys.exit(main())
