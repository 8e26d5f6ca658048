"""Whole data sets: fit() with its progress reports, predict(), evaluate()
and gradient_check()."""

from __future__ import annotations

import signal
import threading
from ctypes import byref, c_double, pointer

import numpy as np

from . import _lib, _optim
from ._convert import address, asarray, check_copy, count, validation_pair
from ._errors import BufferSizeError, CancelledError, InvalidArgumentError, SwiftMLPError
from ._lib import lib, raise_error
from ._optim import EarlyStopping, GradientCheck, History


class DataSets:
    """MLP methods that take a whole data set."""

    def fit(self, x, y, epochs, batch_size=32, optimizer=None, validation_data=None,
            early_stopping=None, shuffle=True, progress=False, callback=None,
            report_batches=False, lr_schedule=None, sample_weight=None) -> History:
        """Train on a data set (swiftmlp_fit): per epoch the rows are reshuffled
        (``shuffle=True``, with the network's own generator seeded from
        ``seed``: the same seed and calls give the same batches), cut into
        batches of ``batch_size`` rows (the last holds the remainder; a batch
        size above the row count means the whole set), and each batch gets
        forward, backward and one optimizer step.

        x:  (n, N0) inputs, n >= 1.
        y:  (n, NL) targets; for loss="cross_entropy" also a 1-D integer array
            of n class indices (converted to one-hot rows here).
        epochs:     >= 1.     batch_size: >= 1.
        optimizer:  an SGD/Adam/AdamW (or "sgd"/"adam"/"adamw"): set as
            ``net.optimizer`` (FRESH state) before training, once every other
            argument has been checked.  None (default) keeps training with
            the current ``net.optimizer`` and its state (so a second fit()
            continues where the first stopped); if none is set, StateError.
        validation_data: (x_val, y_val), evaluated after every epoch without
            touching the training state.
        early_stopping: None (off), an int patience, a dict
            ``{"patience": 5, "min_delta": 0.0, "restore_best": True}`` or a
            swiftmlp.EarlyStopping: stop after `patience` epochs without an
            improvement of the validation loss (the training loss without
            validation data) by more than min_delta; with restore_best the
            network ends with the parameters of its best epoch.
        progress:   True shows a tqdm progress bar on stderr (one tick per
            batch, the epoch's running training loss and the last validation
            loss as postfix).
        callback:   called as ``callback(info)`` with a dict (epoch, epochs,
            batch, n_batches, batch_loss, train_loss, val_loss, epoch_end;
            epochs and batches 0-based, batch == n_batches at an epoch's end)
            after every epoch, and also after every batch when
            ``report_batches=True``.  Returning True (any truthy value)
            cancels the fit after the current step: fit() then returns
            normally with ``history.cancelled`` set and the network holds the
            parameters of the last step.  The callback must not use this
            network (StateError).  If it raises, the fit is cancelled and
            the exception is re-raised from fit().

        lr_schedule: None (the optimizer's lr every epoch) or a schedule:
            swiftmlp.ConstantLR(), InvScalingLR(power_t), AdaptiveLR(tol,
            n_iter_no_change), StepLR(step_size, gamma) or
            CosineAnnealingLR(t_max, eta_min) (formulas in swiftmlp._optim
            and include/swiftmlp.h, swiftmlp_lr_schedule), applied at the
            start of every epoch from the optimizer's lr when fit starts;
            fit ends with that lr set again.  ``history.lr`` lists the rate
            of every epoch.
        sample_weight: None or n finite weights >= 0, not all 0 (1-D): each
            batch's loss is the weighted mean sum_i w_i l_i / sum_i w_i of
            its rows' losses (scikit-learn's definition; all ones = the
            plain loss), and the gradients are that loss's.  A batch whose
            weights sum to 0 takes no step and does not count in the
            epoch's loss.  Validation losses are unweighted.

        Ctrl-C (KeyboardInterrupt) is honoured at the next epoch end (after
        every batch with progress=True or report_batches=True): the fit is
        cancelled cleanly, the network holds the parameters of the last
        completed step, and KeyboardInterrupt propagates.

        Returns a swiftmlp.History (loss, val_loss, best_epoch, best_loss,
        epochs_run, stopped_early, cancelled, restored_best).

        Bad arguments (shapes, n = 0, mismatched lengths, NaN/inf in the data,
        out-of-range class indices, epochs or batch_size < 1, a bad optimizer)
        raise before anything changes.  A step that would make a parameter
        non-finite stops the training with NonFiniteError; the network keeps
        the parameters of the last good step (the exception's ``history``
        attribute holds the epochs completed before).
        """
        # ---- check everything before changing anything
        x = self._as_input(x, "x", ndim=2, check=self._rows)
        rows = x.shape[0]
        y = self._targets(y, "y", rows, "x")
        epochs = count(epochs, "epochs")
        batch_size = count(batch_size, "batch_size")
        weights = self._sample_weight(sample_weight, rows)
        stopping = EarlyStopping.parse(early_stopping)
        if not isinstance(shuffle, (bool, np.bool_)):
            raise TypeError("shuffle must be True or False")
        if callback is not None and not callable(callback):
            raise TypeError("callback must be callable")
        val = None
        if validation_data is not None:
            xv, yv = validation_pair(validation_data)
            xv = self._as_input(xv, "validation x", ndim=2,
                                check=lambda a: self._rows(a, "validation x"))
            val_rows = xv.shape[0]
            yv = self._targets(yv, "validation y", val_rows, "validation x")
            val = (xv, yv, val_rows)
        # A new optimizer travels in the options: the library sets it once it
        # has checked the data, so that bad data keeps the old one and its state.
        opt_struct = None if optimizer is None else _optim.to_struct(optimizer)
        bar = None
        if progress:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                raise ImportError("fit(progress=True) needs tqdm: pip install tqdm") from None

        opts = _lib.FitOptions()
        lib.swiftmlp_fit_options_default(byref(opts))
        opts.epochs, opts.batch_size, opts.shuffle = epochs, batch_size, int(bool(shuffle))
        _optim.schedule_options(lr_schedule, opts)
        if weights is not None:
            opts.sample_weight, opts.sample_weight_len = weights.ctypes.data, weights.size
        if val is not None:
            opts.val_x, opts.val_x_len = val[0].ctypes.data, val[0].size
            opts.val_y, opts.val_y_len = val[1].ctypes.data, val[1].size
            opts.val_rows = val[2]
        if opt_struct is not None:
            opts.optimizer = pointer(opt_struct)
        if stopping is not None:
            opts.patience = stopping.patience
            opts.min_delta = stopping.min_delta
            opts.restore_best = int(stopping.restore_best)
        # Per-batch reports only when something uses them (a Python call per
        # batch costs a few microseconds); epoch ends always, for the history.
        opts.report_batches = int(bool(progress) or (callback is not None and bool(report_batches)))

        n_batches = -(-rows // min(batch_size, rows))
        history = History()
        raised = []  # an exception from inside the callback, re-raised after the fit
        has_val = val is not None

        interrupted = []  # set by the SIGINT handler installed below

        def on_progress(p_ptr, _user_data):
            try:
                if interrupted:
                    return 1
                p = p_ptr.contents
                epoch_end = bool(p.epoch_end)
                if epoch_end:
                    history.loss.append(float(p.train_loss))
                    history.lr.append(float(p.lr))
                    if has_val:
                        history.val_loss.append(float(p.val_loss))
                if bar is not None:
                    if epoch_end:
                        post = {"loss": f"{p.train_loss:.4g}"}
                        if has_val:
                            post["val_loss"] = f"{p.val_loss:.4g}"
                        bar.set_postfix(post, refresh=True)
                    else:
                        if p.batch == 0:
                            bar.set_description(f"epoch {p.epoch + 1}/{p.epochs}", refresh=False)
                        post = {"loss": f"{p.train_loss:.4g}"}
                        if has_val and history.val_loss:
                            post["val_loss"] = f"{history.val_loss[-1]:.4g}"
                        bar.set_postfix(post, refresh=False)
                        bar.update(1)
                if callback is not None and (epoch_end or report_batches):
                    info = {"epoch": int(p.epoch), "epochs": int(p.epochs),
                            "batch": int(p.batch), "n_batches": int(p.n_batches),
                            "batch_loss": float(p.batch_loss),
                            "train_loss": float(p.train_loss),
                            "val_loss": float(p.val_loss), "epoch_end": epoch_end}
                    if callback(info):
                        return 1
                return 1 if interrupted else 0
            except BaseException as exc:  # noqa: B902 - KeyboardInterrupt included
                raised.append(exc)
                return 1

        c_callback = _lib.PROGRESS_FN(on_progress)  # kept alive by this frame during the call
        opts.progress = c_callback
        result = _lib.FitResult()
        failure = None
        with self._lock:
            h = self._h()
            if progress:
                bar = tqdm(total=epochs * n_batches, unit="batch", dynamic_ncols=True,
                           desc=f"epoch 1/{epochs}")
            # Ctrl-C: Python runs a signal handler only between bytecodes, that is
            # inside this callback, possibly before its `try`; an exception
            # escaping a ctypes callback would be lost.  So while the library
            # trains, SIGINT only sets a flag, the callback cancels the fit, and
            # KeyboardInterrupt is raised once swiftmlp_fit has returned.
            previous_handler = None
            if (threading.current_thread() is threading.main_thread()
                    and signal.getsignal(signal.SIGINT) is signal.default_int_handler):
                previous_handler = signal.signal(signal.SIGINT,
                                                 lambda signum, frame: interrupted.append(signum))
            self._fit_thread = threading.get_ident()
            self._usable = None
            try:
                lib.swiftmlp_fit(h, self._code, address(x), x.size, address(y), y.size,
                                 rows, byref(opts), byref(result))
            except CancelledError:
                pass  # result is filled; an exception from the callback is re-raised below
            except SwiftMLPError as exc:
                failure = exc
            finally:
                if previous_handler is not None:
                    signal.signal(signal.SIGINT, previous_handler)
                self._fit_thread = None
                self._usable = h.value
                if bar is not None:
                    bar.close()
        del c_callback  # the library holds no reference after swiftmlp_fit returned
        if failure is not None:
            history.epochs_run = len(history.loss)
            failure.history = history
            raise failure
        if raised:
            raise raised[0]
        if interrupted:
            raise KeyboardInterrupt
        history.epochs_run = int(result.epochs_run)
        if history.epochs_run > 0:
            history.best_epoch = int(result.best_epoch)
            history.best_loss = float(result.best_loss)
        history.stopped_early = bool(result.stopped_early)
        history.cancelled = bool(result.cancelled)
        history.restored_best = bool(result.restored_best)
        return history

    def _sample_weight(self, value, rows: int):
        """fit's sample_weight as a C-contiguous 1-D array of the network's
        dtype, or None; its shape is checked before any copy (its values,
        finite, >= 0 and not all 0, by the library)."""
        if value is None:
            return None
        arr = asarray(value, "sample_weight")
        if arr.ndim != 1 or arr.shape[0] != rows:
            raise_error(BufferSizeError if arr.ndim == 1 else InvalidArgumentError,
                        f"sample_weight must be 1-D with one weight per row ({rows},), "
                        f"got shape {arr.shape}")
        return self._as_input(arr, "sample_weight", ndim=1)

    def predict(self, x) -> np.ndarray:
        """The outputs g_L for every row of x (n, N0), as a new (n, NL) array
        (probabilities for a softmax or sigmoid output).  Computed in chunks
        through a separate buffer (swiftmlp_predict): the training batch that
        backward() and inspect() see, the gradients and the optimizer state
        are untouched."""
        call = self._predict_call
        y = call.run(self, x, None, None)
        if y is None:
            def check(a):
                self._rows(a, "x")
                check_copy((a.shape[0], self._sizes[-1]), self._dtype, "predict's output")
            x = self._as_input(x, "x", ndim=2, check=check)
            rows, nl = x.shape[0], self._sizes[-1]
            y = call.run(self, x, None, call.prepare(x.shape, (rows, nl), (x.size, rows, rows * nl)))
        return y

    def evaluate(self, x, y) -> float:
        """The loss of the data set (x, y) (y: dense targets, or class indices
        for cross-entropy), as a float; like predict(), touches no training
        state (swiftmlp_evaluate)."""
        x = self._as_input(x, "x", ndim=2, check=self._rows)
        rows = x.shape[0]
        y = self._targets(y, "y", rows, "x")
        loss = c_double()
        with self._lock:
            lib.swiftmlp_evaluate(self._h(), self._code, address(x), x.size, address(y),
                                  y.size, rows, byref(loss))
        return float(loss.value)

    def gradient_check_details(self, x, y, h: float = 1e-3) -> GradientCheck:
        """Compare backward's gradients of the current parameters on the batch
        (x, y) (y: dense targets, or class indices for cross-entropy) with
        finite differences, in float64 on a copy (swiftmlp_gradient_check):
        the network is left exactly as it was.  The numeric gradient is
        Richardson's extrapolation (4 D(h/2) - D(h)) / 3 of central
        differences D(d) = (L(p + d) - L(p - d)) / (2d), accurate to O(h^4),
        so h = 1e-3 (the default) keeps both truncation and rounding
        negligible.  h must be finite and > 0.  Four forward passes per
        parameter.  A ReLU kink within about h of a pre-activation makes any
        difference quotient meaningless there.  Returns the worst parameter
        as a swiftmlp.GradientCheck (error, flat index, analytic and numeric
        values, and which layer, "W"/"b" and position it is)."""
        x = self._as_input(x, "x", ndim=2, check=self._batch_rows)
        rows = x.shape[0]
        y = self._targets(y, "y", rows, "x")
        h = _optim._real(h, "h")  # finite and > 0: checked by the library
        out = _lib.GradCheck()
        with self._lock:
            lib.swiftmlp_gradient_check(self._h(), self._code, address(x), x.size,
                                        address(y), y.size, rows, h, byref(out))
        index = int(out.index)
        layer, kind, position = self._locate(index)
        return GradientCheck(float(out.max_rel_error), index, float(out.analytic),
                             float(out.numeric), layer, kind, position)

    def gradient_check(self, x, y, h: float = 1e-3) -> float:
        """The largest relative error between backward's gradients and finite
        differences on the batch (x, y):
        max_i |a_i - n_i| / max(|a_i|, |n_i|, 1e-6 * max_k |a_k|).
        Around 1e-8 or less means the gradients are right.  Leaves the network
        unchanged.  See gradient_check_details() (which also says which
        parameter is worst) for h and the method."""
        return self.gradient_check_details(x, y, h).max_rel_error

