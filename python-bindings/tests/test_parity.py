"""Parity of libswiftmlp (through the bindings) with the slides' NumPy code.

Error measure, per array: err = max|a - r| / max(max|r|, tiny), i.e. relative
to the largest magnitude in the reference array.  Bounds: float64 <= 1e-12,
float32 <= 1e-5.

How the float32 reference is computed: in FLOAT64, from the network's exact
float32 parameters and from inputs/targets rounded to float32 (a float32
value converts to float64 exactly).  The reference is then accurate to
~1e-16, so the measured error is the library's own float32 rounding error
alone (a few float32 ulps, eps32 = 1.2e-7, grown by the sums over up to 64
inputs and 32 samples), which 1e-5 bounds meaningfully.  A float32 NumPy
reference would instead mix two independent float32 rounding errors, and one
could not tell which side was off.  In multi-step runs the float32 reference
rounds its parameters to float32 after each step, as the network stores them.
"""

import numpy as np
import pytest

import reference
import swiftmlp

TOL = {"float64": 1e-12, "float32": 1e-5}
TINY = np.finfo(np.float64).tiny
N_CASES = 64


def rel_err(a, r) -> float:
    a = np.asarray(a, dtype=np.float64)
    r = np.asarray(r, dtype=np.float64)
    assert a.shape == r.shape, (a.shape, r.shape)
    return float(np.max(np.abs(a - r)) / max(float(np.max(np.abs(r))), TINY))


def make_case(i: int):
    """Case i: 1-4 weight layers, sizes 1-64, batch 1-32, alternating dtypes."""
    rng = np.random.default_rng(12345 + i)
    n_layers = int(rng.integers(1, 5))
    sizes = [int(s) for s in rng.integers(1, 65, size=n_layers + 1)]
    batch = int(rng.integers(1, 33))
    dtype = "float64" if i % 2 == 0 else "float32"
    set_random_weights = (i % 4) in (2, 3)  # half the cases overwrite the init
    lr = float(rng.choice([0.05, 0.5, 2.0, 10.0]))
    return rng, sizes, batch, dtype, set_random_weights, lr


def params_from_net(net):
    """The network's parameters as float64 (exact for float32 too)."""
    weights = [np.array(w, dtype=np.float64) for w in net.weights]
    biases = [np.array(b, dtype=np.float64) for b in net.biases]
    return weights, biases


def data_for(rng, net, batch):
    x = rng.normal(0.0, 2.0, size=(batch, net.sizes[0]))
    y = rng.uniform(0.0, 1.0, size=(batch, net.sizes[-1]))
    # Round to the network's dtype; the reference gets the same values in float64.
    return x.astype(net.dtype), y.astype(net.dtype)


def compare_one_step(net, weights, biases, x, y, lr, record, label=""):
    """forward/backward/step on the library and on the reference; asserts and
    records every error.  Returns the reference's parameters after the step."""
    dt = net.dtype.name
    tol = TOL[dt]
    errors = {}

    out = net.forward(x)
    loss = net.backward(y)
    activations = reference.forward(weights, biases, x.astype(np.float64))
    ref_loss = reference.loss(activations[-1], y.astype(np.float64))
    dL_dW, dL_db = reference.backward(weights, activations, y.astype(np.float64))

    errors[("output", None)] = rel_err(out, activations[-1])
    errors[("loss", None)] = abs(loss - ref_loss) / max(abs(ref_loss), TINY)
    for l in range(net.num_layers):
        errors[("dW", l)] = rel_err(net.weight_grads[l], dL_dW[l])
        errors[("db", l)] = rel_err(net.bias_grads[l], dL_db[l])

    # The flat gradient buffer must agree with the per-layer views exactly.
    flat_grads = net.get_flat_grads()
    for l in range(net.num_layers):
        w_off, b_off = net.layer_offsets(l)
        n_out, n_in = net.sizes[l + 1], net.sizes[l]
        np.testing.assert_array_equal(flat_grads[w_off:w_off + n_out * n_in].reshape(n_out, n_in),
                                      net.weight_grads[l])
        np.testing.assert_array_equal(flat_grads[b_off:b_off + n_out], net.bias_grads[l])

    lib_grads = [(np.array(gw, np.float64), np.array(gb, np.float64))
                 for gw, gb in zip(net.weight_grads, net.bias_grads)]
    before = params_from_net(net)
    net.step(lr)
    new_weights, new_biases = reference.sgd_step(weights, biases, dL_dW, dL_db, lr)
    if dt == "float32":
        new_weights = [w.astype(np.float32).astype(np.float64) for w in new_weights]
        new_biases = [b.astype(np.float32).astype(np.float64) for b in new_biases]
    after = params_from_net(net)
    eps = float(np.finfo(net.dtype).eps)
    for l in range(net.num_layers):
        errors[("W_after_step", l)] = rel_err(after[0][l], new_weights[l])
        errors[("b_after_step", l)] = rel_err(after[1][l], new_biases[l])
        # The step itself, against the library's own gradients: W - lr*dW up to
        # rounding (a few ulps of the largest parameter or update).
        for p_after, p_before, grad in ((after[0][l], before[0][l], lib_grads[l][0]),
                                        (after[1][l], before[1][l], lib_grads[l][1])):
            expect = p_before - lr * grad
            scale = max(np.max(np.abs(p_before)), np.max(np.abs(lr * grad)), TINY)
            assert np.max(np.abs(p_after - expect)) <= 4 * eps * scale, label

    for (quantity, _layer), err in errors.items():
        record(dt, quantity, err)
    bad = {f"{q}[{l}]" if l is not None else q: e
           for (q, l), e in errors.items() if not e <= tol}
    assert not bad, f"{label} {dt} errors above {tol}: {bad}"
    return new_weights, new_biases


