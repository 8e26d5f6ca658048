import CSwiftMLPKernels
import RealModule

extension Kernels {
    /// The coefficients of one step of `opt` (formulas in `Optimizer`), t >= 1
    /// the step number, for `MLPScalar.optimizerBlock`
    /// (the element loops, in C), each rounded to T once. Those of Adam are
    /// formed in Double and then rounded, as NumPy does with Python-float
    /// scalars: T(1 - 0.999), not 1 - T(0.999).
    /// `gradientScale`: clipping's coefficient (`Network.clipCoefficient`), 1 without.
    static func coefficients<T: MLPScalar>(_ opt: Optimizer, t: Int, gradientScale: Double = 1,
                                           as: T.Type) -> smlp_optimizer_coefficients {
        func r(_ v: Double) -> Double { Double(T(v)) }
        var c = smlp_optimizer_coefficients()
        c.gs = r(gradientScale)
        c.lr = r(opt.learningRate)
        c.wd = r(opt.weightDecay)
        switch opt.kind {
        case .sgd:
            c.kind = Int32(opt.stateBufferCount == 0 ? SMLP_STEP_SGD : SMLP_STEP_MOMENTUM)
            c.mu = r(opt.momentum)
            c.nesterov = opt.nesterov ? 1 : 0
        case .adam, .adamW:
            c.kind = Int32(opt.kind == .adamW ? SMLP_STEP_ADAMW : SMLP_STEP_ADAM)
            c.b1 = r(opt.beta1)
            c.b2 = r(opt.beta2)
            c.eps = r(opt.epsilon)
            c.c1 = r(1 - opt.beta1)
            c.c2 = r(1 - opt.beta2)
            c.decay = r(1 - opt.learningRate * opt.weightDecay)
            c.bc1 = r(1 - Double.pow(opt.beta1, t))
            c.bc2 = r(1 - Double.pow(opt.beta2, t))
        }
        return c
    }
}
