#if canImport(Glibc)
import Glibc
#endif
import CSwiftMLPKernels
import Testing
@testable import SwiftMLP

/// The sigmoid has one implementation, the C block (MLPScalar.sigmoidBlock,
/// the clone for this CPU); these tests hold it to the naive oracle.
func sigmoid<T: MLPScalar>(_ x: T) -> T {
    var g: T = .nan
    withUnsafePointer(to: x) { f in withUnsafeMutablePointer(to: &g) { T.sigmoidBlock(f, $0, count: 1) } }
    return g
}

/// True when `got` is the oracle's `want` within 4 ulps of `want` (the
/// kernel's exp is within a few ulps, and a sigmoid adds one rounding), or
/// both are NaN; results below the smallest normal number may be flushed
/// to 0 (the kernel's exp flushes them).
func closeToOracle<T: MLPScalar>(_ got: T, _ want: T) -> Bool {
    if want.isNaN { return got.isNaN }
    if want < T.leastNormalMagnitude { return got == want || (got == 0 && got.sign == .plus) }
    return Swift.abs(got - want) <= 4 * want.ulp
}

@Suite struct SigmoidTests {
    @Test func extremesGiveExactlyZeroAndOneWithoutNaN() {
        #expect(sigmoid(1000.0) == 1)
        #expect(sigmoid(-1000.0) == 0)
        #expect(sigmoid(Float(1000)) == 1)
        #expect(sigmoid(Float(-1000)) == 0)
        #expect(sigmoid(Double.infinity) == 1)
        #expect(sigmoid(-Double.infinity) == 0)
        #expect(sigmoid(Double.nan).isNaN)
    }

    @Test func matchesTheTextbookFormulaWhereItIsSafe() {
        for x in stride(from: -30.0, through: 30.0, by: 0.37) {
            let textbook = 1 / (1 + exp(-x))
            #expect(abs(sigmoid(x) - textbook) <= 2 * Double.ulpOfOne * textbook)
        }
    }

    @Test func isSymmetric() {
        for x in stride(from: 0.0, through: 20.0, by: 0.5) {
            #expect(abs(sigmoid(x) + sigmoid(-x) - 1) <= 2 * Double.ulpOfOne)
        }
    }

    /// The vectorized C block against the naive oracle, element by element:
    /// a sweep across the whole range, values near the clamps, subnormals,
    /// signed zeros, infinities and NaN; then blocks of every short length,
    /// whose elements must also equal the one-element block's bits (every
    /// vector width and the scalar tail run the same operations).
    func blockMatchesOracle<T: MLPScalar>(_: T.Type, lowest: T) {
        var xs: [T] = [0, -0, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, -.leastNonzeroMagnitude,
                       .leastNormalMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                       lowest, -lowest, lowest.nextUp, lowest.nextDown, -lowest.nextUp, -lowest.nextDown]
        var data = TestData(seed: 99)
        xs += data.uniform(5000, -40, 40) as [T]
        xs += data.uniform(2000, -800, 800) as [T]
        for e in stride(from: -30, through: 30, by: 1) { xs.append(T(e) / 7) }
        var g = [T](repeating: 0, count: xs.count)
        xs.withUnsafeBufferPointer { f in
            g.withUnsafeMutableBufferPointer { T.sigmoidBlock(f.baseAddress!, $0.baseAddress!, count: f.count) }
        }
        for (i, x) in xs.enumerated() {
            #expect(closeToOracle(g[i], NaiveKernels.sigmoid(x)), "x = \(x): \(g[i])")
        }
        // Short blocks and every remainder: the block is cut into groups of
        // full vectors (64 floats, 16 doubles at a time with AVX-512), full,
        // half and quarter vectors and single elements (counts 1...80, at
        // offsets that leave the start unaligned too); nothing beyond
        // `count` is written.
        for count in 1...80 {
            for offset in [0, 1, 3] {
                let f = Array(xs[(7 * count + offset)..<(7 * count + offset + count)])
                var out = [T](repeating: 42, count: count + 1)
                f.withUnsafeBufferPointer { fb in
                    out.withUnsafeMutableBufferPointer { T.sigmoidBlock(fb.baseAddress!, $0.baseAddress!, count: count) }
                }
                for i in 0..<count {
                    let want = sigmoid(f[i])
                    #expect((out[i] == want && out[i].sign == want.sign) || (out[i].isNaN && want.isNaN),
                            "count \(count), element \(i): x = \(f[i])")
                    #expect(closeToOracle(out[i], NaiveKernels.sigmoid(f[i])), "x = \(f[i])")
                }
                #expect(out[count] == 42, "count \(count): wrote past the block")
            }
        }
    }

    @Test func vectorizedBlockMatchesOracleDouble() { blockMatchesOracle(Double.self, lowest: -708.3964185322641) }
    @Test func vectorizedBlockMatchesOracleFloat() { blockMatchesOracle(Float.self, lowest: -87.33654) }

    @Test func backwardAtExtremesIsFiniteAndZero() {
        var g = [sigmoid(1000.0), sigmoid(-1000.0)]
        let dg = [1.0, 1.0]
        var df = [Double](repeating: .nan, count: 2)
        df.withUnsafeMutableBufferPointer { d in
            Kernels.activationBackward(.sigmoid, slope: 0, df: d.baseAddress!, dg: dg, f: g, g: &g, rows: 1, cols: 2)
        }
        #expect(df == [0, 0])
    }
}

