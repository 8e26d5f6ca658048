import Testing
@testable import SwiftMLP

/// Every activation x loss combination that a network accepts.
let combinations: [(hidden: Activation, output: Activation, loss: Loss)] = {
    var list: [(Activation, Activation, Loss)] = []
    let hidden: [Activation] = [.sigmoid, .tanh, .relu, .leakyReLU, .identity]
    for h in hidden {
        for out in hidden + [.softmax] { list.append((h, out, .mse)) }
        list.append((h, .sigmoid, .binaryCrossEntropy))
        list.append((h, .softmax, .crossEntropy))
    }
    return list
}()

@Suite struct GradientCheckTests {
    @Test(arguments: 0..<combinations.count)
    func everyActivationAndLossPassesCentralDifferences(_ index: Int) throws {
        let (hidden, output, loss) = combinations[index]
        var data = TestData(seed: UInt64(100 + index))
        let sizes = [5, 7, 6, 4], batch = 3
        let net = try Network<Double>(configuration: NetworkConfiguration(
            sizes: sizes, activations: [hidden, hidden, output], leakySlope: 0.1, loss: loss,
            initialization: .glorotUniform, seed: UInt64(index)))
        // Non-zero biases so that ReLU-family kinks are not hit at f = 0 by construction.
        var p = net.parameters
        for l in 0..<net.layerCount {
            for i in 0..<sizes[l + 1] { p[net.layout.biasOffsets[l] + i] = data.uniform(1, -0.5, 0.5)[0] }
        }
        try net.setParameters(p)
        var x: [Double] = data.uniform(batch * sizes[0], -2, 2)
        // A ReLU-family pre-activation within the step h = 1e-3 (times the
        // input scale) of its kink makes any difference quotient wrong there:
        // redraw the inputs until every one is at least 1e-2 from 0.
        func nearKink() throws -> Bool {
            _ = try net.forward(x, batch: batch)
            for a in 1...3 where [Activation.relu, .leakyReLU].contains(a < 3 ? hidden : output) {
                if try net.quantity(.f, layer: a).values.contains(where: { abs($0) < 1e-2 }) { return true }
            }
            return false
        }
        var draws = 0
        while try nearKink() {
            x = data.uniform(batch * sizes[0], -2, 2)
            draws += 1
            #expect(draws < 100)
        }
        var y: [Double] = data.uniform(batch * sizes[3], 0, 1)
        if loss == .crossEntropy {
            // Probability rows.
            for r in 0..<batch {
                let s = (0..<4).reduce(0.0) { $0 + y[r * 4 + $1] }
                for c in 0..<4 { y[r * 4 + c] /= s }
            }
        }
        let before = net.parameters
        let result = try net.gradientCheck(x: x, y: y, batch: batch, h: 1e-3)
        #expect(result.maxRelativeError <= 1e-6, "\(hidden)/\(output)/\(loss): \(result)")
        #expect(net.parameters == before)
    }

    @Test func gradientCheckOfAFloatNetworkRunsInDouble() throws {
        var data = TestData(seed: 1)
        let net = try Network<Float>(configuration: NetworkConfiguration(sizes: [3, 4, 2], activations: [.tanh, .sigmoid], seed: 4))
        let x: [Float] = data.uniform(6, -1, 1), y: [Float] = data.uniform(4, 0, 1)
        let result = try net.gradientCheck(x: x, y: y, batch: 2)
        #expect(result.maxRelativeError <= 1e-6)
    }
}

@Suite struct StabilityTests {
    func hugeLogitNetwork(_ output: Activation, _ loss: Loss) throws -> Network<Double> {
        let net = try Network<Double>(configuration: NetworkConfiguration(
            sizes: [1, 3], activations: [output], loss: loss, seed: 0))
        // f = 1e4 * x + b: logits of +-1e4.
        try net.setLayer(0, weights: [1e4, -1e4, 0], biases: [0, 0, 0])
        return net
    }

    @Test func softmaxCrossEntropyWithLogitsOf1e4IsFinite() throws {
        let net = try hugeLogitNetwork(.softmax, .crossEntropy)
        _ = try net.forward([1, -1], batch: 2)
        let loss = try net.backward([0, 1, 0, 0, 0, 1], batch: 2)
        #expect(loss.isFinite)
        // Row 1: f = (1e4, -1e4, 0), target 1: lse - f_1 = 1e4 + 1e4 = 2e4.
        // Row 2: f = (-1e4, 1e4, 0), target 2: lse - f_2 = 1e4 - 0 = 1e4. Mean 1.5e4.
        #expect(abs(loss - 1.5e4) <= 1e-12 * 1.5e4)
        #expect(try net.gradients().allSatisfy { $0.isFinite })
    }

