import CSwiftMLPKernels
import Testing

/// The thread pool's per-shape choice between splitting a product over its
/// workers (way 0) and running it on the caller alone (way 1), driven
/// through its rule (`smlp_pool_choose`, `smlp_pool_mean`) with chosen
/// times instead of a clock, the way `smlp_pool_run` applies it to one key.
@Suite struct PoolChoiceTests {
    static let split: Int32 = 0, whole: Int32 = 1
    static let explore = Int(SMLP_POOL_EXPLORE_EVERY), warmup = Int(SMLP_POOL_WARMUP_USES)

    /// The ways `uses` uses of one key take when a run of use `u` the way
    /// `w` takes `ns(u, w)` nanoseconds.
    func ways(_ uses: Int, _ ns: (Int, Int32) -> UInt64) -> [Int32] {
        var mean: [UInt64] = [0, 0]
        return (0..<uses).map { u in
            let way = smlp_pool_choose(UInt32(u), mean[0], mean[1])
            mean[Int(way)] = smlp_pool_mean(UInt32(u), mean[Int(way)], ns(u, way))
            return way
        }
    }

    /// Uses in `range` that try the way not chosen.
    func explorations(_ range: Range<Int>) -> Int {
        range.filter { $0 >= Self.warmup && $0 % Self.explore == 0 }.count
    }

    func count(_ way: Int32, _ ways: ArraySlice<Int32>) -> Int { ways.filter { $0 == way }.count }

    @Test func theFasterWayIsTakenExceptWhenExploring() {
        let w = ways(2400) { _, way in way == Self.split ? 50_000 : 100_000 }
        #expect(Array(w[0..<Self.warmup]) == [0, 1, 0, 1, 0, 1])
        #expect(count(Self.whole, w[Self.warmup...]) == explorations(Self.warmup..<2400))
        let v = ways(2400) { _, way in way == Self.split ? 100_000 : 50_000 }
        #expect(count(Self.split, v[Self.warmup...]) == explorations(Self.warmup..<2400))
    }

    /// A split run whose worker lost its CPU (14× the usual time, one use
    /// in 50) must not send the key to one thread: it weighs as twice the
    /// mean at most.
    @Test func preemptedRunsDoNotMoveTheChoice() {
        let w = ways(2400) { u, way in way == Self.split ? (u % 50 == 7 ? 700_000 : 50_000) : 100_000 }
        #expect(count(Self.whole, w[Self.warmup...]) == explorations(Self.warmup..<2400))
    }

    /// Another process takes a CPU at use 1000 (split now 3× whole) and
    /// leaves at 1500: the choice moves to whole within 3 uses, and back to
    /// split at the first exploration after 1500 (the exploring run's time
    /// replaces the stale mean of the way not taken).
    @Test func aChangeOfLoadMovesTheChoiceBothWays() {
        let w = ways(2400) { u, way in
            way == Self.whole ? 100_000 : (1000..<1500).contains(u) ? 300_000 : 50_000
        }
        #expect(count(Self.whole, w[..<1000]) == 3 + explorations(Self.warmup..<1000))
        #expect(Array(w[1000..<1003]) == [0, 0, 0])
        #expect(notOnlyExplorations(take: Self.split, w, 1003..<1500) == [])
        let back = (1500...).first { $0.isMultiple(of: Self.explore) }!
        #expect(w[back] == Self.split)
        #expect(notOnlyExplorations(take: Self.whole, w, back + 1..<2400) == [])
    }

    /// The uses in `range` that break "exactly the exploring uses take `way`".
    func notOnlyExplorations(take way: Int32, _ w: [Int32], _ range: Range<Int>) -> [Int] {
        range.filter { u in (w[u] == way) != u.isMultiple(of: Self.explore) }
    }

    @Test func theMeanRule() {
        #expect(smlp_pool_mean(0, 0, 9_000_000) == 0)        // cold uses are not counted
        #expect(smlp_pool_mean(1, 0, 9_000_000) == 0)
        #expect(smlp_pool_mean(2, 0, 80_000) == 80_000)      // the first counted time
        #expect(smlp_pool_mean(7, 100, 60) == 90)            // a quarter of the way
        #expect(smlp_pool_mean(7, 100, 10_000) == 125)       // at most twice the mean counts
        #expect(smlp_pool_mean(128, 100, 10_000) == 10_000)  // exploring: replaces the stale mean
        #expect(smlp_pool_choose(9, 100, 100) == 1)          // a tie runs whole ...
        #expect(smlp_pool_choose(9, 1600, 1699) == 1)        // ... and so does whole within 1/16 of split
        #expect(smlp_pool_choose(9, 1600, 1700) == 0)        // split when whole takes 1/16 longer
        #expect(smlp_pool_choose(128, 100, 200) == 1)        // exploring takes the slower way
    }
}
