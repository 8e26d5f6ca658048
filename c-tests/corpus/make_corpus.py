#!/usr/bin/env python3
"""make_corpus.py - writes the swiftmlp model-file test corpus next to itself.

Plain Python 3 (standard library only), deterministic: running it again
rewrites byte-identical files.  The files are committed; test_model_corpus.c
holds the expected status and message of every one of them, and
test_model_mutations.c sweeps single-byte changes and truncations of the
three valid ones.

The layout is the one include/swiftmlp.h documents ("Saving and loading"):
an 8-byte little-endian header length n, n bytes of UTF-8 JSON padded with
spaces to a multiple of 8, then the little-endian row-major tensors back to
back.  The JSON holds "__metadata__" (string -> string) and one entry
{"dtype", "shape", "data_offsets"} per tensor.

Every malformed file (bad_*) is built from one of the valid models with
exactly one thing wrong, so that the loader has to reject it for that reason
(SWIFTMLP_ERR_FORMAT).  edge_* files are well-formed but extreme: the loader
may accept them, but the network must then work without crashing.

    valid_f64_sigmoid_mse.safetensors              float64 [3,4,2] sigmoid/sigmoid, MSE
    valid_f32_relu_softmax_adam.safetensors        float32 [4,5,3] relu/softmax, cross-entropy,
                                                   Adam with state (m, v, 3 steps)
    valid_f64_tanh_identity_sgd_momentum.safetensors
                                                   float64 [2,3,3,1] tanh/tanh/identity, MSE,
                                                   SGD momentum 0.9 Nesterov with state (5 steps)

Usage: python3 make_corpus.py          writes the files into the directory of this script
       python3 make_corpus.py --check  exits 1 if the committed files differ from what it
                                       would write (a ctest test runs this)
"""

import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MASK64 = (1 << 64) - 1
SHUFFLE_SALT = 0x6A09E667F3BCC909  # the header's shuffle generator seed offset


# ---- deterministic values ---------------------------------------------------

class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def unit(self):
        return (self.next() >> 11) * 2.0 ** -53

    def uniform(self, lo, hi):
        return lo + (hi - lo) * self.unit()


# ---- a model: metadata + tensors --------------------------------------------

class Tensor:
    def __init__(self, name, dtype, shape, values):
        self.name = name
        self.dtype = dtype            # "F32" / "F64" (or anything, for bad files)
        self.shape = list(shape)
        self.values = list(values)
        self.offsets = None           # [begin, end] override
        self.extra = []               # extra (key, json text) fields in the entry
        self.drop = []                # field names left out of the entry
        self.raw = None               # bytes override of the data

    def data(self):
        if self.raw is not None:
            return self.raw
        fmt = {"F32": "<f", "F64": "<d"}.get(self.dtype, "<d")
        return b"".join(struct.pack(fmt, v) for v in self.values)


