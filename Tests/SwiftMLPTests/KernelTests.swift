#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import SwiftMLP

@Suite struct SigmoidTests {
    @Test func extremesGiveExactlyZeroAndOneWithoutNaN() {
        #expect(Kernels.sigmoid(1000.0) == 1)
        #expect(Kernels.sigmoid(-1000.0) == 0)
        #expect(Kernels.sigmoid(Float(1000)) == 1)
        #expect(Kernels.sigmoid(Float(-1000)) == 0)
        #expect(Kernels.sigmoid(Double.infinity) == 1)
        #expect(Kernels.sigmoid(-Double.infinity) == 0)
    }

    @Test func matchesTheTextbookFormulaWhereItIsSafe() {
        for x in stride(from: -30.0, through: 30.0, by: 0.37) {
            let textbook = 1 / (1 + exp(-x))
            #expect(abs(Kernels.sigmoid(x) - textbook) <= 2 * Double.ulpOfOne * textbook)
        }
    }

    @Test func isSymmetric() {
        for x in stride(from: 0.0, through: 20.0, by: 0.5) {
            #expect(abs(Kernels.sigmoid(x) + Kernels.sigmoid(-x) - 1) <= 2 * Double.ulpOfOne)
        }
    }

    @Test func backwardAtExtremesIsFiniteAndZero() {
        var g = [Kernels.sigmoid(1000.0), Kernels.sigmoid(-1000.0)]
        let dg = [1.0, 1.0]
        var df = [Double](repeating: .nan, count: 2)
        df.withUnsafeMutableBufferPointer { d in
            Kernels.activationBackward(.sigmoid, slope: 0, df: d.baseAddress!, dg: dg, f: g, g: &g, rows: 1, cols: 2)
        }
        #expect(df == [0, 0])
    }
}

@Suite struct GemmTests {
    func check<T: MLPScalar>(_: T.Type, tolerance: Double) {
        var data = TestData(seed: 7)
        for transA in [false, true] {
            for transB in [false, true] {
                let m = 5, n = 7, k = 3
                let a: [T] = data.uniform(m * k, -1, 1)
                let b: [T] = data.uniform(k * n, -1, 1)
                let lda = transA ? m : k, ldb = transB ? k : n
                var c = [T](repeating: 0, count: m * n)
                a.withUnsafeBufferPointer { ap in
                    b.withUnsafeBufferPointer { bp in
                        c.withUnsafeMutableBufferPointer { cp in
                            T.gemm(transA: transA, transB: transB, m: m, n: n, k: k,
                                   alpha: 1, a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb,
                                   beta: 0, c: cp.baseAddress!, ldc: n)
                        }
                    }
                }
                let naive = NaiveKernels.matmul(transA: transA, transB: transB, m: m, n: n, k: k,
                                                a: a, lda: lda, b: b, ldb: ldb)
                #expect(relativeError(c, naive) <= tolerance, "transA \(transA) transB \(transB)")
            }
        }
    }

    @Test func blasMatchesNaiveDouble() { check(Double.self, tolerance: 1e-14) }
    @Test func blasMatchesNaiveFloat() { check(Float.self, tolerance: 1e-6) }
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
