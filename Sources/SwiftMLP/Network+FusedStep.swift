/// The training step for small networks: forward, backward and a plain SGD
/// step in one pass over the layers, with loops written for tiny shapes.
///
/// It applies when every matrix product of the step is small enough to take
/// `Kernels.directMatmul` (at most `Kernels.directProductLimit`
/// multiply-adds, so none would go through BLAS), the loss is MSE on a
/// sigmoid output, no layer is softmax, and the optimizer is SGD without
/// momentum. It computes every value with the same operations in the same
/// order as the general path (`trainingForward`, `trainingBackward`,
/// `optimizerStep`), so results are bit-identical; it only drops the general
/// path's per-call overhead (BLAS dispatch, loops vectorized for long rows
/// that run a few iterations here, the optimizer's switch over kinds).
extension Network {
    /// The largest batch for which `fusedTrainStep` applies to this
    /// configuration, 0 when it never does (see the extension's comment).
    static func fusedBatchLimit(layout: Layout, activations: [Activation], loss: Loss) -> Int {
        guard loss == .mse, activations.last == .sigmoid, !activations.contains(.softmax) else { return 0 }
        var widest = 1
        for l in 0..<layout.layerCount {
            // Each size <= 2^24: the product fits.
            widest = Swift.max(widest, layout.sizes[l] * layout.sizes[l + 1])
        }
        return Kernels.directProductLimit / widest
    }

    /// True when `trainStep` with this batch and optimizer may take `fusedTrainStep`.
    @inline(__always)
    func canFuse(batch: Int, _ opt: Optimizer) -> Bool {
        batch <= fusedBatchLimit && opt.kind == .sgd && opt.momentum == 0
            && optimizerSteps < ModelFormat.maxOptimizerSteps
    }

    /// One training step on validated x (B, N0) and y (B, NL) with a cache of
    /// at least B rows, for a network, batch and optimizer that `canFuse`.
    /// Leaves the network exactly as `trainingForward`, `trainingBackward`
    /// and `optimizerStep` would, including when the step is refused as
    /// non-finite (parameters unchanged; cache and gradients hold this batch).
    func fusedTrainStep(
        x: UnsafePointer<Scalar>, y: UnsafePointer<Scalar>, batch: Int, _ opt: Optimizer
    ) throws(MLPError) -> Double {
        let cache = self.cache.unsafelyUnwrapped
        let L = layout.layerCount
        let p = params.base, dp = grads.base
        let sizes = layout.sizes, wOff = layout.weightOffsets, bOff = layout.biasOffsets

        // Forward: f = g_prev @ W^T + b, g = act(f).
        cache.g(0).update(from: x, count: batch &* sizes[0])
        for l in 0..<L {
            let nIn = sizes[l], nOut = sizes[l &+ 1]
            let f = cache.f(l &+ 1)
            smallLinearForward(a: cache.g(l), w: p + wOff[l], b: p + bOff[l], f: f,
                               rows: batch, nIn: nIn, nOut: nOut)
            Kernels.activationForward(activations[l], slope: slope, f: f, g: cache.g(l &+ 1),
                                      count: batch &* nOut)
        }
        lastBatch = batch
        forwardValid = true

        // Backward: MSE through the output sigmoid, then layer by layer.
        let loss = Kernels.mseSigmoidBackward(dg: cache.dg(L), df: cache.df(L), g: cache.g(L), y: y,
                                              count: batch &* sizes[L])
        var l = L
        while l > 0 {
            l &-= 1
            let nIn = sizes[l], nOut = sizes[l &+ 1]
            let df = cache.df(l &+ 1)
            smallLinearBackward(df: df, a: cache.g(l), dw: dp + wOff[l], db: dp + bOff[l],
                                rows: batch, nIn: nIn, nOut: nOut)
            if l > 0 {
                smallInputGradient(df: df, w: p + wOff[l], dg: cache.dg(l), rows: batch, nIn: nIn, nOut: nOut)
                Kernels.activationBackward(activations[l &- 1], slope: slope, df: cache.df(l), dg: cache.dg(l),
                                           f: cache.f(l), g: cache.g(l), rows: batch, cols: nIn)
            }
        }
        hasGradients = true
        backwardDone = true

        // SGD without momentum: p -= lr (dp + wd p), all or nothing.
        let lr = Scalar(opt.learningRate), wd = Scalar(opt.weightDecay)
        let n = layout.parameterCount
        // q - q is +0 for a finite q and NaN otherwise: OR-ing the exponent
        // bits is a branch-free integer reduction, so the check vectorizes.
        var nonFinite: Scalar.RawExponent = 0
        for i in 0..<n {
            let q = p[i] - lr * (dp[i] + wd * p[i])
            nonFinite |= (q - q).exponentBitPattern
        }
        guard nonFinite == 0 else {
            throw MLPError(.nonFinite, "this \(opt.kind) step would make a parameter or optimizer state value non-finite; parameters and optimizer state are unchanged")
        }
        for i in 0..<n { p[i] = p[i] - lr * (dp[i] + wd * p[i]) }
        optimizerSteps &+= 1
        parametersChanged()
        return loss
    }
}

