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

    public convenience init(sizes: [Int], dtype: DType, seed: UInt64) throws(MLPError) {
        try self.init(configuration: NetworkConfiguration(sizes: sizes, seed: seed), dtype: dtype)
    }

    public init(configuration: NetworkConfiguration, dtype: DType) throws(MLPError) {
        switch dtype {
        case .float32: storage = .float32(try Network<Float>(configuration: configuration))
        case .float64: storage = .float64(try Network<Double>(configuration: configuration))
        }
    }

    public var configuration: NetworkConfiguration {
        switch storage {
        case .float32(let n): return n.configuration
        case .float64(let n): return n.configuration
        }
    }

    public var activations: [Activation] {
        switch storage {
        case .float32(let n): return n.activations
        case .float64(let n): return n.activations
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

    package func backward(labels: UnsafeBufferPointer<Int64>, batch: Int) throws(MLPError) -> Double {
        switch storage {
        case .float32(let n): return try n.backward(labels: labels, batch: batch)
        case .float64(let n): return try n.backward(labels: labels, batch: batch)
        }
    }

    public func step(learningRate: Double) throws(MLPError) {
        switch storage {
        case .float32(let n): try n.step(learningRate: learningRate)
        case .float64(let n): try n.step(learningRate: learningRate)
        }
    }

    // MARK: optimizer

    public var optimizer: Optimizer? {
        switch storage {
        case .float32(let n): return n.currentOptimizer
        case .float64(let n): return n.currentOptimizer
        }
    }

    public var optimizerStepCount: Int {
        switch storage {
        case .float32(let n): return n.optimizerStepCount
        case .float64(let n): return n.optimizerStepCount
        }
    }

    public func setOptimizer(_ opt: Optimizer) throws(MLPError) {
        switch storage {
        case .float32(let n): try n.setOptimizer(opt)
        case .float64(let n): try n.setOptimizer(opt)
        }
    }

    /// Sets the optimizer's learning rate, keeping its state (`Network.setLearningRate`).
    public func setLearningRate(_ lr: Double) throws(MLPError) {
        switch storage {
        case .float32(let n): try n.setLearningRate(lr)
        case .float64(let n): try n.setLearningRate(lr)
        }
    }

    public func resetOptimizer() throws(MLPError) {
        switch storage {
        case .float32(let n): try n.resetOptimizer()
        case .float64(let n): try n.resetOptimizer()
        }
    }

    package func trainStep(_ dtype: DType, data: RawData) throws(MLPError) -> Double {
        try check(dtype, "x and y")
        switch storage {
        case .float32(let n): return try n.trainStep(x: typed(data.x, data.xCount), y: typed(data.y, data.yCount), batch: data.rows)
        case .float64(let n): return try n.trainStep(x: typed(data.x, data.xCount), y: typed(data.y, data.yCount), batch: data.rows)
        }
    }

    public func optimizerStep() throws(MLPError) {
        switch storage {
        case .float32(let n): try n.optimizerStep()
        case .float64(let n): try n.optimizerStep()
        }
    }

    // MARK: data sets

    /// Raw (base, count) views of a data set's inputs and targets.
    package struct RawData {
        public var x: UnsafeRawPointer
        public var xCount: Int
        public var y: UnsafeRawPointer
        public var yCount: Int
        public var rows: Int
        public init(x: UnsafeRawPointer, xCount: Int, y: UnsafeRawPointer, yCount: Int, rows: Int) {
            self.x = x; self.xCount = xCount; self.y = y; self.yCount = yCount; self.rows = rows
        }
    }

    /// `sampleWeight`: (base, count) of one weight per row in the data's element type, or nil.
    package func fit(
        _ dtype: DType, data: RawData, validation: RawData?,
        sampleWeight: (base: UnsafeRawPointer, count: Int)? = nil, options: FitOptions,
        progress: (FitProgress) -> Bool
    ) throws(MLPError) -> FitHistory {
        try check(dtype, "the data buffers")
        switch storage {
        case .float32(let n):
            return try n.fit(x: typed(data.x, data.xCount), y: typed(data.y, data.yCount), rows: data.rows,
                             validation: validation.map { (typed($0.x, $0.xCount), typed($0.y, $0.yCount), $0.rows) },
                             sampleWeight: sampleWeight.map { typed($0.base, $0.count) },
                             options: options, progress: progress)
        case .float64(let n):
            return try n.fit(x: typed(data.x, data.xCount), y: typed(data.y, data.yCount), rows: data.rows,
                             validation: validation.map { (typed($0.x, $0.xCount), typed($0.y, $0.yCount), $0.rows) },
                             sampleWeight: sampleWeight.map { typed($0.base, $0.count) },
                             options: options, progress: progress)
        }
    }

    package func predict(
        _ dtype: DType, x: UnsafeRawPointer, count: Int, rows: Int, y: UnsafeMutableRawPointer, capacity: Int
    ) throws(MLPError) {
        try check(dtype, "x and y")
        switch storage {
        case .float32(let n): try n.predict(typed(x, count), rows: rows, into: typed(y, capacity))
        case .float64(let n): try n.predict(typed(x, count), rows: rows, into: typed(y, capacity))
        }
    }

    package func evaluate(_ dtype: DType, data: RawData) throws(MLPError) -> Double {
        try check(dtype, "x and y")
        switch storage {
        case .float32(let n): return try n.loss(x: typed(data.x, data.xCount), y: typed(data.y, data.yCount), rows: data.rows)
        case .float64(let n): return try n.loss(x: typed(data.x, data.xCount), y: typed(data.y, data.yCount), rows: data.rows)
        }
    }

    package func gradientCheck(_ dtype: DType, data: RawData, h: Double) throws(MLPError) -> GradientCheckResult {
        try check(dtype, "x and y")
        switch storage {
        case .float32(let n): return try n.gradientCheck(x: typed(data.x, data.xCount), y: typed(data.y, data.yCount), batch: data.rows, h: h)
        case .float64(let n): return try n.gradientCheck(x: typed(data.x, data.xCount), y: typed(data.y, data.yCount), batch: data.rows, h: h)
        }
    }

    // MARK: inspection

    /// Rows of the last training batch, if any.
    public var cachedRows: Int? {
        switch storage {
        case .float32(let n): return n.lastBatch
        case .float64(let n): return n.lastBatch
        }
    }

    package func copyQuantity(
        _ q: Quantity, layer: Int, _ dtype: DType, into out: UnsafeMutableRawPointer, capacity: Int
    ) throws(MLPError) {
        try check(dtype, "the output buffer")
        switch storage {
        case .float32(let n): _ = try n.copyQuantity(q, layer: layer, into: typed(out, capacity))
        case .float64(let n): _ = try n.copyQuantity(q, layer: layer, into: typed(out, capacity))
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

    package func setGradients(_ dtype: DType, from values: UnsafeRawPointer, count: Int) throws(MLPError) {
        try check(dtype, "the input buffer")
        switch storage {
        case .float32(let n): try n.setGradients(typed(values, count))
        case .float64(let n): try n.setGradients(typed(values, count))
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
