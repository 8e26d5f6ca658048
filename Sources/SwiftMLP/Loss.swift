/// The loss of a network. Raw values equal the C ABI's `swiftmlp_loss`.
/// B is the batch, N the output size, g the outputs, f the output logits.
public enum Loss: Int32, NamedCases {
    /// L = mean over B*N of (g - y)^2 — the slides. PyTorch: MSELoss(reduction='mean').
    case mse = 0
    /// L = mean over B*N of -(y log g + (1 - y) log(1 - g)), computed from the
    /// logits f as max(f, 0) - f y + log(1 + exp(-|f|)). Sigmoid output only.
    /// PyTorch: BCEWithLogitsLoss(reduction='mean') on f.
    case binaryCrossEntropy = 1
    /// L = 1/B sum over rows of -sum_j y_j log softmax(f)_j, with
    /// log softmax = f - logsumexp(f). Softmax output only; y one-hot rows,
    /// probability rows, or class indices. PyTorch: CrossEntropyLoss(reduction='mean') on f.
    case crossEntropy = 2

    public static let names: [Loss: String] = [
        .mse: "mse", .binaryCrossEntropy: "binary_cross_entropy", .crossEntropy: "cross_entropy",
    ]
}
