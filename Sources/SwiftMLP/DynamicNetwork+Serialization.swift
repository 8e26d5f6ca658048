extension DynamicNetwork {
    // MARK: saving

    /// Size in bytes of this network's model file.
    public func modelByteCount(includeOptimizerState: Bool) -> Int {
        switch storage {
        case .float32(let n): return 8 + n.modelHeader(includeOptimizerState: includeOptimizerState).count + n.modelDataByteCount(includeOptimizerState: includeOptimizerState)
        case .float64(let n): return 8 + n.modelHeader(includeOptimizerState: includeOptimizerState).count + n.modelDataByteCount(includeOptimizerState: includeOptimizerState)
        }
    }

    /// Streams the model file to `sink` (see `ModelFormat`).
    public func writeModel(
        includeOptimizerState: Bool, to sink: (UnsafeRawBufferPointer) throws(MLPError) -> Void
    ) throws(MLPError) {
        switch storage {
        case .float32(let n): try n.writeModel(includeOptimizerState: includeOptimizerState, to: sink)
        case .float64(let n): try n.writeModel(includeOptimizerState: includeOptimizerState, to: sink)
        }
    }

    // MARK: loading

    /// Validates a whole model file and builds the network it describes.
    /// Nothing is trusted before it is checked: lengths and offsets are
    /// overflow-checked, the JSON is strict and shallow, every name, shape
    /// and value is validated, and the tensors must tile the data exactly.
    /// Every failure is `.format` (or `.outOfMemory`) with the reason.
    public static func load(model bytes: UnsafeRawBufferPointer) throws(MLPError) -> DynamicNetwork {
        let header = try ModelHeader(file: bytes)
        let net: DynamicNetwork
        do {
            net = try DynamicNetwork(configuration: header.configuration, dtype: header.dtype)
        } catch where error.code != .outOfMemory {
            throw MLPError(.format, "the architecture is invalid: \(error.message)")
        }
        switch net.storage {
        case .float32(let n): try n.restore(from: header, file: bytes)
        case .float64(let n): try n.restore(from: header, file: bytes)
        }
        return net
    }
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

extension DynamicNetwork {
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

    /// Loads the model file at `path`.
    public static func load(path: String) throws(MLPError) -> DynamicNetwork {
        try load(path: FileIO.Path(path))
    }

    /// Loads from a path given as raw bytes (not necessarily UTF-8).
    public static func load(path: FileIO.Path) throws(MLPError) -> DynamicNetwork {
        let bytes = try FileIO.read(path: path)
        return try load(model: UnsafeRawBufferPointer(start: bytes.base, count: bytes.count))
    }
}