/// Runs `body(n)` with `n` as a constant for n = 1...8 (a copy of the body
/// per case, in which loops over n unroll completely and cost no loop
/// control), with the run-time value otherwise.
@inline(__always)
private func withConstant(_ n: Int, _ body: (Int) -> Void) {
    switch n {
    case 1: body(1)
    case 2: body(2)
    case 3: body(3)
    case 4: body(4)
    case 5: body(5)
    case 6: body(6)
    case 7: body(7)
    case 8: body(8)
    default: body(n)
    }
}

/// f (B, nOut) = a (B, nIn) @ W^T + b, W (nOut, nIn): `directMatmul`'s dot
/// products (from 0, k ascending), then + b, as `biasActivationForward` adds it.
@_optimize(size) @inline(never)
private func smallLinearForward<T: MLPScalar>(
    a: UnsafePointer<T>, w: UnsafePointer<T>, b: UnsafePointer<T>, f: UnsafeMutablePointer<T>,
    rows: Int, nIn: Int, nOut: Int
) {
    // Indices stay below B * (N0 + ... + NL) <= 2^28 or nOut * nIn <= 2^48.
    withConstant(nIn) { nIn in
        for r in 0..<rows {
            let ar = a + r &* nIn, fr = f + r &* nOut
            for j in 0..<nOut {
                let wj = w + j &* nIn
                var s: T = 0
                for k in 0..<nIn { s += ar[k] * wj[k] }
                fr[j] = s + b[j]
            }
        }
    }
}

/// dW (nOut, nIn) = df^T @ a and db = sum over rows of df, each element
/// summed from 0 over the batch in row order, as `directMatmul` (transA) and
/// `Kernels.biasBackward` do.
@_optimize(size) @inline(never)
private func smallLinearBackward<T: MLPScalar>(
    df: UnsafePointer<T>, a: UnsafePointer<T>, dw: UnsafeMutablePointer<T>, db: UnsafeMutablePointer<T>,
    rows: Int, nIn: Int, nOut: Int
) {
    withConstant(rows) { rows in
        for i in 0..<nOut {
            let dwi = dw + i &* nIn, dfi = df + i
            for j in 0..<nIn {
                let aj = a + j
                var s: T = 0
                for r in 0..<rows { s += dfi[r &* nOut] * aj[r &* nIn] }
                dwi[j] = s
            }
            var s: T = 0
            for r in 0..<rows { s += dfi[r &* nOut] }
            db[i] = s
        }
    }
}

/// dg (B, nIn) = df (B, nOut) @ W (nOut, nIn), each element summed from 0
/// over nOut in order, as `directMatmul` (no transpose) does.
@_optimize(size) @inline(never)
private func smallInputGradient<T: MLPScalar>(
    df: UnsafePointer<T>, w: UnsafePointer<T>, dg: UnsafeMutablePointer<T>,
    rows: Int, nIn: Int, nOut: Int
) {
    withConstant(nOut) { nOut in
        for r in 0..<rows {
            let dfr = df + r &* nOut, dgr = dg + r &* nIn
            for j in 0..<nIn {
                let wj = w + j
                var s: T = 0
                for k in 0..<nOut { s += dfr[k] * wj[k &* nIn] }
                dgr[j] = s
            }
        }
    }
}
