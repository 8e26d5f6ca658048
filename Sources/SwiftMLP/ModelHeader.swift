/// A model file's header, parsed and validated against everything it
/// declares (see `ModelFormat`): after `init(file:)` succeeds, every tensor
/// the architecture needs exists with the right dtype and shape, and the
/// tensors tile the data section exactly, in bounds.
struct ModelHeader {
    var dtype: DType
    var configuration: NetworkConfiguration
    var optimizer: Optimizer?
    /// Present when the optimizer's state was saved.
    var optimizerSteps: Int?
    var shuffleState: UInt64
    /// Byte offset of the data section in the file.
    var dataStart: Int
    /// Tensor name -> byte range in the data section.
    var tensors: [String: (begin: Int, end: Int)]

    init(file: UnsafeRawBufferPointer) throws(MLPError) {
        guard file.count >= 8, let base = file.baseAddress else {
            throw MLPError(.format, "the file has \(file.count) bytes; a model file starts with an 8-byte header length")
        }
        let declared = UInt64(littleEndian: base.loadUnaligned(as: UInt64.self))
        guard declared <= UInt64(ModelFormat.maxHeaderLength) else {
            throw MLPError(.format, "header length \(declared) exceeds the limit of \(ModelFormat.maxHeaderLength) bytes")
        }
        let headerLength = Int(declared)
        guard headerLength <= file.count - 8 else {
            throw MLPError(.format, "header length \(headerLength) runs past the end of the \(file.count)-byte file")
        }
        let json = UnsafeBufferPointer(start: (base + 8).assumingMemoryBound(to: UInt8.self), count: headerLength)
        guard case .object(let members) = try JSONParser.parse(json) else {
            throw MLPError(.format, "the header is not a JSON object")
        }
        dataStart = 8 + headerLength
        let dataLength = file.count - dataStart

        // __metadata__: string -> string.
        var meta: [String: String] = [:]
        var entries: [(String, JSONValue)] = []
        for (key, value) in members {
            if key == "__metadata__" {
                guard case .object(let pairs) = value else { throw MLPError(.format, "__metadata__ is not an object") }
                for (k, v) in pairs {
                    guard case .string(let s) = v else { throw MLPError(.format, "__metadata__ value of \"\(k)\" is not a string") }
                    meta[k] = s
                }
            } else {
                entries.append((key, value))
            }
        }
        func field(_ key: String) throws(MLPError) -> String {
            guard let v = meta[key] else { throw MLPError(.format, "__metadata__ lacks \"\(key)\"") }
            return v
        }
        func real(_ key: String) throws(MLPError) -> Double {
            guard let v = ModelFormat.real(try field(key)) else {
                throw MLPError(.format, "__metadata__ \"\(key)\" is not a finite number")
            }
            return v
        }
        func integer(_ key: String) throws(MLPError) -> UInt64 {
            guard let v = ModelFormat.unsigned(try field(key)) else {
                throw MLPError(.format, "__metadata__ \"\(key)\" is not an unsigned integer")
            }
            return v
        }

        guard try field("format") == ModelFormat.name else {
            throw MLPError(.format, "not a swiftmlp model: __metadata__ format is \"\(meta["format"] ?? "")\"")
        }
        let version = try integer("format_version")
        guard version == UInt64(ModelFormat.version) else {
            throw MLPError(.format, "format version \(version) is not supported (this library reads version \(ModelFormat.version))")
        }
        switch try field("dtype") {
        case "float32": dtype = .float32
        case "float64": dtype = .float64
        case let other: throw MLPError(.format, "unknown dtype \"\(other)\"")
        }
        var sizes: [Int] = []
        for part in try field("sizes").split(separator: ",", omittingEmptySubsequences: false) {
            guard let n = ModelFormat.unsigned(String(part)), n <= UInt64(Limits.maxLayerSize) else {
                throw MLPError(.format, "sizes \"\(meta["sizes"] ?? "")\" is not a list of layer sizes within the limits")
            }
            sizes.append(Int(n))
            guard sizes.count <= Limits.maxSizes else { throw MLPError(.format, "more than \(Limits.maxSizes) layer sizes") }
        }
        var acts: [Activation] = []
        for name in try field("activations").split(separator: ",", omittingEmptySubsequences: false) {
            guard let a = Activation(name: name) else { throw MLPError(.format, "unknown activation \"\(name)\"") }
            acts.append(a)
        }
        guard acts.count == sizes.count - 1 else {
            throw MLPError(.format, "\(acts.count) activations for \(Swift.max(sizes.count - 1, 0)) weight layers")
        }
        guard let loss = Loss(name: try field("loss")) else { throw MLPError(.format, "unknown loss \"\(meta["loss"] ?? "")\"") }
        guard let initialization = Initialization(name: try field("init")) else {
            throw MLPError(.format, "unknown init \"\(meta["init"] ?? "")\"")
        }
        configuration = NetworkConfiguration(sizes: sizes, activations: acts, leakySlope: try real("leaky_slope"),
                                             loss: loss, initialization: initialization, seed: try integer("seed"))
        shuffleState = try integer("shuffle_state")
        let layout: Layout
        do {
            layout = try Layout(sizes: sizes)
        } catch {
            throw MLPError(.format, "sizes: \(error.message)")
        }

        var expected: [String: [Int]] = [:]
        for l in 0..<layout.layerCount {
            expected[ModelFormat.weightName(l)] = [sizes[l + 1], sizes[l]]
            expected[ModelFormat.biasName(l)] = [sizes[l + 1]]
        }
        if let kindName = meta["optimizer"] {
            guard let kind = Optimizer.Kind(name: kindName) else { throw MLPError(.format, "unknown optimizer \"\(kindName)\"") }
            let nesterov = try integer("optimizer_nesterov")
            guard nesterov <= 1 else { throw MLPError(.format, "optimizer_nesterov must be 0 or 1") }
            let opt = Optimizer(kind: kind, learningRate: try real("optimizer_lr"), momentum: try real("optimizer_momentum"),
                                nesterov: nesterov == 1, beta1: try real("optimizer_beta1"), beta2: try real("optimizer_beta2"),
                                epsilon: try real("optimizer_eps"), weightDecay: try real("optimizer_weight_decay"),
                                maxGradNorm: meta["optimizer_max_grad_norm"] == nil ? 0 : try real("optimizer_max_grad_norm"))
            do {
                try opt.validate()
            } catch {
                throw MLPError(.format, "optimizer: \(error.message)")
            }
            optimizer = opt
            if meta["optimizer_steps"] != nil {
                let steps = try integer("optimizer_steps")
                guard steps <= UInt64(ModelFormat.maxOptimizerSteps) else {
                    throw MLPError(.format, "optimizer_steps \(steps) exceeds the limit of \(ModelFormat.maxOptimizerSteps)")
                }
                optimizerSteps = Int(steps)
                for name in ModelFormat.stateNames(opt) { expected[name] = [layout.parameterCount] }
            }
        }

        // Tensors: exactly the expected set, right dtype and shape, sizes that match.
        let stride = dtype.byteCount
        let wantDType = ModelFormat.tensorDType(dtype)
        var ranges: [(name: String, begin: Int, end: Int)] = []
        for (name, value) in entries {
            guard let shape = expected[name] else { throw MLPError(.format, "unexpected tensor \"\(name)\"") }
            guard case .object(let fields) = value else { throw MLPError(.format, "tensor \"\(name)\" is not an object") }
            var seen = Set<String>()
            var begin = -1, end = -1
            for (k, v) in fields {
                seen.insert(k)
                switch k {
                case "dtype":
                    guard case .string(let d) = v else { throw MLPError(.format, "tensor \"\(name)\" dtype is not a string") }
                    guard d == wantDType else { throw MLPError(.format, "tensor \"\(name)\" has dtype \(d); the model's dtype needs \(wantDType)") }
                case "shape":
                    guard case .array(let dims) = v else { throw MLPError(.format, "tensor \"\(name)\" shape is not an array") }
                    let got = dims.map { $0.unsignedInteger.map { Int(clamping: $0) } ?? -1 }
                    guard got == shape else { throw MLPError(.format, "tensor \"\(name)\" has shape \(got); sizes \(sizes) need \(shape)") }
                case "data_offsets":
                    guard case .array(let o) = v, o.count == 2, let b = o[0].unsignedInteger, let e = o[1].unsignedInteger,
                          b <= e, e <= UInt64(dataLength) else {
                        throw MLPError(.format, "tensor \"\(name)\" data_offsets are not [begin, end] within the \(dataLength)-byte data section")
                    }
                    begin = Int(b); end = Int(e)
                default:
                    throw MLPError(.format, "tensor \"\(name)\" has an unknown field \"\(k)\"")
                }
            }
            guard seen.count == 3 else { throw MLPError(.format, "tensor \"\(name)\" needs dtype, shape and data_offsets") }
            let bytes = shape.reduce(1, *) * stride  // within Limits: no overflow
            guard end - begin == bytes else {
                throw MLPError(.format, "tensor \"\(name)\" spans \(end - begin) bytes; shape \(shape) of \(wantDType) needs \(bytes)")
            }
            ranges.append((name, begin, end))
        }
        for name in expected.keys.sorted() where !ranges.contains(where: { $0.name == name }) {
            throw MLPError(.format, "missing tensor \"\(name)\"")
        }
        // The data section must be tiled exactly: no gap, no overlap, no trailing bytes.
        ranges.sort { $0.begin < $1.begin }
        var cursor = 0
        for r in ranges {
            guard r.begin == cursor else {
                throw MLPError(.format, r.begin > cursor ? "gap before tensor \"\(r.name)\" at byte \(cursor)" : "tensor \"\(r.name)\" overlaps the one before it")
            }
            cursor = r.end
        }
        guard cursor == dataLength else {
            throw MLPError(.format, "\(dataLength - cursor) trailing bytes after the last tensor")
        }
        tensors = [:]
        for r in ranges { tensors[r.name] = (r.begin, r.end) }
    }
}
