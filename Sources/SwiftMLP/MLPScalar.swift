import CSwiftMLPKernels
import RealModule

/// The element types a network can hold: `Float` and `Double`, each with
/// its BLAS matrix product.
public protocol MLPScalar: BinaryFloatingPoint, Real, Sendable {
    /// The run-time tag of this type.
    static var dtype: DType { get }

    /// Row-major C = alpha * op(A) @ op(B) + beta * C, with op(A) of shape
    /// (m, k) and op(B) of shape (k, n); `transA`/`transB` select op = transpose.
    /// Dimensions are within `Limits`, so they fit BLAS's 32-bit integers.
    static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Self, a: UnsafePointer<Self>, lda: Int,
        b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)

    /// g[i] = sigmoid(f[i]) for i < count, f and g distinct: the library's
    /// one sigmoid, in C compiled for the running CPU's widest vectors
    /// (Sources/CSwiftMLPKernels/elementwise.c), the same bits on every CPU.
    static func sigmoidBlock(_ f: UnsafePointer<Self>, _ g: UnsafeMutablePointer<Self>, count: Int)

    /// A sigmoid layer's forward pass over a block: f (rows, cols) += bias on
    /// every row, then g = sigmoid(f), in C for the running CPU, split over
    /// the BLAS layer's threads when large (Sources/CSwiftMLPKernels/elementwise.c).
    static func biasSigmoidBlock(_ f: UnsafeMutablePointer<Self>, _ g: UnsafeMutablePointer<Self>,
                                 bias: UnsafePointer<Self>, rows: Int, cols: Int)

    /// df = dg * g * (1 - g) over `count` elements, as `biasSigmoidBlock` runs.
    static func sigmoidBackwardBlock(_ df: UnsafeMutablePointer<Self>, dg: UnsafePointer<Self>,
                                     g: UnsafePointer<Self>, count: Int)

    /// db[c] = the sum over the rows of df[r, c], from 0 and row 0 first, as
    /// `biasSigmoidBlock` runs.
    static func biasBackwardBlock(_ db: UnsafeMutablePointer<Self>, df: UnsafePointer<Self>, rows: Int, cols: Int)

    /// `biasBackwardBlock`'s sums inline, on the calling thread: the
    /// operations of `smlp_column_sums_*` (smlp_kernels.h), for the fused
    /// step's few elements.
    static func columnSums(_ db: UnsafeMutablePointer<Self>, df: UnsafePointer<Self>, rows: Int, cols: Int)

    /// One optimizer step over `count` parameters `p` with gradients `g` and
    /// state `s1`, `s2` (formulas in `Optimizer`), vectorized for the running
    /// CPU and split over the BLAS layer's threads when large
    /// (Sources/CSwiftMLPKernels/elementwise.c): with `commit` false only whether
    /// every new value is finite (nothing written), else stores them.
    static func optimizerBlock(_ c: smlp_optimizer_coefficients, _ p: UnsafeMutablePointer<Self>,
                               _ g: UnsafePointer<Self>, _ s1: UnsafeMutablePointer<Self>?,
                               _ s2: UnsafeMutablePointer<Self>?, count: Int, commit: Bool) -> Bool


    /// Plain SGD's new value of parameter `p` with gradient `g` (no clipping):
    /// the C steps' formula, `smlp_sgd_value_*` in smlp_kernels.h (inlined).
    static func sgdValue(_ p: Self, _ g: Self, lr: Self, wd: Self) -> Self

    /// max |x[i]| for i < count (0 for none), +infinity if one is infinite or NaN.
    static func maxAbsBlock(_ x: UnsafePointer<Self>, count: Int) -> Double

    /// MSE's backward over `count` elements: dg = scale (g - y) and, when
    /// `df` is given (a sigmoid output), df = dg g (1 - g); returns the sum
    /// of (g - y)^2 in Double. The library's one MSE kernel, in C for the
    /// running CPU (`smlp_mse_backward_*`, Sources/CSwiftMLPKernels/elementwise.c).
    static func mseBackwardBlock(dg: UnsafeMutablePointer<Self>, df: UnsafeMutablePointer<Self>?,
                                 g: UnsafePointer<Self>, y: UnsafePointer<Self>, count: Int, scale: Self) -> Double

    /// exp(x) for x <= 0, branch-free so that kernel loops vectorize
    /// (see MLPScalar+Exp.swift); 0 below the smallest normal result.
    static func expNonPositive(_ x: Self) -> Self

    /// The unsigned integer of the same width (`UInt32`, `UInt64`), and the
    /// conversions to and from it, as `Float` and `Double` declare them.
    associatedtype BitPattern: FixedWidthInteger & UnsignedInteger
    init(bitPattern: BitPattern)
    var bitPattern: BitPattern { get }

    /// The value stored little-endian at `p` (any alignment).
    static func loadLittleEndian(from p: UnsafeRawPointer) -> Self
    /// The value whose bit pattern is `v`'s in little-endian byte order.
    static func fromLittleEndianBits(_ v: Self) -> Self
}

@inline(__always)
private func blasInt(_ v: Int) -> Int32 { Int32(truncatingIfNeeded: v) }

extension Float: MLPScalar {
    public static var dtype: DType { .float32 }

    @inline(__always)
    public static func sigmoidBlock(_ f: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>, count: Int) {
        smlp_sigmoid_f32(f, g, count)
    }