@pytest.mark.parametrize("case", range(N_CASES))
def test_parity_one_step(case, parity_recorder):
    rng, sizes, batch, dtype, set_random_weights, lr = make_case(case)
    with swiftmlp.MLP(sizes, dtype=dtype, seed=case) as net:
        if set_random_weights:
            for l in range(net.num_layers):
                net.weights[l] = rng.normal(0.0, 1.5, size=(sizes[l + 1], sizes[l]))
                net.biases[l] = rng.normal(0.0, 1.0, size=sizes[l + 1])
        weights, biases = params_from_net(net)
        x, y = data_for(rng, net, batch)
        label = f"case {case}: sizes={sizes} batch={batch} lr={lr}"
        compare_one_step(net, weights, biases, x, y, lr, parity_recorder, label)


@pytest.mark.parametrize("case", range(8))
def test_parity_larger_networks(case, parity_recorder):
    """Beyond the 1-64 range: sizes up to 300 and batches up to 128, where
    OpenBLAS switches to its blocked (and possibly multi-threaded) kernels."""
    rng = np.random.default_rng(777 + case)
    n_layers = int(rng.integers(1, 4))
    sizes = [int(s) for s in rng.integers(65, 301, size=n_layers + 1)]
    batch = int(rng.integers(33, 129))
    dtype = "float64" if case % 2 == 0 else "float32"
    with swiftmlp.MLP(sizes, dtype=dtype, seed=case) as net:
        weights, biases = params_from_net(net)
        x, y = data_for(rng, net, batch)
        label = f"large case {case}: sizes={sizes} batch={batch}"
        compare_one_step(net, weights, biases, x, y, 1.0, parity_recorder, label)


@pytest.mark.parametrize("case", range(12))
def test_parity_five_steps_in_a_row(case, parity_recorder):
    """Five training steps in a row: the library and the reference each follow
    their own trajectory, and still agree after every step."""
    rng, sizes, batch, dtype, _, lr = make_case(1000 + case)
    lr = 1.0
    with swiftmlp.MLP(sizes, dtype=dtype, seed=case) as net:
        weights, biases = params_from_net(net)
        x, y = data_for(rng, net, batch)
        for step in range(5):
            if case % 2:  # half the runs use a fresh batch each step
                x, y = data_for(rng, net, batch)
            label = f"five-step case {case}, step {step}: sizes={sizes} batch={batch}"
            weights, biases = compare_one_step(net, weights, biases, x, y, lr,
                                               parity_recorder, label)
        # And the reference's final parameters are the network's.
        got = params_from_net(net)
        for l in range(net.num_layers):
            assert rel_err(got[0][l], weights[l]) <= TOL[dtype]
            assert rel_err(got[1][l], biases[l]) <= TOL[dtype]


def test_cases_cover_the_required_ranges():
    cases = [make_case(i) for i in range(N_CASES)]
    assert len(cases) >= 50
    layer_counts = {len(c[1]) - 1 for c in cases}
    assert layer_counts == {1, 2, 3, 4}
    assert {c[3] for c in cases} == {"float32", "float64"}
    all_sizes = [s for c in cases for s in c[1]]
    assert min(all_sizes) >= 1 and max(all_sizes) <= 64
    assert min(c[2] for c in cases) >= 1 and max(c[2] for c in cases) <= 32


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("sizes,seed", [([3, 5, 2], 0), ([7, 1], 42), ([2, 4, 4, 3], 2**64 - 1)])
def test_initialisation_matches_documented_splitmix64(sizes, seed, dtype):
    with swiftmlp.MLP(sizes, dtype=dtype, seed=seed) as net:
        expected = reference.splitmix64_init(sizes, seed).astype(dtype)
        np.testing.assert_array_equal(net.get_flat_params(), expected)
