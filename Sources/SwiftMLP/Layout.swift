/// Where each layer's parameters live in the one flat parameter buffer.
///
/// For weight layer l (0-based, l = 0..<L): W_l, `sizes[l+1] x sizes[l]`
/// row-major, at `weightOffsets[l]`, followed by b_l (`sizes[l+1]`) at
/// `biasOffsets[l]`. Gradients use the same layout.
public struct Layout: Sendable, Equatable {
    /// [N0, N1, ..., NL].
    public let sizes: [Int]
    public let weightOffsets: [Int]
    public let biasOffsets: [Int]
    /// Total number of parameters.
    public let parameterCount: Int
    /// N0 + N1 + ... + NL: cached activation elements per sample.
    public let activationsPerSample: Int

    /// Number of weight layers L.
    public var layerCount: Int { sizes.count - 1 }
    public var inputSize: Int { sizes[0] }
    public var outputSize: Int { sizes[sizes.count - 1] }

    /// Validates `sizes` against `Limits` with overflow-checked arithmetic.
    public init(sizes: [Int]) throws(MLPError) {
        guard sizes.count >= 2 else {
            throw MLPError(.invalidArgument, "need at least 2 layer sizes (input and output), got \(sizes.count)")
        }
        guard sizes.count <= Limits.maxSizes else {
            throw MLPError(.tooLarge, "\(sizes.count) layer sizes exceed the limit of \(Limits.maxSizes)")
        }
        for (i, n) in sizes.enumerated() {
            if n == 0 {
                throw MLPError(.invalidArgument, "layer size \(i) is 0; every size must be at least 1")
            }
            // A negative Int here is a size_t >= 2^63 from C.
            if n < 0 || n > Limits.maxLayerSize {
                throw MLPError(.tooLarge, "layer size \(i) is \(UInt(bitPattern: n)), above the limit of \(Limits.maxLayerSize)")
            }
        }
        var wOff: [Int] = []
        var bOff: [Int] = []
        wOff.reserveCapacity(sizes.count - 1)
        bOff.reserveCapacity(sizes.count - 1)
        var total = 0
        for l in 0..<(sizes.count - 1) {
            // Each size <= 2^24, so a product <= 2^48: no overflow; the sum is checked.
            let w = sizes[l + 1] * sizes[l]
            wOff.append(total)
            bOff.append(total + w)
            total += w + sizes[l + 1]
            guard total <= Limits.maxParams else {
                throw MLPError(.tooLarge, "sizes \(sizes) need more than \(Limits.maxParams) parameters")
            }
        }
        var perSample = 0
        for n in sizes { perSample += n }  // <= 1025 * 2^24: no overflow
        self.sizes = sizes
        self.weightOffsets = wOff
        self.biasOffsets = bOff
        self.parameterCount = total
        self.activationsPerSample = perSample
    }

    /// Throws `.layerIndex` unless 0 <= layer < L.
    func check(layer: Int) throws(MLPError) {
        guard layer >= 0 && layer < layerCount else {
            throw MLPError(.layerIndex, "layer index \(UInt(bitPattern: layer)) out of range: the network has \(layerCount) weight layer(s), 0..<\(layerCount)")
        }
    }

    /// Throws `.invalidArgument`/`.tooLarge` unless a batch of this size fits
    /// `Limits`: the one batch rule (swiftmlp_check_batch asks it for a caller).
    public func check(batch: Int) throws(MLPError) {
        guard batch != 0 else {
            throw MLPError(.invalidArgument, "batch size is 0; it must be at least 1")
        }
        guard batch > 0 && batch <= Limits.maxBatchElements / activationsPerSample else {
            throw MLPError(.tooLarge, "batch \(UInt(bitPattern: batch)) x (N0+...+NL = \(activationsPerSample)) activations exceed SWIFTMLP_MAX_BATCH_ELEMENTS = \(Limits.maxBatchElements); use smaller batches")
        }
    }
}
