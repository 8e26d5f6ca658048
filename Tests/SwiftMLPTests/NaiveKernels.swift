import Foundation
@testable import SwiftMLP

/// The naive twins of the tuned kernels: plain loops written straight from
/// the slides' index formulas, the test oracle for the BLAS path (llm.c's
/// `matmul_forward_naive`). Part of the tests, not of the library.
enum NaiveKernels {
    /// sigmoid(x) = 1 / (1 + e^-x) in Double with the C library's exp (in
    /// the form e^x / (1 + e^x) below 0, which does not overflow), rounded
    /// once to T.
    static func sigmoid<T: MLPScalar>(_ x: T) -> T {
        let v = Double(x)
        return T(v >= 0 ? 1 / (1 + Foundation.exp(-v)) : Foundation.exp(v) / (1 + Foundation.exp(v)))
    }

    /// Row-major C (m, n) = op(A) (m, k) @ op(B) (k, n) by the definition
    /// C[i, j] = sum_p op(A)[i, p] * op(B)[p, j].
    static func matmul<T: MLPScalar>(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: [T], lda: Int, b: [T], ldb: Int
    ) -> [T] {
        var c = [T](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var sum: T = 0
                for p in 0..<k {
                    let aip = transA ? a[p * lda + i] : a[i * lda + p]
                    let bpj = transB ? b[j * ldb + p] : b[p * ldb + j]
                    sum += aip * bpj
                }
                c[i * n + j] = sum
            }
        }
        return c
    }

    /// Every quantity of one forward and backward pass, by the slides' index
    /// formulas, for a batch of `batch` rows. `params` uses the flat layout.
    struct Pass<T: MLPScalar> {
        var f: [[T]] = []   // f[a], a = 1...L (f[0] unused, empty)
        var g: [[T]] = []   // g[0] = x
        var dg: [[T]] = []  // dL/dg[a]
        var df: [[T]] = []  // dL/df[a]
        var loss: Double = 0
        var grads: [T] = []
    }

    static func pass<T: MLPScalar>(layout: Layout, params: [T], x: [T], y: [T], batch: Int) -> Pass<T> {
        let sizes = layout.sizes, L = layout.layerCount
        var r = Pass<T>()
        r.g = [x]
        r.f = [[]]
        // f_i = sum_j W_ij g_j + b_i ;  g_i = sigmoid(f_i)
        for l in 0..<L {
            let nIn = sizes[l], nOut = sizes[l + 1]
            var f = [T](repeating: 0, count: batch * nOut)
            var g = f
            for s in 0..<batch {
                for i in 0..<nOut {
                    var sum = params[layout.biasOffsets[l] + i]
                    for j in 0..<nIn {
                        sum += params[layout.weightOffsets[l] + i * nIn + j] * r.g[l][s * nIn + j]
                    }
                    f[s * nOut + i] = sum
                    g[s * nOut + i] = 1 / (1 + T.exp(-sum))
                }
            }
            r.f.append(f)
            r.g.append(g)
        }
        r.dg = sizes.map { [T](repeating: 0, count: batch * $0) }
        r.df = r.dg
        r.grads = [T](repeating: 0, count: layout.parameterCount)
        // L = 1/(B N_L) sum (g - y)^2 ;  dL/dg_i = 2/(B N_L) (g_i - y_i)
        let count = batch * sizes[L]
        var sum = 0.0
        for i in 0..<count {
            let d = r.g[L][i] - y[i]
            sum += Double(d * d)
            r.dg[L][i] = 2 / T(count) * d
        }
        r.loss = sum / Double(count)
        for l in stride(from: L - 1, through: 0, by: -1) {
            let a = l + 1, nIn = sizes[l], nOut = sizes[a]
            // dL/df_i = dL/dg_i g_i (1 - g_i)
            for i in 0..<(batch * nOut) { r.df[a][i] = r.dg[a][i] * r.g[a][i] * (1 - r.g[a][i]) }
            for s in 0..<batch {
                for i in 0..<nOut {
                    let dfi = r.df[a][s * nOut + i]
                    // dL/db_i = sum over the batch of dL/df_i
                    r.grads[layout.biasOffsets[l] + i] += dfi
                    for j in 0..<nIn {
                        // dL/dW_ij = dL/df_i g_j
                        r.grads[layout.weightOffsets[l] + i * nIn + j] += dfi * r.g[l][s * nIn + j]
                        // dL/dg_j = sum_i dL/df_i W_ij
                        r.dg[l][s * nIn + j] += dfi * params[layout.weightOffsets[l] + i * nIn + j]
                    }
                }
            }
        }
        return r
    }
}
