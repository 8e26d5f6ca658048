extension Network {
    /// Trains on `rows` inputs x (rows, N0) and dense targets y (rows, NL)
    /// with the configured optimizer or `options.optimizer`; see `FitOptions`. `progress` is called
    /// after every batch and at every epoch's end; returning false cancels
    /// after the step in progress, leaving a consistent network (history says
    /// `cancelled`). `progress` must not use the network (as from C).
    /// Buffers are allocated once at the start; the
    /// steps allocate nothing. On a validation failure nothing changes. A step that
    /// would make a parameter non-finite stops training with `.nonFinite`;
    /// the network then holds the parameters of the last good step.
    ///
    /// `sampleWeight` (nil: every row weighs 1, today's loss): one weight
    /// per row, each finite and >= 0, not all 0 (checked before anything
    /// changes). Each batch's loss is then the weighted mean of its rows'
    /// losses (`Kernels.weightedLossBackward`); a batch whose weights sum to
    /// 0 takes no step (its gradient would be 0/0): it is reported with a
    /// NaN batch loss, leaves the optimizer's step count, the gradients and
    /// the parameters alone, and its rows do not count in the epoch's mean
    /// training loss. Validation losses are unweighted.
    package func fit(
        x: UnsafeBufferPointer<Scalar>, y: UnsafeBufferPointer<Scalar>, rows: Int,
        validation: (x: UnsafeBufferPointer<Scalar>, y: UnsafeBufferPointer<Scalar>, rows: Int)?,
        sampleWeight: UnsafeBufferPointer<Scalar>? = nil,
        options: FitOptions, progress: (FitProgress) -> Bool
    ) throws(MLPError) -> FitHistory {
        try options.validate()
        guard let opt = options.optimizer ?? optimizer else {
            throw MLPError(.state, "fit needs an optimizer: call setOptimizer first")
        }
        guard rows != 0 else { throw MLPError(.invalidArgument, "fit needs at least 1 row of data") }
        guard rows > 0 else { throw MLPError(.tooLarge, "\(UInt(bitPattern: rows)) rows are too many") }
        let n0 = layout.inputSize, nL = layout.outputSize
        let xBase = try checkRows(x, rows: rows, width: n0, name: "x")
        let yBase = try checkRows(y, rows: rows, width: nL, name: "y")
        let wBase = try sampleWeight.map { (w) throws(MLPError) in try checkSampleWeight(w, rows: rows) }
        var val: (x: UnsafePointer<Scalar>, y: UnsafePointer<Scalar>, rows: Int)? = nil
        if let validation {
            guard validation.rows > 0 else { throw MLPError(.invalidArgument, "validation data needs at least 1 row") }
            val = (try checkRows(validation.x, rows: validation.rows, width: n0, name: "validation x"),
                   try checkRows(validation.y, rows: validation.rows, width: nL, name: "validation y"),
                   validation.rows)
        }
        let batchSize = Swift.min(options.batchSize, rows)
        try layout.check(batch: batchSize)

        // Everything fit needs, allocated once. Without shuffling a batch is
        // a block of consecutive rows, read where it is: no order, no copies.
        let shuffle = options.shuffle
        let order = try AlignedBuffer<Int>(count: shuffle ? rows : 0)
        let xb = try AlignedBuffer<Scalar>(count: shuffle ? batchSize * n0 : 0)
        let yb = try AlignedBuffer<Scalar>(count: shuffle ? batchSize * nL : 0)
        let wb = try AlignedBuffer<Scalar>(count: shuffle && wBase != nil ? batchSize : 0)
        let keepBest = options.patience > 0 && options.restoreBest
        let best = try AlignedBuffer<Scalar>(count: keepBest ? layout.parameterCount : 0)
        try reserveCache(batch: batchSize)
        // Every argument checked: now the new optimizer, if any.
        if let newOptimizer = options.optimizer { try setOptimizer(newOptimizer) }

        if shuffle { for i in 0..<rows { order.base[i] = i } }
        let batchCount = (rows + batchSize - 1) / batchSize
        var history = FitHistory()
        // One entry per epoch; reserved up front (bounded, as epochs may be
        // huge with early stopping) so that the epochs do not reallocate.
        history.trainLoss.reserveCapacity(Swift.min(options.epochs, 4096))
        if val != nil { history.validationLoss.reserveCapacity(Swift.min(options.epochs, 4096)) }
        var bestLoss = Double.infinity, wait = 0
        history.learningRates.reserveCapacity(Swift.min(options.epochs, 4096))

        // The schedule sets the optimizer's rate per epoch (it may reach 0,
        // which fit's steps accept: only setLearningRate and setOptimizer
        // require > 0) and fit ends with lr0 again.
        let lr0 = opt.learningRate
        defer { optimizer?.learningRate = lr0 }
        var adaptiveRate = lr0, noImprovement = 0, bestTrainLoss = Double.infinity

        for epoch in 0..<options.epochs {
            let rate: Double
            if case .adaptive = options.schedule {
                rate = adaptiveRate
            } else {
                rate = options.schedule.closedForm(epoch: epoch, initial: lr0, samplesSeen: Double(epoch) * Double(rows))
            }
            optimizer?.learningRate = rate
            if shuffle {
                // Fisher-Yates with the network's shuffle generator.
                var i = rows - 1
                while i > 0 {
                    let j = Int(shuffleGenerator.next() % UInt64(i + 1))
                    let t = order.base[i]; order.base[i] = order.base[j]; order.base[j] = t
                    i -= 1
                }
            }
            var sum = 0.0, seen = 0
            for b in 0..<batchCount {
                let start = b * batchSize, m = Swift.min(batchSize, rows - start)
                var xs = xBase + start * n0, ys = yBase + start * nL
                var ws = wBase.map { $0 + start }
                if shuffle {
                    for r in 0..<m {
                        let src = order.base[start + r]
                        (xb.base + r * n0).update(from: xBase + src * n0, count: n0)
                        (yb.base + r * nL).update(from: yBase + src * nL, count: nL)
                        if let wBase { wb.base[r] = wBase[src] }
                    }
                    xs = UnsafePointer(xb.base)
                    ys = UnsafePointer(yb.base)
                    if wBase != nil { ws = UnsafePointer(wb.base) }
                }
                if let ws, Self.weightSum(ws, count: m) == 0 {
                    // No step for a batch that weighs nothing (see above).
                    let report = FitProgress(epoch: epoch, epochs: options.epochs, batch: b, batchCount: batchCount,
                                             batchLoss: .nan, trainLoss: seen > 0 ? sum / Double(seen) : .nan,
                                             validationLoss: .nan, epochEnd: false, learningRate: rate)
                    if !progress(report) {
                        history.cancelled = true
                        return history
                    }
                    continue
                }
                trainingForward(xs, batch: m)
                let loss = trainingBackward(y: ys, batch: m, weights: ws)
                do {
                    try optimizerStep()
                } catch {
                    throw MLPError(error.code, "epoch \(epoch) batch \(b): \(error.message)")
                }
                sum += loss * Double(m)
                seen += m
                let report = FitProgress(epoch: epoch, epochs: options.epochs, batch: b, batchCount: batchCount,
                                         batchLoss: loss, trainLoss: sum / Double(seen),
                                         validationLoss: .nan, epochEnd: false, learningRate: rate)
                if !progress(report) {
                    history.cancelled = true
                    return history
                }
            }
            // seen == rows unless zero-weight batches were skipped (and then > 0:
            // the weights do not sum to 0, so some batch trained).
            let trainLoss = sum / Double(seen)
            history.trainLoss.append(trainLoss)
            history.learningRates.append(rate)
            var monitored = trainLoss, valLoss = Double.nan
            if let val {
                valLoss = try evaluate(x: val.x, y: val.y, rows: val.rows)
                history.validationLoss.append(valLoss)
                monitored = valLoss
            }
            if monitored < bestLoss - options.minDelta || history.bestEpoch < 0 {
                bestLoss = monitored
                history.bestEpoch = epoch
                wait = 0
                if keepBest {
                    best.base.update(from: params.base, count: layout.parameterCount)
                }
            } else {
                wait += 1
            }
            let report = FitProgress(epoch: epoch, epochs: options.epochs, batch: batchCount, batchCount: batchCount,
                                     batchLoss: .nan, trainLoss: trainLoss, validationLoss: valLoss, epochEnd: true,
                                     learningRate: rate)
            if !progress(report) {
                history.cancelled = true
                return history
            }
            if options.patience > 0 && wait >= options.patience {
                history.stoppedEarly = true
                break
            }
            if case .adaptive(let tolerance, let patience) = options.schedule {
                // scikit-learn's _update_no_improvement_count and trigger_stopping.
                if trainLoss > bestTrainLoss - tolerance { noImprovement += 1 } else { noImprovement = 0 }
                if trainLoss < bestTrainLoss { bestTrainLoss = trainLoss }
                if noImprovement > patience {
                    if adaptiveRate <= 1e-6 {
                        history.stoppedEarly = true
                        break
                    }
                    adaptiveRate /= 5
                    noImprovement = 0
                }
            }
        }
        if keepBest && history.bestEpoch != history.trainLoss.count - 1 {
            params.base.update(from: best.base, count: layout.parameterCount)
            parametersChanged()
            history.restoredBest = true
        }
        return history
    }

    /// Validates per-row weights: one per row, each finite and >= 0, not all 0.
    func checkSampleWeight(_ w: UnsafeBufferPointer<Scalar>, rows: Int) throws(MLPError) -> UnsafePointer<Scalar> {
        guard w.count == rows else {
            throw MLPError(.bufferSize, "sample_weight has \(w.count) elements; \(rows) row(s) need one each")
        }
        guard let base = w.baseAddress else { throw MLPError(.nullPointer, "sample_weight is NULL") }
        for i in 0..<rows {
            guard base[i].isFinite else { throw MLPError(.nonFinite, "sample_weight[\(i)] = \(base[i]) is not finite") }
            guard base[i] >= 0 else { throw MLPError(.invalidArgument, "sample_weight[\(i)] = \(base[i]) is negative") }
        }
        guard Self.weightSum(base, count: rows) > 0 else {
            throw MLPError(.invalidArgument, "sample_weight is 0 for every row: no row would train")
        }
        return base
    }

    /// sum of count weights, in Double.
    static func weightSum(_ w: UnsafePointer<Scalar>, count: Int) -> Double {
        var total = 0.0
        for i in 0..<count { total += Double(w[i]) }
        return total
    }

    /// `fit` on flat row-major arrays; `sampleWeight`: one weight per row (see the other `fit`).
    public func fit(
        x: [Scalar], y: [Scalar], rows: Int,
        validation: (x: [Scalar], y: [Scalar], rows: Int)? = nil,
        sampleWeight: [Scalar]? = nil,
        options: FitOptions, progress: (FitProgress) -> Bool = { _ in true }
    ) throws(MLPError) -> FitHistory {
        try x.withUnsafeBufferPointer { (xp) throws(MLPError) in
            try y.withUnsafeBufferPointer { (yp) throws(MLPError) in
                try withOptionalBuffer(sampleWeight) { (wp) throws(MLPError) in
                    guard let validation else {
                        return try fit(x: xp, y: yp, rows: rows, validation: nil, sampleWeight: wp,
                                       options: options, progress: progress)
                    }
                    return try validation.x.withUnsafeBufferPointer { (vx) throws(MLPError) in
                        try validation.y.withUnsafeBufferPointer { (vy) throws(MLPError) in
                            try fit(x: xp, y: yp, rows: rows, validation: (vx, vy, validation.rows),
                                    sampleWeight: wp, options: options, progress: progress)
                        }
                    }
                }
            }
        }
    }
}

/// Runs `body` with a buffer view of `array`, or nil.
private func withOptionalBuffer<T, R>(
    _ array: [T]?, _ body: (UnsafeBufferPointer<T>?) throws(MLPError) -> R
) throws(MLPError) -> R {
    guard let array else { return try body(nil) }
    return try array.withUnsafeBufferPointer { (p) throws(MLPError) in try body(p) }
}