    @inline(__always)
    public static func biasSigmoidBlock(_ f: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>,
                                        bias: UnsafePointer<Float>, rows: Int, cols: Int) {
        smlp_bias_sigmoid_f32(f, g, bias, rows, cols)
    }

    @inline(__always)
    public static func sigmoidBackwardBlock(_ df: UnsafeMutablePointer<Float>, dg: UnsafePointer<Float>,
                                            g: UnsafePointer<Float>, count: Int) {
        smlp_sigmoid_backward_f32(df, dg, g, count)
    }

    @inline(__always)
    public static func biasBackwardBlock(_ db: UnsafeMutablePointer<Float>, df: UnsafePointer<Float>,
                                         rows: Int, cols: Int) {
        smlp_bias_backward_f32(db, df, rows, cols)
    }

    @inline(__always)
    public static func optimizerBlock(_ c: smlp_optimizer_coefficients, _ p: UnsafeMutablePointer<Float>,
                                      _ g: UnsafePointer<Float>, _ s1: UnsafeMutablePointer<Float>?,
                                      _ s2: UnsafeMutablePointer<Float>?, count: Int, commit: Bool) -> Bool {
        withUnsafePointer(to: c) { smlp_optimizer_step_f32($0, p, g, s1, s2, count, commit ? 1 : 0) != 0 }
    }

    @inline(__always)
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        smlp_sgemm(transA, transB, blasInt(m), blasInt(n), blasInt(k), alpha, a, blasInt(lda),
                  b, blasInt(ldb), beta, c, blasInt(ldc))
    }


    @inline(__always)
    public static func columnSums(_ db: UnsafeMutablePointer<Float>, df: UnsafePointer<Float>, rows: Int, cols: Int) {
        smlp_column_sums_f32(db, df, rows, cols, 0, cols)
    }

    @inline(__always)
    public static func sgdValue(_ p: Float, _ g: Float, lr: Float, wd: Float) -> Float {
        smlp_sgd_value_f32(p, g, lr, wd, 1)
    }

    public static func maxAbsBlock(_ x: UnsafePointer<Float>, count: Int) -> Double {
        smlp_max_abs_f32(x, count)
    }

    public static func mseBackwardBlock(dg: UnsafeMutablePointer<Float>, df: UnsafeMutablePointer<Float>?,
                                        g: UnsafePointer<Float>, y: UnsafePointer<Float>, count: Int, scale: Float) -> Double {
        smlp_mse_backward_f32(dg, df, g, y, count, scale)
    }
}

extension Double: MLPScalar {
    public static var dtype: DType { .float64 }

    @inline(__always)
    public static func sigmoidBlock(_ f: UnsafePointer<Double>, _ g: UnsafeMutablePointer<Double>, count: Int) {
        smlp_sigmoid_f64(f, g, count)
    }

    @inline(__always)
    public static func biasSigmoidBlock(_ f: UnsafeMutablePointer<Double>, _ g: UnsafeMutablePointer<Double>,
                                        bias: UnsafePointer<Double>, rows: Int, cols: Int) {
        smlp_bias_sigmoid_f64(f, g, bias, rows, cols)
    }

    @inline(__always)
    public static func sigmoidBackwardBlock(_ df: UnsafeMutablePointer<Double>, dg: UnsafePointer<Double>,
                                            g: UnsafePointer<Double>, count: Int) {
        smlp_sigmoid_backward_f64(df, dg, g, count)
    }

    @inline(__always)
    public static func biasBackwardBlock(_ db: UnsafeMutablePointer<Double>, df: UnsafePointer<Double>,
                                         rows: Int, cols: Int) {
        smlp_bias_backward_f64(db, df, rows, cols)
    }

    @inline(__always)
    public static func optimizerBlock(_ c: smlp_optimizer_coefficients, _ p: UnsafeMutablePointer<Double>,
                                      _ g: UnsafePointer<Double>, _ s1: UnsafeMutablePointer<Double>?,
                                      _ s2: UnsafeMutablePointer<Double>?, count: Int, commit: Bool) -> Bool {
        withUnsafePointer(to: c) { smlp_optimizer_step_f64($0, p, g, s1, s2, count, commit ? 1 : 0) != 0 }
    }

    @inline(__always)
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int,
        b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        smlp_dgemm(transA, transB, blasInt(m), blasInt(n), blasInt(k), alpha, a, blasInt(lda),
                  b, blasInt(ldb), beta, c, blasInt(ldc))
    }


    @inline(__always)
    public static func columnSums(_ db: UnsafeMutablePointer<Double>, df: UnsafePointer<Double>, rows: Int, cols: Int) {
        smlp_column_sums_f64(db, df, rows, cols, 0, cols)
    }

    @inline(__always)
    public static func sgdValue(_ p: Double, _ g: Double, lr: Double, wd: Double) -> Double {
        smlp_sgd_value_f64(p, g, lr, wd, 1)
    }

    public static func maxAbsBlock(_ x: UnsafePointer<Double>, count: Int) -> Double {
        smlp_max_abs_f64(x, count)
    }

    public static func mseBackwardBlock(dg: UnsafeMutablePointer<Double>, df: UnsafeMutablePointer<Double>?,
                                        g: UnsafePointer<Double>, y: UnsafePointer<Double>, count: Int, scale: Double) -> Double {
        smlp_mse_backward_f64(dg, df, g, y, count, scale)
    }
}
