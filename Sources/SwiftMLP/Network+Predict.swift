extension Network {
    /// Rows per chunk for `predict` and `evaluate`.
    static var inferenceChunk: Int { 256 }

    /// Outputs g_L for `rows` inputs x (rows, N0) into y, in chunks through
    /// the inference cache: the training cache, gradients and optimizer are
    /// untouched. Allocates only the first time a chunk size is exceeded.
    package func predict(
        _ x: UnsafeBufferPointer<Scalar>, rows: Int, into y: UnsafeMutableBufferPointer<Scalar>
    ) throws(MLPError) {
        let n0 = layout.inputSize, nL = layout.outputSize
        guard rows != 0 else { throw MLPError(.invalidArgument, "predict needs at least 1 row") }
        guard rows > 0 && rows <= Int.max / Swift.max(n0, nL) else {
            throw MLPError(.tooLarge, "\(UInt(bitPattern: rows)) rows are too many")
        }
        guard x.count == rows * n0 else {
            throw MLPError(.bufferSize, "x has \(x.count) elements; \(rows) row(s) x input size \(n0) needs \(rows * n0)")
        }
        guard y.count >= rows * nL else {
            throw MLPError(.bufferSize, "y has capacity \(y.count); \(rows) row(s) x output size \(nL) needs \(rows * nL)")
        }
        guard let xBase = x.baseAddress, let yBase = y.baseAddress else { throw MLPError(.nullPointer, "x or y is NULL") }
        guard Kernels.allFinite(xBase, count: rows * n0) else {
            throw MLPError(.nonFinite, "x holds a NaN or infinite value")
        }
        let chunk = Swift.min(rows, Swift.min(Self.inferenceChunk, Limits.maxBatchElements / layout.activationsPerSample))
        try withInferenceCache(rows: chunk) { cache in
            var start = 0
            while start < rows {
                let m = Swift.min(chunk, rows - start)
                propagate(xBase + start * n0, rows: m, through: cache)
                (yBase + start * nL).update(from: cache.g(layout.layerCount), count: m * nL)
                start += m
            }
        }
    }

    /// `predict` on a flat row-major array.
    public func predict(_ x: [Scalar], rows: Int) throws(MLPError) -> [Scalar] {
        guard rows > 0 else { throw MLPError(.invalidArgument, "predict needs at least 1 row") }
        var y = [Scalar](repeating: 0, count: rows * layout.outputSize)
        try x.withUnsafeBufferPointer { (xb) throws(MLPError) in
            try y.withUnsafeMutableBufferPointer { (yb) throws(MLPError) in try predict(xb, rows: rows, into: yb) }
        }
        return y
    }

    /// The loss on `rows` validated inputs and dense targets, through the
    /// inference cache (training state untouched).
    func evaluate(x: UnsafePointer<Scalar>, y: UnsafePointer<Scalar>, rows: Int) throws(MLPError) -> Double {
        let n0 = layout.inputSize, nL = layout.outputSize, L = layout.layerCount
        let chunk = Swift.min(rows, Swift.min(Self.inferenceChunk, Limits.maxBatchElements / layout.activationsPerSample))
        return try withInferenceCache(rows: chunk) { cache in
            var total = 0.0, start = 0
            while start < rows {
                let m = Swift.min(chunk, rows - start)
                propagate(x + start * n0, rows: m, through: cache)
                let part = Kernels.lossForward(configuration.loss, f: cache.f(L), g: cache.g(L),
                                               y: y + start * nL, rows: m, cols: nL)
                total += part * Double(m)
                start += m
            }
            return total / Double(rows)
        }
    }

    /// The loss of inputs x and dense targets y (rows of each), leaving all
    /// training state as it was.
    package func loss(
        x: UnsafeBufferPointer<Scalar>, y: UnsafeBufferPointer<Scalar>, rows: Int
    ) throws(MLPError) -> Double {
        guard rows > 0 else { throw MLPError(.invalidArgument, "loss needs at least 1 row") }
        let xBase = try checkRows(x, rows: rows, width: layout.inputSize, name: "x")
        let yBase = try checkRows(y, rows: rows, width: layout.outputSize, name: "y")
        return try evaluate(x: xBase, y: yBase, rows: rows)
    }

    /// Validates `rows` rows of `width` values: length, non-NULL, finiteness
    /// (the inputs and dense targets of every entry point; `widthName` says
    /// what the width is in the message).
    func checkRows(_ a: UnsafeBufferPointer<Scalar>, rows: Int, width: Int, name: StaticString,
                   widthName: StaticString = "") throws(MLPError) -> UnsafePointer<Scalar> {
        guard rows <= Int.max / width, a.count == rows * width else {
            let w = widthName.utf8CodeUnitCount == 0 ? "\(width)" : "\(widthName) \(width)"
            throw MLPError(.bufferSize, "\(name) has \(a.count) elements; \(rows) row(s) x \(w) needs \(rows &* width)")
        }
        guard let base = a.baseAddress else { throw MLPError(.nullPointer, "\(name) is NULL") }
        guard Kernels.allFinite(base, count: a.count) else {
            throw MLPError(.nonFinite, "\(name) holds a NaN or infinite value")
        }
        return base
    }

    /// `loss` on flat row-major arrays.
    public func loss(x: [Scalar], y: [Scalar], rows: Int) throws(MLPError) -> Double {
        try x.withUnsafeBufferPointer { (xp) throws(MLPError) in
            try y.withUnsafeBufferPointer { (yp) throws(MLPError) in try loss(x: xp, y: yp, rows: rows) }
        }
    }
}
