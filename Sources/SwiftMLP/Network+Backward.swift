extension Network {
    /// Backward pass for the batch of the last forward with dense targets y
    /// (B, NL): overwrites every gradient and returns the loss. Allocates
    /// nothing. On failure gradients are untouched.
    package func backward(_ y: UnsafeBufferPointer<Scalar>, batch: Int) throws(MLPError) -> Double {
        try checkBackward(batch: batch)
        let yBase = try checkTargets(y, rows: batch)
        return trainingBackward(y: yBase, batch: batch)
    }

    /// Backward pass with class-index targets (cross-entropy only), one label
    /// per row, 0 <= label < NL.
    package func backward(labels: UnsafeBufferPointer<Int64>, batch: Int) throws(MLPError) -> Double {
        try checkBackward(batch: batch)
        let base = try checkLabels(labels, rows: batch)
        let cache = self.cache.unsafelyUnwrapped, L = layout.layerCount
        let loss = Kernels.crossEntropyLabelsBackward(dg: cache.dg(L), df: cache.df(L), f: cache.f(L), g: cache.g(L),
                                                      labels: base, rows: batch, cols: layout.outputSize)
        backpropagate(batch: batch)
        return loss
    }

    /// Backward pass with targets as a flat row-major array (B * NL elements).
    public func backward(_ y: [Scalar], batch: Int) throws(MLPError) -> Double {
        try y.withUnsafeBufferPointer { (yb) throws(MLPError) in try backward(yb, batch: batch) }
    }

    /// Backward pass with class indices (cross-entropy networks).
    public func backward(labels: [Int64], batch: Int) throws(MLPError) -> Double {
        try labels.withUnsafeBufferPointer { (lb) throws(MLPError) in try backward(labels: lb, batch: batch) }
    }

    func checkBackward(batch: Int) throws(MLPError) {
        try layout.check(batch: batch)
        guard forwardValid, let cached = lastBatch else {
            throw MLPError(.state, "backward needs a forward first (none since creation or since the parameters last changed)")
        }
        guard batch == cached else {
            throw MLPError(.state, "backward batch \(batch) differs from the last forward's batch \(cached)")
        }
    }

    /// Validates dense targets: length and finiteness.
    func checkTargets(_ y: UnsafeBufferPointer<Scalar>, rows: Int) throws(MLPError) -> UnsafePointer<Scalar> {
        try checkRows(y, rows: rows, width: layout.outputSize, name: "y", widthName: "output size")
    }

    /// Validates class-index targets: cross-entropy loss, count, range.
    func checkLabels(_ labels: UnsafeBufferPointer<Int64>, rows: Int) throws(MLPError) -> UnsafePointer<Int64> {
        guard configuration.loss == .crossEntropy else {
            throw MLPError(.invalidArgument, "class-index targets need the cross-entropy loss; this network uses \(configuration.loss)")
        }
        guard labels.count == rows else {
            throw MLPError(.bufferSize, "got \(labels.count) labels for a batch of \(rows)")
        }
        guard let base = labels.baseAddress else { throw MLPError(.nullPointer, "labels is NULL") }
        let classes = Int64(layout.outputSize)
        for i in 0..<rows where base[i] < 0 || base[i] >= classes {
            throw MLPError(.invalidArgument, "label \(base[i]) at row \(i) is outside 0..<\(classes)")
        }
        return base
    }

    /// The training backward on validated dense targets; with `weights`
    /// (one per row, >= 0, summing to > 0: the caller's checks) the loss is
    /// their weighted mean (`Kernels.weightedLossBackward`).
    func trainingBackward(y: UnsafePointer<Scalar>, batch: Int, weights: UnsafePointer<Scalar>? = nil) -> Double {
        let cache = self.cache.unsafelyUnwrapped, L = layout.layerCount
        let loss: Double
        if let weights {
            loss = Kernels.weightedLossBackward(configuration.loss, output: activations[L - 1], slope: slope,
                                                dg: cache.dg(L), df: cache.df(L), f: cache.f(L), g: cache.g(L),
                                                y: y, weights: weights, rows: batch, cols: layout.outputSize)
        } else {
            loss = Kernels.lossBackward(configuration.loss, output: activations[L - 1], slope: slope,
                                        dg: cache.dg(L), df: cache.df(L), f: cache.f(L), g: cache.g(L),
                                        y: y, rows: batch, cols: layout.outputSize)
        }
        backpropagate(batch: batch)
        return loss
    }

    /// From dL/df_L down: dW, db for every layer and dL/dg, dL/df below.
    func backpropagate(batch: Int) {
        let cache = self.cache.unsafelyUnwrapped
        for l in stride(from: layout.layerCount - 1, through: 0, by: -1) {
            let nIn = layout.sizes[l], nOut = layout.sizes[l + 1]
            let df = cache.df(l + 1)
            // dW (nOut, nIn) = df^T (nOut, B) @ g_prev (B, nIn)
            Kernels.matmul(transA: true, transB: false, m: nOut, n: nIn, k: batch,
                           a: df, lda: nOut, b: cache.g(l), ldb: nIn,
                           c: grads.base + layout.weightOffsets[l], ldc: nIn)
            // db = sum over the batch of df
            Kernels.biasBackward(db: grads.base + layout.biasOffsets[l], df: df, rows: batch, cols: nOut)
            if l > 0 {
                // dg_prev (B, nIn) = df (B, nOut) @ W (nOut, nIn)
                Kernels.matmul(transA: false, transB: false, m: batch, n: nIn, k: nOut,
                            a: df, lda: nOut, b: params.base + layout.weightOffsets[l], ldb: nIn,
                            c: cache.dg(l), ldc: nIn)
                Kernels.activationBackward(activations[l - 1], slope: slope, df: cache.df(l), dg: cache.dg(l),
                                           f: cache.f(l), g: cache.g(l), rows: batch, cols: nIn)
            }
        }
        hasGradients = true
        gradientsFresh = true
        backwardDone = true
    }
}
