"""The ``swiftmlp`` command line (also ``python -m swiftmlp``):

    swiftmlp train data.csv --target COL [--layers 64,32] [--activation relu]
                  [--loss cross_entropy] [--optimizer adam] [--lr 1e-3] [--epochs 30]
                  [--batch-size 32] [--validation 0.2] [--seed 0] -o model.safetensors
    swiftmlp predict model.safetensors data.csv [-o out.csv] [--proba]
    swiftmlp evaluate model.safetensors data.csv --target COL
    swiftmlp inspect model.safetensors

CSV files have a header row; ``--delimiter`` (default ",") sets the
separator.  Features are numbers; class labels may be any text.  The loss
decides the task: ``cross_entropy`` (softmax output) and
``binary_cross_entropy`` (two classes, sigmoid output) classify, ``mse``
regresses (identity output unless ``--output-activation``).  The model file
is swiftmlp's safetensors file, with the feature columns, the target column
and the class labels added to its metadata (keys ``cli_features``,
``cli_target``, ``cli_classes``; the library ignores keys it does not know).

Bad input (a missing file, an unknown column, a value that is not a number,
a model that fails to load, a wrong number of features) prints one line on
stderr and exits with status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import struct
import sys
import tempfile

import numpy as np

from . import SGD, Adam, AdamW, SwiftMLPError, __version__
from .mlp import MLP, load

_META = {"features": "cli_features", "target": "cli_target", "classes": "cli_classes"}


class UsageError(Exception):
    """A problem with the user's input: one line on stderr, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, status 2 (argparse prints usage too)
        raise UsageError(message)


# ---- files ------------------------------------------------------------------

def _read_csv(path: str, delimiter: str) -> tuple[list, list]:
    """(header, rows) of a CSV file with a header row."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f, delimiter=delimiter)
            header = next(reader, None)
            rows = [row for row in reader if row]
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"{path}: not a readable CSV file: {exc}") from exc
    if not header:
        raise UsageError(f"{path}: empty file (a header row is needed)")
    if not rows:
        raise UsageError(f"{path}: no data rows after the header")
    for number, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise UsageError(f"{path}: line {number} has {len(row)} fields, the header {len(header)}")
    return header, rows


def _column(header: list, name: str, path: str) -> int:
    if name not in header:
        raise UsageError(f"{path}: unknown column {name!r} (columns: {', '.join(header)})")
    return header.index(name)


def _numbers(path: str, header: list, rows: list, columns: list) -> np.ndarray:
    """The given columns as a float64 matrix, naming the first non-number."""
    out = np.empty((len(rows), len(columns)))
    for i, row in enumerate(rows):
        for j, c in enumerate(columns):
            try:
                out[i, j] = float(row[c])
            except ValueError:
                raise UsageError(f"{path}: line {i + 2}, column {header[c]!r}: {row[c]!r} is not a number") from None
            if not np.isfinite(out[i, j]):
                raise UsageError(f"{path}: line {i + 2}, column {header[c]!r}: {row[c]!r} is not finite")
    return out


def _metadata(path: str) -> dict:
    """The __metadata__ strings of a safetensors file's header."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(n)).get("__metadata__", {})


def _save_with_metadata(net: MLP, path: str, extra: dict) -> None:
    """net's model file with `extra` (str -> str) added to its metadata,
    written atomically (a temporary file in the same directory, renamed)."""
    data = net.to_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header["__metadata__"].update(extra)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".swiftmlp-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(struct.pack("<Q", len(text)) + text + data[8 + n:])
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _load_model(path: str) -> tuple[MLP, dict]:
    try:
        net = load(path)
    except (SwiftMLPError, OSError) as exc:
        raise UsageError(f"cannot load model {path}: {exc}") from exc
    meta = _metadata(path)
    try:
        info = {key: json.loads(meta[name]) if name in meta else None for key, name in _META.items()}
    except json.JSONDecodeError as exc:
        raise UsageError(f"model {path}: its cli_* metadata is not valid JSON: {exc}") from exc
    return net, info


def _features(path: str, header: list, rows: list, net: MLP, info: dict) -> np.ndarray:
    """The model's feature columns of a data file (by name when the model
    knows them, else every column but the target)."""
    if info["features"] is not None:
        columns = [_column(header, name, path) for name in info["features"]]
    else:
        columns = [i for i, name in enumerate(header) if name != info["target"]]
    if len(columns) != net.sizes[0]:
        raise UsageError(f"{path}: {len(columns)} feature columns, the model takes {net.sizes[0]}")
    return _numbers(path, header, rows, columns)


