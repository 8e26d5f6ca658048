import Testing
@testable import SwiftMLP

@Suite struct NetworkMathTests {
    /// The BLAS path against the naive twin, every quantity, many shapes.
    func checkAgainstNaive<T: MLPScalar>(_: T.Type, tolerance: Double) throws {
        var data = TestData(seed: 11)
        for trial in 0..<20 {
            let depth = data.int(1...4)
            let sizes = (0...depth).map { _ in data.int(1...17) }
            let batch = data.int(1...9)
            let net = try Network<T>(sizes: sizes, seed: UInt64(trial))
            let x: [T] = data.uniform(batch * sizes[0], -2, 2)
            let y: [T] = data.uniform(batch * sizes[depth], 0, 1)
            let oracle = NaiveKernels.pass(layout: net.layout, params: net.parameters, x: x, y: y, batch: batch)
            let out = try net.forward(x, batch: batch)
            let loss = try net.backward(y, batch: batch)
            #expect(relativeError(out, oracle.g[depth]) <= tolerance, "outputs \(sizes) B=\(batch)")
            #expect(abs(loss - oracle.loss) <= tolerance * max(oracle.loss, 1e-300), "loss \(sizes)")
            #expect(relativeError(try net.gradients(), oracle.grads) <= tolerance, "grads \(sizes) B=\(batch)")
            let cache = net.cache!
            for a in 1...depth {
                let n = batch * sizes[a]
                #expect(relativeError(Array(UnsafeBufferPointer(start: cache.f(a), count: n)), oracle.f[a]) <= tolerance)
                #expect(relativeError(Array(UnsafeBufferPointer(start: cache.df(a), count: n)), oracle.df[a]) <= tolerance)
            }
        }
    }

    @Test func doubleMatchesNaiveTwin() throws { try checkAgainstNaive(Double.self, tolerance: 1e-12) }
    @Test func floatMatchesNaiveTwin() throws { try checkAgainstNaive(Float.self, tolerance: 1e-5) }

    @Test func gradientsMatchCentralFiniteDifferences() throws {
        var data = TestData(seed: 5)
        let sizes = [4, 6, 5, 3], batch = 3
        let net = try Network<Double>(sizes: sizes, seed: 99)
        let x: [Double] = data.uniform(batch * 4, -2, 2)
        let y: [Double] = data.uniform(batch * 3, 0, 1)
        _ = try net.forward(x, batch: batch)
        _ = try net.backward(y, batch: batch)
        let analytic = try net.gradients()
        let base = net.parameters
        // h balances truncation error (~h^2) against rounding in the loss (~eps L / h).
        let h = 1e-4
        var worst = 0.0
        for i in base.indices {
            var p = base
            p[i] = base[i] + h
            try net.setParameters(p)
            _ = try net.forward(x, batch: batch)
            let up = try net.backward(y, batch: batch)
            p[i] = base[i] - h
            try net.setParameters(p)
            _ = try net.forward(x, batch: batch)
            let down = try net.backward(y, batch: batch)
            let numeric = (up - down) / (2 * h)
            let err = abs(numeric - analytic[i]) / max(abs(numeric), abs(analytic[i]), 1e-8)
            worst = max(worst, err)
        }
        #expect(worst <= 1e-6, "largest relative error \(worst)")
    }

    @Test func stepIsPlainSGD() throws {
        var data = TestData(seed: 8)
        let net = try Network<Double>(sizes: [3, 4, 2], seed: 1)
        let x: [Double] = data.uniform(6, -1, 1), y: [Double] = data.uniform(4, 0, 1)
        _ = try net.forward(x, batch: 2)
        _ = try net.backward(y, batch: 2)
        let before = net.parameters, grads = try net.gradients()
        try net.step(learningRate: 0.25)
        let after = net.parameters
        for i in before.indices { #expect(after[i] == before[i] - 0.25 * grads[i]) }
    }

    @Test func xorTrainingConverges() throws {
        let net = try Network<Double>(sizes: [2, 4, 1], seed: 3)
        let x: [Double] = [0, 0, 0, 1, 1, 0, 1, 1], y: [Double] = [0, 1, 1, 0]
        _ = try net.forward(x, batch: 4)
        let first = try net.backward(y, batch: 4)
        var last = first
        for _ in 0..<20000 {
            try net.step(learningRate: 2.0)
            _ = try net.forward(x, batch: 4)
            last = try net.backward(y, batch: 4)
        }
        let out = try net.forward(x, batch: 4)
        #expect(last < 0.01, "loss went from \(first) to \(last)")
        #expect(out.map { $0 > 0.5 } == [false, true, true, false])
    }
}

@Suite struct NetworkInitTests {
    @Test func sameSeedGivesIdenticalParametersAndFloatRoundsTheDoubleDraws() throws {
        let a = try Network<Double>(sizes: [5, 3, 2], seed: 42)
        let b = try Network<Double>(sizes: [5, 3, 2], seed: 42)
        let c = try Network<Double>(sizes: [5, 3, 2], seed: 43)
        let f = try Network<Float>(sizes: [5, 3, 2], seed: 42)
        #expect(a.parameters == b.parameters)
        #expect(a.parameters != c.parameters)
        #expect(f.parameters == a.parameters.map { Float($0) })
    }

