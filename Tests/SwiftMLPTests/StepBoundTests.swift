import Testing
@testable import SwiftMLP

/// Network+StepBound.swift: plain SGD skips its check pass when
/// `parameterBound` and `gradientBound` prove the step finite, so both must
/// be upper bounds of what they bound, for every activation and loss, at
/// small and large magnitudes, in both precisions; and a step that does
/// overflow must still be refused.
@Suite struct StepBoundTests {
    static let scales: [Double] = [1, 1e3, 1e12]

    func run<T: MLPScalar>(_: T.Type, combination index: Int, scale: Double) throws {
        let (hidden, output, loss) = combinations[index]
        var data = TestData(seed: UInt64(7 + index))
        let sizes = [6, 9, 5], batch = 11
        let net = try Network<T>(configuration: NetworkConfiguration(
            sizes: sizes, activations: [hidden, output], leakySlope: 0.1, loss: loss,
            initialization: .glorotUniform, seed: UInt64(index)))
        try net.setOptimizer(.sgd(learningRate: 0.05, weightDecay: 1e-3))
        #expect(net.parameterBound == .infinity)  // unknown until a step measures it
        let x: [T] = data.uniform(batch * sizes[0], -scale, scale)
        var y: [T] = data.uniform(batch * sizes[2], 0, 1)
        if loss == .crossEntropy {
            // probability rows
            for r in 0..<batch {
                var s: T = 0
                for c in 0..<sizes[2] { s += y[r * sizes[2] + c] }
                for c in 0..<sizes[2] { y[r * sizes[2] + c] /= s }
            }
        }
        for _ in 0..<3 {
            _ = try net.forward(x, batch: batch)
            _ = try net.backward(y, batch: batch)
            let g = try net.gradients()
            let gMax = g.reduce(0.0) { Swift.max($0, Double(Swift.abs($1))) }
            #expect(gMax <= net.gradientBound, "\(combinations[index]) scale \(scale)")
            var refused = false
            do {
                try net.optimizerStep()
            } catch {
                #expect(error.code == .nonFinite)
                refused = true
            }
            if refused { return }  // a refused step: anOverflowingStepIsStillRefused
            let pMax = net.parameters.reduce(0.0) { Swift.max($0, Double(Swift.abs($1))) }
            #expect(pMax == net.parameterBound)  // the commit's own maximum
        }
        try net.setParameters(net.parameters)
        #expect(net.parameterBound == .infinity)
    }

    @Test(arguments: 0..<combinations.count)
    func boundsHoldForEveryActivationAndLoss(_ index: Int) throws {
        for scale in Self.scales {
            try run(Float.self, combination: index, scale: scale)
            try run(Double.self, combination: index, scale: scale)
        }
    }

    /// After steps that establish both bounds, a step whose largest update
    /// just overflows (lr a little above max / max|g|) is refused and changes
    /// nothing; one a little below is taken.
    func edge<T: MLPScalar>(_: T.Type) throws {
        var data = TestData(seed: 3)
        let sizes = [4, 6, 3], batch = 5
        let net = try Network<T>(configuration: NetworkConfiguration(
            sizes: sizes, activations: [.identity, .identity], loss: .mse, seed: 1))
        let x: [T] = data.uniform(batch * 4, -1, 1), y: [T] = data.uniform(batch * 3, 0, 1)
        for _ in 0..<3 {
            _ = try net.forward(x, batch: batch)
            _ = try net.backward(y, batch: batch)
            try net.step(learningRate: 0.01)
        }
        #expect(net.parameterBound.isFinite)
        _ = try net.forward(x, batch: batch)
        _ = try net.backward(y, batch: batch)
        #expect(net.gradientBound.isFinite)
        let g = try net.gradients(), before = net.parameters
        let gMax = g.reduce(0.0) { Swift.max($0, Double(Swift.abs($1))) }
        let top = Double(T.greatestFiniteMagnitude)
        #expect(throws: MLPError.self) { try net.step(learningRate: 1.01 * top / gMax) }
        #expect(net.parameters == before)
        try net.step(learningRate: 0.5 * top / gMax)
        #expect(net.parameters.allSatisfy { $0.isFinite })
    }

    /// The fused small-network step writes gradients without a bound: a
    /// later optimizer step on them must not use the previous backward's.
    @Test func theFusedStepLeavesNoGradientBound() throws {
        let net = try Network<Float>(sizes: [2, 3, 1], seed: 1)
        try net.setOptimizer(.sgd(learningRate: 0.5))
        let x: [Float] = [0, 1, 1, 0], y: [Float] = [1, 1]
        _ = try net.forward(x, batch: 2)
        _ = try net.backward(y, batch: 2)
        #expect(net.gradientBound.isFinite)
        #expect(net.canFuse(batch: 2, net.currentOptimizer!))
        _ = try net.trainStep(x: x, y: y, batch: 2)
        #expect(net.gradientBound == .infinity)
    }

    @Test func anOverflowingStepIsStillRefused() throws {
        try edge(Float.self)
        try edge(Double.self)
    }
}
