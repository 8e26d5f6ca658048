import CSwiftMLPKernels

extension Network {
    /// One plain SGD step with the gradients of the last backward:
    /// W -= lr dL/dW, b -= lr dL/db (the slides; ignores any configured
    /// optimizer). A step that would make a parameter non-finite is refused
    /// with `.nonFinite` and changes nothing. Invalidates the forward cache.
    /// Allocates nothing.
    public func step(learningRate lr: Double) throws(MLPError) {
        guard lr.isFinite && lr >= 0 else {
            throw MLPError(.invalidArgument, "learning rate \(lr) must be finite and >= 0")
        }
        try requireFreshGradients()
        // The optimizer kernel's plain-SGD case (no momentum, no decay), so
        // both kinds of step share one implementation.
        try applyStep(Optimizer.sgd(learningRate: lr), t: 1, state: false)
    }

    /// One step of `opt` (t its step number) with the current gradients, all
    /// or nothing: refused with `.nonFinite`, changing nothing, if any new
    /// parameter or state value would be non-finite. `state`: use the
    /// optimizer state buffers (false: plain SGD, whatever is configured).
    /// Invalidates the forward cache; leaves the step count to the caller.
    ///
    /// Every kind checks each new value first and stores them after, in
    /// place: a refused step has written nothing.
    func applyStep(_ opt: Optimizer, t: Int, state: Bool) throws(MLPError) {
        let n = layout.parameterCount
        let scale = opt.maxGradNorm > 0 ? clipCoefficient(maxNorm: opt.maxGradNorm) : 1
        let c = Kernels.coefficients(opt, t: t, gradientScale: scale, as: Scalar.self)
        let s1 = state ? optimizerState.first?.base : nil
        let s2 = state && optimizerState.count > 1 ? optimizerState[1].base : nil
        guard Scalar.optimizerBlock(c, params.base, grads.base, s1, s2, count: n, commit: false) else {
            throw MLPError(.nonFinite, state
                ? "this \(opt.kind) step would make a parameter or optimizer state value non-finite; parameters and optimizer state are unchanged"
                : "this step would make a parameter non-finite; parameters are unchanged")
        }
        _ = Scalar.optimizerBlock(c, params.base, grads.base, s1, s2, count: n, commit: true)
        parametersChanged()
    }

    /// torch.nn.utils.clip_grad_norm_'s coefficient for the current
    /// gradients: min(1, maxNorm / (total + 1e-6)), total = the 2-norm of
    /// every gradient. Summed in Double; if that overflows, the norm is
    /// taken of the gradients divided by their largest magnitude. A
    /// non-finite gradient gives total = inf or NaN, so coefficient 0 or
    /// NaN, and the step is refused as non-finite.
    func clipCoefficient(maxNorm: Double) -> Double {
        let n = layout.parameterCount
        func sumOfSquares(_ scale: Double) -> Double {  // scale 1: the values themselves (1 * v is v)
            var s = 0.0
            for i in 0..<n { let v = Double(grads.base[i]) * scale; s += v * v }
            return s
        }
        var total = sumOfSquares(1).squareRoot()
        if total == .infinity {
            let largest = Scalar.maxAbsBlock(grads.base, count: n)
            if largest.isFinite { total = largest * sumOfSquares(1 / largest).squareRoot() }
        }
        return Swift.min(1, maxNorm / (total + 1e-6))
    }

    /// Sets the configured optimizer's learning rate, keeping its state
    /// (momentum buffers, Adam's moments) and step count: what a schedule
    /// does between epochs. `lr` finite and > 0; `.state` without an optimizer.
    public func setLearningRate(_ lr: Double) throws(MLPError) {
        guard optimizer != nil else { throw MLPError(.state, "no optimizer is set: call setOptimizer first") }
        guard lr.isFinite && lr > 0 else {
            throw MLPError(.invalidArgument, "learning rate \(lr) must be finite and > 0")
        }
        optimizer!.learningRate = lr
    }

    /// The configured optimizer, if any.
    public var currentOptimizer: Optimizer? { optimizer }
    /// Number of optimizer steps taken since the optimizer was set or reset.
    public var optimizerStepCount: Int { optimizerSteps }

    /// Configures the optimizer that `optimizerStep()` (and `fit`) apply, with
    /// fresh state (t = 0, zero moments). Allocates its state buffers here.
    /// On failure the previous optimizer and its state are kept.
    public func setOptimizer(_ opt: Optimizer) throws(MLPError) {
        try opt.validate()
        var fresh: [AlignedBuffer<Scalar>] = []
        for _ in 0..<opt.stateBufferCount { fresh.append(try AlignedBuffer<Scalar>(count: layout.parameterCount)) }
        optimizerState = fresh
        optimizer = opt
        optimizerSteps = 0
    }

