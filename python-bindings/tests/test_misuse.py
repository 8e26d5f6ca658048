"""Misuse that must raise, never crash: closed networks, freed handles passed
to the C functions directly (SWIFTMLP_ERR_BAD_HANDLE), double frees, and
several threads on one network (SWIFTMLP_ERR_BUSY from the library, or the
wrapper's lock)."""

import ctypes
import os
import pickle
import threading
from ctypes import POINTER, byref, c_char_p, c_double, c_int, c_size_t, c_uint32, c_void_p

import numpy as np
import pytest

import swiftmlp
from swiftmlp import _lib
from swiftmlp._lib import lib

OK, STATE, BUSY, BAD_HANDLE = 0, 5, 13, 14
F64 = _lib.FLOAT64

# Every function that takes a network as its first argument.
NET_FUNCTIONS = sorted(name for name, (_, argtypes) in _lib._SIGNATURES.items()
                       if argtypes and argtypes[0] is c_void_p
                       and name not in ("swiftmlp_free", "swiftmlp_load_buffer"))


def test_every_net_function_is_covered():
    assert len(NET_FUNCTIONS) == 35  # + set_learning_rate, set_grads in 0.6.0; + check_batch in 1.1.0
    assert {"swiftmlp_train_step", "swiftmlp_save_size", "swiftmlp_save_buffer",
            "swiftmlp_save_file", "swiftmlp_forward", "swiftmlp_fit",
            "swiftmlp_set_grads", "swiftmlp_check_batch"} <= set(NET_FUNCTIONS)


def _arguments(name, handle, keep, tmp_path):
    """Plausible arguments for `name`: the handle, then valid buffers, sizes
    and structs (so that only the handle can be wrong)."""
    _, argtypes = _lib._SIGNATURES[name]
    args = [handle]
    for t in argtypes[1:]:
        if t is c_void_p:
            buf = np.zeros(4096, dtype=np.float64)
            keep.append(buf)
            args.append(buf.ctypes.data)
        elif t is c_int:
            args.append(F64)
        elif t is c_size_t:
            args.append(1)
        elif t is c_uint32:
            args.append(0)
        elif t is c_double:
            args.append(0.1)
        elif t is c_char_p:
            args.append(os.fsencode(tmp_path / f"{name}.safetensors"))
        elif t is POINTER(_lib.Optimizer):
            s = _lib.Optimizer()
            lib.swiftmlp_optimizer_default(_lib.OPT_SGD, byref(s))
            keep.append(s)
            args.append(byref(s))
        elif t is POINTER(_lib.FitOptions):
            s = _lib.FitOptions()
            lib.swiftmlp_fit_options_default(byref(s))
            keep.append(s)
            args.append(byref(s))
        elif hasattr(t, "_type_") and isinstance(t._type_, type) and \
                issubclass(t._type_, ctypes.Structure):
            s = t._type_()
            keep.append(s)
            args.append(byref(s))
        elif hasattr(t, "_type_"):  # POINTER(c_size_t), POINTER(c_double), ...
            arr = (t._type_ * 64)()
            keep.append(arr)
            args.append(ctypes.cast(arr, t))
        else:  # pragma: no cover - a new argument type
            raise AssertionError(f"{name}: no test value for {t}")
    return args


