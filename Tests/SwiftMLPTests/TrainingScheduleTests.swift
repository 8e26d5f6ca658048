#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import SwiftMLP

/// The 0.6.0 training features through the Swift API: `setLearningRate`,
/// `FitOptions.schedule`, `fit(sampleWeight:)` and `Optimizer.maxGradNorm`.
/// (The NumPy / PyTorch / scikit-learn comparisons are in
/// python-bindings/tests/test_training_features.py.)
@Suite struct TrainingScheduleTests {
    static let sizes = [3, 5, 2]

    func data(_ rows: Int, seed: UInt64) -> (x: [Double], y: [Double]) {
        var d = TestData(seed: seed)
        return (d.uniform(rows * Self.sizes[0], -2, 2), d.uniform(rows * Self.sizes[2], 0, 1))
    }

    @Test func settingTheLearningRateKeepsTheOptimizerState() throws {
        let (x, y) = data(4, seed: 1)
        let a = try Network<Double>(sizes: Self.sizes, seed: 3), b = try Network<Double>(sizes: Self.sizes, seed: 3)
        try a.setOptimizer(.adam(learningRate: 0.01))
        try b.setOptimizer(.adam(learningRate: 0.01))
        for _ in 0..<2 {
            _ = try a.trainStep(x: x, y: y, batch: 4)
            _ = try b.trainStep(x: x, y: y, batch: 4)
        }
        // The same rate again: c, never touched, keeps the same bits (the
        // moments and t were kept).
        let c = try Network<Double>(sizes: Self.sizes, seed: 3)
        try c.setOptimizer(.adam(learningRate: 0.01))
        for _ in 0..<2 { _ = try c.trainStep(x: x, y: y, batch: 4) }
        try a.setLearningRate(0.01)
        _ = try a.trainStep(x: x, y: y, batch: 4)
        _ = try c.trainStep(x: x, y: y, batch: 4)
        #expect(a.parameters == c.parameters && a.optimizerStepCount == 3)
        _ = try b.trainStep(x: x, y: y, batch: 4)
        try a.setLearningRate(0.002)
        try b.setOptimizer(.adam(learningRate: 0.002))  // fresh moments
        #expect(a.currentOptimizer == .adam(learningRate: 0.002))
        #expect(a.optimizerStepCount == 3 && b.optimizerStepCount == 0)
        _ = try a.trainStep(x: x, y: y, batch: 4)
        _ = try b.trainStep(x: x, y: y, batch: 4)
        #expect(a.parameters != b.parameters)
        for bad in [0.0, -1, .nan, .infinity] {
            #expect(throws: MLPError.self) { try a.setLearningRate(bad) }
        }
        #expect(a.currentOptimizer?.learningRate == 0.002 && a.optimizerStepCount == 4)
        let none = try Network<Double>(sizes: Self.sizes, seed: 3)
        do {
            try none.setLearningRate(0.1)
            Issue.record("setLearningRate without an optimizer succeeded")
        } catch {
            #expect(error.code == .state)
        }
    }

    @Test func schedulesGiveTheirClosedFormsAndEndWithLr0() throws {
        let (x, y) = data(10, seed: 2)
        let cases: [(LearningRateSchedule, (Int) -> Double)] = [
            (.constant, { _ in 0.1 }),
            (.inverseScaling(powerT: 0.5), { e in 0.1 / pow(Double(e * 10) + 1, 0.5) }),
            (.step(stepSize: 3, gamma: 0.5), { e in 0.1 * pow(0.5, Double(e / 3)) }),
            (.cosineAnnealing(tMax: 4, etaMin: 0.0), { e in (0.1 * (1 + cos(Double.pi * Double(e) / 4))) / 2 }),
        ]
        for (schedule, formula) in cases {
            let net = try Network<Double>(sizes: Self.sizes, seed: 1)
            try net.setOptimizer(.sgd(learningRate: 0.1, momentum: 0.5))
            var reported: [Double] = []
            let history = try net.fit(x: x, y: y, rows: 10,
                                      options: FitOptions(epochs: 9, batchSize: 4, schedule: schedule)) { p in
                if p.epochEnd { reported.append(p.learningRate) }
                return true
            }
            #expect(history.learningRates == (0..<9).map(formula), "\(schedule)")
            #expect(reported == history.learningRates)
            #expect(net.currentOptimizer?.learningRate == 0.1)
        }
    }

