@testable import SwiftMLP

/// Largest |a - b| relative to the largest |b| (1 when b is all zero).
func relativeError<T: MLPScalar>(_ a: [T], _ b: [T]) -> Double {
    precondition(a.count == b.count)
    var diff = 0.0, scale = 0.0
    for i in a.indices {
        diff = max(diff, abs(Double(a[i]) - Double(b[i])))
        scale = max(scale, abs(Double(b[i])))
    }
    return diff / max(scale, .leastNormalMagnitude)
}

/// Deterministic test data from the library's own documented generator.
struct TestData {
    var rng: SplitMix64
    init(seed: UInt64) { rng = SplitMix64(seed: seed) }
    mutating func uniform<T: MLPScalar>(_ count: Int, _ lo: Double, _ hi: Double) -> [T] {
        (0..<count).map { _ in T(lo + (hi - lo) * rng.nextUnitDouble()) }
    }
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(rng.next() % UInt64(range.count))
    }
}
