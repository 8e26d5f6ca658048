extension Kernels {
    /// Products of at most this many multiply-adds skip BLAS: for them a BLAS
    /// call (argument checks, buffer management, packing) costs more than
    /// the arithmetic.
    static let directProductLimit = 4096

    /// Row-major C (m, n) = op(A) @ op(B), op(A) (m, k), op(B) (k, n):
    /// BLAS, or direct loops for tiny products. C is overwritten.
    @inline(__always)
    static func matmul<T: MLPScalar>(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
        c: UnsafeMutablePointer<T>, ldc: Int
    ) {
        if m * n * k > directProductLimit {
            T.gemm(transA: transA, transB: transB, m: m, n: n, k: k,
                   alpha: 1, a: a, lda: lda, b: b, ldb: ldb, beta: 0, c: c, ldc: ldc)
        } else {
            directMatmul(transA: transA, transB: transB, m: m, n: n, k: k,
                         a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc)
        }
    }

    /// The direct loops: each row of C accumulates rows of op(B) (axpy form,
    /// contiguous in j) where op(B) is B; dot products where it is B^T.
    static func directMatmul<T: MLPScalar>(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
        c: UnsafeMutablePointer<T>, ldc: Int
    ) {
        for i in 0..<m {
            let ci = c + i * ldc
            if transB {
                // C[i, j] = sum_p op(A)[i, p] * B[j, p]
                for j in 0..<n {
                    let bj = b + j * ldb
                    var s: T = 0
                    if transA {
                        for p in 0..<k { s += a[p * lda + i] * bj[p] }
                    } else {
                        let ai = a + i * lda
                        for p in 0..<k { s += ai[p] * bj[p] }
                    }
                    ci[j] = s
                }
            } else {
                // C[i, :] = sum_p op(A)[i, p] * B[p, :]
                for j in 0..<n { ci[j] = 0 }
                for p in 0..<k {
                    let aip = transA ? a[p * lda + i] : a[i * lda + p]
                    let bp = b + p * ldb
                    for j in 0..<n { ci[j] += aip * bp[j] }
                }
            }
        }
    }
}