class Model:
    def __init__(self, meta, tensors):
        self.meta = list(meta)        # ordered (key, value) pairs
        self.tensors = tensors
        self.raw_data = None          # bytes override of the whole data section

    def copy(self):
        tensors = []
        for t in self.tensors:
            c = Tensor(t.name, t.dtype, t.shape, t.values)
            c.offsets, c.extra, c.drop, c.raw = t.offsets, list(t.extra), list(t.drop), t.raw
            tensors.append(c)
        m = Model(self.meta, tensors)
        m.raw_data = self.raw_data
        return m

    def set_meta(self, key, value):
        for i, (k, _) in enumerate(self.meta):
            if k == key:
                self.meta[i] = (key, value)
                return self
        self.meta.append((key, value))
        return self

    def drop_meta(self, key):
        self.meta = [(k, v) for k, v in self.meta if k != key]
        return self

    def tensor(self, name):
        for t in self.tensors:
            if t.name == name:
                return t
        raise KeyError(name)

    def edited(self, name, **fields):
        """A copy whose tensor `name` has these fields (shape, dtype, offsets, ...)."""
        m = self.copy()
        for field, value in fields.items():
            setattr(m.tensor(name), field, value)
        return m

    def with_value(self, name, index, value):
        """A copy whose tensor `name` holds `value` at `index` (< 0: from the end)."""
        values = list(self.tensor(name).values)
        values[index] = value
        return self.edited(name, values=values)

    def drop_tensor(self, name):
        self.tensors = [t for t in self.tensors if t.name != name]
        return self

    # The header members as (key, json text) pairs, in file order.
    def members(self):
        meta = "{" + ",".join(json.dumps(k) + ":" + json.dumps(v) for k, v in self.meta) + "}"
        out = [("__metadata__", meta)]
        offset = 0
        for t in self.tensors:
            size = len(t.data())
            offsets = t.offsets if t.offsets is not None else [offset, offset + size]
            offset += size
            fields = [("dtype", json.dumps(t.dtype)),
                      ("shape", "[" + ",".join(str(d) for d in t.shape) + "]"),
                      ("data_offsets", "[" + ",".join(str(o) for o in offsets) + "]")]
            fields = [(k, v) for k, v in fields if k not in t.drop] + t.extra
            out.append((t.name, "{" + ",".join(json.dumps(k) + ":" + v for k, v in fields) + "}"))
        return out

    def header_text(self, members=None):
        members = self.members() if members is None else members
        return "{" + ",".join(json.dumps(k) + ":" + v for k, v in members) + "}"

    def data(self):
        if self.raw_data is not None:
            return self.raw_data
        return b"".join(t.data() for t in self.tensors)


def pad8(header, fill=b" "):
    while len(header) % 8:
        header += fill
    return header


def assemble(header, data, declared=None):
    """8-byte LE length (declared, or the real one), header bytes, data."""
    n = len(header) if declared is None else declared
    return struct.pack("<Q", n) + header + data


def encode(model, header_text=None, fill=b" "):
    text = model.header_text() if header_text is None else header_text
    return assemble(pad8(text.encode("utf-8"), fill), model.data())


# ---- the three valid models ---------------------------------------------------

def layer_tensors(sizes, dtype, rng, scale=0.8):
    tensors = []
    for l in range(len(sizes) - 1):
        n_in, n_out = sizes[l], sizes[l + 1]
        w = [rng.uniform(-scale, scale) for _ in range(n_out * n_in)]
        b = [rng.uniform(-scale, scale) for _ in range(n_out)]
        tensors.append(Tensor("layers.%d.weight" % l, dtype, [n_out, n_in], w))
        tensors.append(Tensor("layers.%d.bias" % l, dtype, [n_out], b))
    return tensors


def param_count(sizes):
    return sum(sizes[l + 1] * sizes[l] + sizes[l + 1] for l in range(len(sizes) - 1))


def base_meta(dtype, sizes, activations, loss, init, seed):
    return [
        ("format", "swiftmlp"),
        ("format_version", "1"),
        ("dtype", dtype),
        ("sizes", ",".join(str(s) for s in sizes)),
        ("activations", ",".join(activations)),
        ("leaky_slope", "0.01"),
        ("loss", loss),
        ("init", init),
        ("seed", str(seed)),
        ("shuffle_state", str((seed + SHUFFLE_SALT) & MASK64)),
    ]


def optimizer_meta(kind, lr, momentum, nesterov, weight_decay, steps):
    """The optimizer_* metadata in file order; Adam's betas and eps at their defaults."""
    return [
        ("optimizer", kind),
        ("optimizer_lr", lr),
        ("optimizer_momentum", momentum),
        ("optimizer_nesterov", nesterov),
        ("optimizer_beta1", "0.9"),
        ("optimizer_beta2", "0.999"),
        ("optimizer_eps", "1e-08"),
        ("optimizer_weight_decay", weight_decay),
        ("optimizer_steps", steps),
    ]