    @Test func badSchedulesAreRefusedBeforeTraining() throws {
        let (x, y) = data(6, seed: 3)
        let net = try Network<Double>(sizes: Self.sizes, seed: 1)
        try net.setOptimizer(.sgd(learningRate: 0.1))
        let before = net.parameters
        for schedule: LearningRateSchedule in [.inverseScaling(powerT: -1), .adaptive(tolerance: .nan, patience: 3),
                                               .adaptive(tolerance: 0, patience: 0), .step(stepSize: 0, gamma: 0.5),
                                               .step(stepSize: 2, gamma: 2), .cosineAnnealing(tMax: 0, etaMin: 0),
                                               .cosineAnnealing(tMax: 3, etaMin: -1)] {
            #expect(throws: MLPError.self) {
                _ = try net.fit(x: x, y: y, rows: 6, options: FitOptions(epochs: 2, batchSize: 3, schedule: schedule))
            }
        }
        #expect(net.parameters == before && net.optimizerStepCount == 0)
    }

    @Test func sampleWeightsOfOneAreThePlainLossAndZeroBatchesAreSkipped() throws {
        let (x, y) = data(8, seed: 4)
        let plain = try Network<Double>(sizes: Self.sizes, seed: 2), weighted = try Network<Double>(sizes: Self.sizes, seed: 2)
        for n in [plain, weighted] { try n.setOptimizer(.sgd(learningRate: 0.5)) }
        let h0 = try plain.fit(x: x, y: y, rows: 8, options: FitOptions(epochs: 1, batchSize: 8))
        let h1 = try weighted.fit(x: x, y: y, rows: 8, sampleWeight: Array(repeating: 1, count: 8),
                                  options: FitOptions(epochs: 1, batchSize: 8))
        #expect(abs(h0.trainLoss[0] - h1.trainLoss[0]) <= 1e-15 * h0.trainLoss[0])
        #expect(relativeError(plain.parameters, weighted.parameters) <= 1e-15)

        let skip = try Network<Double>(sizes: Self.sizes, seed: 2)
        try skip.setOptimizer(.adam())
        _ = try skip.fit(x: x, y: y, rows: 8, sampleWeight: [0, 0, 0, 0, 1, 2, 3, 4],
                         options: FitOptions(epochs: 3, batchSize: 4, shuffle: false))
        #expect(skip.optimizerStepCount == 3)
        for bad: [Double] in [[1, 1], [1, 1, 1, 1, 1, 1, 1, -1], [1, 1, 1, 1, 1, 1, 1, .nan], Array(repeating: 0, count: 8)] {
            #expect(throws: MLPError.self) {
                _ = try skip.fit(x: x, y: y, rows: 8, sampleWeight: bad, options: FitOptions(epochs: 1, batchSize: 4))
            }
        }
        #expect(skip.optimizerStepCount == 3)
    }

    @Test func clippingScalesTheStepByTheGlobalNorm() throws {
        let (x, y) = data(6, seed: 5)
        let net = try Network<Double>(sizes: Self.sizes, seed: 4)
        try net.setOptimizer(.sgd(learningRate: 1, maxGradNorm: 1e-3))
        _ = try net.forward(x, batch: 6)
        _ = try net.backward(y, batch: 6)
        let p = net.parameters, g = try net.gradients()
        let total = g.reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(total > 1e-2)
        let coef = 1e-3 / (total + 1e-6)
        try net.optimizerStep()
        let expected = zip(p, g).map { $0 - coef * $1 }
        #expect(relativeError(net.parameters, expected) <= 1e-15)
        #expect(try net.gradients() == g)  // the held gradients are not clipped
        #expect(throws: MLPError.self) { try net.setOptimizer(.adam(maxGradNorm: -1)) }
        #expect(net.currentOptimizer?.maxGradNorm == 1e-3)
    }
}
