// Whole-data-set calls: fit, predict, evaluate, gradient check.
import CSwiftMLPABI
import SwiftMLP

/// The defaults of every field (the header's), also fit's when options is NULL.
private var defaultFitOptions: swiftmlp_fit_options {
    swiftmlp_fit_options(
        struct_size: MemoryLayout<swiftmlp_fit_options>.size, epochs: 1, batch_size: 32, shuffle: 1,
        val_x: nil, val_x_len: 0, val_y: nil, val_y_len: 0, val_rows: 0, patience: 0, min_delta: 0, restore_best: 1,
        progress: nil, user_data: nil, report_batches: 1, lr_schedule: SWIFTMLP_LR_CONSTANT, power_t: 0.5, lr_tol: 1e-4,
        n_iter_no_change: 10, step_size: 1, gamma: 0.1, t_max: 1, eta_min: 0, sample_weight: nil, sample_weight_len: 0,
        optimizer: nil)
}

@c @implementation
public func swiftmlp_fit_options_default(_ options: UnsafeMutablePointer<swiftmlp_fit_options>?) -> swiftmlp_status {
    writeDefaults("swiftmlp_fit_options_default", defaultFitOptions, to: options, "options")
}

/// sizeof(swiftmlp_fit_options) in 1.0, which ended before `optimizer`.
private let fitOptionsSize10 =
    MemoryLayout<swiftmlp_fit_options>.offset(of: \.optimizer) ?? MemoryLayout<swiftmlp_fit_options>.size

/// The schedule the options choose, with its parameters (checked by `FitOptions.validate`).
private func schedule(_ o: swiftmlp_fit_options) throws(MLPError) -> LearningRateSchedule {
    // size_t fields through cSize, as every size_t (the header's "Integers").
    switch o.lr_schedule {
    case SWIFTMLP_LR_CONSTANT: return .constant
    case SWIFTMLP_LR_INVSCALING: return .inverseScaling(powerT: o.power_t)
    case SWIFTMLP_LR_ADAPTIVE: return .adaptive(tolerance: o.lr_tol, patience: cSize(o.n_iter_no_change))
    case SWIFTMLP_LR_STEP: return .step(stepSize: cSize(o.step_size), gamma: o.gamma)
    case SWIFTMLP_LR_COSINE: return .cosineAnnealing(tMax: cSize(o.t_max), etaMin: o.eta_min)
    default:
        throw MLPError(.invalidArgument, "unknown lr_schedule value \(o.lr_schedule.rawValue)")
    }
}

/// Inputs and dense targets from C: (pointer, length) pairs and their rows.
private struct CData {
    let x: CInput, y: CInput, rows: Int

    init(_ x: UnsafeRawPointer?, _ xLen: Int, _ y: UnsafeRawPointer?, _ yLen: Int, _ rows: Int,
         _ xName: StaticString, _ yName: StaticString) throws(MLPError) {
        self.x = try CInput(x, xLen, xName)
        self.y = try CInput(y, yLen, yName)
        self.rows = cSize(rows)
    }
}

private struct Fit: NetworkCall {
    let data: CData, validation: CData?, sampleWeight: CInput?, options: FitOptions
    let progress: (FitProgress) -> Bool
    func callAsFunction<T: MLPScalar>(_ n: Network<T>) throws(MLPError) -> FitHistory {
        try n.fit(x: data.x.elements(for: n), y: data.y.elements(for: n), rows: data.rows,
                  validation: validation.map { ($0.x.elements(for: n), $0.y.elements(for: n), $0.rows) },
                  sampleWeight: sampleWeight?.elements(for: n), options: options, progress: progress)
    }
}