/// The C element-wise blocks of a sigmoid layer (MLPScalar.biasSigmoidBlock,
/// sigmoidBackwardBlock, biasBackwardBlock) against plain loops of the same
/// operations, bit for bit: small blocks (one thread) and blocks of 2^16
/// elements and more (split over the BLAS layer's threads: by rows, element
/// ranges and column ranges), with odd shapes.
@Suite struct ElementwiseBlockTests {
    func check<T: MLPScalar>(_: T.Type, rows: Int, cols: Int) {
        var data = TestData(seed: UInt64(rows * 100_003 + cols))
        let n = rows * cols
        let f0: [T] = data.uniform(n, -12, 12), bias: [T] = data.uniform(cols, -1, 1)
        let dg: [T] = data.uniform(n, -2, 2)

        // forward: f += b per row, g = sigmoid(f)
        var f = f0, g = [T](repeating: 0, count: n)
        f.withUnsafeMutableBufferPointer { fb in
            g.withUnsafeMutableBufferPointer { gb in
                T.biasSigmoidBlock(fb.baseAddress!, gb.baseAddress!, bias: bias, rows: rows, cols: cols)
            }
        }
        for r in 0..<rows {
            for c in 0..<cols {
                let i = r * cols + c, want = f0[i] + bias[c]
                #expect(f[i] == want, "f[\(r), \(c)]")
                #expect(g[i] == sigmoid(want), "g[\(r), \(c)]")
            }
        }
        // backward: df = dg g (1 - g)
        var df = [T](repeating: .nan, count: n)
        df.withUnsafeMutableBufferPointer { T.sigmoidBackwardBlock($0.baseAddress!, dg: dg, g: g, count: n) }
        for i in 0..<n { #expect(df[i] == dg[i] * g[i] * (1 - g[i]), "df[\(i)]") }
        // db = column sums of df, row 0 first
        var db = [T](repeating: .nan, count: cols)
        db.withUnsafeMutableBufferPointer { T.biasBackwardBlock($0.baseAddress!, df: df, rows: rows, cols: cols) }
        for c in 0..<cols {
            var s: T = 0
            for r in 0..<rows { s += df[r * cols + c] }
            #expect(db[c] == s, "db[\(c)]")
        }
    }

    @Test(arguments: [(1, 1), (3, 7), (9, 8), (5, 19), (32, 10), (17, 130), (256, 300), (513, 129), (64, 2048),
                      (2000, 40)])
    func equalsSwiftLoopsFloat(rows: Int, cols: Int) { check(Float.self, rows: rows, cols: cols) }

    @Test(arguments: [(1, 1), (3, 7), (9, 8), (5, 19), (32, 10), (17, 130), (256, 300), (513, 129), (64, 2048),
                      (2000, 40)])
    func equalsSwiftLoopsDouble(rows: Int, cols: Int) { check(Double.self, rows: rows, cols: cols) }
}

@Suite struct GemmTests {
    /// C = alpha op(A) op(B) + beta C through `T.gemm`, with padded leading
    /// dimensions, against the naive oracle. The large shapes are above the
    /// threshold where the product is split over threads (along m when
    /// m >= n, else along n), with lengths that leave a short last part.
    func check<T: MLPScalar>(_: T.Type, m: Int, n: Int, k: Int, tolerance: Double) {
        var data = TestData(seed: UInt64(m * 131 + n * 7 + k))
        let pad = 3, alpha: T = 0.75, beta: T = -0.5
        for transA in [false, true] {
            for transB in [false, true] {
                let lda = (transA ? m : k) + pad, ldb = (transB ? k : n) + pad, ldc = n + pad
                let a: [T] = data.uniform((transA ? k : m) * lda, -1, 1)
                let b: [T] = data.uniform((transB ? n : k) * ldb, -1, 1)
                let c0: [T] = data.uniform(m * ldc, -1, 1)
                var c = c0
                a.withUnsafeBufferPointer { ap in
                    b.withUnsafeBufferPointer { bp in
                        c.withUnsafeMutableBufferPointer { cp in
                            T.gemm(transA: transA, transB: transB, m: m, n: n, k: k,
                                   alpha: alpha, a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb,
                                   beta: beta, c: cp.baseAddress!, ldc: ldc)
                        }
                    }
                }
                let product = NaiveKernels.matmul(transA: transA, transB: transB, m: m, n: n, k: k,
                                                  a: a, lda: lda, b: b, ldb: ldb)
                var expected = c0
                for i in 0..<m {
                    for j in 0..<n { expected[i * ldc + j] = alpha * product[i * n + j] + beta * c0[i * ldc + j] }
                }
                // The padding columns of C are not part of the product: untouched.
                for i in 0..<m {
                    for j in n..<ldc { #expect(c[i * ldc + j] == c0[i * ldc + j]) }
                }
                #expect(relativeError(c, expected) <= tolerance,
                        "m \(m) n \(n) k \(k) transA \(transA) transB \(transB)")
            }
        }
    }

