/// Entry points for the C shim's hot path (`swiftmlp_train_step`).
///
/// A `DynamicNetwork` call goes through its float32/float64 switch, which
/// copies the typed network out of the enum (a retain and a release per
/// call), and a dtype check. The shim instead takes the typed network once,
/// when the handle is created, keeps it unowned (the `DynamicNetwork` it also
/// holds owns it), and calls these methods, which the constrained extensions
/// compile for the concrete element type: no generic dispatch across the
/// module boundary. The shim only takes this path when the caller's dtype is
/// the network's, so every check and message is the same as through
/// `DynamicNetwork.trainStep`.
extension DynamicNetwork {
    /// The network itself when it holds float32 elements.
    package var float32Network: Network<Float>? {
        if case .float32(let n) = storage { return n }
        return nil
    }

    /// The network itself when it holds float64 elements.
    package var float64Network: Network<Double>? {
        if case .float64(let n) = storage { return n }
        return nil
    }
}

extension Network where Scalar == Float {
    /// `trainStep` on raw (base, count) buffers of Float.
    package func trainStep(
        rawX x: UnsafeRawPointer, xCount: Int, rawY y: UnsafeRawPointer, yCount: Int, batch: Int
    ) throws(MLPError) -> Double {
        try trainStep(x: UnsafeBufferPointer(start: x.assumingMemoryBound(to: Float.self), count: xCount),
                      y: UnsafeBufferPointer(start: y.assumingMemoryBound(to: Float.self), count: yCount),
                      batch: batch)
    }
}

extension Network where Scalar == Double {
    /// `trainStep` on raw (base, count) buffers of Double.
    package func trainStep(
        rawX x: UnsafeRawPointer, xCount: Int, rawY y: UnsafeRawPointer, yCount: Int, batch: Int
    ) throws(MLPError) -> Double {
        try trainStep(x: UnsafeBufferPointer(start: x.assumingMemoryBound(to: Double.self), count: xCount),
                      y: UnsafeBufferPointer(start: y.assumingMemoryBound(to: Double.self), count: yCount),
                      batch: batch)
    }
}
