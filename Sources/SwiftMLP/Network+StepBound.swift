import CSwiftMLPBLAS
import RealModule

/// Plain SGD in one pass when overflow is impossible.
///
/// A step is all or nothing: `applyStep` first checks that every new value
/// would be finite, in a pass that reads every parameter and gradient, then
/// commits in a second pass (~6% of a digits fit step, measured without the
/// check). For plain SGD, p - lr (g + wd p) cannot overflow when
/// |p| <= P and |g| <= G for bounds P, G with P (1 + lr wd) + lr G far below
/// the largest finite value, so with such bounds the check pass is skipped:
///
/// - `parameterBound`: the largest |p| stored by the last SGD commit (which
///   tracks it at no extra pass); +infinity after any other change
///   (`parametersChanged`).
/// - `gradientBound`: from the last backward's inputs, not its outputs: an
///   element of dL/dW = df^T g_prev is a sum over the B rows of
///   df[b, i] g_prev[b, j], so |dL/dW| <= B max|df| max|g_prev| before
///   rounding, and the computed sum (at most B additions and one product
///   per term, each rounding by at most a factor 1 + u) stays below that
///   times (1 + u)^(B + 1) <= e^((B + 1) u); dL/db the same with g_prev = 1.
///   max|df| and max|g_prev| are taken from the cache (a pass over the
///   activations, B (N0 + ... + NL) elements, much less than the
///   parameters for every batch up to their count). A non-finite value
///   anywhere makes the bound +infinity.
///
/// The results are the same bits either way (the same element formula);
/// only whether the check pass runs changes. When the bounds do not settle
/// it (unknown, or too large), the check runs as before.
extension Network {
    /// An upper bound on |dL/dθ| over every gradient `backpropagate` just
    /// wrote (see the extension's comment), below the largest finite
    /// Scalar (so every gradient is finite), or +infinity.
    func boundGradients(batch: Int) -> Double {
        let cache = self.cache.unsafelyUnwrapped
        let u = Double(Scalar.ulpOfOne) / 2
        // e^((B + 1) u), itself rounded: a few ulps of margin.
        let growth = Double.exp(Double(batch + 1) * u) * (1 + 8 * Double.ulpOfOne)
        var bound = 0.0
        for l in 0..<layout.layerCount {
            let nIn = layout.sizes[l], nOut = layout.sizes[l + 1]
            let dfMax = Scalar.maxAbsBlock(cache.df(l + 1), count: batch * nOut)
            let gMax = Scalar.maxAbsBlock(cache.g(l), count: batch * nIn)
            let b = Double(batch) * dfMax * Swift.max(gMax, 1) * growth
            // Beyond the largest Scalar a gradient may have overflowed.
            guard b < Double(Scalar.greatestFiniteMagnitude) else { return .infinity }
            bound = Swift.max(bound, b)
        }
        return bound
    }

    /// Whether plain SGD with coefficients `c` (lr, wd as rounded to
    /// Scalar) gives a finite value for every parameter, by the bounds
    /// alone: |p - lr (g + wd p)| <= (P (1 + lr wd) + lr G) (1 + u)^4, and
    /// this requires it below a quarter of the largest finite value.
    func sgdStaysFinite(_ c: smlp_optimizer_coefficients) -> Bool {
        let p = parameterBound, g = gradientBound
        guard p.isFinite && g.isFinite else { return false }
        let lr = Swift.abs(c.lr), wd = Swift.abs(c.wd)
        let most = p * (1 + lr * wd) + lr * g
        return most <= Double(Scalar.greatestFiniteMagnitude) / 4
    }
}