    static let shapes = [(5, 7, 3), (301, 90, 40), (70, 333, 50), (129, 130, 65), (17, 1000, 64)]

    @Test(arguments: shapes) func blasMatchesNaiveDouble(shape: (Int, Int, Int)) {
        check(Double.self, m: shape.0, n: shape.1, k: shape.2, tolerance: 1e-13)
    }

    @Test(arguments: shapes) func blasMatchesNaiveFloat(shape: (Int, Int, Int)) {
        check(Float.self, m: shape.0, n: shape.1, k: shape.2, tolerance: 1e-5)
    }

    /// Several threads multiplying at once: one of them gets the pool's
    /// workers, the others run their whole product themselves; every result
    /// is still the naive one.
    @Test func concurrentLargeProductsAreCorrect() async {
        await withTaskGroup(of: Void.self) { group in
            for t in 0..<4 {
                group.addTask { check(Double.self, m: 200 + t, n: 150, k: 64, tolerance: 1e-13) }
            }
        }
    }
}

/// The library's own small-product kernels (small_gemm.c), called directly
/// (the library takes them on OpenBLAS's AVX2 cores only, gemm.c), against
/// the naive oracle in the three forms they serve: every tile edge (rows up
/// to two outer tiles of 6 and dot tiles of 3 plus each remainder, columns
/// through both types' vector tails, k through every lane tail), padded
/// leading dimensions whose padding must stay untouched, and beta 0 over a
/// C of NaN (its old contents must not count).
@Suite struct SmallGemmTests {
    static let rows = [1, 2, 3, 4, 5, 6, 7, 12, 13], cols = [1, 3, 4, 5, 8, 9, 12, 15, 16, 17, 33]
    static let depths = [1, 3, 4, 5, 8, 9, 17]

