/// The activation of a layer. Raw values equal the C ABI's `swiftmlp_activation`.
public enum Activation: Int32, NamedCases {
    /// g = 1 / (1 + exp(-f)) — the slides' choice and the default.
    case sigmoid = 0
    /// g = tanh(f).
    case tanh = 1
    /// g = max(f, 0).
    case relu = 2
    /// g = f for f > 0, slope * f otherwise.
    case leakyReLU = 3
    /// g = f.
    case identity = 4
    /// g_j = exp(f_j) / sum_k exp(f_k) over each row; output layer only.
    case softmax = 5

    public static let names: [Activation: String] = [
        .sigmoid: "sigmoid", .tanh: "tanh", .relu: "relu", .leakyReLU: "leaky_relu", .identity: "identity",
        .softmax: "softmax",
    ]
}
