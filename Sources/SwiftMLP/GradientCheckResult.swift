/// The outcome of `Network.gradientCheck`: the worst parameter.
public struct GradientCheckResult: Sendable, Equatable {
    /// max over parameters i of |a_i - n_i| / max(|a_i|, |n_i|, 1e-6 max_k |a_k|, 1e-300),
    /// a = analytic (backward), n = central difference (L(p+h) - L(p-h)) / 2h.
    public var maxRelativeError: Double
    /// Flat parameter index of that worst parameter (documented layout).
    public var index: Int
    public var analytic: Double
    public var numeric: Double
}