def model_a():
    """float64 [3,4,2] sigmoid/sigmoid, MSE, no optimizer."""
    sizes = [3, 4, 2]
    rng = SplitMix64(1001)
    meta = base_meta("float64", sizes, ["sigmoid", "sigmoid"], "mse", "uniform", 7)
    return Model(meta, layer_tensors(sizes, "F64", rng))


def model_b():
    """float32 [4,5,3] relu/softmax, cross-entropy, he init, Adam with its state."""
    sizes = [4, 5, 3]
    rng = SplitMix64(2002)
    meta = base_meta("float32", sizes, ["relu", "softmax"], "cross_entropy", "he", 42)
    meta += optimizer_meta("adam", lr="0.001", momentum="0.0", nesterov="0", weight_decay="0.0", steps="3")
    tensors = layer_tensors(sizes, "F32", rng)
    p = param_count(sizes)
    m = [rng.uniform(-0.01, 0.01) for _ in range(p)]
    v = [rng.uniform(0.0, 1e-4) for _ in range(p)]
    tensors.append(Tensor("optimizer.m", "F32", [p], m))
    tensors.append(Tensor("optimizer.v", "F32", [p], v))
    return Model(meta, tensors)


def model_c():
    """float64 [2,3,3,1] tanh/tanh/identity, MSE, glorot, SGD Nesterov momentum with state."""
    sizes = [2, 3, 3, 1]
    rng = SplitMix64(3003)
    meta = base_meta("float64", sizes, ["tanh", "tanh", "identity"], "mse", "glorot", 123)
    meta += optimizer_meta("sgd", lr="0.05", momentum="0.9", nesterov="1", weight_decay="0.0001", steps="5")
    tensors = layer_tensors(sizes, "F64", rng)
    p = param_count(sizes)
    tensors.append(Tensor("optimizer.momentum", "F64", [p], [rng.uniform(-0.1, 0.1) for _ in range(p)]))
    return Model(meta, tensors)


# ---- the malformed files --------------------------------------------------------

def with_offsets(model, offsets, data):
    """A copy of model whose tensors declare these data_offsets over this data section."""
    m = model.copy()
    for t, o in zip(m.tensors, offsets):
        t.offsets = o
    m.raw_data = data
    return m


def D(x):
    return struct.pack("<d", x)


def replace_once(text, old, new):
    assert text.count(old) == 1, (old, text.count(old))
    return text.replace(old, new)


