"""net.fit(): reproducible shuffling (the documented order, replayed step by
step), early stopping with restore of the best epoch, cancellation from the
callback / an exception / Ctrl-C, batch sizes, class-index targets, progress
bar, and predict/evaluate leaving the training state alone."""

import _thread
import threading

import numpy as np
import pytest

import swiftmlp
from reference import SplitMix64
from swiftmlp import NonFiniteError, StateError

SHUFFLE_OFFSET = 0x6A09E667F3BCC909  # include/swiftmlp.h, swiftmlp_fit


def replay_fit(net, generator, x, y, epochs, batch_size, x_val=None, y_val=None, shuffle=True):
    """The documented swiftmlp_fit, replayed with forward/backward/step():
    each fit starts from the order 0..rows-1; at the start of every epoch
    the current order is shuffled by Fisher-Yates (i from rows-1 down to 1,
    j = next() % (i+1)) with the network's shuffle generator; batches of
    batch_size rows (the last holds the remainder); one optimizer step per
    batch.  Returns (train losses, validation losses) per epoch."""
    rows = len(x)
    order = list(range(rows))
    losses, val_losses = [], []
    for _ in range(epochs):
        if shuffle:
            for i in range(rows - 1, 0, -1):
                j = generator.next() % (i + 1)
                order[i], order[j] = order[j], order[i]
        total = 0.0
        for start in range(0, rows, batch_size):
            idx = order[start:start + batch_size]
            total += net.train_step(x[idx], y[idx]) * len(idx)
        losses.append(total / rows)
        if x_val is not None:
            val_losses.append(net.evaluate(x_val, y_val))
    return losses, val_losses


def blobs(n=60, seed=0, n_classes=3, n_features=4):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0.0, 2.0, size=(n_classes, n_features))
    labels = rng.integers(0, n_classes, size=n)
    x = centers[labels] + rng.normal(0.0, 1.0, size=(n, n_features))
    return x, labels


def classifier(seed=0, dtype="float64", n_features=4, n_classes=3):
    return swiftmlp.MLP([n_features, 8, n_classes], dtype=dtype, seed=seed,
                        activations=["tanh", "softmax"], loss="cross_entropy", init="glorot")


# ---- reproducible shuffling ---------------------------------------------------

