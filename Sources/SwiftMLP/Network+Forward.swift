extension Network {
    /// Forward pass of a batch x (B, N0) into y (B, NL); caches x and every
    /// f, g for `backward`. On failure nothing changes, including the cache
    /// of the previous forward.
    package func forward(
        _ x: UnsafeBufferPointer<Scalar>, batch: Int, into y: UnsafeMutableBufferPointer<Scalar>
    ) throws(MLPError) {
        try layout.check(batch: batch)
        let n0 = layout.inputSize, nL = layout.outputSize
        guard x.count == batch * n0 else {
            throw MLPError(.bufferSize, "x has \(x.count) elements; batch \(batch) x input size \(n0) needs \(batch * n0)")
        }
        guard y.count >= batch * nL else {
            throw MLPError(.bufferSize, "y has capacity \(y.count); batch \(batch) x output size \(nL) needs \(batch * nL)")
        }
        guard let xBase = x.baseAddress, let yBase = y.baseAddress else {
            throw MLPError(.nullPointer, "x or y is NULL")
        }
        guard Kernels.allFinite(xBase, count: batch * n0) else {
            throw MLPError(.nonFinite, "x holds a NaN or infinite value")
        }
        try reserveCache(batch: batch)
        let cache = self.cache.unsafelyUnwrapped

        cache.g(0).update(from: xBase, count: batch * n0)
        for l in 0..<layout.layerCount {
            let nIn = layout.sizes[l], nOut = layout.sizes[l + 1]
            let f = cache.f(l + 1), g = cache.g(l + 1)
            // f = g_prev (B, nIn) @ W^T (nIn, nOut)
            Scalar.gemm(transA: false, transB: true, m: batch, n: nOut, k: nIn,
                        alpha: 1, a: cache.g(l), lda: nIn,
                        b: params.base + layout.weightOffsets[l], ldb: nIn,
                        beta: 0, c: f, ldc: nOut)
            // f += b; g = sigmoid(f)
            Kernels.biasSigmoidForward(f: f, g: g, bias: params.base + layout.biasOffsets[l],
                                       rows: batch, cols: nOut)
        }
        yBase.update(from: cache.g(layout.layerCount), count: batch * nL)
        forwardBatch = batch
    }

    /// Forward pass of a batch given as a flat row-major array (B * N0
    /// elements); returns the outputs (B * NL elements, row-major).
    public func forward(_ x: [Scalar], batch: Int) throws(MLPError) -> [Scalar] {
        try layout.check(batch: batch)
        var y = [Scalar](repeating: 0, count: batch * layout.outputSize)
        try x.withUnsafeBufferPointer { (xb) throws(MLPError) in
            try y.withUnsafeMutableBufferPointer { (yb) throws(MLPError) in
                try forward(xb, batch: batch, into: yb)
            }
        }
        return y
    }
}
