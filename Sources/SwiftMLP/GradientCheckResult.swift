/// The outcome of `Network.gradientCheck`: the worst parameter.
public struct GradientCheckResult: Sendable, Equatable {
    /// max over parameters i of |a_i - n_i| / max(|a_i|, |n_i|, 1e-6 max_k |a_k|, 1e-300),
    /// a = analytic (backward), n = Richardson-extrapolated central difference
    /// (4 D(h/2) - D(h)) / 3 with D(d) = (L(p+d) - L(p-d)) / 2d.
    public var maxRelativeError: Double
    /// Flat parameter index of that worst parameter (documented layout).
    public var index: Int
    public var analytic: Double
    public var numeric: Double
}
