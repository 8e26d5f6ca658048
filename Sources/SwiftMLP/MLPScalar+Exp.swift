/// exp(x) for x <= 0 in straight-line code (no calls, no branches), so that
/// the loops of the activation kernels vectorize. Cody-Waite reduction
/// x = n ln2 + r with |r| <= ln2/2, a Taylor polynomial for e^r (degree 13
/// for Double, 7 for Float: truncation below half an ulp) evaluated as
/// 1 + r Q(r) with Estrin's scheme (a short dependency chain), and 2^n from
/// the exponent bits. Sources/CSwiftMLPKernels/elementwise.c has the same
/// operations in C (a test compares the bits). Results below the smallest normal number are flushed to 0
/// (the true values are below 2.3e-308 / 1.2e-38); NaN gives NaN, a positive
/// argument (never passed) gives 1. Accuracy: within a few ulps of the
/// correctly rounded result (checked in the tests). No input traps.
extension Double {
    @inline(__always)
    public static func expNonPositive(_ x: Double) -> Double {
        let lowest = -708.3964185322641          // ln(Double.leastNormalMagnitude)
        // Clamp into [lowest, 0] with comparisons that send NaN to `lowest`:
        // the conversion to Int64 below must never see NaN or a huge value
        // (it would trap); NaN is passed through at the end.
        let v = x > lowest ? (x < 0 ? x : 0) : lowest
        // Round to nearest by adding and subtracting 1.5 * 2^52 (no call to
        // rint on CPUs without SSE4.1's roundsd; |v log2 e| < 2^51).
        let shifter = 6755399441055744.0
        let k = v * 1.4426950408889634 + shifter   // n sits in k's low mantissa bits
        let n = k - shifter
        let r = (v - n * 6.93147180369123816490e-01) - n * 1.90821492927058770002e-10
        // e^r = 1 + r Q(r), Q(r) = sum of r^i / (i+1)! for i <= 12, by Estrin's
        // scheme: independent pairs combined with r^2, r^4, r^8, so that the
        // dependency chain is 5 multiply-adds deep instead of Horner's 13 (a
        // short block is bound by that latency).
        let r2 = r * r, r4 = r2 * r2, r8 = r4 * r4
        let a0 = 1.0 + r * 0.5
        let a1 = 1.0 / 6.0 + r * (1.0 / 24.0)
        let a2 = 1.0 / 120.0 + r * (1.0 / 720.0)
        let a3 = 1.0 / 5040.0 + r * (1.0 / 40320.0)
        let a4 = 1.0 / 362880.0 + r * (1.0 / 3628800.0)
        let a5 = 1.0 / 39916800.0 + r * (1.0 / 479001600.0)
        let a6 = 1.0 / 6227020800.0
        let b0 = a0 + a1 * r2, b1 = a2 + a3 * r2, b2 = a4 + a5 * r2
        let d0 = b0 + b1 * r4, d1 = b2 + a6 * r4
        let q = d0 + d1 * r8
        let p = q * r + 1.0
        // 2^n from the bits of k (no float-to-integer conversion, which
        // could trap and so keeps the loop from vectorizing).
        let scale = Double(bitPattern: (k.bitPattern &- shifter.bitPattern &+ 1023) &<< 52)
        return x < lowest ? 0 : (x == x ? p * scale : x)
    }
}

extension Float {
    @inline(__always)
    public static func expNonPositive(_ x: Float) -> Float {
        let lowest: Float = -87.33654                // ln(Float.leastNormalMagnitude)
        let v = x > lowest ? (x < 0 ? x : 0) : lowest   // NaN -> lowest, as for Double
        let shifter: Float = 12582912                 // 1.5 * 2^23, as for Double
        let k = v * 1.44269504 + shifter
        let n = k - shifter
        let r = (v - n * 0.693145751953125) - n * 1.428606765330187045e-06
        // e^r = 1 + r Q(r), Q of degree 6 by Estrin's scheme, as for Double.
        let r2 = r * r, r4 = r2 * r2
        let a0: Float = 1.0 + r * 0.5
        let a1: Float = 1.0 / 6.0 + r * (1.0 / 24.0)
        let a2: Float = 1.0 / 120.0 + r * (1.0 / 720.0)
        let a3: Float = 1.0 / 5040.0
        let b0 = a0 + a1 * r2, b1 = a2 + a3 * r2
        let q = b0 + b1 * r4
        let p = q * r + 1.0
        let scale = Float(bitPattern: (k.bitPattern &- shifter.bitPattern &+ 127) &<< 23)
        return x < lowest ? 0 : (x == x ? p * scale : x)
    }
}
