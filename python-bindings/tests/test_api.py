"""The Python API itself: shapes, properties, layouts, conversions, lifecycle."""

import copy
import gc
import os
import pickle
import re
import threading

import numpy as np
import pytest

import swiftmlp


def _header_version():
    """(MAJOR, MINOR, PATCH) read here from include/swiftmlp.h, independently of the package."""
    header = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "include", "swiftmlp.h")
    with open(header) as fh:
        text = fh.read()
    return tuple(int(re.search(rf"#define SWIFTMLP_VERSION_{part} (\d+)\n", text).group(1))
                 for part in ("MAJOR", "MINOR", "PATCH"))


def test_module_metadata():
    major, minor, patch = _header_version()
    text = f"{major}.{minor}.{patch}"
    assert swiftmlp.__version__ == text
    assert swiftmlp.version() == text
    assert swiftmlp.version_number() == swiftmlp.EXPECTED_VERSION_NUMBER == \
        major * 10000 + minor * 100 + patch
    assert swiftmlp.MAX_SIZES == swiftmlp.SWIFTMLP_MAX_SIZES == 1025
    assert swiftmlp.MAX_LAYER_SIZE == 2 ** 24
    assert swiftmlp.MAX_PARAMS == swiftmlp.MAX_BATCH_ELEMENTS == 2 ** 28
    assert swiftmlp.library_path
    for name in swiftmlp.__all__:
        assert hasattr(swiftmlp, name), name


@pytest.mark.parametrize("dtype,expected", [("float64", np.float64), (np.float64, np.float64),
                                            ("float32", np.float32), (np.float32, np.float32),
                                            ("f4", np.float32), (np.dtype(">f8"), np.float64)])
def test_dtype_argument(dtype, expected):
    with swiftmlp.MLP([2, 3], dtype=dtype) as net:
        assert net.dtype == np.dtype(expected)
        assert isinstance(net.dtype, np.dtype)
        assert net.forward([[0.0, 1.0]]).dtype == np.dtype(expected)


def test_shapes_and_properties():
    with swiftmlp.MLP([784, 256, 10], dtype="float64", seed=0) as net:
        assert net.sizes == (784, 256, 10) and isinstance(net.sizes, tuple)
        assert net.num_layers == 2 == len(net.weights) == len(net.biases)
        assert net.param_count == 784 * 256 + 256 + 256 * 10 + 10
        assert [w.shape for w in net.weights] == [(256, 784), (10, 256)]
        assert [b.shape for b in net.biases] == [(256,), (10,)]
        x = np.random.default_rng(0).uniform(size=(5, 784))
        y = net.forward(x)
        assert y.shape == (5, 10) and y.dtype == np.float64 and y.flags.writeable
        assert np.all((y > 0) & (y < 1))
        loss = net.backward(np.zeros((5, 10)))
        assert isinstance(loss, float) and loss > 0
        assert [g.shape for g in net.weight_grads] == [(256, 784), (10, 256)]
        assert [g.shape for g in net.bias_grads] == [(256,), (10,)]
        assert net.get_flat_params().shape == net.get_flat_grads().shape == (net.param_count,)
        assert "784" in repr(net) and "float64" in repr(net)
    assert "closed" in repr(net)


def test_flat_layout_matches_layers():
    with swiftmlp.MLP([4, 3, 2, 5], seed=3) as net:
        flat = net.get_flat_params()
        pos = 0
        for l, (w, b) in enumerate(zip(net.weights, net.biases)):
            assert net.layer_offsets(l) == (pos, pos + w.size)
            np.testing.assert_array_equal(flat[pos:pos + w.size].reshape(w.shape), w)
            pos += w.size
            np.testing.assert_array_equal(flat[pos:pos + b.size], b)
            pos += b.size
        assert pos == net.param_count
        assert net.layer_offsets(-1) == net.layer_offsets(2)


def test_set_params_and_layer_writes_round_trip():
    rng = np.random.default_rng(1)
    with swiftmlp.MLP([3, 4, 2]) as net:
        p = rng.normal(size=net.param_count)
        net.set_flat_params(p)
        np.testing.assert_array_equal(net.get_flat_params(), p)
        w = rng.normal(size=(4, 3))
        b_before = net.biases[0]
        net.weights[0] = w
        np.testing.assert_array_equal(net.weights[0], w)
        np.testing.assert_array_equal(net.biases[0], b_before)  # bias kept
        b = rng.normal(size=4)
        net.biases[0] = b
        np.testing.assert_array_equal(net.biases[0], b)
        np.testing.assert_array_equal(net.weights[0], w)  # weights kept
        net.set_layer(-1, np.ones((2, 4)), np.zeros(2))
        np.testing.assert_array_equal(net.weights[1], np.ones((2, 4)))
        # The caller's arrays are copied, not referenced.
        w[:] = 0
        assert net.weights[0].any()
        # Writing a read-only array read from the network back is fine.
        net.weights[1] = net.weights[1]


