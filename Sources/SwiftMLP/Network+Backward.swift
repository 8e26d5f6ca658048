extension Network {
    /// Backward pass for the batch of the last forward: overwrites every
    /// gradient and returns the loss L = mean((g_L - y)^2). Allocates nothing.
    /// On failure gradients are untouched.
    package func backward(_ y: UnsafeBufferPointer<Scalar>, batch: Int) throws(MLPError) -> Double {
        try layout.check(batch: batch)
        guard let cached = forwardBatch else {
            throw MLPError(.state, "backward needs a forward first (none since creation or since the parameters last changed)")
        }
        guard batch == cached else {
            throw MLPError(.state, "backward batch \(batch) differs from the last forward's batch \(cached)")
        }
        let nL = layout.outputSize, L = layout.layerCount
        guard y.count == batch * nL else {
            throw MLPError(.bufferSize, "y has \(y.count) elements; batch \(batch) x output size \(nL) needs \(batch * nL)")
        }
        guard let yBase = y.baseAddress else { throw MLPError(.nullPointer, "y is NULL") }
        guard Kernels.allFinite(yBase, count: batch * nL) else {
            throw MLPError(.nonFinite, "y holds a NaN or infinite value")
        }
        let cache = self.cache.unsafelyUnwrapped

        // dL/dg_L = 2/(B*NL) (g_L - y) and dL/df_L = dL/dg_L * g_L (1 - g_L), one pass.
        let loss = Kernels.mseSigmoidBackward(dg: cache.dg(L), df: cache.df(L),
                                              g: cache.g(L), y: yBase, count: batch * nL)
        for l in stride(from: L - 1, through: 0, by: -1) {
            let nIn = layout.sizes[l], nOut = layout.sizes[l + 1]
            let df = cache.df(l + 1)
            // dW (nOut, nIn) = df^T (nOut, B) @ g_prev (B, nIn)
            Scalar.gemm(transA: true, transB: false, m: nOut, n: nIn, k: batch,
                        alpha: 1, a: df, lda: nOut, b: cache.g(l), ldb: nIn,
                        beta: 0, c: grads.base + layout.weightOffsets[l], ldc: nIn)
            // db = sum over the batch of df
            Kernels.biasBackward(db: grads.base + layout.biasOffsets[l], df: df, rows: batch, cols: nOut)
            if l > 0 {
                // dg_prev (B, nIn) = df (B, nOut) @ W (nOut, nIn)
                Scalar.gemm(transA: false, transB: false, m: batch, n: nIn, k: nOut,
                            alpha: 1, a: df, lda: nOut, b: params.base + layout.weightOffsets[l], ldb: nIn,
                            beta: 0, c: cache.dg(l), ldc: nIn)
                Kernels.sigmoidBackward(df: cache.df(l), dg: cache.dg(l), g: cache.g(l), count: batch * nIn)
            }
        }
        hasGradients = true
        return loss
    }

    /// Backward pass with targets as a flat row-major array (B * NL elements).
    public func backward(_ y: [Scalar], batch: Int) throws(MLPError) -> Double {
        try y.withUnsafeBufferPointer { (yb) throws(MLPError) in try backward(yb, batch: batch) }
    }
}
