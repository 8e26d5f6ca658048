#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_api (fuzz/corpus/api/seed-*.bin).

The input format is fuzz_api.c's: a sequence of operations, each framed as
    [opcode] [n] [n argument bytes]
where opcode bit 7 selects network slot 1 (else slot 0) and the low bits
(mod the number of operations) the operation.  A missing or zero argument byte means the plain
valid choice, so most seeds give only the arguments that matter.

    python3 fuzz/make_api_seeds.py [DIR]      (default: fuzz/corpus/api)
"""
import os
import sys

(CREATE, FORWARD, BACKWARD, BACKWARD_LABELS, STEP, SET_OPTIMIZER, OPTIMIZER_MISC,
 SET_PARAMS, SET_LAYER, GET, SAVE_LOAD, PREDICT, FIT, GRADCHECK, FREE, STALE, TRAIN_STEP,
 FORGED, SIZE, SET_GRADS) = range(20)


def op(code, args=b"", slot=0):
    args = bytes(args)
    assert len(args) < 256
    return bytes([code | (0x80 if slot else 0), len(args)]) + args


def create(sizes, f32=False, config=None):
    """sizes: 2..4 layer sizes in 1..8; config: (activations, loss, init) or None."""
    shape = len(sizes) - 2
    args = bytes([shape]) + bytes(s - 1 for s in sizes) + bytes([1 if f32 else 0, 0]) + bytes(8)
    if config is None:
        return args + b"\x00"
    acts, loss, init = config
    L = len(sizes) - 1
    na = 0 if not acts else (1 if len(acts) == 1 else 2)
    assert not acts or len(acts) in (1, L)
    return args + b"\x01" + bytes([na]) + bytes(acts) + (b"\x00" if na == 0 else b"") + bytes([0, loss, init, 0])


def values(vals):
    """Bytes that fill_values turns into (b - 128) / 32."""
    return bytes(max(0, min(255, int(round(v * 32 + 128)))) for v in vals)


SIGMOID, TANH, RELU, LEAKY, IDENTITY, SOFTMAX = range(6)
MSE, BCE, CE = range(3)
SGD, ADAM, ADAMW = range(3)

seeds = {}

# Create, Adam, one training step, gradients, save with state, load into slot 1, predict there.
seeds["train-save-load"] = b"".join([
    op(CREATE, create([3, 5, 2])),
    op(SET_OPTIMIZER, bytes([ADAM])),
    # dtype, batch 4, x_len, y_cap, 12 inputs, no NaN, non-NULL
    op(FORWARD, bytes([0, 3, 0, 0]) + values([0.5, -1, 0.25, 1, 0, -0.5, 0.75, 0.1, -0.2, 0, 1, 1]) + b"\x00\x00"),
    op(BACKWARD, bytes([0, 0, 0]) + bytes([1, 0, 0, 1, 1, 0, 0, 1])),
    op(OPTIMIZER_MISC, b"\x00"),               # optimizer_step
    op(GET, b"\x01"),                          # get_grads
    op(SAVE_LOAD, b"\x01\x00\x00"),            # flags 1: with the optimizer state
    op(PREDICT, b"\x03", slot=1),              # predict 4 rows on the loaded copy
    op(OPTIMIZER_MISC, b"\x03", slot=1),       # step count
    op(FREE),
    op(STALE),
])

# Softmax + cross-entropy from a config, class labels, SGD with momentum, quantities.
seeds["softmax-labels-sgd"] = b"".join([
    op(CREATE, create([4, 6, 3], config=([TANH, SOFTMAX], CE, 1))),
    # SGD, set momentum (bit 1) and nesterov (bit 2): momentum=table[7]=0.9, nesterov=1
    op(SET_OPTIMIZER, bytes([SGD, 0b110, 7, 1])),
    op(FORWARD, bytes([0, 2, 0, 0]) + values([0.1 * i for i in range(12)])),
    op(BACKWARD_LABELS, bytes([0, 0, 0, 1, 2])),
    op(OPTIMIZER_MISC, b"\x00"),
    op(GET, bytes([4, 0, 1, 2])),              # get_quantity(G, layer 2)
    op(GET, bytes([4, 0, 2, 1])),              # dL/df, layer 1
    op(GET, bytes([5])),                       # cached_rows
    op(STEP, bytes([5])),                      # plain SGD step, lr = 0.01
    op(GET, bytes([6])),                       # get_config, get_activations
])

# float32 parameters and layers.
seeds["f32-params-layers"] = b"".join([
    op(CREATE, create([2, 3, 1], f32=True)),
    op(SET_PARAMS, bytes([0, 0]) + values([0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0, 0.1, 0.2, 1, -1, 0.5, 0.25])),
    op(SET_LAYER, bytes([1, 0, 0, 0]) + values([1, 2, 3]) + b"\x00" + values([-1]) + b"\x00"),
    op(GET, bytes([2, 0, 1])),                 # get_layer 1
    op(GET, bytes([0])),                       # get_params
    op(GET, bytes([7])),                       # get_sizes, layer_offsets
    op(PREDICT, bytes([0xD2])),                # 276 rows: two 256-row chunks
    op(PREDICT, bytes([1, 0, 0, 0]) + bytes(4) + b"\x00\x00\x01"),  # evaluate, 2 rows
])

# fit with validation data and a cancelling callback, then gradient check.
seeds["fit-gradcheck"] = b"".join([
    op(CREATE, create([2, 4, 1])),
    op(CREATE, create([3, 3]), slot=1),
    op(SET_OPTIMIZER, bytes([ADAMW])),
    # dtype, rows 8 (byte 7), x_len, y_len; epochs 3, batch 3, shuffle, patience 1,
    # min_delta 0, restore_best, report_batches, a callback that cancels at call 5
    op(FIT, bytes([0, 7, 0, 0])
       + values([(i % 4) / 4 for i in range(16)]) + b"\x00"       # x, no NaN
       + bytes([1, 0, 1, 0, 1, 1, 0, 1]) + b"\x00"                # y, no NaN
       + bytes([2, 2, 1, 1, 0, 1, 1, 1, 5])                       # epochs..callback, cancel at 5
       + bytes([0, 1, 0, 0]) + values([0, 1, 1, 0]) + b"\x00"     # validation: 2 rows, x
       + bytes([1, 0]) + b"\x00"                                  # validation y
       + bytes([0, 1])),                                          # options given, result wanted
    op(GRADCHECK, bytes([0, 1, 0, 0]) + values([0.5, -0.5, 1, 0]) + b"\x00" + bytes([1, 0]) + b"\x00\x00"),
    op(FIT, bytes([0, 3])),                    # defaults-ish: 4 rows
    op(GET, bytes([1])),                       # get_grads after fit
    op(SAVE_LOAD, b"\x00\x00\x00"),
    op(FREE, slot=1),
])

# swiftmlp_train_step: without an optimizer (STATE), then with SGD, float32, a few batches.
seeds["train-step"] = b"".join([
    op(CREATE, create([3, 4, 2], f32=True)),
    op(TRAIN_STEP, bytes([0, 2])),             # no optimizer yet: STATE
    op(SET_OPTIMIZER, bytes([SGD])),
    op(TRAIN_STEP, bytes([0, 2, 0, 0]) + values([0.5, -0.5, 1, 0, 0.25, -1, 0.75, 0.5, 0]) + b"\x00"
       + bytes([1, 0, 0, 1, 1, 0]) + b"\x00"),
    op(TRAIN_STEP, bytes([0, 5])),             # 6 rows
    op(GET, bytes([4, 0, 3, 2])),              # dL/dg of the output layer
    op(BACKWARD),                              # the step invalidated the cache: STATE
    op(TRAIN_STEP, bytes([0, 0, 12])),         # x_len one short
])

# Invalid calls: a zero size, NULL handles, wrong dtype, short buffers, unknown flags, stale handles.
seeds["invalid-calls"] = b"".join([
    op(CREATE, bytes([0, 240, 3])),            # size 0
    op(FORWARD),                               # NULL net
    op(GET, bytes([8])),                       # NULL out-parameters
    op(CREATE, create([2, 2])),
    op(FORWARD, bytes([13, 0, 12, 0])),        # other dtype, x_len one short
    op(BACKWARD),                              # no forward yet: STATE
    op(STEP, bytes([14])),                     # lr NaN
    op(OPTIMIZER_MISC, b"\x00"),               # no optimizer: STATE
    op(SAVE_LOAD, bytes([4])),                 # unknown flag bit
    op(SAVE_LOAD, bytes([0, 12])),             # capacity one short
    op(SAVE_LOAD, bytes([1, 0, 3, 1, 0x10, 0x00])),  # corrupted copy: truncated
    op(CREATE, bytes([0, 252, 0]) + bytes(10)),  # size MAX_LAYER_SIZE + 1: TOO_LARGE
    op(FREE),
    op(STALE, b"\x5a"),
    op(SET_OPTIMIZER, bytes([3])),             # unknown optimizer kind
])

# A config with every activation kind and leaky slope, BCE, He init, then save/load both ways.
seeds["config-activations"] = b"".join([
    op(CREATE, create([3, 4, 4, 2], config=([LEAKY, IDENTITY, SIGMOID], BCE, 2))),
    op(FORWARD, bytes([0, 1, 0, 0]) + values([1, -1, 0.5, 2, -2, 0])),
    op(BACKWARD, bytes([0, 0, 0]) + bytes([1, 0, 0, 1])),
    op(GET, bytes([3, 0, 2])),                 # get_layer_grads 2
    op(SAVE_LOAD, b"\x00\x00\x00"),
    op(GET, bytes([6]), slot=1),
    op(SAVE_LOAD, b"\x01\x00\x00", slot=1),
])

# swiftmlp_set_grads: without any backward, then a plain step, an Adam step,
# a NaN refused (nothing changes), a length one short, the other dtype.
grads26 = values([((i * 7) % 13 - 6) / 4 for i in range(26)])
seeds["set-grads"] = b"".join([
    op(CREATE, create([3, 4, 2])),             # 26 parameters
    op(STEP),                                  # no gradients yet: STATE
    op(SET_GRADS, bytes([0, 0]) + grads26 + b"\x00\x00"),
    op(STEP),
    op(SET_OPTIMIZER, bytes([ADAM])),
    op(SET_GRADS, bytes([0, 0]) + grads26 + b"\x00\x00"),
    op(OPTIMIZER_MISC, b"\x00"),               # optimizer_step
    op(SET_GRADS, bytes([0, 0]) + grads26 + bytes([15, 5, 1, 0])),  # a NaN at 5: NON_FINITE
    op(SET_GRADS, bytes([0, 12]) + grads26[:25] + b"\x00\x00"),     # one short: BUFFER_SIZE
    op(SET_GRADS, bytes([13, 0]) + grads26 + b"\x00\x00"),          # float32 on float64: DTYPE
    op(GET, b"\x01"),                          # get_grads
])

# Forged handles: the special values (-1, ~1, ...), offsets from a live and a
# freed handle, a raw 64-bit value, each given to a different function.
seeds["forged-handles"] = b"".join(
    [op(CREATE, create([3, 4, 2])), op(CREATE, create([2, 2]), slot=1), op(FREE, slot=1)]
    + [op(FORGED, bytes([0, k, 3 * k + 1])) for k in range(16)]
    + [op(FORGED, bytes([1, off, w])) for off, w in ((1, 0), (8, 11), (16, 24), (0xF8, 31))]
    + [op(FORGED, bytes([2, off, w])) for off, w in ((0, 2), (8, 26))]
    + [op(FORGED, bytes([3]) + bytes([0x5A, 0xA5, 0x11, 0, 0x33, 0x7F, 0xFF, 0x80]) + bytes([k]))
       for k in (9, 10, 13)]
)

# Size arguments: every call's size_t parameter at 0, 1, 2, 2^31, 2^32, 2^63 - 1,
# 2^63, SIZE_MAX (the special-value table's indices 0, 1, 2, 4, 5, 7, 8, 11).
seeds["size-range"] = b"".join(
    [op(CREATE, create([3, 5, 2])), op(SET_OPTIMIZER, bytes([SGD]))]
    + [op(SIZE, bytes([which, idx << 1])) for which in range(0, 40, 3) for idx in (0, 7, 8, 11)]
)
seeds["size-range-2"] = b"".join(
    [op(CREATE, create([3, 5, 2])), op(SET_OPTIMIZER, bytes([ADAM])),
     op(FORWARD, bytes([0, 1])), op(BACKWARD)]
    + [op(SIZE, bytes([which, idx << 1])) for which in range(1, 40, 3) for idx in (1, 4, 5, 8)]
    + [op(SIZE, bytes([which, idx << 1])) for which in range(2, 40, 3) for idx in (2, 7, 11)]
)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "corpus", "api")
    os.makedirs(out, exist_ok=True)
    for name, data in seeds.items():
        path = os.path.join(out, "seed-%s.bin" % name)
        with open(path, "wb") as f:
            f.write(data)
        print("  %s (%d bytes)" % (os.path.relpath(path), len(data)))


if __name__ == "__main__":
    main()