# ---- commands ---------------------------------------------------------------

def _train(args) -> None:
    header, rows = _read_csv(args.data, args.delimiter)
    target = _column(header, args.target, args.data)
    features = [i for i in range(len(header)) if i != target]
    if not features:
        raise UsageError(f"{args.data}: no feature columns besides the target {args.target!r}")
    x = _numbers(args.data, header, rows, features)
    labels = [row[target] for row in rows]
    classes = None
    if args.loss in ("cross_entropy", "binary_cross_entropy"):
        classes = sorted(set(labels))
        if args.loss == "binary_cross_entropy" and len(classes) != 2:
            raise UsageError(f"--loss binary_cross_entropy needs 2 classes in {args.target!r}, found {len(classes)}")
        index = {c: i for i, c in enumerate(classes)}
        codes = np.array([index[v] for v in labels])
        y = codes if args.loss == "cross_entropy" else codes.reshape(-1, 1).astype(np.float64)
        outputs = len(classes) if args.loss == "cross_entropy" else 1
        out_activation = "softmax" if args.loss == "cross_entropy" else "sigmoid"
    else:
        y = _numbers(args.data, header, rows, [target])
        outputs, out_activation = 1, "identity"
    out_activation = args.output_activation or out_activation
    try:
        layers = [int(s) for s in args.layers.split(",") if s.strip()] if args.layers else []
    except ValueError:
        raise UsageError(f"--layers must be sizes like 64,32, got {args.layers!r}") from None
    if not 0 <= args.validation < 1:
        raise UsageError(f"--validation must be a fraction in [0, 1), got {args.validation}")
    order = np.random.default_rng(args.seed).permutation(len(rows))
    n_val = int(round(args.validation * len(rows)))
    if args.validation and not 1 <= n_val < len(rows):
        raise UsageError(f"--validation {args.validation} leaves no rows for training or validation")
    val, tr = order[:n_val], order[n_val:]
    try:
        optimizer = {"sgd": SGD, "adam": Adam, "adamw": AdamW}[args.optimizer](lr=args.lr)
        net = MLP([x.shape[1], *layers, outputs], dtype=args.dtype, seed=args.seed,
                  activations=[args.activation] * len(layers) + [out_activation], loss=args.loss,
                  init="he" if args.activation in ("relu", "leaky_relu") else "glorot")
        history = net.fit(x[tr], y[tr], epochs=args.epochs, batch_size=args.batch_size,
                          optimizer=optimizer,
                          validation_data=(x[val], y[val]) if n_val else None,
                          progress=sys.stderr.isatty())
    except SwiftMLPError as exc:
        raise UsageError(str(exc)) from exc
    print(f"trained {list(net.sizes)} for {history.epochs_run} epochs: "
          f"train loss {history.loss[-1]:.6g}"
          + (f", validation loss {history.val_loss[-1]:.6g}" if history.val_loss else ""))
    if classes is not None:
        for name, rows_ in (("train", tr), ("validation", val)):
            if len(rows_):
                print(f"{name} accuracy {_accuracy(net, x[rows_], y[rows_]):.4f} ({len(rows_)} rows)")
    extra = {_META["features"]: json.dumps([header[i] for i in features]),
             _META["target"]: json.dumps(args.target)}
    if classes is not None:
        extra[_META["classes"]] = json.dumps(classes)
    try:
        _save_with_metadata(net, args.output, extra)
    except OSError as exc:
        raise UsageError(f"cannot write {args.output}: {exc.strerror}") from exc
    print(f"saved {args.output}")


def _predicted_codes(p: np.ndarray) -> np.ndarray:
    return p.argmax(axis=1) if p.shape[1] > 1 else (p[:, 0] >= 0.5).astype(int)


def _accuracy(net: MLP, x: np.ndarray, y: np.ndarray) -> float:
    codes = y.ravel().astype(int) if y.ndim == 1 or y.shape[1] == 1 else y.argmax(axis=1)
    return float(np.mean(_predicted_codes(net.predict(x)) == codes))


