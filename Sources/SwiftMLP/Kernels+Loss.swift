import RealModule

extension Kernels {
    /// Forward of the loss alone (validation, prediction): L from the output
    /// logits f, outputs g and dense targets y, each (B, N). See `Loss`.
    static func lossForward<T: MLPScalar>(
        _ loss: Loss, f: UnsafePointer<T>, g: UnsafePointer<T>, y: UnsafePointer<T>, rows: Int, cols: Int
    ) -> Double {
        let count = rows * cols
        var sum = 0.0
        switch loss {
        case .mse:
            for i in 0..<count { let d = Double(g[i] - y[i]); sum += d * d }
            return sum / Double(count)
        case .binaryCrossEntropy:
            for i in 0..<count { sum += Double(bceTerm(f[i], y[i])) }
            return sum / Double(count)
        case .crossEntropy:
            for r in 0..<rows {
                let o = r * cols
                let lse = logSumExp(f + o, cols)
                // A zero target contributes nothing, even where lse - f overflows.
                for c in 0..<cols where y[o + c] != 0 { sum += Double(y[o + c] * (lse - f[o + c])) }
            }
            return sum / Double(rows)
        }
    }

    /// Backward of the loss at the output layer: writes dL/dg_L and dL/df_L
    /// and returns L. Sigmoid+BCE and softmax+cross-entropy use the fused
    /// stable dL/df (g - y scaled); their dL/dg is the plain formula, which is
    /// infinite (or NaN) where g saturates to exactly 0 or 1.
    static func lossBackward<T: MLPScalar>(
        _ loss: Loss, output act: Activation, slope: T,
        dg: UnsafeMutablePointer<T>, df: UnsafeMutablePointer<T>,
        f: UnsafePointer<T>, g: UnsafePointer<T>, y: UnsafePointer<T>, rows: Int, cols: Int
    ) -> Double {
        let count = rows * cols
        var sum = 0.0
        switch loss {
        case .mse:
            if act == .sigmoid { return mseSigmoidBackward(dg: dg, df: df, g: g, y: y, count: count) }
            let sum = T.mseBackwardBlock(dg: dg, df: nil, g: g, y: y, count: count, scale: T(2) / T(count))
            activationBackward(act, slope: slope, df: df, dg: dg, f: f, g: g, rows: rows, cols: cols)
            return sum / Double(count)
        case .binaryCrossEntropy:
            let scale = 1 / T(count)
            for r in 0..<rows { bceRow(dg: dg, df: df, f: f, g: g, y: y, r * cols, cols, scale: scale, sum: &sum) }
            return sum / Double(count)
        case .crossEntropy:
            let scale = 1 / T(rows)
            for r in 0..<rows {
                crossEntropyRow(dg: dg, df: df, f: f, g: g, y: y, r * cols, cols, scale: scale, sum: &sum)
            }
            return sum / Double(rows)
        }
    }

    /// `lossBackward` with a weight per row (scikit-learn's weighted mean):
    /// L = sum_r w_r l_r / W, W = sum_r w_r > 0 (the caller's check), where
    /// l_r is row r's loss: for MSE and BCE the mean over its N outputs, for
    /// cross-entropy -sum_j y_j log softmax(f)_j. Row r's derivatives are
    /// those of the unweighted loss with 1/B replaced by w_r / W (the same
    /// row kernels, another coefficient): MSE dL/dg = 2 w_r/(W N) (g - y),
    /// then the activation's backward; BCE dL/df = w_r/(W N) (g - y);
    /// cross-entropy dL/df = w_r/W (g sum_j y_j - y). Each row's coefficient
    /// is formed in Double and rounded once; the loss is summed in Double.
    /// All-ones weights give the unweighted loss (not necessarily its last
    /// bits: the sums run in another order).
    static func weightedLossBackward<T: MLPScalar>(
        _ loss: Loss, output act: Activation, slope: T,
        dg: UnsafeMutablePointer<T>, df: UnsafeMutablePointer<T>,
        f: UnsafePointer<T>, g: UnsafePointer<T>, y: UnsafePointer<T>, weights w: UnsafePointer<T>,
        rows: Int, cols: Int
    ) -> Double {
        var total = 0.0
        for r in 0..<rows { total += Double(w[r]) }
        let n = Double(cols)
        var sum = 0.0
        for r in 0..<rows {
            let o = r * cols, wr = Double(w[r])
            var rowSum = 0.0
            switch loss {
            case .mse:
                rowSum = T.mseBackwardBlock(dg: dg + o, df: nil, g: g + o, y: y + o, count: cols,
                                            scale: T(2 * wr / (total * n)))
                sum += wr * (rowSum / n)
            case .binaryCrossEntropy:
                bceRow(dg: dg, df: df, f: f, g: g, y: y, o, cols, scale: T(wr / (total * n)), sum: &rowSum)
                sum += wr * (rowSum / n)
            case .crossEntropy:
                crossEntropyRow(dg: dg, df: df, f: f, g: g, y: y, o, cols, scale: T(wr / total), sum: &rowSum)
                sum += wr * rowSum
            }
        }
        if loss == .mse {
            activationBackward(act, slope: slope, df: df, dg: dg, f: f, g: g, rows: rows, cols: cols)
        }
        return sum / total
    }

