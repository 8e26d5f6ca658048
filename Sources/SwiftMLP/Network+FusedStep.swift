/// The training step for small networks: forward, backward and a plain SGD
/// step in one pass over the layers, with loops written for tiny shapes.
///
/// It applies when every matrix product of the step is small enough to take
/// `Kernels.directMatmul` (at most `Kernels.directProductLimit`
/// multiply-adds, so none would go through BLAS), the loss is MSE on a
/// sigmoid output, no layer is softmax, and the optimizer is SGD without
/// momentum and without gradient clipping. It computes every value with the same operations in the same
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

    /// True when `trainStep` with this batch and optimizer may take
    /// `fusedTrainStep`. Never with gradient clipping (`maxGradNorm` > 0):
    /// the fused step's inline SGD has no clipping, so such steps take the
    /// general path, whose `applyStep` clips.
    @inline(__always)
    func canFuse(batch: Int, _ opt: Optimizer) -> Bool {
        batch <= fusedBatchLimit && opt.kind == .sgd && opt.momentum == 0 && opt.maxGradNorm == 0
            && optimizerSteps < ModelFormat.maxOptimizerSteps
    }

    /// Fills `layers` (L entries) with the addresses of every layer's
    /// operands in the parameters, gradients and `cache`.
    func fillFusedLayers(_ layers: UnsafeMutablePointer<FusedLayer<Scalar>>, cache: ActivationCache<Scalar>) {
        for l in 0..<layout.layerCount {
            layers[l] = FusedLayer(
                nIn: layout.sizes[l], nOut: layout.sizes[l + 1], activation: activations[l],
                w: params.base + layout.weightOffsets[l], b: params.base + layout.biasOffsets[l],
                dw: grads.base + layout.weightOffsets[l], db: grads.base + layout.biasOffsets[l],
                gIn: cache.g(l), f: cache.f(l + 1), g: cache.g(l + 1), dg: cache.dg(l + 1), df: cache.df(l + 1))
        }
    }

    /// One training step on validated x (B, N0) and y (B, NL) with a cache of
    /// at least B rows, for a network, batch and optimizer that `canFuse`.
    /// Leaves the network exactly as `trainingForward`, `trainingBackward`
    /// and `optimizerStep` would, including when the step is refused as
    /// non-finite (parameters unchanged; cache and gradients hold this batch).
    @inline(__always)  // one call site, in trainStep
    func fusedTrainStep(
        x: UnsafePointer<Scalar>, y: UnsafePointer<Scalar>, batch: Int, _ opt: Optimizer
    ) throws(MLPError) -> Double {
        // Filled by reserveCache, which every caller has run.
        let layers = UnsafePointer(fusedLayers.unsafelyUnwrapped.base)
        let L = layout.layerCount
        let slope = self.slope

        // Forward: f = g_prev @ W^T + b, g = act(f).
        layers[0].gIn.update(from: x, count: batch &* layers[0].nIn)
        for l in 0..<L {
            let layer = layers + l
            smallLinearForward(layer, rows: batch)
            Kernels.activationForward(layer.pointee.activation, slope: slope, f: layer.pointee.f, g: layer.pointee.g,
                                      count: batch &* layer.pointee.nOut)
        }
        lastBatch = batch
        forwardValid = true

        // Backward: MSE through the output sigmoid, then layer by layer.
        let top = layers + (L &- 1)
        let loss = Kernels.mseSigmoidBackward(dg: top.pointee.dg, df: top.pointee.df, g: top.pointee.g, y: y,
                                              count: batch &* top.pointee.nOut)
        var l = L
        while l > 0 {
            l &-= 1
            let layer = layers + l
            smallLinearBackward(layer, rows: batch)
            if l > 0 {
                // dL/dg and dL/df of this layer's input, the output of layer l - 1.
                let below = layer - 1
                smallInputGradient(layer, dg: below.pointee.dg, rows: batch)
                Kernels.activationBackward(below.pointee.activation, slope: slope, df: below.pointee.df,
                                           dg: below.pointee.dg, f: below.pointee.f, g: below.pointee.g,
                                           rows: batch, cols: below.pointee.nOut)
            }
        }
        hasGradients = true
        gradientsFresh = true
        backwardDone = true

        // SGD without momentum, all or nothing: the loop here rather than
        // `applyStep`'s call (for these few parameters the coefficients, the
        // calls and the state lookup cost a quarter of the whole step), the
        // formula the C step's (`MLPScalar.sgdValue`). test_fused_step.py
        // checks that both give the same bits.
        let p = params.base, dp = grads.base
        let lr = Scalar(opt.learningRate), wd = Scalar(opt.weightDecay)
        let n = layout.parameterCount
        // q - q is +0 for a finite q and NaN otherwise: OR-ing the exponent
        // bits is a branch-free integer reduction, so the check vectorizes
        // (in 32-bit lanes: the exponent of a Float or Double fits).
        var nonFinite: UInt32 = 0
        for i in 0..<n {
            let q = Scalar.sgdValue(p[i], dp[i], lr: lr, wd: wd)
            nonFinite |= UInt32(truncatingIfNeeded: (q - q).exponentBitPattern)
        }
        guard nonFinite == 0 else {
            throw MLPError(.nonFinite, "this \(opt.kind) step would make a parameter or optimizer state value non-finite; parameters and optimizer state are unchanged")
        }
        for i in 0..<n { p[i] = Scalar.sgdValue(p[i], dp[i], lr: lr, wd: wd) }
        optimizerSteps &+= 1
        parametersChanged()
        return loss
    }
}

