import Testing
@testable import SwiftMLP

/// `Network.fusedTrainStep` (Network+FusedStep.swift) promises the bits of
/// the general path: `trainingForward`, `trainingBackward` and a plain SGD
/// `optimizerStep`, including a step refused as non-finite. Each case runs
/// one network through `trainStep` (which takes the fused step: checked)
/// and a twin from the same seed through forward, backward and
/// optimizerStep, and compares parameters, gradients, outputs and losses
/// bit for bit.
@Suite struct FusedStepTests {
    /// Widening to Double is exact, so equal bits here are equal values bit for bit.
    func bits<T: MLPScalar>(_ values: [T]) -> [UInt64] { values.map { Double($0).bitPattern } }

    func compare<T: MLPScalar>(_ fused: Network<T>, _ general: Network<T>, _ what: String) throws {
        #expect(bits(fused.parameters) == bits(general.parameters), "parameters, \(what)")
        #expect(bits(try fused.gradients()) == bits(try general.gradients()), "gradients, \(what)")
        #expect(fused.optimizerStepCount == general.optimizerStepCount, "step count, \(what)")
        #expect(fused.cachedBatch == general.cachedBatch, "cached batch, \(what)")
    }

    func sameBitsAsGeneralPath<T: MLPScalar>(_: T.Type) throws {
        var data = TestData(seed: 5)
        for trial in 0..<30 {
            let depth = data.int(1...3)
            let sizes = (0...depth).map { _ in data.int(1...8) }
            let fused = try Network<T>(sizes: sizes, seed: UInt64(trial))
            let general = try Network<T>(sizes: sizes, seed: UInt64(trial))
            let opt = Optimizer.sgd(learningRate: [0.05, 0.5, 2][trial % 3], weightDecay: trial % 2 == 0 ? 0 : 0.01)
            try fused.setOptimizer(opt)
            try general.setOptimizer(opt)
            let batch = data.int(1...Swift.min(fused.fusedBatchLimit, 9))
            for step in 0..<4 {
                let x: [T] = data.uniform(batch * sizes[0], -2, 2)
                let y: [T] = data.uniform(batch * sizes[depth], 0, 1)
                let what = "\(T.self) \(sizes) B=\(batch) step \(step)"
                #expect(fused.canFuse(batch: batch, opt), "the fused step applies, \(what)")
                let loss = try fused.trainStep(x: x, y: y, batch: batch)
                _ = try general.forward(x, batch: batch)
                let generalLoss = try general.backward(y, batch: batch)
                try general.optimizerStep()
                #expect(loss.bitPattern == generalLoss.bitPattern, "loss, \(what)")
                try compare(fused, general, what)
                if step == 1 {
                    // A general step on the fused network between fused
                    // ones (it swaps the parameter buffers under the fused
                    // step's addresses).
                    for net in [fused, general] {
                        _ = try net.forward(x, batch: batch)
                        _ = try net.backward(y, batch: batch)
                        try net.optimizerStep()
                    }
                    try compare(fused, general, "\(what), general step")
                }
            }
        }
    }

    @Test func float32MatchesGeneralPath() throws { try sameBitsAsGeneralPath(Float.self) }
    @Test func float64MatchesGeneralPath() throws { try sameBitsAsGeneralPath(Double.self) }

    func refusedStepMatchesGeneralPath<T: MLPScalar>(_: T.Type) throws {
        let sizes = [3, 4, 2], batch = 4
        let fused = try Network<T>(sizes: sizes, seed: 9)
        let general = try Network<T>(sizes: sizes, seed: 9)
        var data = TestData(seed: 2)
        let x: [T] = data.uniform(batch * 3, -2, 2)
        let y: [T] = data.uniform(batch * 2, 0, 1)
        // One ordinary step, then one whose learning rate and weight decay
        // overflow every nonzero parameter: lr (g + wd p) is infinite.
        let most = Double(T.greatestFiniteMagnitude)
        for (k, lr) in [0.5, most].enumerated() {
            let opt = Optimizer.sgd(learningRate: lr, weightDecay: k == 0 ? 0 : most)
            try fused.setOptimizer(opt)
            try general.setOptimizer(opt)
            let before = bits(fused.parameters)
            #expect(fused.canFuse(batch: batch, opt))
            var fusedError: MLPError?
            do { _ = try fused.trainStep(x: x, y: y, batch: batch) } catch { fusedError = error }
            _ = try general.forward(x, batch: batch)
            _ = try general.backward(y, batch: batch)
            var generalError: MLPError?
            do { try general.optimizerStep() } catch { generalError = error }
            if k == 0 {
                #expect(fusedError == nil && generalError == nil)
            } else {
                #expect(fusedError?.code == .nonFinite)
                #expect(generalError?.code == .nonFinite)
                #expect(fusedError?.message == generalError?.message)
                #expect(bits(fused.parameters) == before, "a refused step leaves the parameters")
            }
            try compare(fused, general, "\(T.self) lr \(lr)")
        }
    }

    @Test func float32RefusedStepMatchesGeneralPath() throws { try refusedStepMatchesGeneralPath(Float.self) }
    @Test func float64RefusedStepMatchesGeneralPath() throws { try refusedStepMatchesGeneralPath(Double.self) }
}
