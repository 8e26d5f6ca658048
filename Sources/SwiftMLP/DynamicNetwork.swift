/// A network whose element type is chosen at run time: the type behind the
/// C ABI's handle. Buffers come in as raw (base, count) pairs together with
/// the caller's claimed element type, which must equal the network's; the
/// work is done by the specialised `Network<Float>` or `Network<Double>`.
public final class DynamicNetwork {
    enum Storage {
        case float32(Network<Float>)
        case float64(Network<Double>)
    }

    let storage: Storage

    public init(sizes: [Int], dtype: DType, seed: UInt64) throws(MLPError) {
        switch dtype {
        case .float32: storage = .float32(try Network<Float>(sizes: sizes, seed: seed))
        case .float64: storage = .float64(try Network<Double>(sizes: sizes, seed: seed))
        }
    }

    public var dtype: DType {
        switch storage {
        case .float32: return .float32
        case .float64: return .float64
        }
    }

    public var layout: Layout {
        switch storage {
        case .float32(let n): return n.layout
        case .float64(let n): return n.layout
        }
    }

    // MARK: training

    package func forward(
        _ dtype: DType, x: UnsafeRawPointer, count: Int, batch: Int,
        y: UnsafeMutableRawPointer, capacity: Int
    ) throws(MLPError) {
        try check(dtype, "x and y")
        switch storage {
        case .float32(let n): try n.forward(typed(x, count), batch: batch, into: typed(y, capacity))
        case .float64(let n): try n.forward(typed(x, count), batch: batch, into: typed(y, capacity))
        }
    }

    package func backward(_ dtype: DType, y: UnsafeRawPointer, count: Int, batch: Int) throws(MLPError) -> Double {
        try check(dtype, "y")
        switch storage {
        case .float32(let n): return try n.backward(typed(y, count), batch: batch)
        case .float64(let n): return try n.backward(typed(y, count), batch: batch)
        }
    }

    public func step(learningRate: Double) throws(MLPError) {
        switch storage {
        case .float32(let n): try n.step(learningRate: learningRate)
        case .float64(let n): try n.step(learningRate: learningRate)
        }
    }

    // MARK: parameters and gradients

    package func copyParameters(_ dtype: DType, into out: UnsafeMutableRawPointer, capacity: Int) throws(MLPError) {
        try check(dtype, "the output buffer")
        switch storage {
        case .float32(let n): try n.copyParameters(into: typed(out, capacity))
        case .float64(let n): try n.copyParameters(into: typed(out, capacity))
        }
    }

    package func copyGradients(_ dtype: DType, into out: UnsafeMutableRawPointer, capacity: Int) throws(MLPError) {
        try check(dtype, "the output buffer")
        switch storage {
        case .float32(let n): try n.copyGradients(into: typed(out, capacity))
        case .float64(let n): try n.copyGradients(into: typed(out, capacity))
        }
    }

    package func setParameters(_ dtype: DType, from values: UnsafeRawPointer, count: Int) throws(MLPError) {
        try check(dtype, "the input buffer")
        switch storage {
        case .float32(let n): try n.setParameters(typed(values, count))
        case .float64(let n): try n.setParameters(typed(values, count))
        }
    }

    package func copyLayer(
        _ layer: Int, _ dtype: DType, gradients: Bool,
        weights: UnsafeMutableRawPointer, weightsCapacity: Int,
        biases: UnsafeMutableRawPointer, biasesCapacity: Int
    ) throws(MLPError) {
        try layout.check(layer: layer)
        try check(dtype, "the output buffers")
        switch storage {
        case .float32(let n):
            let w: UnsafeMutableBufferPointer<Float> = typed(weights, weightsCapacity)
            let b: UnsafeMutableBufferPointer<Float> = typed(biases, biasesCapacity)
            if gradients { try n.copyLayerGradients(layer, weights: w, biases: b) } else { try n.copyLayer(layer, weights: w, biases: b) }
        case .float64(let n):
            let w: UnsafeMutableBufferPointer<Double> = typed(weights, weightsCapacity)
            let b: UnsafeMutableBufferPointer<Double> = typed(biases, biasesCapacity)
            if gradients { try n.copyLayerGradients(layer, weights: w, biases: b) } else { try n.copyLayer(layer, weights: w, biases: b) }
        }
    }

    package func setLayer(
        _ layer: Int, _ dtype: DType,
        weights: UnsafeRawPointer, weightsCount: Int, biases: UnsafeRawPointer, biasesCount: Int
    ) throws(MLPError) {
        try layout.check(layer: layer)
        try check(dtype, "the input buffers")
        switch storage {
        case .float32(let n): try n.setLayer(layer, weights: typed(weights, weightsCount), biases: typed(biases, biasesCount))
        case .float64(let n): try n.setLayer(layer, weights: typed(weights, weightsCount), biases: typed(biases, biasesCount))
        }
    }

    // MARK: helpers

    private func check(_ claimed: DType, _ what: String) throws(MLPError) {
        guard claimed == dtype else {
            throw MLPError(.dtype, "\(what) are declared \(claimed) but the network is \(dtype)")
        }
    }
}

@inline(__always)
private func typed<T>(_ p: UnsafeRawPointer, _ count: Int) -> UnsafeBufferPointer<T> {
    UnsafeBufferPointer(start: p.assumingMemoryBound(to: T.self), count: count)
}

@inline(__always)
private func typed<T>(_ p: UnsafeMutableRawPointer, _ count: Int) -> UnsafeMutableBufferPointer<T> {
    UnsafeMutableBufferPointer(start: p.assumingMemoryBound(to: T.self), count: count)
}