def test_a_freed_handle_gives_bad_handle_from_every_function(tmp_path):
    keep = []
    handle = c_void_p()
    sizes = (c_size_t * 3)(2, 4, 1)
    lib.swiftmlp_create(sizes, 3, F64, 0, byref(handle))
    calls = {name: (_lib.unchecked(name), _arguments(name, handle, keep, tmp_path))
             for name in NET_FUNCTIONS}
    lib.swiftmlp_free(handle)
    # Nothing is created from here on, so the freed address is not reused.
    statuses = {}
    for name, (fn, args) in calls.items():
        statuses[name] = fn(*args)
        if statuses[name] == BAD_HANDLE:
            assert b"not a live" in lib.swiftmlp_last_error(), name
    assert statuses == {name: BAD_HANDLE for name in NET_FUNCTIONS}
    # Through the errcheck: BadHandleError with the library's message.
    n = c_size_t()
    with pytest.raises(swiftmlp.BadHandleError) as info:
        lib.swiftmlp_get_param_count(handle, byref(n))
    assert info.value.status == BAD_HANDLE and "not a live" in str(info.value)
    with pytest.raises(swiftmlp.BadHandleError):
        lib.swiftmlp_train_step(handle, F64, keep[0].ctypes.data, 2, keep[0].ctypes.data, 1,
                                1, None)
    lib.swiftmlp_free(handle)  # a double free does nothing
    lib.swiftmlp_free(handle)
    assert not any(p.name.endswith(".safetensors") for p in tmp_path.iterdir())


def test_a_pointer_that_never_was_a_network_is_a_bad_handle():
    junk = (ctypes.c_char * 256)()
    n = c_size_t()
    with pytest.raises(swiftmlp.BadHandleError):
        lib.swiftmlp_get_param_count(ctypes.addressof(junk), byref(n))
    lib.swiftmlp_free(ctypes.addressof(junk))  # ignored: not a live network
    assert bytes(junk) == bytes(256)


def test_an_mlp_whose_handle_was_freed_behind_its_back_raises():
    net = swiftmlp.MLP([2, 4, 1])
    net.optimizer = swiftmlp.SGD(lr=0.1)
    x, y = np.zeros((3, 2)), np.zeros((3, 1))
    lib.swiftmlp_free(net._handle)
    for use in (lambda: net.forward(x), lambda: net.train_step(x, y), lambda: net.get_flat_params(),
                lambda: net.to_bytes(), lambda: net.predict(x), lambda: net.optimizer_steps):
        with pytest.raises(swiftmlp.BadHandleError):
            use()
    net.close()  # frees the stale pointer again: ignored
    net.close()
    assert net.closed


@pytest.mark.parametrize("use", [
    lambda n: n.train_step(np.zeros((1, 2)), np.zeros((1, 1))),
    lambda n: n.train_step(np.zeros((1, 2)), np.zeros((1, 1)), 0.1),
    lambda n: n.save("never-written.safetensors"),
    lambda n: n.to_bytes(),
    lambda n: n.to_bytes(optimizer_state=True),
    lambda n: pickle.dumps(n),
    lambda n: n.fit(np.zeros((2, 2)), np.zeros((2, 1)), epochs=1),
    lambda n: n.predict(np.zeros((1, 2))),
    lambda n: n.optimizer,
], ids=["train_step", "train_step_lr", "save", "to_bytes", "to_bytes_state", "pickle", "fit",
        "predict", "optimizer"])
def test_a_closed_network_raises_state_error(tmp_path, monkeypatch, use):
    monkeypatch.chdir(tmp_path)
    for make in (lambda: swiftmlp.MLP([2, 4, 1]),
                 lambda: swiftmlp.from_bytes(swiftmlp.MLP([2, 4, 1]).to_bytes())):
        net = make()
        net.optimizer = swiftmlp.Adam()
        net.close()
        with pytest.raises(swiftmlp.StateError, match="closed"):
            use(net)
        net.close()  # double close: harmless
        assert net.closed
    assert os.listdir(tmp_path) == []


def test_loaded_networks_are_released_like_created_ones():
    import gc
    blob = swiftmlp.MLP([2, 4, 1]).to_bytes()
    handles = []
    for _ in range(50):
        net = swiftmlp.from_bytes(blob)
        handles.append(net._handle.value)
        del net
    gc.collect()
    n = c_size_t()
    # Every one of them was freed (detected without reading freed memory);
    # nothing has been created since, so no address names a new network.
    for h in set(handles):
        assert _lib.unchecked("swiftmlp_get_param_count")(h, byref(n)) == BAD_HANDLE


