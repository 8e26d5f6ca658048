import RealModule

extension Kernels {
    /// Forward: f (B, N) += b (N) broadcast over the batch; g = act(f).
    /// f already holds g_prev @ W^T. Sigmoid layers go to the C block
    /// (`MLPScalar.biasSigmoidBlock`); softmax is a row operation. For the
    /// others, bias and activation are one fused pass for layers of 16 or
    /// more units; narrower ones (in L1 anyway) take a bias pass and one flat
    /// activation loop over the block, which vectorizes.
    static func biasActivationForward<T: MLPScalar>(
        _ act: Activation, slope: T,
        f: UnsafeMutablePointer<T>, g: UnsafeMutablePointer<T>,
        bias: UnsafePointer<T>, rows: Int, cols: Int
    ) {
        switch act {
        case .softmax:
            for r in 0..<rows {
                let fr = f + r * cols, gr = g + r * cols
                // g = exp(f - max f) / sum exp(f - max f), per row: never overflows.
                var m = -T.infinity
                for c in 0..<cols { let v = fr[c] + bias[c]; fr[c] = v; m = Swift.max(m, v) }
                var s: T = 0
                for c in 0..<cols { let e = T.expNonPositive(fr[c] - m); gr[c] = e; s += e }
                for c in 0..<cols { gr[c] = gr[c] / s }
            }
            return
        case .sigmoid:
            // C for the running CPU, threaded when large; the same bits.
            T.biasSigmoidBlock(f, g, bias: bias, rows: rows, cols: cols)
            return
        case .tanh, .relu, .leakyReLU, .identity:
            break
        }
        if cols >= 16 {
            // One fused pass per row: f += b and g = act(f).
            for r in 0..<rows {
                let fr = f + r * cols, gr = g + r * cols
                switch act {
                case .tanh:
                    for c in 0..<cols { let v = fr[c] + bias[c]; fr[c] = v; gr[c] = T.tanh(v) }
                case .relu:
                    for c in 0..<cols { let v = fr[c] + bias[c]; fr[c] = v; gr[c] = v > 0 ? v : 0 }
                case .leakyReLU:
                    for c in 0..<cols { let v = fr[c] + bias[c]; fr[c] = v; gr[c] = v > 0 ? v : slope * v }
                case .identity:
                    for c in 0..<cols { let v = fr[c] + bias[c]; fr[c] = v; gr[c] = v }
                case .sigmoid, .softmax:
                    break  // handled above
                }
            }
            return
        }
        // Narrow layers (all in L1): f += b row by row, then the activation
        // over the whole (B, N) block in one flat loop, long enough to vectorize.
        for r in 0..<rows {
            let fr = f + r * cols
            for c in 0..<cols { fr[c] += bias[c] }
        }
        activationForward(act, slope: slope, f: f, g: g, count: rows * cols)
    }

    /// g = sigmoid(f) over `count` elements (`f` and `g` distinct), through
    /// `MLPScalar.sigmoidBlock`, the one sigmoid: C vectorized for the
    /// running CPU (elementwise.c).
    @inline(__always)
    static func sigmoidForward<T: MLPScalar>(f: UnsafePointer<T>, g: UnsafeMutablePointer<T>, count: Int) {
        T.sigmoidBlock(f, g, count: count)
    }

    /// Forward activation alone over a flat block of `count` elements:
    /// g = act(f), f already holding g_prev @ W^T + b. The same per-element
    /// formulas as `biasActivationForward`; not for softmax (a row operation).
    @inline(__always)
    static func activationForward<T: MLPScalar>(
        _ act: Activation, slope: T, f: UnsafePointer<T>, g: UnsafeMutablePointer<T>, count: Int
    ) {
        switch act {
        case .sigmoid:
            sigmoidForward(f: f, g: g, count: count)
        case .tanh:
            for i in 0..<count { g[i] = T.tanh(f[i]) }
        case .relu:
            for i in 0..<count { let v = f[i]; g[i] = v > 0 ? v : 0 }
        case .leakyReLU:
            for i in 0..<count { let v = f[i]; g[i] = v > 0 ? v : slope * v }
        case .identity:
            for i in 0..<count { g[i] = f[i] }
        case .softmax:
            break  // never passed: callers route softmax layers elsewhere
        }
    }

    /// Backward: dL/df (B, N) from dL/dg and the forward's f and g.
    /// sigmoid: dg g (1 - g); tanh: dg (1 - g^2); relu: f > 0 ? dg : 0;
    /// leaky: f > 0 ? dg : slope dg; identity: dg;
    /// softmax: g_j (dg_j - sum_k dg_k g_k) per row.
    static func activationBackward<T: MLPScalar>(
        _ act: Activation, slope: T,
        df: UnsafeMutablePointer<T>, dg: UnsafePointer<T>,
        f: UnsafePointer<T>, g: UnsafePointer<T>, rows: Int, cols: Int
    ) {
        let count = rows * cols
        switch act {
        case .sigmoid:
            T.sigmoidBackwardBlock(df, dg: dg, g: g, count: count)
        case .tanh:
            for i in 0..<count { let gi = g[i]; df[i] = dg[i] * (1 - gi * gi) }
        case .relu:
            for i in 0..<count { df[i] = f[i] > 0 ? dg[i] : 0 }
        case .leakyReLU:
            for i in 0..<count { df[i] = f[i] > 0 ? dg[i] : slope * dg[i] }
        case .identity:
            for i in 0..<count { df[i] = dg[i] }
        case .softmax:
            for r in 0..<rows {
                let o = r * cols
                var s: T = 0
                for c in 0..<cols { s += dg[o + c] * g[o + c] }
                for c in 0..<cols { df[o + c] = g[o + c] * (dg[o + c] - s) }
            }
        }
    }
}