    /// One row of binary cross-entropy's backward from the logits, `scale`
    /// 1/(B N) unweighted: dL/df = scale (g - y); dL/dg = dL/df / (g (1 - g));
    /// adds each element's loss (`bceTerm`) to `sum` in Double, in order.
    @inline(__always)
    static func bceRow<T: MLPScalar>(
        dg: UnsafeMutablePointer<T>, df: UnsafeMutablePointer<T>,
        f: UnsafePointer<T>, g: UnsafePointer<T>, y: UnsafePointer<T>,
        _ o: Int, _ cols: Int, scale: T, sum: inout Double
    ) {
        for i in o..<(o + cols) {
            let gi = g[i]
            let d = scale * (gi - y[i])
            df[i] = d
            dg[i] = d / (gi * (1 - gi))
            sum += Double(bceTerm(f[i], y[i]))
        }
    }

    /// One row of softmax cross-entropy's backward, `scale` 1/B unweighted:
    /// dL/df_j = scale (g_j sum_k y_k - y_j); dL/dg_j = -scale y_j / g_j;
    /// adds y_j (lse - f_j) to `sum` in Double. A zero target contributes
    /// nothing (not 0 * inf = NaN where lse - f overflows or g underflows
    /// to 0), and its dL/dg is 0.
    @inline(__always)
    static func crossEntropyRow<T: MLPScalar>(
        dg: UnsafeMutablePointer<T>, df: UnsafeMutablePointer<T>,
        f: UnsafePointer<T>, g: UnsafePointer<T>, y: UnsafePointer<T>,
        _ o: Int, _ cols: Int, scale: T, sum: inout Double
    ) {
        let lse = logSumExp(f + o, cols)
        var ySum: T = 0
        for c in 0..<cols { ySum += y[o + c] }
        for c in 0..<cols {
            let yc = y[o + c]
            df[o + c] = scale * (g[o + c] * ySum - yc)
            if yc == 0 {
                dg[o + c] = 0
            } else {
                sum += Double(yc * (lse - f[o + c]))
                dg[o + c] = -scale * yc / g[o + c]
            }
        }
    }

    /// Softmax cross-entropy with class-index targets (0 <= label < N, checked
    /// by the caller): the same as one-hot rows, without building them.
    static func crossEntropyLabelsBackward<T: MLPScalar>(
        dg: UnsafeMutablePointer<T>, df: UnsafeMutablePointer<T>,
        f: UnsafePointer<T>, g: UnsafePointer<T>, labels: UnsafePointer<Int64>, rows: Int, cols: Int
    ) -> Double {
        let scale = 1 / T(rows)
        var sum = 0.0
        for r in 0..<rows {
            let o = r * cols, k = Int(labels[r])
            sum += Double(logSumExp(f + o, cols) - f[o + k])
            for c in 0..<cols {
                df[o + c] = scale * g[o + c]
                dg[o + c] = 0
            }
            df[o + k] = scale * (g[o + k] - 1)
            dg[o + k] = -scale / g[o + k]
        }
        return sum / Double(rows)
    }

    /// The loss alone for class-index targets.
    static func crossEntropyLabelsForward<T: MLPScalar>(
        f: UnsafePointer<T>, labels: UnsafePointer<Int64>, rows: Int, cols: Int
    ) -> Double {
        var sum = 0.0
        for r in 0..<rows {
            let o = r * cols
            sum += Double(logSumExp(f + o, cols) - f[o + Int(labels[r])])
        }
        return sum / Double(rows)
    }

    /// MSE fused with the sigmoid's backward, one pass (the slides' network):
    /// dg = 2/count (g - y), df = dg g (1 - g). Returns the loss, the mean of
    /// (g - y)^2 summed in Double in 8 interleaved partial sums (C, vectorized
    /// for the running CPU: `MLPScalar.mseBackwardBlock`).
    static func mseSigmoidBackward<T: MLPScalar>(
        dg: UnsafeMutablePointer<T>, df: UnsafeMutablePointer<T>,
        g: UnsafePointer<T>, y: UnsafePointer<T>, count: Int
    ) -> Double {
        T.mseBackwardBlock(dg: dg, df: df, g: g, y: y, count: count, scale: T(2) / T(count)) / Double(count)
    }

    /// One element of binary cross-entropy from the logit:
    /// max(f, 0) - f y + log(1 + exp(-|f|)); finite for every finite f.
    @inline(__always)
    static func bceTerm<T: MLPScalar>(_ f: T, _ y: T) -> T {
        Swift.max(f, 0) - f * y + T.log(onePlus: T.expNonPositive(-Swift.abs(f)))
    }

    /// log(sum_j exp(x_j)) = m + log(sum_j exp(x_j - m)), m = max x.
    @inline(__always)
    static func logSumExp<T: MLPScalar>(_ x: UnsafePointer<T>, _ n: Int) -> T {
        var m = -T.infinity
        for i in 0..<n { m = Swift.max(m, x[i]) }
        var s: T = 0
        for i in 0..<n { s += T.expNonPositive(x[i] - m) }
        return m + T.log(s)
    }
}
