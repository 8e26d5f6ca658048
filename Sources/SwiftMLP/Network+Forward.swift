extension Network {
    /// Forward pass of a batch x (B, N0) into y (B, NL); caches x and every
    /// f, g for `backward`. On failure nothing changes, including the cache
    /// of the previous forward.
    package func forward(
        _ x: UnsafeBufferPointer<Scalar>, batch: Int, into y: UnsafeMutableBufferPointer<Scalar>
    ) throws(MLPError) {
        let xBase = try checkInput(x, rows: batch)
        let nL = layout.outputSize
        guard y.count >= batch * nL else {
            throw MLPError(.bufferSize, "y has capacity \(y.count); batch \(batch) x output size \(nL) needs \(batch * nL)")
        }
        guard let yBase = y.baseAddress else { throw MLPError(.nullPointer, "y is NULL") }
        try reserveCache(batch: batch)
        trainingForward(xBase, batch: batch)
        yBase.update(from: cache.unsafelyUnwrapped.g(layout.layerCount), count: batch * nL)
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

    /// Validates a batch of inputs: row count, length, finiteness.
    func checkInput(_ x: UnsafeBufferPointer<Scalar>, rows: Int) throws(MLPError) -> UnsafePointer<Scalar> {
        try layout.check(batch: rows)
        return try checkRows(x, rows: rows, width: layout.inputSize, name: "x", widthName: "input size")
    }

    /// The training forward on validated input; the cache holds `batch` rows.
    func trainingForward(_ x: UnsafePointer<Scalar>, batch: Int) {
        let cache = self.cache.unsafelyUnwrapped
        cache.g(0).update(from: x, count: batch * layout.inputSize)  // backward's g_prev of layer 0
        propagate(x, rows: batch, through: cache)
        lastBatch = batch
        forwardValid = true
        backwardDone = false
    }

    /// x -> g_L through `cache` (training or inference), layer by layer:
    /// f = g_prev @ W^T (BLAS), then f += b and g = act(f) in one pass.
    /// Layer 0 reads x where it is; `cache.g(0)` is neither read nor written,
    /// so predict copies no input and forward, which keeps x for backward,
    /// computes from the same x with the same bits.
    func propagate(_ x: UnsafePointer<Scalar>, rows: Int, through cache: ActivationCache<Scalar>) {
        for l in 0..<layout.layerCount {
            let nIn = layout.sizes[l], nOut = layout.sizes[l + 1]
            let f = cache.f(l + 1)
            Kernels.matmul(transA: false, transB: true, m: rows, n: nOut, k: nIn,
                           a: l == 0 ? x : UnsafePointer(cache.g(l)), lda: nIn,
                           b: params.base + layout.weightOffsets[l], ldb: nIn,
                           c: f, ldc: nOut)
            Kernels.biasActivationForward(activations[l], slope: slope, f: f, g: cache.g(l + 1),
                                          bias: params.base + layout.biasOffsets[l], rows: rows, cols: nOut)
        }
    }
}