def malformed():
    a, b, c = model_a(), model_b(), model_c()
    A = encode(a)
    files = {}

    # -- the framing: length prefix ---------------------------------------------
    files["bad_empty"] = b""
    files["bad_7_bytes"] = A[:7]
    files["bad_header_length_all_ones"] = struct.pack("<Q", MASK64) + A[8:]
    files["bad_header_length_17_mib"] = struct.pack("<Q", 17 << 20) + A[8:]
    files["bad_header_length_past_end"] = struct.pack("<Q", len(A) - 8 + 1) + A[8:]
    files["bad_only_length_prefix"] = struct.pack("<Q", 0)

    # -- the JSON text -------------------------------------------------------------
    text = a.header_text()
    # a byte that is not UTF-8 inside a string (the metadata value "swiftmlp")
    files["bad_non_utf8_byte_in_string"] = assemble(
        pad8(text.encode("utf-8").replace(b'"swiftmlp"', b'"swift\xffmlp"', 1)), a.data())
    # an overlong encoding of '/' (C0 AF) and a UTF-8-encoded surrogate (ED A0 80)
    files["bad_overlong_utf8_in_string"] = assemble(
        pad8(text.encode("utf-8").replace(b'"mse"', b'"ms\xc0\xafe"', 1)), a.data())
    files["bad_utf8_surrogate_in_key"] = assemble(
        pad8(text.encode("utf-8").replace(b'"seed"', b'"se\xed\xa0\x80ed"', 1)), a.data())
    # a UTF-8 byte-order mark before the JSON
    files["bad_utf8_bom_before_json"] = assemble(pad8(b"\xef\xbb\xbf" + text.encode("utf-8")), a.data())
    # the JSON cut in the middle (the header length declares the cut text)
    cut = text.encode("utf-8")[: len(text) // 2]
    files["bad_truncated_json"] = assemble(cut, b"")
    # 10^5 nested arrays
    files["bad_nesting_100000_deep"] = assemble(b"[" * 100000, b"")
    # 17 nested objects, properly closed (valid JSON, too deep)
    deep = '{"a":' * 16 + "1" + "}" * 16
    files["bad_nesting_17_deep_closed"] = encode(
        a, replace_once(text, '"__metadata__":{', '"x":' + deep + ',"__metadata__":{'))
    files["bad_header_is_json_array"] = encode(a, "[" + text + "]")
    files["bad_header_padded_with_nul"] = encode(a, text, fill=b"\x00") \
        if len(text) % 8 else encode(a, text + " ", fill=b"\x00")
    files["bad_data_after_json_value"] = encode(a, text + "{}")
    files["bad_raw_control_char_in_string"] = encode(a, replace_once(text, '"mse"', '"m\tse"'))
    files["bad_invalid_escape"] = encode(a, replace_once(text, '"mse"', '"m\\qse"'))
    files["bad_unpaired_surrogate_escape"] = encode(a, replace_once(text, '"mse"', '"mse\\ud800"'))
    # layers.1.bias twice (same entry): a last-one-wins parser would accept it
    files["bad_duplicate_tensor_name"] = encode(a, a.header_text(a.members() + a.members()[-1:]))
    files["bad_duplicate_metadata_key"] = encode(
        a, replace_once(text, '"seed":"7"', '"seed":"7","seed":"8"'))

    # -- the metadata -------------------------------------------------------------
    files["bad_missing_metadata"] = encode(a, a.header_text(a.members()[1:]))
    files["bad_metadata_not_object"] = encode(a, a.header_text([("__metadata__", '"swiftmlp"')] + a.members()[1:]))
    files["bad_metadata_value_not_string"] = encode(a, replace_once(text, '"seed":"7"', '"seed":7'))
    # One metadata value changed, or left out (None), in model a, b or c.
    one_meta_value = [
        # (file, model, key, value)
        ("bad_format_not_swiftmlp", a, "format", "pytorch"),
        ("bad_format_version_2", a, "format_version", "2"),
        ("bad_format_version_missing", a, "format_version", None),
        ("bad_metadata_dtype_float16", a, "dtype", "float16"),
        ("bad_unknown_activation_gelu", a, "activations", "sigmoid,gelu"),
        ("bad_activation_count_mismatch", a, "activations", "sigmoid"),
        ("bad_unknown_loss", a, "loss", "hinge"),
        ("bad_unknown_init", a, "init", "xavier"),
        ("bad_leaky_slope_not_a_number", a, "leaky_slope", "abc"),
        ("bad_leaky_slope_nan", a, "leaky_slope", "nan"),
        ("bad_leaky_slope_inf", a, "leaky_slope", "inf"),
        ("bad_seed_negative", a, "seed", "-1"),
        ("bad_seed_leading_zero", a, "seed", "07"),
        ("bad_seed_2_pow_64", a, "seed", "18446744073709551616"),
        # a JSON \u0000 escape ends the number for a C-string parser (strtod): "0.01" + junk
        ("bad_leaky_slope_embedded_nul", a, "leaky_slope", "0.01\u0000junk"),
        ("bad_shuffle_state_missing", a, "shuffle_state", None),
        ("bad_sizes_with_zero", a, "sizes", "3,0,2"),
        ("bad_sizes_empty_entry", a, "sizes", "3,,2"),
        ("bad_sizes_above_layer_limit", a, "sizes", "3,16777217,2"),
        ("bad_sizes_param_count_above_limit", a, "sizes", "16384,16384,2"),
        ("bad_softmax_on_hidden_layer", a, "activations", "softmax,sigmoid"),
        ("bad_cross_entropy_without_softmax", a, "loss", "cross_entropy"),
        # the optimizer (models b: Adam, c: SGD with momentum)
        ("bad_unknown_optimizer", b, "optimizer", "rmsprop"),
        ("bad_optimizer_lr_zero", b, "optimizer_lr", "0"),
        ("bad_optimizer_beta1_one", b, "optimizer_beta1", "1"),
        ("bad_optimizer_eps_negative", b, "optimizer_eps", "-1e-08"),
        ("bad_optimizer_momentum_one", c, "optimizer_momentum", "1"),
        ("bad_optimizer_nesterov_2", c, "optimizer_nesterov", "2"),
        ("bad_optimizer_weight_decay_negative", c, "optimizer_weight_decay", "-0.1"),
        ("bad_optimizer_lr_missing", c, "optimizer_lr", None),
        ("bad_optimizer_steps_2_pow_63", b, "optimizer_steps", str(2 ** 63)),
        ("bad_optimizer_state_without_steps", b, "optimizer_steps", None),
    ]
    for name, model, key, value in one_meta_value:
        m = model.copy()
        files[name] = encode(m.set_meta(key, value) if value is not None else m.drop_meta(key))
    files["bad_sizes_1026_entries"] = encode(
        a.copy().set_meta("sizes", ",".join(["1"] * 1026)).set_meta("activations", ",".join(["sigmoid"] * 1025)))
    files["bad_optimizer_steps_without_state"] = encode(b.copy().drop_tensor("optimizer.v"))

    # -- the tensors --------------------------------------------------------------
    # Model A's data section: layers.0.weight [0,96), layers.0.bias [96,128),
    # layers.1.weight [128,192), layers.1.bias [192,208).
    data = a.data()
    assert len(data) == 208
    # layers.0.weight declares 104 bytes (13 doubles) for its 4x3 shape; the
    # rest is consistent (the data section is 8 bytes longer, no gap).
    files["bad_tensor_byte_size_mismatch"] = encode(with_offsets(
        a, [[0, 104], [104, 136], [136, 200], [200, 216]], data[:96] + D(0.5) + data[96:]))
    # layers.0.bias starts 8 bytes inside layers.0.weight; every span is the right size.
    files["bad_overlapping_offsets"] = encode(with_offsets(
        a, [[0, 96], [88, 120], [120, 184], [184, 200]], data[:200]))
    # 8 unused bytes between layers.0.weight and layers.0.bias.
    files["bad_gap_between_offsets"] = encode(with_offsets(
        a, [[0, 96], [104, 136], [136, 200], [200, 216]], data[:96] + D(0.0) + data[96:]))
    files["bad_trailing_bytes_after_last_tensor"] = encode(a) + D(0.0)
    # layers.0.weight transposed: the same byte size
    files["bad_shape_transposed"] = encode(a.edited("layers.0.weight", shape=[3, 4]))
    # layers.1.bias declares shape [3] with 24 bytes of data: self-consistent,
    # but sizes "3,4,2" need [2].
    files["bad_shape_and_size_disagree_with_sizes"] = encode(with_offsets(
        a, [[0, 96], [96, 128], [128, 192], [192, 216]], data + D(0.25)).edited("layers.1.bias", shape=[3]))
    files["bad_shape_negative_dim"] = encode(a.edited("layers.1.weight", shape=[2, "-4"]))
    files["bad_shape_scalar"] = encode(a.edited("layers.0.bias", shape=[]))
    files["bad_tensor_dtype_f16"] = encode(a.edited("layers.0.bias", dtype="F16"))
    files["bad_tensor_dtype_i32"] = encode(a.edited("layers.1.weight", dtype="I32"))
    m = a.copy()
    for t in m.tensors:
        t.dtype = "F32"                     # data really is F32, metadata says float64
    files["bad_tensor_dtype_f32_in_float64_model"] = encode(m)
    files["bad_nan_in_weight"] = encode(a.with_value("layers.1.weight", 3, float("nan")))
    files["bad_inf_in_bias"] = encode(a.with_value("layers.0.bias", 1, float("inf")))
    files["bad_f32_minus_inf_in_weight"] = encode(b.with_value("layers.0.weight", 5, float("-inf")))
    files["bad_nan_in_adam_state"] = encode(b.with_value("optimizer.v", -1, float("nan")))
    files["bad_inf_in_momentum_state"] = encode(c.with_value("optimizer.momentum", 0, float("inf")))
    files["bad_missing_tensor"] = encode(a.copy().drop_tensor("layers.1.bias"))
    m = a.copy()
    m.tensors.append(Tensor("layers.2.weight", "F64", [1, 2], [0.5, 0.5]))
    files["bad_unexpected_extra_tensor"] = encode(m)
    files["bad_extra_field_in_tensor_entry"] = encode(a.edited("layers.0.bias", extra=[("extra", "1")]))
    files["bad_tensor_entry_without_offsets"] = encode(a.edited("layers.0.bias", drop=["data_offsets"]))
    files["bad_offsets_past_data_section"] = encode(
        a.edited("layers.1.bias", offsets=[len(a.data()) - 16, len(a.data()) + 8]))
    files["bad_offsets_reversed"] = encode(a.edited("layers.0.weight", offsets=[96, 0]))
    files["bad_offsets_not_integers"] = encode(a.edited("layers.0.weight", offsets=["0.0", "96.0"]))
    files["bad_offsets_three_numbers"] = encode(a.edited("layers.0.weight", offsets=[0, 96, 128]))
    return files


def edge():
    """Files that are well-formed but extreme: the loader may accept them, but
    then every call on the network must behave (no crash)."""
    files = {}
    # the largest step count the loader's "steps <= Int.max" check lets through:
    # the next optimizer step must not overflow t.
    files["edge_optimizer_steps_int_max"] = encode(
        model_b().copy().set_meta("optimizer_steps", str(2 ** 63 - 1)))
    return files


def corpus():
    """name -> bytes of every file of the corpus."""
    files = {
        "valid_f64_sigmoid_mse": encode(model_a()),
        "valid_f32_relu_softmax_adam": encode(model_b()),
        "valid_f64_tanh_identity_sgd_momentum": encode(model_c()),
    }
    for part in (malformed(), edge()):
        for name, data in part.items():
            assert name not in files, name
            files[name] = data
    return files


def on_disk():
    return sorted(e[: -len(".safetensors")] for e in os.listdir(HERE) if e.endswith(".safetensors"))


def check(files):
    """Compare the committed files with what this script writes; 0 if equal."""
    problems = []
    for name in sorted(files):
        path = os.path.join(HERE, name + ".safetensors")
        if not os.path.exists(path):
            problems.append("missing: " + name)
            continue
        with open(path, "rb") as f:
            if f.read() != files[name]:
                problems.append("differs: " + name)
    problems += ["not written by this script: " + n for n in on_disk() if n not in files]
    for p in problems:
        print(p)
    if problems:
        print("the corpus is out of date: run python3 make_corpus.py")
        return 1
    print("the %d corpus files are up to date" % len(files))
    return 0


def main(argv):
    files = corpus()
    if argv[1:] == ["--check"]:
        return check(files)
    if argv[1:]:
        print("usage: make_corpus.py [--check]")
        return 2
    # Remove stale outputs so the directory holds exactly this corpus.
    for name in on_disk():
        os.remove(os.path.join(HERE, name + ".safetensors"))
    for name in sorted(files):
        with open(os.path.join(HERE, name + ".safetensors"), "wb") as f:
            f.write(files[name])
    kinds = [n.split("_", 1)[0] for n in files]
    print("wrote %d valid, %d malformed and %d edge-case files to %s"
          % (kinds.count("valid"), kinds.count("bad"), kinds.count("edge"), HERE))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