    @Test func crossEntropyWithOneHotRowsStaysFiniteWhenLogitDifferencesOverflow() throws {
        // f = (1e308, -1e308): lse - f_1 overflows, but its target is 0.
        let net = try Network<Double>(configuration: NetworkConfiguration(
            sizes: [1, 2], activations: [.softmax], loss: .crossEntropy, seed: 0))
        try net.setLayer(0, weights: [1e308, -1e308], biases: [0, 0])
        _ = try net.forward([1], batch: 1)
        #expect(try net.backward([1, 0], batch: 1) == 0)
        #expect(try net.gradients().allSatisfy { $0.isFinite })
        #expect(try net.quantity(.dLdg, layer: 1).values.allSatisfy { $0.isFinite })
        #expect(try net.loss(x: [1], y: [1, 0], rows: 1) == 0)
    }

    @Test func sigmoidBCEWithLogitsOf1e4IsFinite() throws {
        let net = try hugeLogitNetwork(.sigmoid, .binaryCrossEntropy)
        _ = try net.forward([1], batch: 1)
        // f = (1e4, -1e4, 0), y = (0, 1, 1): terms 1e4, 1e4, log 2.
        let loss = try net.backward([0, 1, 1], batch: 1)
        #expect(abs(loss - (2e4 + 0.6931471805599453) / 3) <= 1e-12 * loss)
        #expect(try net.gradients().allSatisfy { $0.isFinite })
    }
}

@Suite struct OptimizerTests {
    func trainedOnce(_ opt: Optimizer) throws -> Network<Double> {
        let net = try Network<Double>(sizes: [2, 3, 1], seed: 9)
        try net.setOptimizer(opt)
        _ = try net.forward([0.5, -0.5], batch: 1)
        _ = try net.backward([1], batch: 1)
        return net
    }

    @Test func invalidHyperparametersAreRejectedAndTheOldOptimizerKept() throws {
        let net = try trainedOnce(.adam())
        for bad: Optimizer in [.sgd(learningRate: 0), .sgd(learningRate: .nan), .sgd(learningRate: 0.1, momentum: 1),
                               .sgd(learningRate: 0.1, momentum: -0.1), .sgd(learningRate: 0.1, nesterov: true),
                               .adam(beta1: 1), .adam(beta2: 0), .adam(epsilon: 0), .adamW(weightDecay: -1)] {
            #expect(throws: MLPError.self) { try net.setOptimizer(bad) }
        }
        #expect(net.currentOptimizer == .adam())
    }

    @Test func stepCountAdvancesOncePerStepAndResets() throws {
        let net = try trainedOnce(.adam())
        try net.optimizerStep()
        _ = try net.forward([0.5, -0.5], batch: 1)  // a step consumes the gradients
        _ = try net.backward([1], batch: 1)
        try net.optimizerStep()
        #expect(net.optimizerStepCount == 2)
        try net.resetOptimizer()
        #expect(net.optimizerStepCount == 0)
    }

    /// A step consumes the gradients: a second step (of either kind)
    /// without a new backward is refused with .state and changes nothing.
    @Test func aSecondStepWithoutABackwardIsRefused() throws {
        let net = try trainedOnce(.sgd(learningRate: 0.1, momentum: 0.9))
        try net.optimizerStep()
        let before = net.parameters, state = net.optimizerState[0].buffer.map { $0 }
        #expect(throws: MLPError.self) { try net.optimizerStep() }
        #expect(throws: MLPError.self) { try net.step(learningRate: 0.1) }
        #expect((try? net.step(learningRate: 0.1)) == nil)
        do {
            try net.optimizerStep()
        } catch {
            #expect(error.code == .state)
        }
        #expect(net.parameters == before)
        #expect(net.optimizerState[0].buffer.map { $0 } == state)
        #expect(net.optimizerStepCount == 1)
        _ = try net.forward([0.5, -0.5], batch: 1)
        _ = try net.backward([1], batch: 1)
        try net.step(learningRate: 0.1)
    }

