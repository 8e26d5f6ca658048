#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import SwiftMLP

@Suite struct FastExpTests {
    /// Distance in units in the last place between a and the reference b.
    func ulps(_ a: Double, _ b: Double) -> Double { abs(a - b) / b.ulp }
    func ulps(_ a: Float, _ b: Float) -> Float { abs(a - b) / b.ulp }

    @Test func doubleIsWithinTwoUlpsOfLibmDownToTheSmallestNormalResult() {
        var worst = 0.0
        var x = 0.0
        while x > -708.39 {
            let reference = exp(x)
            worst = max(worst, ulps(Double.expNonPositive(x), reference))
            x -= 0.0123456789
        }
        for x in [0.0, -0.0, -1e-300, -5e-324, -0.34657359027997264, -0.34657359027997270, -708.3] {
            worst = max(worst, ulps(Double.expNonPositive(x), exp(x)))
        }
        #expect(worst <= 2, "worst \(worst) ulps")
    }

    @Test func floatIsWithinTwoUlpsOfLibmDownToTheSmallestNormalResult() {
        var worst: Float = 0
        var x: Float = 0
        while x > -87.33 {
            let reference = Float(exp(Double(x)))
            worst = max(worst, ulps(Float.expNonPositive(x), reference))
            x -= 0.000731
        }
        #expect(worst <= 2, "worst \(worst) ulps")
    }

    @Test func belowTheNormalRangeAndAtMinusInfinityTheResultIsZero() {
        #expect(Double.expNonPositive(-709) == 0)
        #expect(Double.expNonPositive(-1000) == 0)
        #expect(Double.expNonPositive(-.infinity) == 0)
        #expect(Float.expNonPositive(-88) == 0)
        #expect(Float.expNonPositive(-.infinity) == 0)
        #expect(Double.expNonPositive(0) == 1)
        #expect(Float.expNonPositive(0) == 1)
    }

    @Test func nanAndHugeArgumentsNeitherTrapNorInventValues() {
        // inf - inf = NaN reaches exp when a softmax row overflows.
        #expect(Double.expNonPositive(.nan).isNaN)
        #expect(Float.expNonPositive(.nan).isNaN)
        #expect(Double.expNonPositive(.infinity) == 1)
        #expect(Double.expNonPositive(1e300) == 1)
        #expect(Float.expNonPositive(.infinity) == 1)
    }
}
