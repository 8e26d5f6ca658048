extension Network {
    // MARK: buffer access (used by the C ABI)

    /// Copies all parameters (documented layout) into `out` (capacity >= parameterCount).
    package func copyParameters(into out: UnsafeMutableBufferPointer<Scalar>) throws(MLPError) {
        try copyFlat(params, into: out, what: "parameter")
    }

    /// Copies all gradients of the last backward into `out`.
    package func copyGradients(into out: UnsafeMutableBufferPointer<Scalar>) throws(MLPError) {
        try requireGradients(toDo: "read")
        try copyFlat(grads, into: out, what: "gradient")
    }

    /// Replaces all parameters; `values` must hold exactly parameterCount
    /// finite elements, else nothing is written. Invalidates the forward cache.
    package func setParameters(_ values: UnsafeBufferPointer<Scalar>) throws(MLPError) {
        let base = try checkedFlat(values, "parameter")
        params.base.update(from: base, count: layout.parameterCount)
        parametersChanged()
    }

    /// Replaces all gradients with `values` (parameter layout), which must
    /// hold exactly parameterCount finite elements, else nothing is written.
    /// The gradients then count as those of a backward of the current
    /// parameters: the next `step` or `optimizerStep` applies them (data-
    /// parallel training sets the gradients combined across processes).
    /// Parameters, the forward cache and the optimizer state are untouched.
    package func setGradients(_ values: UnsafeBufferPointer<Scalar>) throws(MLPError) {
        let base = try checkedFlat(values, "gradient")
        grads.base.update(from: base, count: layout.parameterCount)
        hasGradients = true
        gradientsFresh = true  // a step may consume them, as a backward's
    }


    /// The base of `values` once it holds exactly parameterCount finite
    /// elements (the rule of setParameters and setGradients); else the
    /// error, naming the `kind` of values ("parameter", "gradient").
    private func checkedFlat(_ values: UnsafeBufferPointer<Scalar>, _ kind: String) throws(MLPError)
        -> UnsafePointer<Scalar>
    {
        let n = layout.parameterCount
        guard values.count == n else {
            throw MLPError(.bufferSize, "got \(values.count) \(kind) values; the network has \(n) parameters")
        }
        guard let base = values.baseAddress else { throw MLPError(.nullPointer, "\(kind) buffer is NULL") }
        guard Kernels.allFinite(base, count: n) else {
            throw MLPError(.nonFinite, "\(kind) values hold a NaN or infinite value; nothing was written")
        }
        return base
    }

    /// Copies W_layer (N_out x N_in row-major) and b_layer (N_out).
    package func copyLayer(
        _ layer: Int, weights: UnsafeMutableBufferPointer<Scalar>, biases: UnsafeMutableBufferPointer<Scalar>
    ) throws(MLPError) {
        try copyLayer(layer, from: params, weights: weights, biases: biases)
    }

    /// Copies dL/dW_layer and dL/db_layer of the last backward.
    package func copyLayerGradients(
        _ layer: Int, weights: UnsafeMutableBufferPointer<Scalar>, biases: UnsafeMutableBufferPointer<Scalar>
    ) throws(MLPError) {
        try layout.check(layer: layer)
        try requireGradients(toDo: "read")
        try copyLayer(layer, from: grads, weights: weights, biases: biases)
    }

    /// Replaces W_layer and b_layer; lengths must match exactly and every
    /// value be finite, else nothing is written. Invalidates the forward cache.
    package func setLayer(
        _ layer: Int, weights: UnsafeBufferPointer<Scalar>, biases: UnsafeBufferPointer<Scalar>
    ) throws(MLPError) {
        try layout.check(layer: layer)
        let (nW, nB) = layerCounts(layer)
        guard weights.count == nW else {
            throw MLPError(.bufferSize, "layer \(layer) weights: got \(weights.count) elements, need \(nW) (\(nB) x \(layout.sizes[layer]))")
        }
        guard biases.count == nB else {
            throw MLPError(.bufferSize, "layer \(layer) biases: got \(biases.count) elements, need \(nB)")
        }
        guard let w = weights.baseAddress, let b = biases.baseAddress else {
            throw MLPError(.nullPointer, "layer \(layer): weights or biases buffer is NULL")
        }
        guard Kernels.allFinite(w, count: nW) && Kernels.allFinite(b, count: nB) else {
            throw MLPError(.nonFinite, "layer \(layer) values hold a NaN or infinite value; nothing was written")
        }
        (params.base + layout.weightOffsets[layer]).update(from: w, count: nW)
        (params.base + layout.biasOffsets[layer]).update(from: b, count: nB)
        parametersChanged()
    }

    // MARK: array access (Swift API)

    /// All parameters in the documented flat layout.
    public var parameters: [Scalar] { Array(UnsafeBufferPointer(start: params.base, count: layout.parameterCount)) }

    /// Replaces all parameters (documented flat layout).
    public func setParameters(_ values: [Scalar]) throws(MLPError) {
        try values.withUnsafeBufferPointer { (v) throws(MLPError) in try setParameters(v) }
    }

    /// All gradients of the last backward, in the parameter layout.
    public func gradients() throws(MLPError) -> [Scalar] {
        try requireGradients(toDo: "read")
        return Array(UnsafeBufferPointer(start: grads.base, count: layout.parameterCount))
    }

    /// Replaces all gradients (parameter layout; see `setGradients(_:)` on
    /// a buffer): the next `step` or `optimizerStep` applies them.
    public func setGradients(_ values: [Scalar]) throws(MLPError) {
        try values.withUnsafeBufferPointer { (v) throws(MLPError) in try setGradients(v) }
    }

    /// W_layer, N_out x N_in row-major, and b_layer.
    public func layer(_ layer: Int) throws(MLPError) -> (weights: [Scalar], biases: [Scalar]) {
        try layout.check(layer: layer)
        return slices(of: params, layer: layer)
    }

    /// dL/dW_layer and dL/db_layer of the last backward.
    public func layerGradients(_ layer: Int) throws(MLPError) -> (weights: [Scalar], biases: [Scalar]) {
        try layout.check(layer: layer)
        try requireGradients(toDo: "read")
        return slices(of: grads, layer: layer)
    }

    /// Replaces W_layer (N_out x N_in row-major) and b_layer.
    public func setLayer(_ layer: Int, weights: [Scalar], biases: [Scalar]) throws(MLPError) {
        try weights.withUnsafeBufferPointer { (w) throws(MLPError) in
            try biases.withUnsafeBufferPointer { (b) throws(MLPError) in
                try setLayer(layer, weights: w, biases: b)
            }
        }
    }

    // MARK: helpers

    private func layerCounts(_ layer: Int) -> (weights: Int, biases: Int) {
        let nOut = layout.sizes[layer + 1]
        return (nOut * layout.sizes[layer], nOut)
    }

    private func copyFlat(
        _ source: AlignedBuffer<Scalar>, into out: UnsafeMutableBufferPointer<Scalar>, what: String
    ) throws(MLPError) {
        let n = layout.parameterCount
        guard out.count >= n else {
            throw MLPError(.bufferSize, "\(what) buffer capacity \(out.count) is less than the \(n) parameters")
        }
        guard let base = out.baseAddress else { throw MLPError(.nullPointer, "\(what) buffer is NULL") }
        base.update(from: source.base, count: n)
    }

    private func copyLayer(
        _ layer: Int, from source: AlignedBuffer<Scalar>,
        weights: UnsafeMutableBufferPointer<Scalar>, biases: UnsafeMutableBufferPointer<Scalar>
    ) throws(MLPError) {
        try layout.check(layer: layer)
        let (nW, nB) = layerCounts(layer)
        guard weights.count >= nW else {
            throw MLPError(.bufferSize, "layer \(layer) weights capacity \(weights.count) is less than \(nW)")
        }
        guard biases.count >= nB else {
            throw MLPError(.bufferSize, "layer \(layer) biases capacity \(biases.count) is less than \(nB)")
        }
        guard let w = weights.baseAddress, let b = biases.baseAddress else {
            throw MLPError(.nullPointer, "layer \(layer): weights or biases buffer is NULL")
        }
        w.update(from: source.base + layout.weightOffsets[layer], count: nW)
        b.update(from: source.base + layout.biasOffsets[layer], count: nB)
    }

    private func slices(of source: AlignedBuffer<Scalar>, layer: Int) -> (weights: [Scalar], biases: [Scalar]) {
        let (nW, nB) = layerCounts(layer)
        return (Array(UnsafeBufferPointer(start: source.base + layout.weightOffsets[layer], count: nW)),
                Array(UnsafeBufferPointer(start: source.base + layout.biasOffsets[layer], count: nB)))
    }
}
