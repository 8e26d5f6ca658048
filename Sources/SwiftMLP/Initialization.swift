/// How a network's parameters are drawn at creation. Raw values equal the
/// C ABI's `swiftmlp_init`. Every scheme draws u = `SplitMix64.nextUnitDouble()`
/// layer by layer, W row-major then b, from one generator seeded with the
/// network's seed; float32 networks round the same float64 values.
public enum Initialization: Int32, NamedCases {
    /// W and b: (2u - 1) / sqrt(fan_in). PyTorch's nn.Linear default. The default.
    case uniformFanIn = 0
    /// W: (2u - 1) * sqrt(6 / (fan_in + fan_out)); b = 0 (no draws).
    case glorotUniform = 1
    /// W: (2u - 1) * sqrt(6 / fan_in); b = 0 (no draws).
    case heUniform = 2

    public static let names: [Initialization: String] = [.uniformFanIn: "uniform", .glorotUniform: "glorot", .heUniform: "he"]

    /// Fills one layer's W (fanOut x fanIn) and b (fanOut) from `rng`.
    func fill<T: MLPScalar>(
        weights: UnsafeMutablePointer<T>, biases: UnsafeMutablePointer<T>,
        fanIn: Int, fanOut: Int, rng: inout SplitMix64
    ) {
        switch self {
        case .uniformFanIn:
            let root = Double(fanIn).squareRoot()
            for i in 0..<(fanOut * fanIn) { weights[i] = T((2 * rng.nextUnitDouble() - 1) / root) }
            for i in 0..<fanOut { biases[i] = T((2 * rng.nextUnitDouble() - 1) / root) }
        case .glorotUniform, .heUniform:
            let bound = self == .glorotUniform
                ? (6 / Double(fanIn + fanOut)).squareRoot()
                : (6 / Double(fanIn)).squareRoot()
            for i in 0..<(fanOut * fanIn) { weights[i] = T((2 * rng.nextUnitDouble() - 1) * bound) }
            for i in 0..<fanOut { biases[i] = 0 }
        }
    }
}