# ---- threads -----------------------------------------------------------------------------

def _raw(name):
    return _lib.unchecked(name)


def test_a_call_during_another_threads_fit_is_busy_and_changes_nothing(tmp_path):
    """Deterministic: thread A runs fit(); its progress callback waits until
    thread B has called C functions on the same handle directly.  Every one of
    B's calls, reading or changing, gets SWIFTMLP_ERR_BUSY."""
    net = swiftmlp.MLP([4, 8, 2], seed=3)
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(40, 4)), rng.uniform(size=(40, 2))
    h = net._handle
    x, y = np.zeros((2, 4)), np.zeros((2, 2))
    out = np.zeros(64)
    params = np.full(net.param_count, 0.125)
    n = c_size_t()
    loss = c_double()
    opt = _lib.Optimizer()
    lib.swiftmlp_optimizer_default(_lib.OPT_ADAM, byref(opt))
    target = os.fsencode(tmp_path / "during-fit.safetensors")
    calls = {
        "train_step": lambda: _raw("swiftmlp_train_step")(h, F64, x.ctypes.data, x.size,
                                                          y.ctypes.data, y.size, 2, byref(loss)),
        "forward": lambda: _raw("swiftmlp_forward")(h, F64, x.ctypes.data, x.size, 2,
                                                    out.ctypes.data, out.size),
        "step": lambda: _raw("swiftmlp_step")(h, 0.1),
        "set_params": lambda: _raw("swiftmlp_set_params")(h, F64, params.ctypes.data,
                                                          params.size),
        "set_optimizer": lambda: _raw("swiftmlp_set_optimizer")(h, byref(opt)),
        "reset_optimizer": lambda: _raw("swiftmlp_reset_optimizer")(h),
        "set_learning_rate": lambda: _raw("swiftmlp_set_learning_rate")(h, 0.5),
        "predict": lambda: _raw("swiftmlp_predict")(h, F64, x.ctypes.data, x.size, 2,
                                                    out.ctypes.data, out.size),
        "get_params": lambda: _raw("swiftmlp_get_params")(h, F64, out.ctypes.data, out.size),
        "save_size": lambda: _raw("swiftmlp_save_size")(h, 0, byref(n)),
        "save_buffer": lambda: _raw("swiftmlp_save_buffer")(h, 0, out.ctypes.data, out.nbytes,
                                                            None),
        "save_file": lambda: _raw("swiftmlp_save_file")(h, 0, target),
    }
    statuses = {}
    b_done = threading.Event()
    started = threading.Event()

    def other_thread():
        started.wait(30)
        for name, call in calls.items():
            statuses[name] = call()
        b_done.set()

    def callback(info):
        if not started.is_set():
            started.set()
            assert b_done.wait(30)  # releases the GIL; the fit is still running
        return False

    t = threading.Thread(target=other_thread)
    t.start()
    hist = net.fit(X, Y, epochs=2, batch_size=8, optimizer=swiftmlp.SGD(lr=0.1),
                   callback=callback, report_batches=True)
    t.join()
    assert statuses == {name: BUSY for name in calls}
    assert hist.epochs_run == 2 and net.optimizer == swiftmlp.SGD(lr=0.1)  # not Adam
    assert net.optimizer_steps == 10
    assert not np.any(net.get_flat_params() == 0.125)
    assert not os.path.exists(target)
    net.close()


