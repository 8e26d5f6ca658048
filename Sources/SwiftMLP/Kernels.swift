import RealModule

/// The element-wise kernels of the network, forward and backward side by
/// side. Matrix products are not here: they go through BLAS (`MLPScalar.gemm`).
/// Shapes are row-major; `rows` is the batch B. Pointers come from buffers
/// the network owns and has sized; no kernel allocates.
enum Kernels {
    /// sigmoid(x) = 1 / (1 + exp(-x)), in a form that never overflows:
    /// exp is only taken of a non-positive number.
    @inline(__always)
    static func sigmoid<T: MLPScalar>(_ x: T) -> T {
        if x >= 0 {
            return 1 / (1 + T.exp(-x))
        } else {
            let e = T.exp(x)
            return e / (1 + e)
        }
    }

    // MARK: bias + sigmoid

    /// Forward: f (B, N) += b (N) broadcast over the batch; g = sigmoid(f).
    /// One pass over f (f already holds g_prev @ W^T from BLAS).
    static func biasSigmoidForward<T: MLPScalar>(
        f: UnsafeMutablePointer<T>, g: UnsafeMutablePointer<T>,
        bias: UnsafePointer<T>, rows: Int, cols: Int
    ) {
        for r in 0..<rows {
            let fr = f + r * cols
            let gr = g + r * cols
            for c in 0..<cols {
                let v = fr[c] + bias[c]
                fr[c] = v
                gr[c] = sigmoid(v)
            }
        }
    }

    /// Backward of the sigmoid: dL/df = dL/dg * g * (1 - g), element-wise over `count`.
    static func sigmoidBackward<T: MLPScalar>(
        df: UnsafeMutablePointer<T>, dg: UnsafePointer<T>, g: UnsafePointer<T>, count: Int
    ) {
        for i in 0..<count {
            let gi = g[i]
            df[i] = dg[i] * gi * (1 - gi)
        }
    }

    /// Backward of the bias broadcast: db (N) = sum over the batch of df (B, N).
    static func biasBackward<T: MLPScalar>(
        db: UnsafeMutablePointer<T>, df: UnsafePointer<T>, rows: Int, cols: Int
    ) {
        for c in 0..<cols { db[c] = 0 }
        for r in 0..<rows {
            let dfr = df + r * cols
            for c in 0..<cols { db[c] += dfr[c] }
        }
    }

    // MARK: MSE loss

    /// Forward of the loss: L = mean((g - y)^2) over all `count` = B*N elements,
    /// accumulated in Double.
    static func mseForward<T: MLPScalar>(g: UnsafePointer<T>, y: UnsafePointer<T>, count: Int) -> Double {
        var sum = 0.0
        for i in 0..<count {
            let d = Double(g[i] - y[i])
            sum += d * d
        }
        return sum / Double(count)
    }

    /// Backward of the loss fused with the output sigmoid's backward, one pass:
    /// dg = 2/count * (g - y), df = dg * g * (1 - g). Returns the loss.
    static func mseSigmoidBackward<T: MLPScalar>(
        dg: UnsafeMutablePointer<T>, df: UnsafeMutablePointer<T>,
        g: UnsafePointer<T>, y: UnsafePointer<T>, count: Int
    ) -> Double {
        let scale = T(2) / T(count)
        var sum = 0.0
        for i in 0..<count {
            let gi = g[i]
            let d = gi - y[i]
            let wide = Double(d)
            sum += wide * wide
            let dgi = scale * d
            dg[i] = dgi
            df[i] = dgi * gi * (1 - gi)
        }
        return sum / Double(count)
    }

    // MARK: optimizer

    /// Plain SGD: p -= lr * dp over `count` parameters.
    static func sgdStep<T: MLPScalar>(
        params: UnsafeMutablePointer<T>, grads: UnsafePointer<T>, count: Int, lr: T
    ) {
        for i in 0..<count { params[i] -= lr * grads[i] }
    }

    // MARK: validation

    /// True when every element is finite. Branch-free: x - x is 0 for a
    /// finite x and NaN for an infinity or NaN, and NaN sticks in the sum.
    static func allFinite<T: MLPScalar>(_ p: UnsafePointer<T>, count: Int) -> Bool {
        var acc: T = 0
        for i in 0..<count { acc += p[i] - p[i] }
        return acc == 0
    }
}
