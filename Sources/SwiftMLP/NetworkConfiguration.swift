/// Everything fixed at a network's creation. The defaults are the slides:
/// sigmoid everywhere, mean squared error, uniform ±1/sqrt(fan_in).
public struct NetworkConfiguration: Sendable, Equatable {
    /// [N0, N1, ..., NL].
    public var sizes: [Int]
    /// One activation per weight layer (count L), or one for every layer (count 1).
    public var activations: [Activation]
    /// Slope of `leakyReLU` for f <= 0. Finite.
    public var leakySlope: Double
    public var loss: Loss
    public var initialization: Initialization
    public var seed: UInt64

    public init(
        sizes: [Int], activations: [Activation] = [.sigmoid], leakySlope: Double = 0.01,
        loss: Loss = .mse, initialization: Initialization = .uniformFanIn, seed: UInt64 = 0
    ) {
        self.sizes = sizes
        self.activations = activations
        self.leakySlope = leakySlope
        self.loss = loss
        self.initialization = initialization
        self.seed = seed
    }

    /// The per-layer activations after validation against `layerCount`.
    func resolvedActivations(layerCount: Int) throws(MLPError) -> [Activation] {
        let acts: [Activation]
        if activations.count == 1 {
            acts = Array(repeating: activations[0], count: layerCount)
        } else if activations.count == layerCount {
            acts = activations
        } else {
            throw MLPError(.invalidArgument, "got \(activations.count) activations for \(layerCount) weight layer(s); give 1 or \(layerCount)")
        }
        if let hidden = acts.dropLast().firstIndex(of: .softmax) {
            throw MLPError(.invalidArgument, "softmax is allowed on the output layer only, not on layer \(hidden)")
        }
        guard leakySlope.isFinite else {
            throw MLPError(.invalidArgument, "leaky ReLU slope \(leakySlope) must be finite")
        }
        let output = acts[layerCount - 1]
        switch loss {
        case .mse: break
        case .binaryCrossEntropy where output != .sigmoid:
            throw MLPError(.invalidArgument, "binary cross-entropy needs a sigmoid output layer, not \(output)")
        case .crossEntropy where output != .softmax:
            throw MLPError(.invalidArgument, "cross-entropy needs a softmax output layer, not \(output)")
        default: break
        }
        return acts
    }
}
