import CSwiftMLPKernels
import RealModule

/// The element types a network can hold: `Float` and `Double`. Each
/// conformance declares its C kernels as one `ScalarKernels` table; the
/// methods below call through it, written once.
public protocol MLPScalar: BinaryFloatingPoint, Real, Sendable {
    /// This type's C kernels (see `ScalarKernels`).
    static var kernels: ScalarKernels<Self> { get }

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

extension MLPScalar {
    /// The run-time tag of this type.
    @inline(__always)
    public static var dtype: DType { kernels.dtype }

    /// Row-major C = alpha * op(A) @ op(B) + beta * C, with op(A) of shape
    /// (m, k) and op(B) of shape (k, n); `transA`/`transB` select op = transpose.
    /// Dimensions are within `Limits`, so they fit BLAS's 32-bit integers.
    @inline(__always)
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Self, a: UnsafePointer<Self>, lda: Int,
        b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int
    ) {
        kernels.gemm(transA, transB, blasInt(m), blasInt(n), blasInt(k), alpha, a, blasInt(lda),
                     b, blasInt(ldb), beta, c, blasInt(ldc))
    }

    /// g[i] = sigmoid(f[i]) for i < count, f and g distinct: the library's
    /// one sigmoid, in C compiled for the running CPU's widest vectors
    /// (Sources/CSwiftMLPKernels/elementwise.c), the same bits on every CPU.
    @inline(__always)
    public static func sigmoidBlock(_ f: UnsafePointer<Self>, _ g: UnsafeMutablePointer<Self>, count: Int) {
        kernels.sigmoid(f, g, count)
    }

    /// A sigmoid layer's forward pass over a block: f (rows, cols) += bias on
    /// every row, then g = sigmoid(f), in C for the running CPU, split over
    /// the BLAS layer's threads when large (Sources/CSwiftMLPKernels/elementwise.c).
    @inline(__always)
    public static func biasSigmoidBlock(_ f: UnsafeMutablePointer<Self>, _ g: UnsafeMutablePointer<Self>,
                                        bias: UnsafePointer<Self>, rows: Int, cols: Int) {
        kernels.biasSigmoid(f, g, bias, rows, cols)
    }

    /// df = dg * g * (1 - g) over `count` elements, as `biasSigmoidBlock` runs.
    @inline(__always)
    public static func sigmoidBackwardBlock(_ df: UnsafeMutablePointer<Self>, dg: UnsafePointer<Self>,
                                            g: UnsafePointer<Self>, count: Int) {
        kernels.sigmoidBackward(df, dg, g, count)
    }

    /// db[c] = the sum over the rows of df[r, c], from 0 and row 0 first, as
    /// `biasSigmoidBlock` runs.
    @inline(__always)
    public static func biasBackwardBlock(_ db: UnsafeMutablePointer<Self>, df: UnsafePointer<Self>, rows: Int, cols: Int) {
        kernels.biasBackward(db, df, rows, cols)
    }

    /// `biasBackwardBlock`'s sums inline, on the calling thread: the
    /// operations of `smlp_column_sums_*` (smlp_kernels.h), for the fused
    /// step's few elements.
    @inline(__always)
    public static func columnSums(_ db: UnsafeMutablePointer<Self>, df: UnsafePointer<Self>, rows: Int, cols: Int) {
        kernels.columnSums(db, df, rows, cols, 0, cols)
    }

    /// Plain SGD's new value of parameter `p` with gradient `g` (no clipping):
    /// the C steps' formula, `smlp_sgd_value_*` in smlp_kernels.h (inlined).
    @inline(__always)
    public static func sgdValue(_ p: Self, _ g: Self, lr: Self, wd: Self) -> Self {
        kernels.sgdValue(p, g, lr, wd, 1)
    }

    /// One optimizer step over `count` parameters `p` with gradients `g` and
    /// state `s1`, `s2` (formulas in `Optimizer`), vectorized for the running
    /// CPU and split over the BLAS layer's threads when large
    /// (Sources/CSwiftMLPKernels/elementwise.c): with `commit` false only whether
    /// every new value is finite (nothing written), else stores them.
    @inline(__always)
    public static func optimizerBlock(_ c: smlp_optimizer_coefficients, _ p: UnsafeMutablePointer<Self>,
                                      _ g: UnsafePointer<Self>, _ s1: UnsafeMutablePointer<Self>?,
                                      _ s2: UnsafeMutablePointer<Self>?, count: Int, commit: Bool) -> Bool {
        withUnsafePointer(to: c) { kernels.optimizerStep($0, p, g, s1, s2, count, commit ? 1 : 0) != 0 }
    }

    /// max |x[i]| for i < count (0 for none), +infinity if one is infinite or NaN.
    public static func maxAbsBlock(_ x: UnsafePointer<Self>, count: Int) -> Double {
        kernels.maxAbs(x, count)
    }

    /// MSE's backward over `count` elements: dg = scale (g - y) and, when
    /// `df` is given (a sigmoid output), df = dg g (1 - g); returns the sum
    /// of (g - y)^2 in Double. The library's one MSE kernel, in C for the
    /// running CPU (`smlp_mse_backward_*`, Sources/CSwiftMLPKernels/elementwise.c).
    public static func mseBackwardBlock(dg: UnsafeMutablePointer<Self>, df: UnsafeMutablePointer<Self>?,
                                        g: UnsafePointer<Self>, y: UnsafePointer<Self>, count: Int, scale: Self) -> Double {
        kernels.mseBackward(dg, df, g, y, count, scale)
    }
}

extension Float: MLPScalar {
    public static let kernels = ScalarKernels<Float>(
        dtype: .float32, gemm: smlp_sgemm, sigmoid: smlp_sigmoid_f32, biasSigmoid: smlp_bias_sigmoid_f32,
        sigmoidBackward: smlp_sigmoid_backward_f32, biasBackward: smlp_bias_backward_f32, columnSums: smlp_column_sums_f32,
        optimizerStep: smlp_optimizer_step_f32, sgdValue: smlp_sgd_value_f32, maxAbs: smlp_max_abs_f32, mseBackward: smlp_mse_backward_f32)
}

extension Double: MLPScalar {
    public static let kernels = ScalarKernels<Double>(
        dtype: .float64, gemm: smlp_dgemm, sigmoid: smlp_sigmoid_f64, biasSigmoid: smlp_bias_sigmoid_f64,
        sigmoidBackward: smlp_sigmoid_backward_f64, biasBackward: smlp_bias_backward_f64, columnSums: smlp_column_sums_f64,
        optimizerStep: smlp_optimizer_step_f64, sgdValue: smlp_sgd_value_f64, maxAbs: smlp_max_abs_f64, mseBackward: smlp_mse_backward_f64)
}
