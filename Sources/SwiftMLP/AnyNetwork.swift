/// A network whose element type is known only at run time: a model file
/// read from disk, or a C caller's dtype. It names which `Network` it holds
/// and nothing more; every operation is the typed network's, reached with one
/// `switch` by whoever holds it (the C ABI's `NetworkHandle` does so once per
/// call).
public enum AnyNetwork {
    case float32(Network<Float>)
    case float64(Network<Double>)

    public init(sizes: [Int], dtype: DType, seed: UInt64) throws(MLPError) {
        try self.init(configuration: NetworkConfiguration(sizes: sizes, seed: seed), dtype: dtype)
    }

    public init(configuration: NetworkConfiguration, dtype: DType) throws(MLPError) {
        switch dtype {
        case .float32: self = .float32(try Network<Float>(configuration: configuration))
        case .float64: self = .float64(try Network<Double>(configuration: configuration))
        }
    }

    public var dtype: DType {
        switch self {
        case .float32: return .float32
        case .float64: return .float64
        }
    }

    // MARK: loading

    /// Validates a whole model file and builds the network it describes.
    /// Nothing is trusted before it is checked: lengths and offsets are
    /// overflow-checked, the JSON is strict and shallow, every name, shape
    /// and value is validated, and the tensors must tile the data exactly.
    /// Every failure is `.format` (or `.outOfMemory`) with the reason.
    public static func load(model bytes: UnsafeRawBufferPointer) throws(MLPError) -> AnyNetwork {
        let header = try ModelHeader(file: bytes)
        let net: AnyNetwork
        do {
            net = try AnyNetwork(configuration: header.configuration, dtype: header.dtype)
        } catch where error.code != .outOfMemory {
            throw MLPError(.format, "the architecture is invalid: \(error.message)")
        }
        switch net {
        case .float32(let n): try n.restore(from: header, file: bytes)
        case .float64(let n): try n.restore(from: header, file: bytes)
        }
        return net
    }

    /// Loads the model file at `path`.
    public static func load(path: String) throws(MLPError) -> AnyNetwork {
        try load(path: FileIO.Path(path))
    }

    /// Loads from a path given as raw bytes (not necessarily UTF-8).
    public static func load(path: FileIO.Path) throws(MLPError) -> AnyNetwork {
        let bytes = try FileIO.read(path: path)
        // `bytes` owns the memory the buffer pointer views: keep it alive.
        return try withExtendedLifetime(bytes) { () throws(MLPError) in
            try load(model: UnsafeRawBufferPointer(start: bytes.base, count: bytes.count))
        }
    }
}

extension Network {
    // MARK: saving

    /// Size in bytes of this network's model file.
    public func modelByteCount(includeOptimizerState: Bool) -> Int {
        8 + modelHeader(includeOptimizerState: includeOptimizerState).count
            + modelDataByteCount(includeOptimizerState: includeOptimizerState)
    }

    /// Streams the model file to `sink` in order (see `ModelFormat`).
    public func save(
        includeOptimizerState: Bool, to sink: (UnsafeRawBufferPointer) throws(MLPError) -> Void
    ) throws(MLPError) {
        try writeModel(includeOptimizerState: includeOptimizerState, to: sink)
    }

    /// Saves the model file to `path` atomically (see `FileIO.writeAtomically`).
    public func save(path: String, includeOptimizerState: Bool = false) throws(MLPError) {
        try save(path: FileIO.Path(path), includeOptimizerState: includeOptimizerState)
    }

    /// Saves to a path given as raw bytes (not necessarily UTF-8).
    public func save(path: FileIO.Path, includeOptimizerState: Bool = false) throws(MLPError) {
        try FileIO.writeAtomically(path: path) { (sink) throws(MLPError) in
            try writeModel(includeOptimizerState: includeOptimizerState, to: sink)
        }
    }

    /// Rows of the last training batch (forward, train step), if any.
    public var cachedRows: Int? { lastBatch }
}

extension Network {
    /// Fills parameters, optimizer and shuffle state from a validated header
    /// and its file.
    func restore(from header: ModelHeader, file: UnsafeRawBufferPointer) throws(MLPError) {
        guard let base = file.baseAddress else { throw MLPError(.format, "empty file") }
        let data = base + header.dataStart
        for l in 0..<layout.layerCount {
            for (name, offset, count) in [(ModelFormat.weightName(l), layout.weightOffsets[l], layout.sizes[l + 1] * layout.sizes[l]),
                                          (ModelFormat.biasName(l), layout.biasOffsets[l], layout.sizes[l + 1])] {
                let begin = header.tensors[name].unsafelyUnwrapped.begin
                guard Self.readLittleEndian(data + begin, count: count, into: params.base + offset) else {
                    throw MLPError(.format, "tensor \(name) holds a NaN or infinite value")
                }
            }
        }
        if let opt = header.optimizer {
            try setOptimizer(opt)
            if let steps = header.optimizerSteps {
                for (k, name) in ModelFormat.stateNames(opt).enumerated() {
                    let begin = header.tensors[name].unsafelyUnwrapped.begin
                    guard Self.readLittleEndian(data + begin, count: layout.parameterCount, into: optimizerState[k].base) else {
                        throw MLPError(.format, "tensor \(name) holds a NaN or infinite value")
                    }
                }
                optimizerSteps = steps
            }
        }
        shuffleGenerator = SplitMix64(seed: header.shuffleState)
    }
}
