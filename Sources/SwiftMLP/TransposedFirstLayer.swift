import CSwiftMLPBLAS

/// The first layer's weights and their gradient held transposed while `fit`
/// trains (Network+Fit.swift): W^T (N0, N1) and (dL/dW)^T, row-major.
///
/// A layer's forward product x W^T reaches OpenBLAS 0.3.21 in a form its
/// small-matrix kernels refuse at shapes like the digits', so the BLAS layer
/// copies W transposed before every such product (`smlp_gemm_transposes_b`;
/// ~8% of a digits fit step). Only the first layer's forward product and its
/// dL/dW read its W (no dL/dg_0 is computed), so with W^T held here the
/// forward passes it as it is, the same NN product on the same numbers as
/// after the copy, and the backward writes (dL/dW)^T = g_0^T dL/df_1. Plain
/// SGD is element-wise, so it steps W^T with (dL/dW)^T exactly as it would
/// step W with dL/dW: a fit gives the same bits either way (tests compare).
/// `fit` writes W and dL/dW back before anything reads them.
struct TransposedFirstLayer<Scalar: MLPScalar> {
    /// W^T (nIn, nOut).
    let w: AlignedBuffer<Scalar>
    /// (dL/dW)^T (nIn, nOut).
    let dw: AlignedBuffer<Scalar>
    let nIn: Int
    let nOut: Int

    init(nIn: Int, nOut: Int) throws(MLPError) {
        let w = try AlignedBuffer<Scalar>(count: nIn * nOut)
        let dw: AlignedBuffer<Scalar>
        do {
            dw = try AlignedBuffer<Scalar>(count: nIn * nOut)
        } catch {
            w.deallocate()
            throw error
        }
        self.w = w
        self.dw = dw
        self.nIn = nIn
        self.nOut = nOut
    }

    /// Whether `fit` keeps the first layer transposed: the step is one this
    /// type can take (no optimizer state: `Network.applyStep`), the first
    /// layer's W starts the parameter buffer (`Layout` puts it there) and
    /// `transposes(layout:batch:)` at the batch size. Not with gradient
    /// clipping: its norm sums every gradient, and with (dL/dW)^T held here
    /// the order of that sum, so its rounding, would differ from the
    /// untransposed fit's (the invariant: both give the same bits). Sample
    /// weights change only the loss's dL/df, so they keep this path.
    static func pays(layout: Layout, batch: Int, optimizer: Optimizer) -> Bool {
        optimizer.stateBufferCount == 0 && optimizer.maxGradNorm == 0 && layout.weightOffsets[0] == 0
            && transposes(layout: layout, batch: batch)
    }

    /// Whether the first layer's forward product at `batch` rows goes
    /// through BLAS (`Kernels.matmul`) and the BLAS layer copies W
    /// transposed for it: exactly the batches for which holding W^T gives
    /// the same bits.
    static func transposes(layout: Layout, batch: Int) -> Bool {
        let nIn = layout.sizes[0], nOut = layout.sizes[1]
        guard batch * nOut * nIn > Kernels.directProductLimit else { return false }
        // batch <= 2^28 and sizes <= 2^24 (Limits): clamping never changes them.
        return smlp_gemm_transposes_b(Scalar.dtype == .float64, Int32(clamping: batch), Int32(clamping: nOut),
                                      Int32(clamping: nIn))
    }

    /// W^T = the transpose of w0, the first layer's W (nOut, nIn).
    func load(weights w0: UnsafePointer<Scalar>) {
        Scalar.transpose(w0, lds: nIn, into: w.base, n: nOut, k: nIn)
    }

    /// Writes W (nOut, nIn) to w0.
    func writeBack(weights w0: UnsafeMutablePointer<Scalar>) {
        Scalar.transpose(w.base, lds: nOut, into: w0, n: nIn, k: nOut)
    }

    /// Writes dL/dW (nOut, nIn) to dw0.
    func writeBack(gradient dw0: UnsafeMutablePointer<Scalar>) {
        Scalar.transpose(dw.base, lds: nOut, into: dw0, n: nIn, k: nOut)
    }

    func deallocate() {
        w.deallocate()
        dw.deallocate()
    }
}