@c @implementation
public func swiftmlp_fit(
    _ net: OpaquePointer?, _ dtype: swiftmlp_dtype,
    _ x: UnsafeRawPointer?, _ x_len: Int, _ y: UnsafeRawPointer?, _ y_len: Int, _ rows: Int,
    _ options: UnsafePointer<swiftmlp_fit_options>?, _ result: UnsafeMutablePointer<swiftmlp_fit_result>?
) -> swiftmlp_status {
    run("swiftmlp_fit", net, .write) { (h) throws(MLPError) in
        let data = try CData(x, x_len, y, y_len, rows, "x", "y")
        var o = defaultFitOptions
        if let options {
            // struct_size first: a 1.0 caller's struct ends before `optimizer`.
            let size = cSize(UnsafeRawPointer(options).load(as: Int.self))
            if size != fitOptionsSize10 {
                try checkStructSize(size, MemoryLayout<swiftmlp_fit_options>.size, "swiftmlp_fit_options")
            }
            withUnsafeMutableBytes(of: &o) { $0.copyMemory(from: UnsafeRawBufferPointer(start: options, count: size)) }
        }
        var validation: CData? = nil
        if o.val_x != nil || o.val_y != nil {
            validation = try CData(o.val_x, o.val_x_len, o.val_y, o.val_y_len, o.val_rows,
                                   "options->val_x", "options->val_y")
        }
        var sampleWeight: CInput? = nil
        if o.sample_weight != nil {
            sampleWeight = try CInput(o.sample_weight, o.sample_weight_len, "options->sample_weight")
        } else if o.sample_weight_len != 0 {
            throw MLPError(.nullPointer, "options->sample_weight is NULL but options->sample_weight_len is \(UInt(bitPattern: o.sample_weight_len)); set both, or neither")
        }
        let fitOptions = FitOptions(epochs: cSize(o.epochs), batchSize: cSize(o.batch_size), shuffle: o.shuffle != 0,
                                    patience: cSize(o.patience), minDelta: o.min_delta, restoreBest: o.restore_best != 0,
                                    schedule: try schedule(o),
                                    optimizer: try o.optimizer.map { (p) throws(MLPError) in try Optimizer(p.pointee) })
        let callback = o.progress, user = o.user_data, everyBatch = o.report_batches != 0
        let history = try h.call(dtype, Fit(data: data, validation: validation, sampleWeight: sampleWeight,
                                             options: fitOptions) { p in
            guard let callback, everyBatch || p.epochEnd else { return true }
            var report = swiftmlp_progress(
                epoch: p.epoch, epochs: o.epochs, batch: p.batch, n_batches: p.batchCount,
                batch_loss: p.batchLoss, train_loss: p.trainLoss, val_loss: p.validationLoss,
                epoch_end: p.epochEnd ? 1 : 0, lr: p.learningRate)
            return callback(&report, user) == 0
        })
        if let result {
            var r = swiftmlp_fit_result()
            r.epochs_run = history.trainLoss.count
            r.best_epoch = max(history.bestEpoch, 0)
            let monitored = history.validationLoss.isEmpty ? history.trainLoss : history.validationLoss
            r.best_loss = history.bestEpoch >= 0 ? monitored[history.bestEpoch] : .nan
            r.final_train_loss = history.trainLoss.last ?? .nan
            r.final_val_loss = history.validationLoss.last ?? .nan
            r.stopped_early = history.stoppedEarly ? 1 : 0
            r.cancelled = history.cancelled ? 1 : 0
            r.restored_best = history.restoredBest ? 1 : 0
            result.pointee = r
        }
        if history.cancelled {
            throw MLPError(.cancelled, "cancelled by the progress callback after \(history.trainLoss.count) complete epoch(s)")
        }
    }
}

@c @implementation
public func swiftmlp_predict(_ net: OpaquePointer?, _ dtype: swiftmlp_dtype, _ x: UnsafeRawPointer?, _ x_len: Int,
                             _ rows: Int, _ y: UnsafeMutableRawPointer?, _ y_cap: Int) -> swiftmlp_status {
    runOutputs("swiftmlp_predict", forward: false, net, dtype, x, x_len, rows, y, y_cap)
}

/// The loss of a batch x, y: a train step's (which then updates the
/// network: a writing call) or evaluate's (which only reads).
private struct BatchLoss: NetworkCall {
    let train: Bool, data: CData
    func callAsFunction<T: MLPScalar>(_ n: Network<T>) throws(MLPError) -> Double {
        let x = data.x.elements(for: n), y = data.y.elements(for: n)
        return train ? try n.trainStep(x: x, y: y, batch: data.rows) : try n.loss(x: x, y: y, rows: data.rows)
    }
}

@c @implementation
public func swiftmlp_evaluate(_ net: OpaquePointer?, _ dtype: swiftmlp_dtype, _ x: UnsafeRawPointer?, _ x_len: Int,
                              _ y: UnsafeRawPointer?, _ y_len: Int, _ rows: Int,
                              _ loss: UnsafeMutablePointer<Double>?) -> swiftmlp_status {
    runBatchLoss("swiftmlp_evaluate", train: false, net, dtype, x, x_len, y, y_len, rows, loss)
}

/// The body of swiftmlp_train_step and swiftmlp_evaluate, which take the
/// same arguments and check them the same way, except that evaluate's
/// `loss` is required and train_step's may be NULL.
@inline(__always)
func runBatchLoss(
    _ function: StaticString, train: Bool, _ net: OpaquePointer?, _ dtype: swiftmlp_dtype,
    _ x: UnsafeRawPointer?, _ xLen: Int, _ y: UnsafeRawPointer?, _ yLen: Int, _ rows: Int,
    _ loss: UnsafeMutablePointer<Double>?
) -> swiftmlp_status {
    run(function, net, train ? .write : .read) { (h) throws(MLPError) in
        let data = try CData(x, xLen, y, yLen, rows, "x", "y")
        let out = train ? loss : try required(loss, "loss")
        let value = try h.call(dtype, BatchLoss(train: train, data: data))
        out?.pointee = value
    }
}

private struct GradientCheck: NetworkCall {
    let data: CData, step: Double
    func callAsFunction<T: MLPScalar>(_ n: Network<T>) throws(MLPError) -> GradientCheckResult {
        try n.gradientCheck(x: data.x.elements(for: n), y: data.y.elements(for: n), batch: data.rows, h: step)
    }
}

@c @implementation
public func swiftmlp_gradient_check(
    _ net: OpaquePointer?, _ dtype: swiftmlp_dtype,
    _ x: UnsafeRawPointer?, _ x_len: Int, _ y: UnsafeRawPointer?, _ y_len: Int, _ rows: Int,
    _ differenceStep: Double, _ out: UnsafeMutablePointer<swiftmlp_gradcheck>?
) -> swiftmlp_status {
    run("swiftmlp_gradient_check", net, .read) { (h) throws(MLPError) in
        let data = try CData(x, x_len, y, y_len, rows, "x", "y")
        let out = try required(out, "out")
        let r = try h.call(dtype, GradientCheck(data: data, step: differenceStep))
        out.pointee = swiftmlp_gradcheck(max_rel_error: r.maxRelativeError, index: r.index,
                                         analytic: r.analytic, numeric: r.numeric)
    }
}
