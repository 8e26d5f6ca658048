import CSwiftMLPKernels

/// exp(x) for x <= 0, branch-free so that kernel loops vectorize: the
/// library's one exp, `smlp_exp_nonpositive_*` in smlp_kernels.h (static
/// inline C, inlined here), which the C sigmoid uses too. Results below the
/// smallest normal number are flushed to 0; NaN gives NaN, a positive
/// argument (never passed) gives 1; within 2 ulps of the correctly rounded
/// result. No input traps.
extension Double {
    @inline(__always)
    public static func expNonPositive(_ x: Double) -> Double { smlp_exp_nonpositive_f64(x) }
}

extension Float {
    @inline(__always)
    public static func expNonPositive(_ x: Float) -> Float { smlp_exp_nonpositive_f32(x) }
}