@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batch_size", [1, 7, 32, 1000])
def test_fit_is_the_documented_shuffled_batches(dtype, batch_size):
    x, labels = blobs(n=45)
    y = np.eye(3)[labels]
    x_val, labels_val = blobs(n=10, seed=1)
    seed = 77
    with classifier(seed, dtype) as net, classifier(seed, dtype) as twin:
        net.optimizer = twin.optimizer = swiftmlp.Adam(lr=0.01)
        hist = net.fit(x, labels, epochs=4, batch_size=batch_size,
                       validation_data=(x_val, labels_val))
        losses, val_losses = replay_fit(twin, SplitMix64(seed + SHUFFLE_OFFSET),
                                        x.astype(dtype), y.astype(dtype), 4, batch_size,
                                        x_val, labels_val)
        assert net.get_flat_params().tobytes() == twin.get_flat_params().tobytes()
        assert net.optimizer_steps == twin.optimizer_steps == 4 * -(-45 // min(batch_size, 45))
        np.testing.assert_allclose(hist.loss, losses, rtol=1e-12)
        assert hist.val_loss == val_losses  # evaluate(): the same computation
        assert hist.epochs_run == 4 and not hist.stopped_early and not hist.cancelled
        assert hist.best_epoch == int(np.argmin(val_losses))
        assert hist.best_loss == min(val_losses)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batch_size", [1, 7, 45, 1000])
def test_fit_without_shuffling_is_the_consecutive_batches(dtype, batch_size):
    """shuffle=False: the batches are blocks of consecutive rows (read in
    place by the library), the last one the remainder."""
    x, labels = blobs(n=45)
    y = np.eye(3)[labels]
    with classifier(5, dtype) as net, classifier(5, dtype) as twin:
        net.optimizer = twin.optimizer = swiftmlp.SGD(lr=0.05, momentum=0.9)
        hist = net.fit(x, y, epochs=3, batch_size=batch_size, shuffle=False)
        losses, _ = replay_fit(twin, None, x.astype(dtype), y.astype(dtype), 3, batch_size,
                               shuffle=False)
        assert net.get_flat_params().tobytes() == twin.get_flat_params().tobytes()
        np.testing.assert_allclose(hist.loss, losses, rtol=1e-12)
        # the last batch is what inspect() shows, as after a shuffled fit
        last = (45 - 1) // min(batch_size, 45) * min(batch_size, 45)
        np.testing.assert_array_equal(net.inspect()[0]["g"], x[last:].astype(dtype))


def test_shuffle_generator_carries_over_between_fits():
    """Two fits of 2 epochs are the documented sequence: the second fit starts
    from the order 0..rows-1 again but the generator continues."""
    x, labels = blobs(n=30)
    y = np.eye(3)[labels]
    with classifier(5) as net, classifier(5) as twin:
        net.optimizer = twin.optimizer = swiftmlp.SGD(lr=0.1, momentum=0.9)
        net.fit(x, labels, epochs=2, batch_size=8)
        net.fit(x, labels, epochs=2, batch_size=8)  # optimizer=None: continues its state
        generator = SplitMix64(5 + SHUFFLE_OFFSET)
        replay_fit(twin, generator, x, y, 2, 8)
        replay_fit(twin, generator, x, y, 2, 8)
        assert net.get_flat_params().tobytes() == twin.get_flat_params().tobytes()
        assert net.optimizer_steps == 16


def test_same_seed_same_training_other_seed_other_batches():
    x, labels = blobs(n=50)
    runs = {}
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        with classifier(3) as net:  # the same initial parameters for all three
            # ...but the shuffle generator of network "c" comes from seed 4
            net2 = swiftmlp.MLP([4, 8, 3], seed=seed, activations=["tanh", "softmax"],
                                loss="cross_entropy", init="glorot")
            net2.set_flat_params(net.get_flat_params())
            hist = net2.fit(x, labels, epochs=3, batch_size=10, optimizer=swiftmlp.Adam(0.01))
            runs[name] = (net2.get_flat_params().tobytes(), hist)
            net2.close()
    assert runs["a"][0] == runs["b"][0]
    assert runs["a"][1] == runs["b"][1]
    assert runs["a"][0] != runs["c"][0]  # other seed, other batches
    assert runs["a"][1].loss != runs["c"][1].loss


def test_shuffle_false_keeps_the_row_order_whatever_the_seed():
    x, labels = blobs(n=40)
    with classifier(1) as a, classifier(2) as b:
        b.set_flat_params(a.get_flat_params())
        ha = a.fit(x, labels, epochs=3, batch_size=6, shuffle=False, optimizer="adam")
        hb = b.fit(x, labels, epochs=3, batch_size=6, shuffle=False, optimizer="adam")
        assert a.get_flat_params().tobytes() == b.get_flat_params().tobytes()
        assert ha == hb


# ---- early stopping ---------------------------------------------------------------

def early_stopping_data():
    """Training targets 0/1; validation targets 0.3/0.7 on the same inputs.
    The sigmoid outputs start near 0.5, so the validation loss first falls
    (the outputs move towards 0.3/0.7) and then rises (they go on to 0/1)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3))
    y = (x[:, :1] + 0.5 * x[:, 1:2] > 0).astype(np.float64)
    return x, y, x, 0.3 + 0.4 * y


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_early_stopping_restores_the_best_epoch(dtype):
    x, y, x_val, y_val = early_stopping_data()
    opt = swiftmlp.Adam(lr=0.05)
    with swiftmlp.MLP([3, 6, 1], dtype=dtype, seed=11) as net:
        hist = net.fit(x, y, epochs=200, batch_size=16, optimizer=opt,
                       validation_data=(x_val, y_val), early_stopping=3)
        assert hist.stopped_early and hist.restored_best and not hist.cancelled
        best = hist.best_epoch
        assert 0 < best < hist.epochs_run - 1 < 199  # fell, then rose
        assert hist.epochs_run == best + 1 + 3  # patience 3
        assert hist.val_loss[best] == min(hist.val_loss) == hist.best_loss
        assert hist.val_loss[-1] > hist.val_loss[best]
        assert len(hist.loss) == len(hist.val_loss) == hist.epochs_run
        restored = net.get_flat_params().tobytes()
        # The same network trained for best + 1 epochs without early stopping.
        with swiftmlp.MLP([3, 6, 1], dtype=dtype, seed=11) as twin:
            twin_hist = twin.fit(x, y, epochs=best + 1, batch_size=16, optimizer=opt,
                                 validation_data=(x_val, y_val))
            assert twin.get_flat_params().tobytes() == restored
            assert twin_hist.val_loss == hist.val_loss[:best + 1]
            assert net.evaluate(x_val, y_val) == twin.evaluate(x_val, y_val) == hist.best_loss
        # Without restore_best it ends with the last epoch's parameters.
        with swiftmlp.MLP([3, 6, 1], dtype=dtype, seed=11) as last, \
                swiftmlp.MLP([3, 6, 1], dtype=dtype, seed=11) as twin:
            h = last.fit(x, y, epochs=200, batch_size=16, optimizer=opt,
                         validation_data=(x_val, y_val),
                         early_stopping={"patience": 3, "restore_best": False})
            assert h.stopped_early and not h.restored_best and h.epochs_run == hist.epochs_run
            twin.fit(x, y, epochs=h.epochs_run, batch_size=16, optimizer=opt)
            assert last.get_flat_params().tobytes() == twin.get_flat_params().tobytes()


def test_early_stopping_forms_and_min_delta():
    x, y, x_val, y_val = early_stopping_data()
    results = []
    for stopping in (3, {"patience": 3}, swiftmlp.EarlyStopping(3),
                     swiftmlp.EarlyStopping(patience=3, min_delta=0.0, restore_best=True)):
        with swiftmlp.MLP([3, 6, 1], seed=11) as net:
            h = net.fit(x, y, epochs=200, batch_size=16, optimizer=swiftmlp.Adam(lr=0.05),
                        validation_data=(x_val, y_val), early_stopping=stopping)
            results.append((h, net.get_flat_params().tobytes()))
    assert all(r == results[0] for r in results)
    # A min_delta larger than any improvement: no epoch after the first improves.
    with swiftmlp.MLP([3, 6, 1], seed=11) as net:
        h = net.fit(x, y, epochs=200, batch_size=16, optimizer=swiftmlp.Adam(lr=0.05),
                    validation_data=(x_val, y_val),
                    early_stopping=swiftmlp.EarlyStopping(patience=2, min_delta=10.0))
        assert h.best_epoch == 0 and h.epochs_run == 3 and h.stopped_early and h.restored_best


def test_early_stopping_without_validation_monitors_training_loss():
    x, y, _, _ = early_stopping_data()
    with swiftmlp.MLP([3, 6, 1], seed=2) as net:
        h = net.fit(x, y, epochs=30, batch_size=16, optimizer=swiftmlp.SGD(lr=0.5),
                    early_stopping=2)
        assert h.val_loss == []
        assert h.best_loss == min(h.loss) == h.loss[h.best_epoch]


# ---- callback and cancellation -------------------------------------------------

def test_callback_reports_and_cancels_at_an_epoch_end():
    x, labels = blobs(n=40)
    x_val, labels_val = blobs(n=8, seed=3)
    calls = []

    def callback(info):
        calls.append(info)
        return info["epoch"] == 2  # cancel after the third epoch

    with classifier(9) as net, classifier(9) as twin:
        hist = net.fit(x, labels, epochs=10, batch_size=16, optimizer=swiftmlp.Adam(0.01),
                       validation_data=(x_val, labels_val), callback=callback)
        assert hist.cancelled and not hist.stopped_early and hist.epochs_run == 3
        assert [c["epoch"] for c in calls] == [0, 1, 2]  # epoch ends only by default
        assert all(c["epoch_end"] and c["batch"] == c["n_batches"] == 3 and c["epochs"] == 10
                   for c in calls)
        assert [c["train_loss"] for c in calls] == hist.loss
        assert [c["val_loss"] for c in calls] == hist.val_loss
        assert all(np.isnan(c["batch_loss"]) for c in calls)
        assert net.optimizer_steps == 9
        twin.fit(x, labels, epochs=3, batch_size=16, optimizer=swiftmlp.Adam(0.01))
        assert net.get_flat_params().tobytes() == twin.get_flat_params().tobytes()


def test_callback_after_every_batch_can_cancel_mid_epoch():
    x, labels = blobs(n=40)
    calls = []

    def callback(info):
        calls.append(info)
        return info["epoch"] == 1 and info["batch"] == 1

    with classifier(9) as net:
        hist = net.fit(x, labels, epochs=5, batch_size=16, optimizer="sgd",
                       callback=callback, report_batches=True)
        assert hist.cancelled and hist.epochs_run == 1 and len(hist.loss) == 1
        assert net.optimizer_steps == 3 + 2  # epoch 0: 3 batches; epoch 1: 2 batches
        assert [(c["epoch"], c["batch"], c["epoch_end"]) for c in calls] == [
            (0, 0, False), (0, 1, False), (0, 2, False), (0, 3, True), (1, 0, False),
            (1, 1, False)]
        assert all(np.isfinite(c["batch_loss"]) for c in calls if not c["epoch_end"])
        assert all(np.isnan(c["val_loss"]) for c in calls)  # no validation data
        # The network is consistent and usable after a cancelled fit.
        assert net.predict(x).shape == (40, 3)
        net.fit(x, labels, epochs=1)


def test_exception_in_callback_cancels_and_propagates():
    x, labels = blobs(n=40)

    class Boom(Exception):
        pass

    def callback(info):
        if info["epoch"] == 1:
            raise Boom("from the callback")

    with classifier(4) as net:
        with pytest.raises(Boom, match="from the callback"):
            net.fit(x, labels, epochs=5, batch_size=10, optimizer="adam", callback=callback)
        assert net.optimizer_steps == 8  # two complete epochs of 4 batches
        hist = net.fit(x, labels, epochs=1, batch_size=10)  # still usable
        assert hist.epochs_run == 1 and net.optimizer_steps == 12


def test_callback_must_not_use_the_network():
    x, labels = blobs(n=20)
    with classifier(4) as net:
        with pytest.raises(StateError, match="callback"):
            net.fit(x, labels, epochs=2, optimizer="adam", callback=lambda info: net.predict(x))
        assert net.predict(x).shape == (20, 3)  # fine again afterwards


def test_keyboard_interrupt_during_fit_cancels_cleanly():
    """Ctrl-C during a long fit: KeyboardInterrupt reaches the caller at the
    next epoch end; the network holds the parameters of the last step."""
    x, labels = blobs(n=200, n_features=8)
    with swiftmlp.MLP([8, 64, 3], seed=1, activations=["relu", "softmax"],
                      loss="cross_entropy") as net:
        timer = threading.Timer(0.3, _thread.interrupt_main)
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                net.fit(x, labels, epochs=10 ** 7, batch_size=4, optimizer="adam")
        finally:
            timer.cancel()
        steps = net.optimizer_steps
        assert 0 < steps < 10 ** 7 * 50 and steps % 50 == 0  # whole epochs of 50 batches
        assert np.all(np.isfinite(net.get_flat_params()))
        net.fit(x, labels, epochs=1, batch_size=4)
        assert net.optimizer_steps == steps + 50


# ---- data forms, batch sizes, optimizer handling ----------------------------------

def test_class_indices_equal_one_hot_targets():
    x, labels = blobs(n=33)
    with classifier(8) as a, classifier(8) as b:
        ha = a.fit(x, labels, epochs=3, batch_size=5, optimizer="adamw",
                   validation_data=(x[:7], labels[:7]))
        hb = b.fit(x, np.eye(3)[labels], epochs=3, batch_size=5, optimizer="adamw",
                   validation_data=(x[:7], np.eye(3)[labels[:7]]))
        assert a.get_flat_params().tobytes() == b.get_flat_params().tobytes()
        assert ha == hb
        assert a.evaluate(x, labels) == a.evaluate(x, np.eye(3)[labels])


def test_batch_larger_than_the_data_is_one_full_batch():
    x, labels = blobs(n=12)
    with classifier(3) as a, classifier(3) as b:
        ha = a.fit(x, labels, epochs=4, batch_size=1000, optimizer=swiftmlp.SGD(lr=0.3))
        hb = b.fit(x, labels, epochs=4, batch_size=12, optimizer=swiftmlp.SGD(lr=0.3))
        assert a.optimizer_steps == b.optimizer_steps == 4
        assert a.get_flat_params().tobytes() == b.get_flat_params().tobytes()
        assert ha == hb


def test_fit_needs_an_optimizer_and_keeps_the_current_one():
    x, labels = blobs(n=20)
    with classifier(0) as net:
        params = net.get_flat_params().tobytes()
        with pytest.raises(StateError, match="optimizer"):
            net.fit(x, labels, epochs=1)
        assert net.get_flat_params().tobytes() == params and net.optimizer is None
        net.optimizer = swiftmlp.AdamW(lr=0.02)
        net.fit(x, labels, epochs=1, batch_size=10)
        assert net.optimizer == swiftmlp.AdamW(lr=0.02) and net.optimizer_steps == 2
        net.fit(x, labels, epochs=1, batch_size=10, optimizer=swiftmlp.SGD(lr=0.1))
        assert net.optimizer == swiftmlp.SGD(lr=0.1) and net.optimizer_steps == 2  # fresh


def test_progress_bar_gives_the_same_training(capfd):
    x, labels = blobs(n=50)
    x_val, labels_val = blobs(n=10, seed=2)
    with classifier(6) as a, classifier(6) as b:
        ha = a.fit(x, labels, epochs=3, batch_size=8, optimizer="adam",
                   validation_data=(x_val, labels_val), progress=True)
        err = capfd.readouterr().err
        hb = b.fit(x, labels, epochs=3, batch_size=8, optimizer="adam",
                   validation_data=(x_val, labels_val), progress=False)
        assert capfd.readouterr().err == ""
        assert ha == hb
        assert a.get_flat_params().tobytes() == b.get_flat_params().tobytes()
        assert "epoch 3/3" in err and "21/21" in err and "val_loss" in err


def test_non_finite_step_stops_the_fit_with_the_last_good_parameters():
    x, labels = blobs(n=20)
    with classifier(0, dtype="float32") as net:
        params = net.get_flat_params().tobytes()
        with pytest.raises(NonFiniteError) as info:
            # lr = 1e300 is a valid (finite) double, but inf as a float32: the
            # first float32 step would make every parameter with a gradient inf
            net.fit(x, labels, epochs=3, batch_size=5, optimizer=swiftmlp.SGD(lr=1e300))
        assert info.value.function == "swiftmlp_fit"
        assert info.value.history.epochs_run == 0 and info.value.history.loss == []
        assert net.get_flat_params().tobytes() == params
        assert net.optimizer_steps == 0


# ---- predict and evaluate ----------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_predict_and_evaluate_leave_the_training_state_alone(dtype):
    rng = np.random.default_rng(0)
    x_batch, labels_batch = blobs(n=5)
    x_big = rng.normal(size=(600, 4))  # more than predict's 256-row chunks
    with classifier(2, dtype) as net:
        out = net.forward(x_batch)
        loss = net.backward(labels_batch)
        grads = net.get_flat_grads().tobytes()
        before = [{k: None if v is None or k == "layer" else v.tobytes() for k, v in e.items()}
                  for e in net.inspect()]
        p = net.predict(x_big)
        e = net.evaluate(x_big, rng.integers(0, 3, size=600))
        assert p.shape == (600, 3) and p.dtype == net.dtype and p.flags.writeable
        assert np.isfinite(e) and e > 0
        np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
        # the same rows give the same outputs in any batch (up to the rounding
        # of other BLAS blockings)
        np.testing.assert_allclose(p[:5], net.predict(x_big[:5]),
                                   rtol=1e-6 if dtype == "float32" else 1e-14)
        np.testing.assert_allclose(net.predict(x_batch), out, rtol=1e-6 if dtype == "float32" else 1e-14)
        after = [{k: None if v is None or k == "layer" else v.tobytes() for k, v in e.items()}
                 for e in net.inspect()]
        assert after == before
        assert net.get_flat_grads().tobytes() == grads
        assert net.backward(labels_batch) == loss  # the forward cache survived


def test_evaluate_is_the_loss_of_a_full_batch():
    x, labels = blobs(n=40)
    with classifier(3) as net:
        net.forward(x)
        full = net.backward(labels)
        assert net.evaluate(x, labels) == pytest.approx(full, rel=1e-14)