def test_same_seed_same_params_other_seed_different():
    with swiftmlp.MLP([5, 4, 3], seed=11) as a, swiftmlp.MLP([5, 4, 3], seed=11) as b, \
            swiftmlp.MLP([5, 4, 3], seed=12) as c:
        np.testing.assert_array_equal(a.get_flat_params(), b.get_flat_params())
        assert not np.array_equal(a.get_flat_params(), c.get_flat_params())
    with swiftmlp.MLP([5, 4, 3], dtype="float32", seed=11) as f32:
        with swiftmlp.MLP([5, 4, 3], dtype="float64", seed=11) as f64:
            np.testing.assert_array_equal(f32.get_flat_params(), f64.get_flat_params().astype(np.float32))


def test_seed_none_is_random():
    with swiftmlp.MLP([5, 4], seed=None) as a, swiftmlp.MLP([5, 4], seed=None) as b:
        assert not np.array_equal(a.get_flat_params(), b.get_flat_params())
        assert 0 <= a.seed < 2 ** 64


def test_input_layouts_give_identical_results():
    rng = np.random.default_rng(2)
    base = rng.normal(size=(6, 4))
    variants = {
        "list": base.tolist(),
        "fortran": np.asfortranarray(base),
        "strided": np.repeat(base, 2, axis=1)[:, ::2],
        "big_endian": base.astype(">f8"),
        "read_only": base.copy(),
        "float32": base.astype(np.float32),
    }
    variants["read_only"].flags.writeable = False
    with swiftmlp.MLP([4, 3, 2], seed=5) as net:
        expected = net.forward(base)
        for name, x in variants.items():
            got = net.forward(x)
            if name == "float32":
                np.testing.assert_array_equal(got, net.forward(base.astype(np.float32)
                                                               .astype(np.float64)))
            else:
                np.testing.assert_array_equal(got, expected, err_msg=name)
        assert np.asfortranarray(base).flags.f_contiguous  # caller's array untouched


def test_int_and_bool_inputs_are_converted():
    with swiftmlp.MLP([2, 1]) as net:
        np.testing.assert_array_equal(net.forward([[1, 0]]), net.forward([[1.0, 0.0]]))
        np.testing.assert_array_equal(net.forward(np.array([[True, False]])),
                                      net.forward([[1.0, 0.0]]))


def test_float32_network_accepts_float64_input_by_rounding():
    x64 = np.array([[0.1, 0.2, 0.3]])
    with swiftmlp.MLP([3, 2], dtype="float32") as net:
        np.testing.assert_array_equal(net.forward(x64), net.forward(x64.astype(np.float32)))
        net.weights[0] = np.full((2, 3), 0.1)  # float64 weights are rounded too
        assert net.weights[0].dtype == np.float32
        np.testing.assert_array_equal(net.weights[0], np.float32(0.1))


def test_forward_returns_new_array_each_time():
    with swiftmlp.MLP([2, 2]) as net:
        a = net.forward([[0.0, 0.0]])
        b = net.forward([[0.0, 0.0]])
        assert a is not b and not np.shares_memory(a, b)
        a[:] = 5  # the caller owns it
        np.testing.assert_array_equal(net.forward([[0.0, 0.0]]), b)


def test_gradients_are_overwritten_not_accumulated():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(4, 3)), rng.uniform(size=(4, 2))
    with swiftmlp.MLP([3, 4, 2]) as net:
        net.forward(x)
        net.backward(y)
        first = net.get_flat_grads().copy()
        net.backward(y)  # same forward cache: same gradients, not doubled
        np.testing.assert_array_equal(net.get_flat_grads(), first)


def test_train_step_equals_forward_backward_step():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(4, 3)), rng.uniform(size=(4, 2))
    with swiftmlp.MLP([3, 4, 2], seed=1) as a, swiftmlp.MLP([3, 4, 2], seed=1) as b:
        loss_a = a.train_step(x, y, lr=0.7)
        b.forward(x)
        loss_b = b.backward(y)
        b.step(0.7)
        assert loss_a == loss_b
        np.testing.assert_array_equal(a.get_flat_params(), b.get_flat_params())


def test_iteration_and_slicing():
    with swiftmlp.MLP([2, 3, 4, 1]) as net:
        ws = list(net.weights)
        assert [w.shape for w in ws] == [(3, 2), (4, 3), (1, 4)]
        assert [w.shape for w in net.weights[1:]] == [(4, 3), (1, 4)]
        np.testing.assert_array_equal(net.weights[-1], ws[2])
        assert [b.shape for b in net.biases] == [(3,), (4,), (1,)]


def test_context_manager_and_close():
    with swiftmlp.MLP([2, 2]) as net:
        assert not net.closed
    assert net.closed
    net.close()
    net.close()
    assert net.sizes == (2, 2)  # metadata stays readable


