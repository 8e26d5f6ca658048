import RealModule

/// The element-wise kernels of the network, forward and backward side by
/// side, in one file per concern (activations, losses, optimizers). Matrix
/// products are not here: they go through BLAS (`MLPScalar.gemm`). Shapes
/// are row-major; `rows` is the batch B. Pointers come from buffers the
/// network owns and has sized; no kernel allocates.
enum Kernels {
    /// Blocks of at least this many elements take the C element-wise kernels
    /// (MLPScalar's *Block functions: the same operations, vectorized for the
    /// running CPU and threaded when large); below it the call costs more
    /// than it saves, and the Swift loops run.
    static let elementwiseCLimit = 64

    /// Backward of the bias broadcast: db (N) = sum over the batch of df (B, N).
    static func biasBackward<T: MLPScalar>(
        db: UnsafeMutablePointer<T>, df: UnsafePointer<T>, rows: Int, cols: Int
    ) {
        if rows * cols >= elementwiseCLimit {
            T.biasBackwardBlock(db, df: df, rows: rows, cols: cols)  // the same operations in C
            return
        }
        for c in 0..<cols { db[c] = 0 }
        for r in 0..<rows {
            let dfr = df + r * cols
            for c in 0..<cols { db[c] += dfr[c] }
        }
    }

    /// True when every element is finite. Branch-free: x - x is +0 for a
    /// finite x and NaN for an infinity or NaN, whose exponent bits are all
    /// ones; OR-ing the exponent bits is an integer reduction, which
    /// vectorizes (a floating-point sum would be one long dependency chain),
    /// in 32-bit lanes (a Float's or Double's exponent fits).
    @inline(__always)
    static func allFinite<T: MLPScalar>(_ p: UnsafePointer<T>, count: Int) -> Bool {
        var acc: UInt32 = 0
        for i in 0..<count { acc |= UInt32(truncatingIfNeeded: (p[i] - p[i]).exponentBitPattern) }
        return acc == 0
    }
}
