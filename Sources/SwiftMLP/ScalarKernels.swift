import CSwiftMLPKernels

/// One element type's C kernels (smlp_kernels.h): the table each
/// `MLPScalar` conformance declares, naming its `_f32` or `_f64` functions,
/// through which `MLPScalar`'s methods are written once (MLPScalar.swift).
/// Each conformance's table is a constant, so the optimizer turns a call
/// through it in code specialised for Float or Double into a direct call to
/// the C function, and inlines the header's inline ones (`columnSums`,
/// `sgdValue`) into the loops they run in.
public struct ScalarKernels<T>: Sendable {
    /// The run-time tag of T.
    let dtype: DType
    let gemm: @Sendable (Bool, Bool, Int32, Int32, Int32, T, UnsafePointer<T>?, Int32, UnsafePointer<T>?, Int32,
                         T, UnsafeMutablePointer<T>?, Int32) -> Void
    let sigmoid: @Sendable (UnsafePointer<T>?, UnsafeMutablePointer<T>?, Int) -> Void
    let biasSigmoid: @Sendable (UnsafeMutablePointer<T>?, UnsafeMutablePointer<T>?, UnsafePointer<T>?, Int, Int) -> Void
    let sigmoidBackward: @Sendable (UnsafeMutablePointer<T>?, UnsafePointer<T>?, UnsafePointer<T>?, Int) -> Void
    let biasBackward: @Sendable (UnsafeMutablePointer<T>?, UnsafePointer<T>?, Int, Int) -> Void
    /// (db, df, rows, cols, c0, c1)
    let columnSums: @Sendable (UnsafeMutablePointer<T>?, UnsafePointer<T>?, Int, Int, Int, Int) -> Void
    let optimizerStep: @Sendable (UnsafePointer<smlp_optimizer_coefficients>?, UnsafeMutablePointer<T>?, UnsafePointer<T>?,
                                  UnsafeMutablePointer<T>?, UnsafeMutablePointer<T>?, Int, Int32) -> Int32
    /// (p, g, lr, wd, gradient scale)
    let sgdValue: @Sendable (T, T, T, T, T) -> T
    let maxAbs: @Sendable (UnsafePointer<T>?, Int) -> Double
    let mseBackward: @Sendable (UnsafeMutablePointer<T>?, UnsafeMutablePointer<T>?, UnsafePointer<T>?, UnsafePointer<T>?,
                                Int, T) -> Double
}
