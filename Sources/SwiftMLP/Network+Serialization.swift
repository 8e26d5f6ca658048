extension Network {
    /// The JSON header of this network's model file (see `ModelFormat`),
    /// padded with spaces to a multiple of 8 bytes.
    func modelHeader(includeOptimizerState: Bool) -> [UInt8] {
        let c = configuration
        var meta: [(String, String)] = [
            ("format", ModelFormat.name),
            ("format_version", String(ModelFormat.version)),
            ("dtype", Scalar.dtype.description),
            ("sizes", layout.sizes.map(String.init).joined(separator: ",")),
            ("activations", activations.map(\.description).joined(separator: ",")),
            ("leaky_slope", c.leakySlope.description),
            ("loss", c.loss.description),
            ("init", c.initialization.description),
            ("seed", String(c.seed)),
            ("shuffle_state", String(shuffleGenerator.state)),
        ]
        var tensors: [(String, [Int])] = []
        for l in 0..<layout.layerCount {
            tensors.append((ModelFormat.weightName(l), [layout.sizes[l + 1], layout.sizes[l]]))
            tensors.append((ModelFormat.biasName(l), [layout.sizes[l + 1]]))
        }
        if let opt = optimizer {
            meta += [
                ("optimizer", opt.kind.description),
                ("optimizer_lr", opt.learningRate.description),
                ("optimizer_momentum", opt.momentum.description),
                ("optimizer_nesterov", opt.nesterov ? "1" : "0"),
                ("optimizer_beta1", opt.beta1.description),
                ("optimizer_beta2", opt.beta2.description),
                ("optimizer_eps", opt.epsilon.description),
                ("optimizer_weight_decay", opt.weightDecay.description),
            ]
            // Only when clipping is on, so files without it keep their bytes.
            if opt.maxGradNorm > 0 { meta.append(("optimizer_max_grad_norm", opt.maxGradNorm.description)) }
            if includeOptimizerState {
                meta.append(("optimizer_steps", String(optimizerSteps)))
                for name in ModelFormat.stateNames(opt) { tensors.append((name, [layout.parameterCount])) }
            }
        }
        let stride = MemoryLayout<Scalar>.stride
        var json = "{\"__metadata__\":{"
        json += meta.map { ModelFormat.quoted($0.0) + ":" + ModelFormat.quoted($0.1) }.joined(separator: ",")
        json += "}"
        var offset = 0
        for (name, shape) in tensors {
            let bytes = shape.reduce(1, *) * stride
            json += "," + ModelFormat.quoted(name) + ":{\"dtype\":\"" + ModelFormat.tensorDType(Scalar.dtype)
            json += "\",\"shape\":[" + shape.map(String.init).joined(separator: ",")
            json += "],\"data_offsets\":[\(offset),\(offset + bytes)]}"
            offset += bytes
        }
        json += "}"
        var header = Array(json.utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        return header
    }

    /// Bytes of tensor data: the parameters, then any optimizer state saved.
    func modelDataByteCount(includeOptimizerState: Bool) -> Int {
        let buffers = 1 + (includeOptimizerState && optimizer != nil ? optimizerState.count : 0)
        return buffers * layout.parameterCount * MemoryLayout<Scalar>.stride
    }

    /// Streams the whole model file to `sink`: length, header, tensors.
    func writeModel(
        includeOptimizerState: Bool, to sink: (UnsafeRawBufferPointer) throws(MLPError) -> Void
    ) throws(MLPError) {
        let header = modelHeader(includeOptimizerState: includeOptimizerState)
        let length = (0..<8).map { UInt8(truncatingIfNeeded: UInt64(header.count) >> (8 * $0)) }
        try length.withUnsafeBufferPointer { (b) throws(MLPError) in try sink(UnsafeRawBufferPointer(b)) }
        try header.withUnsafeBufferPointer { (b) throws(MLPError) in try sink(UnsafeRawBufferPointer(b)) }
        var buffers = [params]
        if includeOptimizerState && optimizer != nil { buffers += optimizerState }
        for buffer in buffers {
            try writeLittleEndian(buffer.base, count: layout.parameterCount, to: sink)
        }
    }

    private func writeLittleEndian(
        _ base: UnsafePointer<Scalar>, count: Int, to sink: (UnsafeRawBufferPointer) throws(MLPError) -> Void
    ) throws(MLPError) {
        #if _endian(little)
        try sink(UnsafeRawBufferPointer(start: base, count: count * MemoryLayout<Scalar>.stride))
        #else
        var chunk = [Scalar](repeating: 0, count: Swift.min(count, 8192))
        var start = 0
        while start < count {
            let m = Swift.min(chunk.count, count - start)
            for k in 0..<m { chunk[k] = Scalar.fromLittleEndianBits(base[start + k]) }
            try chunk.withUnsafeBufferPointer { (b) throws(MLPError) in
                try sink(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: b[0..<m])))
            }
            start += m
        }
        #endif
    }

    /// Reads `count` little-endian elements at `source` into `target`;
    /// false if one is not finite (then `target` is partly written).
    static func readLittleEndian(
        _ source: UnsafeRawPointer, count: Int, into target: UnsafeMutablePointer<Scalar>
    ) -> Bool {
        var acc: Scalar = 0
        for k in 0..<count {
            let v = Scalar.loadLittleEndian(from: source + k * MemoryLayout<Scalar>.stride)
            target[k] = v
            acc += v - v
        }
        return acc == 0
    }
}