    @Test func anOptimizerStepThatWouldOverflowIsRefusedAndChangesNothing() throws {
        // d = dp + 1e300 p, p - 1e10 d overflows for every p != 0.
        let net = try trainedOnce(.sgd(learningRate: 1e10, momentum: 0.5, weightDecay: 1e300))
        let before = net.parameters
        #expect(throws: MLPError(.nonFinite, "this sgd step would make a parameter or optimizer state value non-finite; parameters and optimizer state are unchanged")) {
            try net.optimizerStep()
        }
        #expect(net.parameters == before)
        #expect(net.optimizerStepCount == 0)
        #expect(net.optimizerState[0].buffer.allSatisfy { $0 == 0 })
    }

    @Test func aPlainStepThatWouldOverflowFloatIsRefused() throws {
        // 1e300 is a finite double but infinite as a float.
        let net = try Network<Float>(sizes: [2, 3, 1], seed: 9)
        _ = try net.forward([0.5, -0.5], batch: 1)
        _ = try net.backward([1], batch: 1)
        let before = net.parameters
        #expect(throws: MLPError.self) { try net.step(learningRate: 1e300) }
        #expect(net.parameters == before)
    }
}

@Suite struct FitTests {
    /// Two Gaussian blobs, labels one-hot.
    func blobs(_ n: Int, seed: UInt64) -> (x: [Double], y: [Double]) {
        var data = TestData(seed: seed)
        var x: [Double] = [], y: [Double] = []
        for i in 0..<n {
            let c = i % 2
            let u: [Double] = data.uniform(2, -1, 1)
            x += [u[0] + (c == 0 ? -1.5 : 1.5), u[1]]
            y += c == 0 ? [1, 0] : [0, 1]
        }
        return (x, y)
    }

    func classifier(seed: UInt64 = 1) throws -> Network<Double> {
        let net = try Network<Double>(configuration: NetworkConfiguration(
            sizes: [2, 8, 2], activations: [.relu, .softmax], loss: .crossEntropy, initialization: .heUniform, seed: seed))
        try net.setOptimizer(.adam(learningRate: 0.01))
        return net
    }

    @Test func fitLearnsAndIsReproducibleFromTheSeed() throws {
        let (x, y) = blobs(64, seed: 3)
        let a = try classifier(), b = try classifier()
        let ha = try a.fit(x: x, y: y, rows: 64, options: FitOptions(epochs: 20, batchSize: 10))
        let hb = try b.fit(x: x, y: y, rows: 64, options: FitOptions(epochs: 20, batchSize: 10))
        #expect(ha == hb)
        #expect(a.parameters == b.parameters)
        #expect(ha.trainLoss.last! < 0.5 * ha.trainLoss.first!)
        let c = try classifier(seed: 2)
        _ = try c.fit(x: x, y: y, rows: 64, options: FitOptions(epochs: 20, batchSize: 10))
        #expect(c.parameters != a.parameters)
    }

