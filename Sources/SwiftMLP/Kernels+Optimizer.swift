import RealModule

extension Kernels {
    /// One step of `opt` (formulas in `Optimizer`), t >= 1 the step number.
    /// `s1`, `s2` are the state buffers (SGD momentum: s1 = buf; Adam: s1 = m,
    /// s2 = v). With `commit: false` nothing is written and the result tells
    /// whether every new parameter and state value would be finite.
    static func optimizerStep<T: MLPScalar>(
        _ opt: Optimizer, t: Int,
        params: UnsafeMutablePointer<T>, grads: UnsafePointer<T>,
        s1: UnsafeMutablePointer<T>?, s2: UnsafeMutablePointer<T>?,
        count: Int, commit: Bool
    ) -> Bool {
        let lr = T(opt.learningRate), wd = T(opt.weightDecay)
        var acc: T = 0
        switch opt.kind {
        case .sgd:
            let mu = T(opt.momentum)
            if let buf = s1 {
                for i in 0..<count {
                    let d = grads[i] + wd * params[i]
                    let b = mu * buf[i] + d
                    let step = opt.nesterov ? d + mu * b : b
                    let p = params[i] - lr * step
                    if commit { buf[i] = b; params[i] = p } else { acc += (p - p) + (b - b) }
                }
            } else {
                // The same operations, vectorized for the running CPU; the
                // check ORs integer flags (a float sum of p - p is one serial
                // chain of adds, 4 cycles per parameter).
                return T.sgdBlock(params, grads, count: count, lr: lr, wd: wd, commit: commit)
            }
        case .adam, .adamW:
            let m = s1.unsafelyUnwrapped, v = s2.unsafelyUnwrapped
            // Coefficients are formed in Double and rounded once, as NumPy
            // does with Python-float scalars: T(1 - 0.999), not 1 - T(0.999).
            let b1 = T(opt.beta1), b2 = T(opt.beta2), eps = T(opt.epsilon)
            let c1 = T(1 - opt.beta1), c2 = T(1 - opt.beta2)
            let decay = T(1 - opt.learningRate * opt.weightDecay)
            let bc1 = T(1 - Double.pow(opt.beta1, t)), bc2 = T(1 - Double.pow(opt.beta2, t))
            let decoupled = opt.kind == .adamW
            for i in 0..<count {
                var p = params[i]
                let d: T
                if decoupled {
                    p = p * decay
                    d = grads[i]
                } else {
                    d = grads[i] + wd * p
                }
                let mi = b1 * m[i] + c1 * d
                let vi = b2 * v[i] + c2 * d * d
                p = p - lr * (mi / bc1) / ((vi / bc2).squareRoot() + eps)
                if commit { m[i] = mi; v[i] = vi; params[i] = p } else { acc += (p - p) + (mi - mi) + (vi - vi) }
            }
        }
        return acc == 0
    }
}
