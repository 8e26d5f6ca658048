/// A multilayer perceptron with sigmoid layers and a mean-squared-error
/// loss, exactly as the lecture slides, over a batch-first row-major batch.
///
/// Parameters live in one contiguous buffer (see `Layout`), gradients in a
/// second one with the same layout, activations of the last batch in an
/// `ActivationCache`. After the first call with a batch size, `forward`,
/// `backward` and `step` allocate nothing.
///
/// A network is not safe to use from two threads at once; separate networks
/// are independent.
public final class Network<Scalar: MLPScalar> {
    public let layout: Layout
    let params: AlignedBuffer<Scalar>
    let grads: AlignedBuffer<Scalar>
    var cache: ActivationCache<Scalar>?
    /// The batch of the last forward on the current parameters, if any.
    var forwardBatch: Int?
    /// True once a backward has filled `grads`.
    var hasGradients = false

    /// Creates a network with layer sizes [N0, ..., NL], parameters drawn
    /// uniformly from [-1/sqrt(N_in), 1/sqrt(N_in)) by `SplitMix64(seed:)`,
    /// layer by layer, W row-major then b (see swiftmlp.h).
    public init(sizes: [Int], seed: UInt64) throws(MLPError) {
        let layout = try Layout(sizes: sizes)
        let params = try AlignedBuffer<Scalar>(count: layout.parameterCount)
        let grads: AlignedBuffer<Scalar>
        do {
            grads = try AlignedBuffer<Scalar>(count: layout.parameterCount)
        } catch {
            params.deallocate()
            throw error
        }
        self.layout = layout
        self.params = params
        self.grads = grads
        initializeParameters(seed: seed)
    }

    deinit {
        params.deallocate()
        grads.deallocate()
        cache?.deallocate()
    }

    /// [N0, ..., NL].
    public var sizes: [Int] { layout.sizes }
    /// Number of weight layers L.
    public var layerCount: Int { layout.layerCount }
    /// Number of parameters (and of gradient elements).
    public var parameterCount: Int { layout.parameterCount }
    /// The run-time element type.
    public var dtype: DType { Scalar.dtype }
    /// The batch size of the last forward on the current parameters, if any.
    public var cachedBatch: Int? { forwardBatch }

    private func initializeParameters(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        for l in 0..<layout.layerCount {
            let nIn = layout.sizes[l]
            let nOut = layout.sizes[l + 1]
            let root = Double(nIn).squareRoot()
            let start = layout.weightOffsets[l]
            for i in start..<(start + nOut * nIn + nOut) {
                params.base[i] = Scalar((2 * rng.nextUnitDouble() - 1) / root)
            }
        }
    }

    /// Makes sure the cache holds `batch` rows; allocates only when it is
    /// larger than every batch before. On failure the old cache is kept.
    func reserveCache(batch: Int) throws(MLPError) {
        if let cache, cache.capacity >= batch { return }
        let fresh = try ActivationCache<Scalar>(layout: layout, capacity: batch)
        cache?.deallocate()
        cache = fresh
        forwardBatch = nil
    }
}