    func check<T: MLPScalar>(_: T.Type, tolerance: Double) throws {
        try #require(Int(smlp_cpu_detected_level()) >= SMLP_CPU_AVX2, "the kernels need AVX2 and FMA")
        var data = TestData(seed: 29)
        let sentinel: T = 1234.5
        for (transA, transB) in [(false, false), (true, false), (false, true)] {
            for m in Self.rows {
                for n in Self.cols {
                    for k in Self.depths {
                        for beta: T in [0, -0.5] {
                            let lda = (transA ? m : k) + 2, ldb = (transB ? k : n) + 1, ldc = n + 3
                            let a: [T] = data.uniform((transA ? k : m) * lda, -1, 1)
                            let b: [T] = data.uniform((transB ? n : k) * ldb, -1, 1)
                            var c0: [T] = beta == 0 ? Array(repeating: .nan, count: m * ldc)
                                                    : data.uniform(m * ldc, -1, 1)
                            for i in 0..<m { for j in n..<ldc { c0[i * ldc + j] = sentinel } }
                            var c = c0
                            let alpha: T = 0.75
                            let done = a.withUnsafeBytes { ap in
                                b.withUnsafeBytes { bp in
                                    c.withUnsafeMutableBytes { cp in
                                        smlp_small_gemm_avx2(T.self == Double.self, transA, transB, Int32(m),
                                                             Int32(n), Int32(k), Double(alpha), ap.baseAddress,
                                                             Int32(lda), bp.baseAddress, Int32(ldb), Double(beta),
                                                             cp.baseAddress, Int32(ldc))
                                    }
                                }
                            }
                            let what = "m \(m) n \(n) k \(k) transA \(transA) transB \(transB) beta \(beta)"
                            #expect(done, "\(what)")
                            let product = NaiveKernels.matmul(transA: transA, transB: transB, m: m, n: n, k: k,
                                                              a: a, lda: lda, b: b, ldb: ldb)
                            var got: [T] = [], want: [T] = []
                            for i in 0..<m {
                                for j in 0..<n {
                                    got.append(c[i * ldc + j])
                                    want.append(alpha * product[i * n + j] + (beta == 0 ? 0 : beta * c0[i * ldc + j]))
                                }
                                for j in n..<ldc { #expect(c[i * ldc + j] == sentinel, "padding: \(what)") }
                            }
                            #expect(got.allSatisfy { $0.isFinite }, "\(what)")
                            #expect(relativeError(got, want) <= tolerance, "\(what)")
                        }
                    }
                }
            }
        }
    }

    @Test func matchNaiveDouble() throws { try check(Double.self, tolerance: 1e-14) }
    @Test func matchNaiveFloat() throws { try check(Float.self, tolerance: 2e-6) }

    /// op(A) = A^T with op(B) = B^T is not one of a layer's forms: refused,
    /// C untouched, as for an empty product.
    @Test func refusesOtherFormsAndEmptyProducts() {
        let a = [Double](repeating: 1, count: 16), b = a
        var c = [Double](repeating: 7, count: 16)
        #expect(!smlp_small_gemm_avx2(true, true, true, 4, 4, 4, 1, a, 4, b, 4, 0, &c, 4))
        #expect(!smlp_small_gemm_avx2(true, false, false, 0, 4, 4, 1, a, 4, b, 4, 0, &c, 4))
        #expect(!smlp_small_gemm_avx2(true, false, true, 4, 4, 0, 1, a, 4, b, 4, 0, &c, 4))
        #expect(c.allSatisfy { $0 == 7 })
    }
}

@Suite struct LossKernelTests {
    @Test func fusedBackwardMatchesSeparateKernels() {
        var data = TestData(seed: 3)
        let n = 12
        let g: [Double] = data.uniform(n, 0.01, 0.99)
        let y: [Double] = data.uniform(n, 0, 1)
        var dg = [Double](repeating: 0, count: n), df = dg
        let loss = Kernels.mseSigmoidBackward(dg: &dg, df: &df, g: g, y: y, count: n)
        #expect(abs(loss - Kernels.lossForward(.mse, f: g, g: g, y: y, rows: 3, cols: 4)) <= 1e-16)
        var df2 = [Double](repeating: 0, count: n)
        Kernels.activationBackward(.sigmoid, slope: 0, df: &df2, dg: dg, f: g, g: g, rows: 3, cols: 4)
        #expect(df == df2)
        for i in 0..<n { #expect(dg[i] == 2 / Double(n) * (g[i] - y[i])) }
    }

    /// The C kernel (8 interleaved partial sums of the loss) against the
    /// slides' formulas element by element in Swift: dg and df the same
    /// bits, the loss within rounding of a plain sum, at lengths around the
    /// 8 lanes and the vector widths.
    func mseSigmoidAgainstSwift<T: MLPScalar>(_: T.Type) {
        var data = TestData(seed: 29)
        for n in [1, 3, 7, 8, 9, 16, 17, 63, 64, 65, 320, 1003] {
            let g: [T] = data.uniform(n, 0.001, 0.999), y: [T] = data.uniform(n, 0, 1)
            var dg = [T](repeating: 0, count: n), df = dg
            let loss = Kernels.mseSigmoidBackward(dg: &dg, df: &df, g: g, y: y, count: n)
            let scale = T(2) / T(n)
            var sum = 0.0
            for i in 0..<n {
                let d = g[i] - y[i]
                sum += Double(d) * Double(d)
                #expect(dg[i] == scale * d)
                #expect(df[i] == scale * d * g[i] * (1 - g[i]))
            }
            // two sums of n terms: each within n u (relative) of the exact one
            #expect(abs(loss - sum / Double(n)) <= 2 * Double(n) * Double.ulpOfOne * sum / Double(n), "n = \(n)")
        }
    }

    /// MSE through another output: the same C kernel without df. dg the
    /// formula's bits, df = dg (identity), the loss within rounding of a
    /// plain sum.
    @Test func mseIdentityMatchesTheFormulas() {
        var data = TestData(seed: 31)
        let rows = 5, cols = 13, n = rows * cols
        let g: [Double] = data.uniform(n, -2, 2), y: [Double] = data.uniform(n, 0, 1)
        var dg = [Double](repeating: 0, count: n), df = dg
        let loss = Kernels.lossBackward(.mse, output: .identity, slope: 0, dg: &dg, df: &df, f: g, g: g, y: y,
                                        rows: rows, cols: cols)
        var sum = 0.0
        for i in 0..<n {
            let d = g[i] - y[i]
            sum += d * d
            #expect(dg[i] == 2 / Double(n) * d)
            #expect(df[i] == dg[i])
        }
        #expect(abs(loss - sum / Double(n)) <= 2 * Double(n) * Double.ulpOfOne * sum / Double(n))
    }

    @Test func mseSigmoidMatchesTheFormulasFloat() { mseSigmoidAgainstSwift(Float.self) }
    @Test func mseSigmoidMatchesTheFormulasDouble() { mseSigmoidAgainstSwift(Double.self) }

    @Test func allFiniteFindsNaNAndInfinity() {
        #expect(Kernels.allFinite([1.0, -2, 3], count: 3))
        #expect(!Kernels.allFinite([1.0, .nan, 3], count: 3))
        #expect(!Kernels.allFinite([1.0, .infinity, 3], count: 3))
        #expect(!Kernels.allFinite([Float(1), -.infinity], count: 2))
    }
}

@Suite struct DirectMatmulTests {
    func check<T: MLPScalar>(_: T.Type, tolerance: Double) {
        var data = TestData(seed: 17)
        for transA in [false, true] {
            for transB in [false, true] {
                for (m, n, k) in [(1, 1, 1), (4, 4, 2), (3, 7, 5), (16, 16, 16)] {
                    let a: [T] = data.uniform(m * k, -1, 1)
                    let b: [T] = data.uniform(k * n, -1, 1)
                    let lda = transA ? m : k, ldb = transB ? k : n
                    var c = [T](repeating: .nan, count: m * n)
                    Kernels.directMatmul(transA: transA, transB: transB, m: m, n: n, k: k,
                                         a: a, lda: lda, b: b, ldb: ldb, c: &c, ldc: n)
                    let naive = NaiveKernels.matmul(transA: transA, transB: transB, m: m, n: n, k: k,
                                                    a: a, lda: lda, b: b, ldb: ldb)
                    #expect(relativeError(c, naive) <= tolerance, "\(m)x\(n)x\(k) transA \(transA) transB \(transB)")
                }
            }
        }
    }

    @Test func directLoopsMatchNaiveDouble() { check(Double.self, tolerance: 1e-14) }
    @Test func directLoopsMatchNaiveFloat() { check(Float.self, tolerance: 1e-6) }
}
