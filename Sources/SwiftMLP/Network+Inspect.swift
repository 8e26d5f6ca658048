extension Network {
    /// The slides' quantity `q` of layer `layer` (0 = input, L = output) for
    /// the last training batch, copied into `out` (capacity >= rows * N_layer).
    /// Returns the batch size. f and g need a forward since creation; dL/df
    /// and dL/dg need a backward after the last forward. Later parameter
    /// changes do not erase them.
    package func copyQuantity(
        _ q: Quantity, layer: Int, into out: UnsafeMutableBufferPointer<Scalar>
    ) throws(MLPError) -> Int {
        let (source, count, rows) = try quantity(q, layer: layer)
        guard out.count >= count else {
            throw MLPError(.bufferSize, "capacity \(out.count) is less than the \(count) elements of \(q) at layer \(layer) (\(rows) x \(layout.sizes[layer]))")
        }
        guard let base = out.baseAddress else { throw MLPError(.nullPointer, "out is NULL") }
        base.update(from: source, count: count)
        return rows
    }

    /// `copyQuantity` as an array (rows * N_layer, row-major) and the batch size.
    public func quantity(_ q: Quantity, layer: Int) throws(MLPError) -> (values: [Scalar], rows: Int) {
        let (source, count, rows) = try quantity(q, layer: layer)
        return (Array(UnsafeBufferPointer(start: source, count: count)), rows)
    }

    private func quantity(_ q: Quantity, layer: Int) throws(MLPError) -> (UnsafePointer<Scalar>, Int, Int) {
        let L = layout.layerCount
        guard layer >= 0 && layer <= L else {
            throw MLPError(.layerIndex, "layer \(UInt(bitPattern: layer)) out of range 0...\(L)")
        }
        guard layer > 0 || q == .g else {
            throw MLPError(.layerIndex, "layer 0 is the input x: only g is defined there")
        }
        guard let rows = lastBatch, let cache else {
            throw MLPError(.state, "no batch yet: call forward first")
        }
        let count = rows * layout.sizes[layer]
        switch q {
        case .f: return (UnsafePointer(cache.f(layer)), count, rows)
        case .g: return (UnsafePointer(cache.g(layer)), count, rows)
        case .dLdf, .dLdg:
            guard backwardDone else { throw MLPError(.state, "\(q) needs a backward after the last forward") }
            return (UnsafePointer(q == .dLdf ? cache.df(layer) : cache.dg(layer)), count, rows)
        }
    }
}