    /// Zeroes the optimizer's state and step count; keeps its hyperparameters.
    public func resetOptimizer() throws(MLPError) {
        guard optimizer != nil else { throw MLPError(.state, "no optimizer is set") }
        for b in optimizerState { b.base.update(repeating: 0, count: b.count) }
        optimizerSteps = 0
    }

    /// One step of the configured optimizer with the last backward's gradients.
    /// Refused with `.nonFinite` (changing nothing, state included) if it
    /// would make a parameter non-finite. Invalidates the forward cache.
    public func optimizerStep() throws(MLPError) {
        guard let opt = optimizer else {
            throw MLPError(.state, "no optimizer is set: call setOptimizer first")
        }
        try requireFreshGradients()
        guard optimizerSteps < ModelFormat.maxOptimizerSteps else {
            throw MLPError(.state, "the optimizer has taken \(optimizerSteps) steps, the most it counts; reset it")
        }
        let t = optimizerSteps + 1
        try applyStep(opt, t: t, state: true)
        optimizerSteps = t
    }

    /// Throws `.state` unless a backward has filled the gradients.
    func requireGradients(toDo purpose: String) throws(MLPError) {
        guard hasGradients else { throw MLPError(.state, "no gradients to \(purpose) yet: call backward first") }
    }

    /// Throws `.state` unless the gradients are fresh (see `gradientsFresh`):
    /// the one check of every step, so every step consumes them.
    func requireFreshGradients() throws(MLPError) {
        try requireGradients(toDo: "step with")
        guard gradientsFresh else {
            throw MLPError(.state, "the gradients of the last backward were already used by a step or belong to parameters changed since (a step, fit, set_params, set_layer): run forward and backward again before stepping")
        }
    }
}

extension Network {
    /// One whole training step on a batch: forward, backward with dense
    /// targets y, then a step of the configured optimizer; returns the loss.
    /// Everything is validated before anything changes. If the step is
    /// refused as non-finite, parameters and optimizer state are unchanged
    /// (the cache and gradients hold this batch). Allocates nothing after the
    /// first call with a batch size.
    package func trainStep(
        x: UnsafeBufferPointer<Scalar>, y: UnsafeBufferPointer<Scalar>, batch: Int
    ) throws(MLPError) -> Double {
        guard let opt = optimizer else { throw MLPError(.state, "no optimizer is set: call setOptimizer first") }
        // Fast path: exactly the conditions under which checkInput,
        // checkTargets and reserveCache below all pass without changing
        // anything, tested inline; any other call takes those checks, which
        // throw the precise error.
        let xBase: UnsafePointer<Scalar>, yBase: UnsafePointer<Scalar>
        if batch > 0 && batch <= batchLimit, let cache, cache.capacity >= batch,
           let xb = x.baseAddress, let yb = y.baseAddress,
           x.count == batch &* layout.inputSize, y.count == batch &* layout.outputSize,
           Kernels.allFinite(xb, count: x.count), Kernels.allFinite(yb, count: y.count) {
            xBase = xb
            yBase = yb
        } else {
            xBase = try checkInput(x, rows: batch)
            yBase = try checkTargets(y, rows: batch)
            try reserveCache(batch: batch)
        }
        if canFuse(batch: batch, opt) { return try fusedTrainStep(x: xBase, y: yBase, batch: batch, opt) }
        return try unfusedTrainStep(x: xBase, y: yBase, batch: batch)
    }

    /// The general training step on validated x and y, the cache holding `batch` rows.
    private func unfusedTrainStep(
        x xBase: UnsafePointer<Scalar>, y yBase: UnsafePointer<Scalar>, batch: Int
    ) throws(MLPError) -> Double {
        trainingForward(xBase, batch: batch)
        let loss = trainingBackward(y: yBase, batch: batch)
        try optimizerStep()
        return loss
    }

    /// `trainStep` on flat row-major arrays.
    public func trainStep(x: [Scalar], y: [Scalar], batch: Int) throws(MLPError) -> Double {
        try x.withUnsafeBufferPointer { (xp) throws(MLPError) in
            try y.withUnsafeBufferPointer { (yp) throws(MLPError) in try trainStep(x: xp, y: yp, batch: batch) }
        }
    }
}
