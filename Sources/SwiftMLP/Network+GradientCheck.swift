extension Network {
    /// Compares the analytic gradients of the current parameters on the batch
    /// (x, y) with central finite differences, in float64 whatever the
    /// network's type: the check runs on a float64 copy, so this network is
    /// left exactly as it was. The numeric gradient is Richardson's
    /// extrapolation (4 D(h/2) - D(h)) / 3 of central differences
    /// D(d) = (L(p + d) - L(p - d)) / 2d; 4 forward passes per parameter.
    /// `h` is the difference step (finite, > 0; 1e-3 suits most networks;
    /// smaller steps trade truncation error for rounding error, and a ReLU
    /// kink within ±h of a pre-activation makes any difference quotient wrong).
    package func gradientCheck(
        x: UnsafeBufferPointer<Scalar>, y: UnsafeBufferPointer<Scalar>, batch: Int, h: Double
    ) throws(MLPError) -> GradientCheckResult {
        guard h.isFinite && h > 0 else { throw MLPError(.invalidArgument, "step h \(h) must be finite and > 0") }
        let xBase = try checkInput(x, rows: batch)
        let yBase = try checkTargets(y, rows: batch)
        let wide = try converted(to: Double.self)
        let n0 = layout.inputSize, nL = layout.outputSize
        let xd = try AlignedBuffer<Double>(count: batch * n0)
        let yd = try AlignedBuffer<Double>(count: batch * nL)
        for i in 0..<(batch * n0) { xd.base[i] = Double(xBase[i]) }
        for i in 0..<(batch * nL) { yd.base[i] = Double(yBase[i]) }
        try wide.reserveCache(batch: batch)
        wide.trainingForward(xd.base, batch: batch)
        _ = wide.trainingBackward(y: yd.base, batch: batch)

        let p = wide.params.base, analytic = wide.grads.base
        var scale = 0.0
        for i in 0..<layout.parameterCount { scale = Swift.max(scale, Swift.abs(analytic[i])) }
        let floor = Swift.max(1e-6 * scale, 1e-300)
        var result = GradientCheckResult(maxRelativeError: 0, index: 0, analytic: analytic[0], numeric: 0)
        /// (L(p_i + d) - L(p_i - d)) / 2d.
        func centralDifference(_ i: Int, _ d: Double) throws(MLPError) -> Double {
            let saved = p[i]
            p[i] = saved + d
            let up = try wide.evaluate(x: xd.base, y: yd.base, rows: batch)
            p[i] = saved - d
            let down = try wide.evaluate(x: xd.base, y: yd.base, rows: batch)
            p[i] = saved
            return (up - down) / (2 * d)
        }
        for i in 0..<layout.parameterCount {
            // Richardson extrapolation of central differences at h and h/2:
            // truncation error O(h^4) instead of O(h^2), so h can be large
            // enough that rounding in the loss (~eps L / h) stays negligible.
            let numeric = (4 * (try centralDifference(i, h / 2)) - (try centralDifference(i, h))) / 3
            let a = analytic[i]
            let err = Swift.abs(a - numeric) / Swift.max(Swift.abs(a), Swift.abs(numeric), floor)
            if err > result.maxRelativeError || i == 0 {
                result = GradientCheckResult(maxRelativeError: err, index: i, analytic: a, numeric: numeric)
            }
        }
        return result
    }

    /// `gradientCheck` on flat row-major arrays.
    public func gradientCheck(x: [Scalar], y: [Scalar], batch: Int, h: Double = 1e-3) throws(MLPError) -> GradientCheckResult {
        try x.withUnsafeBufferPointer { (xp) throws(MLPError) in
            try y.withUnsafeBufferPointer { (yp) throws(MLPError) in
                try gradientCheck(x: xp, y: yp, batch: batch, h: h)
            }
        }
    }
}