/// Where one weight layer's operands live (see `Network.fillFusedLayers`):
/// W (nOut, nIn), b, their gradients, and in the training cache the layer's
/// input g_prev (B, nIn) and its f, g, dL/dg, dL/df (B, nOut).
struct FusedLayer<Scalar> {
    var nIn: Int
    var nOut: Int
    var activation: Activation
    var w: UnsafeMutablePointer<Scalar>
    var b: UnsafeMutablePointer<Scalar>
    var dw: UnsafeMutablePointer<Scalar>
    var db: UnsafeMutablePointer<Scalar>
    var gIn: UnsafeMutablePointer<Scalar>
    var f: UnsafeMutablePointer<Scalar>
    var g: UnsafeMutablePointer<Scalar>
    var dg: UnsafeMutablePointer<Scalar>
    var df: UnsafeMutablePointer<Scalar>
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

/// `withConstant` for two sizes: n as a constant for 1...8 and m for 1...4
/// (45 copies of the body), so that two nested loops unroll completely.
@inline(__always)
private func withConstants(_ n: Int, _ m: Int, _ body: (Int, Int) -> Void) {
    withConstant(n) { n in
        switch m {
        case 1: body(n, 1)
        case 2: body(n, 2)
        case 3: body(n, 3)
        case 4: body(n, 4)
        default: body(n, m)
        }
    }
}

/// f (B, nOut) = g_prev (B, nIn) @ W^T + b, W (nOut, nIn): `directMatmul`'s
/// dot products (from 0, k ascending), then + b, as `biasActivationForward`
/// adds it. Kernels of the fused step are compiled for size, so that loops
/// are not vectorized behind run-time alias checks that cost more than
/// these few iterations.
@_optimize(size) @inline(never)
private func smallLinearForward<T: MLPScalar>(_ layer: UnsafePointer<FusedLayer<T>>, rows: Int) {
    let a = UnsafePointer(layer.pointee.gIn), w = UnsafePointer(layer.pointee.w), b = UnsafePointer(layer.pointee.b)
    let f = layer.pointee.f
    // Indices stay below B * (N0 + ... + NL) <= 2^28 or nOut * nIn <= 2^48.
    withConstants(layer.pointee.nIn, layer.pointee.nOut) { nIn, nOut in
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

/// dW (nOut, nIn) = df^T @ g_prev, each element summed from 0 over the
/// batch in row order, as `directMatmul` (transA) does; db = the column sums
/// of df, by the one bias backward's sums (`MLPScalar.columnSums`).
@_optimize(size) @inline(never)
private func smallLinearBackward<T: MLPScalar>(_ layer: UnsafePointer<FusedLayer<T>>, rows: Int) {
    let df = UnsafePointer(layer.pointee.df), a = UnsafePointer(layer.pointee.gIn)
    let dw = layer.pointee.dw, db = layer.pointee.db
    let nOut = layer.pointee.nOut
    withConstants(rows, layer.pointee.nIn) { rows, nIn in
        for i in 0..<nOut {
            let dwi = dw + i &* nIn, dfi = df + i
            for j in 0..<nIn {
                let aj = a + j
                var s: T = 0
                for r in 0..<rows { s += dfi[r &* nOut] * aj[r &* nIn] }
                dwi[j] = s
            }
        }
        T.columnSums(db, df: df, rows: rows, cols: nOut)
    }
}

/// dg (B, nIn) = df (B, nOut) @ W (nOut, nIn), each element summed from 0
/// over nOut in order, as `directMatmul` (no transpose) does.
@_optimize(size) @inline(never)
private func smallInputGradient<T: MLPScalar>(
    _ layer: UnsafePointer<FusedLayer<T>>, dg: UnsafeMutablePointer<T>, rows: Int
) {
    let df = UnsafePointer(layer.pointee.df), w = UnsafePointer(layer.pointee.w)
    withConstants(layer.pointee.nOut, layer.pointee.nIn) { nOut, nIn in
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