    @Test func batchLargerThanTheDataIsOneBatch() throws {
        let (x, y) = blobs(5, seed: 1)
        let net = try classifier()
        var batches = 0
        let h = try net.fit(x: x, y: y, rows: 5, options: FitOptions(epochs: 3, batchSize: 100)) { p in
            if !p.epochEnd { batches += 1; #expect(p.batchCount == 1) }
            return true
        }
        #expect(batches == 3)
        #expect(h.trainLoss.count == 3)
    }

    @Test func theCallbackCancelsCleanly() throws {
        let (x, y) = blobs(40, seed: 2)
        let net = try classifier()
        var calls = 0
        let h = try net.fit(x: x, y: y, rows: 40, options: FitOptions(epochs: 10, batchSize: 8)) { _ in
            calls += 1
            return calls < 7
        }
        #expect(h.cancelled)
        #expect(h.trainLoss.count == 1)      // 5 batches + epoch end, then the 7th call cancels
        #expect(net.optimizerStepCount == 6)
        #expect(net.parameters.allSatisfy { $0.isFinite })
        _ = try net.forward(Array(x[0..<2]), batch: 1)
    }

    @Test func earlyStoppingRestoresTheBestEpoch() throws {
        let (x, y) = blobs(40, seed: 4)
        let (vx, vy) = blobs(20, seed: 5)
        // Validation targets flipped: the better the fit, the worse the validation loss.
        let flipped = stride(from: 0, to: vy.count, by: 2).flatMap { [vy[$0 + 1], vy[$0]] }
        let net = try classifier()
        var snapshots: [[Double]] = []
        let h = try net.fit(x: x, y: y, rows: 40, validation: (vx, flipped, 20),
                            options: FitOptions(epochs: 50, batchSize: 8, patience: 3)) { p in
            if p.epochEnd { snapshots.append(net.parameters) }
            return true
        }
        #expect(h.stoppedEarly)
        #expect(h.trainLoss.count == h.bestEpoch + 4)
        #expect(h.restoredBest)
        #expect(net.parameters == snapshots[h.bestEpoch])
        #expect(h.validationLoss[h.bestEpoch] == h.validationLoss.min()!)
    }

    @Test func badDataIsRejectedAndNothingChanges() throws {
        let net = try classifier()
        let before = net.parameters
        #expect(throws: MLPError.self) { _ = try net.fit(x: [], y: [], rows: 0, options: FitOptions(epochs: 1, batchSize: 1)) }
        #expect(throws: MLPError.self) { _ = try net.fit(x: [1, 2, 3, 4], y: [1, 0], rows: 2, options: FitOptions(epochs: 1, batchSize: 1)) }
        #expect(throws: MLPError.self) { _ = try net.fit(x: [1, 2], y: [1, 0], rows: 1, options: FitOptions(epochs: 0, batchSize: 1)) }
        #expect(throws: MLPError.self) { _ = try net.fit(x: [1, .nan], y: [1, 0], rows: 1, options: FitOptions(epochs: 1, batchSize: 1)) }
        let plain = try Network<Double>(sizes: [2, 1], seed: 0)
        #expect(throws: MLPError.self) { _ = try plain.fit(x: [1, 2], y: [1], rows: 1, options: FitOptions(epochs: 1, batchSize: 1)) }
        #expect(net.parameters == before)
    }

    @Test func predictLeavesTrainingStateAlone() throws {
        let (x, y) = blobs(300, seed: 6)
        let net = try classifier()
        _ = try net.forward(Array(x[0..<6]), batch: 3)
        let f = try net.quantity(.f, layer: 1)
        let all = try net.predict(x, rows: 300)
        for r in [0, 150, 299] {
            let single = try net.converted(to: Double.self).forward(Array(x[(2 * r)..<(2 * r + 2)]), batch: 1)
            // BLAS may pick other kernels for other row counts: last-bit differences only.
            #expect(relativeError(Array(all[(2 * r)..<(2 * r + 2)]), single) <= 1e-15)
        }
        #expect(try net.quantity(.f, layer: 1).values == f.values)
        _ = try net.backward(Array(y[0..<6]), batch: 3)
    }
}

@Suite struct InitializationTests {
    @Test func glorotAndHeFollowTheDocumentedDrawsWithZeroBiases() throws {
        for scheme in [Initialization.glorotUniform, .heUniform] {
            let net = try Network<Double>(configuration: NetworkConfiguration(sizes: [4, 3, 2], initialization: scheme, seed: 77))
            var rng = SplitMix64(seed: 77)
            var expected: [Double] = []
            for (nIn, nOut) in [(4, 3), (3, 2)] {
                let bound = scheme == .glorotUniform ? (6 / Double(nIn + nOut)).squareRoot() : (6 / Double(nIn)).squareRoot()
                for _ in 0..<(nOut * nIn) { expected.append((2 * rng.nextUnitDouble() - 1) * bound) }
                expected += Array(repeating: 0, count: nOut)
            }
            #expect(net.parameters == expected)
        }
    }

    @Test func configurationsThatCannotWorkAreRejected() {
        let bad: [NetworkConfiguration] = [
            NetworkConfiguration(sizes: [2, 3, 2], activations: [.softmax, .sigmoid]),
            NetworkConfiguration(sizes: [2, 3, 2], activations: [.relu, .relu], loss: .binaryCrossEntropy),
            NetworkConfiguration(sizes: [2, 3, 2], activations: [.relu, .sigmoid], loss: .crossEntropy),
            NetworkConfiguration(sizes: [2, 3, 2], activations: [.relu, .relu, .relu]),
            NetworkConfiguration(sizes: [2, 3, 2], activations: [.leakyReLU], leakySlope: .infinity),
        ]
        for c in bad {
            #expect(throws: MLPError.self) { _ = try Network<Double>(configuration: c) }
        }
    }
}
