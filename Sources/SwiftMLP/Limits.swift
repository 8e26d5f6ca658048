/// Size limits, equal to the C header's `SWIFTMLP_MAX_*` macros. They keep
/// every size product far from overflow and every BLAS dimension within a
/// 32-bit `blasint`, and turn absurd requests into a status instead of an
/// allocation that the kernel would kill the process for.
public enum Limits {
    /// Most entries in a sizes array.
    public static let maxSizes = 1025
    /// Largest single layer size.
    public static let maxLayerSize = 1 << 24
    /// Most parameters (weights and biases) in a network.
    public static let maxParams = 1 << 28
    /// Most cached activation elements for one batch: batch * (N0 + ... + NL).
    public static let maxBatchElements = 1 << 28
}
