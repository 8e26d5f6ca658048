import Synchronization

/// A multilayer perceptron over batch-first row-major batches: per layer
/// f = g_prev @ W^T + b, g = act(f), then a loss. With the default
/// configuration (sigmoid layers, MSE, uniform ±1/sqrt(fan_in)) it is exactly
/// the lecture slides' network.
///
/// Parameters live in one contiguous buffer (see `Layout`), gradients in a
/// second one with the same layout, the last training batch's f, g, dL/df,
/// dL/dg in an `ActivationCache`. After the first call with a batch size,
/// `forward`, `backward` and the optimizer steps allocate nothing.
///
/// A network is not safe to use from two threads at once; separate networks
/// are independent.
public final class Network<Scalar: MLPScalar> {
    public let configuration: NetworkConfiguration
    public let layout: Layout
    /// One activation per weight layer.
    public let activations: [Activation]
    let slope: Scalar
    /// The parameters in the layout of `layout`.
    let params: AlignedBuffer<Scalar>
    let grads: AlignedBuffer<Scalar>
    /// The largest batch `fusedTrainStep` serves; 0 if it never applies.
    let fusedBatchLimit: Int
    /// The largest batch `Layout.check(batch:)` accepts.
    let batchLimit: Int
    /// Where each layer's operands live, for `fusedTrainStep`: allocated
    /// with the first training cache when `fusedBatchLimit > 0`, refilled
    /// whenever the cache is replaced.
    var fusedLayers: AlignedBuffer<FusedLayer<Scalar>>?

    /// The training batch: x, f, g, dL/df, dL/dg of the last forward/backward.
    var cache: ActivationCache<Scalar>?
    /// Scratch for `predict` and validation, so they never touch `cache`;
    /// owned by whichever call holds `inferenceBusy`.
    var inferenceCache: ActivationCache<Scalar>?
    let inferenceBusy = Atomic<Bool>(false)
    /// Rows held in `cache` by the last forward, if any.
    var lastBatch: Int?
    /// True while `cache` holds a forward of the current parameters.
    var forwardValid = false
    /// True when `cache` holds dL/df, dL/dg for its forward.
    var backwardDone = false
    /// True once a backward has filled `grads` (they stay readable).
    var hasGradients = false
    /// True while `grads` belong to the current parameters and no step has
    /// used them: set by a backward (or setGradients), cleared by every parameter change
    /// (`parametersChanged`, which every step and parameter write calls).
    /// A step needs it, so a step consumes the gradients: a second step
    /// without a new backward is refused instead of applying stale ones.
    var gradientsFresh = false

    var optimizer: Optimizer?
    var optimizerState: [AlignedBuffer<Scalar>] = []
    var optimizerSteps = 0
    /// Shuffles `fit`'s batches: SplitMix64 seeded with seed &+ 0x6A09E667F3BCC909.
    var shuffleGenerator: SplitMix64

    /// Creates the slides' network: sigmoid layers, MSE, uniform ±1/sqrt(fan_in).
    public convenience init(sizes: [Int], seed: UInt64) throws(MLPError) {
        try self.init(configuration: NetworkConfiguration(sizes: sizes, seed: seed))
    }

    public init(configuration: NetworkConfiguration) throws(MLPError) {
        let layout = try Layout(sizes: configuration.sizes)
        let activations = try configuration.resolvedActivations(layerCount: layout.layerCount)
        let params = try AlignedBuffer<Scalar>(count: layout.parameterCount)
        let grads = try AlignedBuffer<Scalar>(count: layout.parameterCount)
        self.configuration = configuration
        self.layout = layout
        self.activations = activations
        self.slope = Scalar(configuration.leakySlope)
        self.params = params
        self.grads = grads
        self.fusedBatchLimit = Self.fusedBatchLimit(layout: layout, activations: activations, loss: configuration.loss)
        self.batchLimit = Limits.maxBatchElements / layout.activationsPerSample
        self.shuffleGenerator = SplitMix64(seed: configuration.seed &+ 0x6A09_E667_F3BC_C909)
        var rng = SplitMix64(seed: configuration.seed)
        for l in 0..<layout.layerCount {
            configuration.initialization.fill(
                weights: params.base + layout.weightOffsets[l], biases: params.base + layout.biasOffsets[l],
                fanIn: layout.sizes[l], fanOut: layout.sizes[l + 1], rng: &rng)
        }
    }

    /// [N0, ..., NL].
    public var sizes: [Int] { layout.sizes }
    /// Number of weight layers L.
    public var layerCount: Int { layout.layerCount }
    /// Number of parameters (and of gradient elements).
    public var parameterCount: Int { layout.parameterCount }
    /// The run-time element type.
    public var dtype: DType { Scalar.dtype }
    public var loss: Loss { configuration.loss }
    /// The batch size of the last forward on the current parameters, if any.
    public var cachedBatch: Int? { forwardValid ? lastBatch : nil }

    /// Called after every change of the parameters: the cached forward no
    /// longer belongs to them, so backward needs a new forward.
    func parametersChanged() {
        forwardValid = false
        gradientsFresh = false
    }

    /// Makes sure the training cache holds `batch` rows; allocates only when
    /// it is larger than every batch before. On failure the old cache is kept.
    func reserveCache(batch: Int) throws(MLPError) {
        if let cache, cache.capacity >= batch { return }
        let fresh = try ActivationCache<Scalar>(layout: layout, capacity: batch)
        if fusedBatchLimit > 0 && fusedLayers == nil {
            fusedLayers = try AlignedBuffer<FusedLayer<Scalar>>(count: layout.layerCount)
        }
        cache = fresh
        if let fusedLayers { fillFusedLayers(fusedLayers.base, cache: fresh) }
        lastBatch = nil
        forwardValid = false
        backwardDone = false
    }

    /// Runs `body` with scratch for `rows` rows of inference. The network's
    /// own inference cache serves one call at a time (allocated once, grown
    /// only for a larger chunk); a call that finds it taken by another thread
    /// gets a private cache for its duration, so concurrent readers
    /// (`predict`, `loss`) never share scratch.
    func withInferenceCache<R>(
        rows: Int, _ body: (ActivationCache<Scalar>) throws(MLPError) -> R
    ) throws(MLPError) -> R {
        if inferenceBusy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
            defer { inferenceBusy.store(false, ordering: .releasing) }
            if inferenceCache == nil || inferenceCache.unsafelyUnwrapped.capacity < rows {
                inferenceCache = try ActivationCache<Scalar>(layout: layout, capacity: rows)
            }
            return try body(inferenceCache.unsafelyUnwrapped)
        }
        return try body(try ActivationCache<Scalar>(layout: layout, capacity: rows))
    }

    /// A copy with the same configuration and parameters in another element
    /// type (optimizer state and caches are not copied).
    public func converted<Other: MLPScalar>(to: Other.Type) throws(MLPError) -> Network<Other> {
        let other = try Network<Other>(configuration: configuration)
        for i in 0..<layout.parameterCount { other.params.base[i] = Other(params.base[i]) }
        return other
    }
}