def _predict(args) -> None:
    net, info = _load_model(args.model)
    header, rows = _read_csv(args.data, args.delimiter)
    p = net.predict(_features(args.data, header, rows, net, info))
    classes = info["classes"]
    if args.proba:
        if classes is None:
            raise UsageError("--proba needs a classification model")
        if p.shape[1] == 1:
            p = np.hstack([1 - p, p])
        names, values = [f"p_{c}" for c in classes], [[repr(float(v)) for v in r] for r in p]
    elif classes is not None:
        names, values = [info["target"] or "prediction"], [[classes[c]] for c in _predicted_codes(p)]
    else:
        names = [info["target"] or "prediction"] if p.shape[1] == 1 else [f"y{j}" for j in range(p.shape[1])]
        values = [[repr(float(v)) for v in r] for r in p]
    try:
        out = open(args.output, "w", newline="", encoding="utf-8") if args.output else sys.stdout
    except OSError as exc:
        raise UsageError(f"cannot write {args.output}: {exc.strerror}") from exc
    with out if args.output else contextlib.nullcontext(out):
        writer = csv.writer(out, delimiter=args.delimiter, lineterminator="\n")
        writer.writerow(names)
        writer.writerows(values)


def _evaluate(args) -> None:
    net, info = _load_model(args.model)
    header, rows = _read_csv(args.data, args.delimiter)
    x = _features(args.data, header, rows, net, info)
    target = _column(header, args.target, args.data)
    classes = info["classes"]
    if classes is not None:
        index = {c: i for i, c in enumerate(classes)}
        unknown = sorted({row[target] for row in rows} - set(index))
        if unknown:
            raise UsageError(f"{args.data}: column {args.target!r} has labels the model does not know: {unknown[:5]}")
        codes = np.array([index[row[target]] for row in rows])
        y = codes if net.loss == "cross_entropy" else codes.reshape(-1, 1).astype(np.float64)
    else:
        y = _numbers(args.data, header, rows, [target])
    try:
        loss = net.evaluate(x, y)
    except SwiftMLPError as exc:
        raise UsageError(str(exc)) from exc
    print(f"loss {loss:.6g} ({net.loss}, {len(rows)} rows)")
    if classes is not None:
        print(f"accuracy {_accuracy(net, x, y):.4f}")


def _inspect(args) -> None:
    net, info = _load_model(args.model)
    print(f"sizes        {list(net.sizes)}")
    print(f"activations  {', '.join(net.activations)}")
    print(f"parameters   {net.param_count}")
    print(f"dtype        {np.dtype(net.dtype).name}")
    print(f"loss         {net.loss}")
    print(f"optimizer    {net.optimizer}")
    for key, value in sorted(_metadata(args.model).items()):
        print(f"metadata     {key} = {value}")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="swiftmlp", description="Train and use swiftmlp networks on CSV files.")
    parser.add_argument("--version", action="version", version=f"swiftmlp {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def common(p):
        p.add_argument("--delimiter", default=",", help="CSV field separator (default ,)")

    t = sub.add_parser("train", help="train a network on a CSV file and save it")
    t.add_argument("data")
    t.add_argument("--target", required=True, help="the column to predict")
    t.add_argument("--layers", default="", help="hidden layer sizes, e.g. 64,32")
    t.add_argument("--activation", default="relu",
                   choices=["sigmoid", "tanh", "relu", "leaky_relu", "identity"])
    t.add_argument("--output-activation", choices=["sigmoid", "softmax", "identity", "tanh"])
    t.add_argument("--loss", default="cross_entropy",
                   choices=["mse", "binary_cross_entropy", "cross_entropy"])
    t.add_argument("--optimizer", default="adam", choices=["sgd", "adam", "adamw"])
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--epochs", type=int, default=30)
    t.add_argument("--batch-size", type=int, default=32)
    t.add_argument("--validation", type=float, default=0.0, help="fraction held out (default 0)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    t.add_argument("-o", "--output", required=True, help="the model file to write")
    common(t)
    t.set_defaults(run=_train)

    p = sub.add_parser("predict", help="predict labels or values for a CSV file")
    p.add_argument("model")
    p.add_argument("data")
    p.add_argument("-o", "--output", help="CSV file to write (default: standard output)")
    p.add_argument("--proba", action="store_true", help="class probabilities instead of labels")
    common(p)
    p.set_defaults(run=_predict)

    e = sub.add_parser("evaluate", help="the loss (and accuracy) of a model on a CSV file")
    e.add_argument("model")
    e.add_argument("data")
    e.add_argument("--target", required=True)
    common(e)
    e.set_defaults(run=_evaluate)

    i = sub.add_parser("inspect", help="a model file's architecture, optimizer and metadata")
    i.add_argument("model")
    i.set_defaults(run=_inspect)
    return parser


def main(argv=None) -> int:
    """Run the command line; returns the exit status (0, or 2 on bad input)."""
    try:
        args = _parser().parse_args(argv)
        args.run(args)
    except UsageError as exc:
        print(f"swiftmlp: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("swiftmlp: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (| head): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