    @Test func parametersFollowTheDocumentedDraws() throws {
        let net = try Network<Double>(sizes: [4, 3, 2], seed: 2026)
        var rng = SplitMix64(seed: 2026)
        var expected: [Double] = []
        for (nIn, nOut) in [(4, 3), (3, 2)] {
            for _ in 0..<(nOut * nIn + nOut) {
                expected.append((2 * rng.nextUnitDouble() - 1) / Double(nIn).squareRoot())
            }
        }
        #expect(net.parameters == expected)
    }

    @Test func splitMix64MatchesPublishedSequence() {
        // Reference values of SplitMix64 seeded with 1234567 (Vigna's splitmix64.c).
        var rng = SplitMix64(seed: 1234567)
        #expect(rng.next() == 6457827717110365317)
        #expect(rng.next() == 3203168211198807973)
        #expect(rng.next() == 9817491932198370423)
    }

    @Test func layoutOffsetsArePerLayerWeightsThenBiases() throws {
        let layout = try Layout(sizes: [3, 4, 2])
        #expect(layout.weightOffsets == [0, 16])
        #expect(layout.biasOffsets == [12, 24])
        #expect(layout.parameterCount == 26)
        #expect(layout.activationsPerSample == 9)
    }
}

@Suite struct NetworkErrorTests {
    func code(_ body: () throws -> Void) -> MLPError.Code? {
        do { try body(); return nil } catch let error as MLPError { return error.code } catch { return nil }
    }

    @Test func badSizesAreRejected() {
        #expect(code { _ = try Network<Double>(sizes: [3], seed: 0) } == .invalidArgument)
        #expect(code { _ = try Network<Double>(sizes: [3, 0, 2], seed: 0) } == .invalidArgument)
        #expect(code { _ = try Network<Double>(sizes: [3, Limits.maxLayerSize + 1], seed: 0) } == .tooLarge)
        #expect(code { _ = try Network<Double>(sizes: [3, -1], seed: 0) } == .tooLarge)
        #expect(code { _ = try Network<Double>(sizes: [1 << 15, 1 << 14], seed: 0) } == .tooLarge)
        #expect(code { _ = try Network<Double>(sizes: Array(repeating: 1, count: Limits.maxSizes + 1), seed: 0) } == .tooLarge)
    }

    @Test func callOrderIsEnforcedAndFailuresChangeNothing() throws {
        let net = try Network<Double>(sizes: [2, 3, 1], seed: 0)
        let before = net.parameters
        #expect(code { _ = try net.backward([0.5], batch: 1) } == .state)
        #expect(code { try net.step(learningRate: 0.1) } == .state)
        #expect(code { _ = try net.gradients() } == .state)
        _ = try net.forward([1, 2, 3, 4], batch: 2)
        #expect(code { _ = try net.backward([0.5], batch: 1) } == .state)
        #expect(code { _ = try net.backward([0.5, 0.5, 0.5], batch: 2) } == .bufferSize)
        #expect(code { _ = try net.backward([0.5, .nan], batch: 2) } == .nonFinite)
        #expect(code { _ = try net.forward([1, .infinity], batch: 1) } == .nonFinite)
        #expect(code { _ = try net.forward([1, 2, 3], batch: 1) } == .bufferSize)
        #expect(code { _ = try net.forward([], batch: 0) } == .invalidArgument)
        #expect(net.cachedBatch == 2)
        _ = try net.backward([0.5, 0.5], batch: 2)
        #expect(code { try net.step(learningRate: -1) } == .invalidArgument)
        #expect(code { try net.step(learningRate: .nan) } == .invalidArgument)
        #expect(code { try net.step(learningRate: .infinity) } == .invalidArgument)
        #expect(code { _ = try net.layer(2) } == .layerIndex)
        #expect(code { try net.setLayer(0, weights: [1, 2], biases: [0, 0, 0]) } == .bufferSize)
        #expect(code { try net.setParameters(Array(repeating: .nan, count: net.parameterCount)) } == .nonFinite)
        #expect(net.parameters == before)
        try net.step(learningRate: 0.1)
        #expect(code { _ = try net.backward([0.5, 0.5], batch: 2) } == .state)
    }

    @Test func setGradientsStepLikeABackwardsAndBadOnesChangeNothing() throws {
        let net = try Network<Float>(sizes: [3, 4, 2], seed: 1)
        let n = net.parameterCount
        #expect(code { try net.step(learningRate: 0.5) } == .state)
        #expect(code { try net.setGradients(Array(repeating: 1, count: n - 1)) } == .bufferSize)
        var bad: [Float] = Array(repeating: 1, count: n)
        bad[n - 1] = .nan
        #expect(code { try net.setGradients(bad) } == .nonFinite)
        #expect(code { _ = try net.gradients() } == .state)  // still none
        let g: [Float] = (0..<n).map { Float($0) / 8 - 2 }
        let before = net.parameters
        try net.setGradients(g)
        #expect(try net.gradients() == g)
        #expect(net.parameters == before)
        try net.step(learningRate: 0.5)
        let after = net.parameters
        for i in before.indices { #expect(after[i] == before[i] - 0.5 * g[i]) }
    }
}