@pytest.mark.parametrize("in_a_cycle", [False, True])
def test_del_releases_without_close(in_a_cycle):
    """Dropping the last reference frees the library's network: the handle is
    no longer live for the library (SWIFTMLP_ERR_BAD_HANDLE), checked without
    reading freed memory.  Nothing is created after the drop, so no new
    network can take the address."""
    from ctypes import byref, c_int
    from swiftmlp import _errors, _lib
    get_dtype = _lib.unchecked("swiftmlp_get_dtype")
    net = swiftmlp.MLP([2, 2])
    if in_a_cycle:
        net.me = net  # only the cycle collector can drop it
    handle = net._handle.value
    out = c_int()
    assert get_dtype(handle, byref(out)) == _errors.OK
    del net
    gc.collect()
    assert get_dtype(handle, byref(out)) == _errors.ERR_BAD_HANDLE


def test_pickle_and_deepcopy_copy_parameters():
    rng = np.random.default_rng(5)
    with swiftmlp.MLP([3, 4, 2], dtype="float32", seed=9) as net:
        net.set_flat_params(rng.normal(size=net.param_count))
        for clone in (pickle.loads(pickle.dumps(net)), copy.deepcopy(net), copy.copy(net)):
            with clone:
                assert clone is not net and clone._handle.value != net._handle.value
                assert clone.sizes == net.sizes and clone.dtype == net.dtype
                np.testing.assert_array_equal(clone.get_flat_params(), net.get_flat_params())
                clone.forward(np.zeros((1, 3)))
                clone.backward(np.zeros((1, 2)))
                clone.step(1.0)
                assert not np.array_equal(clone.get_flat_params(), net.get_flat_params())


def test_threads_on_separate_and_shared_networks():
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(8, 5)), rng.uniform(size=(8, 3))
    with swiftmlp.MLP([5, 7, 3], seed=2) as ref:
        for _ in range(20):
            ref.train_step(x, y, 0.5)
        expected = ref.get_flat_params().copy()

    nets = [swiftmlp.MLP([5, 7, 3], seed=2) for _ in range(4)]
    errors = []

    def train(net):
        try:
            for _ in range(20):
                net.train_step(x, y, 0.5)
        except Exception as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=train, args=(n,)) for n in nets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for net in nets:
        np.testing.assert_array_equal(net.get_flat_params(), expected)
        net.close()

    # One network shared by threads: calls are serialised by the wrapper's lock.
    with swiftmlp.MLP([5, 7, 3], seed=2) as shared:
        expected_out = shared.forward(x)
        outputs = []

        def run():
            for _ in range(50):
                outputs.append(shared.forward(x))

        threads = [threading.Thread(target=run) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(outputs) == 200
        for out in outputs:
            np.testing.assert_array_equal(out, expected_out)


def test_sigmoid_saturation_is_finite():
    with swiftmlp.MLP([1, 1]) as net:
        net.set_flat_params([1.0, 0.0])
        out = net.forward([[1000.0], [-1000.0], [0.0]])
        assert out[0, 0] == 1.0 and out[1, 0] == 0.0 and out[2, 0] == 0.5
        loss = net.backward([[0.0], [1.0], [0.5]])
        assert np.isfinite(loss)
        assert np.all(np.isfinite(net.get_flat_grads()))


def test_every_header_function_is_declared_with_matching_types():
    """Parse include/swiftmlp.h: every function has argtypes and an explicit
    restype matching its prototype (arity and return type); exactly the
    status-returning ones have the errcheck."""
    import ctypes
    import os
    import re
    from swiftmlp import _lib
    header = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "include", "swiftmlp.h")
    with open(header) as fh:
        text = re.sub(r"/\*.*?\*/", "", fh.read(), flags=re.S)
    prototypes = re.findall(
        r"^(swiftmlp_status|unsigned|size_t|const char \*|void)\s*(swiftmlp_\w+)\s*\(([^;{]*?)\)\s*;",
        text, flags=re.S | re.M)
    # 38 functions in 0.3.0 before model files; + train_step, save_size,
    # save_buffer, save_file, load_buffer, load_file; + blas_info in 0.4.0;
    # + get_num_threads, set_num_threads in 0.5.0; + set_learning_rate, set_grads in 0.6.0;
    # + check_batch in 1.1.0.
    assert len(prototypes) == 50, prototypes
    assert {name for _, name, _ in prototypes} == set(_lib._SIGNATURES)
    expected_restype = {"swiftmlp_status": ctypes.c_int, "unsigned": ctypes.c_uint,
                        "size_t": ctypes.c_size_t,
                        "const char *": ctypes.c_char_p, "void": None}
    for ret, name, params in prototypes:
        params = params.strip()
        n = 0 if params in ("", "void") else params.count(",") + 1
        fn = getattr(_lib.lib, name)
        assert fn.argtypes is not None and len(fn.argtypes) == n, name
        assert fn.restype is expected_restype[ret], name
        assert (fn.errcheck is not None) == (ret == "swiftmlp_status"), name


def test_blas_info_names_the_private_openblas_and_its_threads():
    info = swiftmlp.blas_info()
    assert info == swiftmlp.blas_info()                      # static text
    assert info.startswith("OpenBLAS ") and "(private copy)" in info, info
    assert re.search(r", core \w+", info), info
    assert re.search(r", \d+ threads? for products of >= 1048576 multiply-adds$", info), info