def test_two_threads_training_one_handle_directly_get_ok_or_busy():
    """No lock in Python: the library alone arbitrates.  train_step either runs
    whole or returns BUSY; forward/backward/step from a third thread can also
    see STATE (another thread's step invalidated its forward); readers see OK
    or BUSY.  Nothing crashes and every successful train_step is one optimizer
    step."""
    net = swiftmlp.MLP([32, 64, 8], seed=1)
    net.optimizer = swiftmlp.Adam(lr=1e-3)
    h = net._handle
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(16, 32)), rng.uniform(size=(16, 8))
    n_iter = 400
    results = {"train_a": [], "train_b": [], "fbs": [], "read": []}
    errors = []
    go = threading.Barrier(4)

    def trainer(key):
        try:
            fn = _raw("swiftmlp_train_step")
            loss = c_double()
            go.wait()
            for _ in range(n_iter):
                results[key].append(fn(h, F64, x.ctypes.data, x.size, y.ctypes.data, y.size,
                                       16, byref(loss)))
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    def three_calls():
        try:
            fwd, bwd, step = _raw("swiftmlp_forward"), _raw("swiftmlp_backward"), \
                _raw("swiftmlp_step")
            out = np.zeros((16, 8))
            go.wait()
            for _ in range(n_iter // 2):
                results["fbs"].append(("forward", fwd(h, F64, x.ctypes.data, x.size, 16,
                                                      out.ctypes.data, out.size)))
                results["fbs"].append(("backward", bwd(h, F64, y.ctypes.data, y.size, 16,
                                                       None)))
                results["fbs"].append(("step", step(h, 1e-3)))
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    def reader():
        try:
            get, size, buf = (_raw("swiftmlp_get_params"), _raw("swiftmlp_save_size"),
                              _raw("swiftmlp_save_buffer"))
            p = np.zeros(net.param_count)
            n = c_size_t()
            blob = ctypes.create_string_buffer(1 << 16)
            go.wait()
            for _ in range(n_iter):
                st = get(h, F64, p.ctypes.data, p.size)
                results["read"].append(st)
                if st == OK:
                    assert np.isfinite(p).all()
                results["read"].append(size(h, 0, byref(n)))
                st = buf(h, 0, blob, len(blob), byref(n))
                results["read"].append(st)
                if st == OK:  # a consistent snapshot: it loads
                    swiftmlp.from_bytes(blob.raw[:n.value]).close()
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=trainer, args=("train_a",)),
               threading.Thread(target=trainer, args=("train_b",)),
               threading.Thread(target=three_calls), threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    train = results["train_a"] + results["train_b"]
    assert set(train) <= {OK, BUSY}, set(train)
    assert set(results["read"]) <= {OK, BUSY}, set(results["read"])
    by_call = {}
    for call, st in results["fbs"]:
        by_call.setdefault(call, set()).add(st)
    assert by_call["forward"] <= {OK, BUSY}
    assert by_call["backward"] <= {OK, BUSY, STATE}
    assert by_call["step"] <= {OK, BUSY, STATE}
    assert net.optimizer_steps == train.count(OK)  # may be 0: BUSY never waits
    assert np.isfinite(net.get_flat_params()).all()
    busy = train.count(BUSY) + results["read"].count(BUSY) + \
        sum(st == BUSY for _, st in results["fbs"])
    print(f"statuses: {train.count(OK)} train_step OK, {busy} BUSY in all")
    net.close()


def test_threads_sharing_an_mlp_are_serialised_by_its_lock():
    """Through the wrapper no call sees BUSY: train_step, to_bytes, predict and
    save from several threads all succeed, and every train_step is one step."""
    net = swiftmlp.MLP([16, 32, 4], seed=5)
    net.optimizer = swiftmlp.AdamW(lr=1e-3)
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(8, 16)), rng.uniform(size=(8, 4))
    errors = []
    blobs = []
    n_iter = 150

    def train():
        try:
            for _ in range(n_iter):
                net.train_step(x, y)
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    def read():
        try:
            for _ in range(n_iter):
                blobs.append(net.to_bytes(optimizer_state=True))
                assert net.predict(x).shape == (8, 4)
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=train) for _ in range(3)] + \
        [threading.Thread(target=read) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert net.optimizer_steps == 3 * n_iter
    steps = set()
    for blob in blobs[::25]:
        with swiftmlp.from_bytes(blob) as snap:
            steps.add(snap.optimizer_steps)
            assert 0 <= snap.optimizer_steps <= 3 * n_iter
    net.close()
