import RealModule

/// The element-wise kernels of the network, forward and backward side by
/// side, in one file per concern (activations, losses, optimizers). Matrix
/// products are not here: they go through BLAS (`MLPScalar.gemm`). Shapes
/// are row-major; `rows` is the batch B. Pointers come from buffers the
/// network owns and has sized; no kernel allocates.
enum Kernels {
    /// Backward of the bias broadcast: db (N) = sum over the batch of df (B, N),
    /// from 0, row 0 first: the C block (`MLPScalar.biasBackwardBlock`).
    static func biasBackward<T: MLPScalar>(
        db: UnsafeMutablePointer<T>, df: UnsafePointer<T>, rows: Int, cols: Int
    ) {
        T.biasBackwardBlock(db, df: df, rows: rows, cols: cols)
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
