#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How `fit` sets the optimizer's learning rate at the start of each epoch.
/// lr0 is the optimizer's learning rate when fit starts, e the 0-based epoch
/// of this fit; every schedule gives lr0 at e = 0. When fit returns (in any
/// way) the optimizer's learning rate is lr0 again (the moments, momentum
/// and step count advance as usual): each fit starts its schedule anew, and
/// `FitHistory.learningRates` tells the rate each epoch used.
public enum LearningRateSchedule: Sendable, Equatable {
    /// lr0 every epoch (scikit-learn's "constant"; the default).
    case constant
    /// scikit-learn's "invscaling": lr0 / (t + 1)^powerT, t = the samples
    /// (rows) trained on in this fit before epoch e, e * rows
    /// (SGDOptimizer.iteration_ends with time_step). powerT finite >= 0.
    case inverseScaling(powerT: Double)
    /// scikit-learn's "adaptive" (`_fit_stochastic`,
    /// `_update_no_improvement_count` and `SGDOptimizer.trigger_stopping`
    /// without early_stopping), after each epoch with its training loss
    /// `loss`: if loss > best - tolerance, count += 1, else count = 0; if
    /// loss < best, best = loss (best starts at +inf, count at 0); then if
    /// count > patience: if lr <= 1e-6 the fit stops (`stoppedEarly`),
    /// otherwise lr /= 5 and count = 0. tolerance finite >= 0 (sklearn's
    /// tol), patience >= 1 (sklearn's n_iter_no_change).
    case adaptive(tolerance: Double, patience: Int)
    /// torch.optim.lr_scheduler.StepLR: lr0 * gamma^floor(e / stepSize),
    /// stepSize >= 1, gamma in (0, 1].
    case step(stepSize: Int, gamma: Double)
    /// torch.optim.lr_scheduler.CosineAnnealingLR in closed form:
    /// etaMin + (lr0 - etaMin) (1 + cos(pi e / tMax)) / 2, tMax >= 1,
    /// etaMin finite >= 0 (the rate may reach 0 when etaMin is 0).
    case cosineAnnealing(tMax: Int, etaMin: Double)

    func validate() throws(MLPError) {
        switch self {
        case .constant:
            break
        case .inverseScaling(let powerT):
            guard powerT.isFinite && powerT >= 0 else {
                throw MLPError(.invalidArgument, "invscaling schedule power_t \(powerT) must be finite and >= 0")
            }
        case .adaptive(let tolerance, let patience):
            guard tolerance.isFinite && tolerance >= 0 else {
                throw MLPError(.invalidArgument, "adaptive schedule tolerance (lr_tol, sklearn's tol) \(tolerance) must be finite and >= 0")
            }
            guard patience >= 1 else {
                throw MLPError(.invalidArgument, "adaptive schedule n_iter_no_change must be >= 1, got \(UInt(bitPattern: patience))")
            }
        case .step(let stepSize, let gamma):
            guard stepSize >= 1 else {
                throw MLPError(.invalidArgument, "step schedule step_size must be >= 1, got \(UInt(bitPattern: stepSize))")
            }
            guard gamma.isFinite && gamma > 0 && gamma <= 1 else {
                throw MLPError(.invalidArgument, "step schedule gamma \(gamma) must be in (0, 1]")
            }
        case .cosineAnnealing(let tMax, let etaMin):
            guard tMax >= 1 else {
                throw MLPError(.invalidArgument, "cosine schedule t_max must be >= 1, got \(UInt(bitPattern: tMax))")
            }
            guard etaMin.isFinite && etaMin >= 0 else {
                throw MLPError(.invalidArgument, "cosine schedule eta_min \(etaMin) must be finite and >= 0")
            }
        }
    }

    /// The closed-form rate of epoch `epoch` (every schedule but adaptive,
    /// whose rate `fit` carries from epoch to epoch), from lr0 and the
    /// samples trained on before it.
    func closedForm(epoch: Int, initial lr0: Double, samplesSeen: Double) -> Double {
        switch self {
        case .constant, .adaptive:
            return lr0
        case .inverseScaling(let powerT):
            return lr0 / pow(samplesSeen + 1, powerT)
        case .step(let stepSize, let gamma):
            return lr0 * pow(gamma, Double(epoch / stepSize))
        case .cosineAnnealing(let tMax, let etaMin):
            return etaMin + (lr0 - etaMin) * (1 + cos(Double.pi * Double(epoch) / Double(tMax))) / 2
        }
    }
}

/// Options of `Network.fit`.
public struct FitOptions: Sendable, Equatable {
    /// Passes over the data, >= 1.
    public var epochs: Int
    /// Rows per step, >= 1; a batch larger than the data set is the whole set,
    /// and the last batch of an epoch holds the remainder.
    public var batchSize: Int
    /// Shuffle the rows every epoch with the network's shuffle generator.
    public var shuffle: Bool
    /// Stop after this many epochs without improvement of the monitored loss
    /// (validation loss when validation data is given, else training loss);
    /// 0 disables early stopping.
    public var patience: Int
    /// An epoch improves when its loss is below the best so far minus this, >= 0.
    public var minDelta: Double
    /// With early stopping, end with the parameters of the best epoch.
    public var restoreBest: Bool
    /// The learning rate of each epoch.
    public var schedule: LearningRateSchedule
    /// nil: train with the configured optimizer and its state. Otherwise
    /// this optimizer is set (as by `setOptimizer`: fresh state) once the
    /// data and every other argument have been checked, so that a fit
    /// refused for its arguments keeps the previous optimizer and state.
    public var optimizer: Optimizer?

    public init(epochs: Int, batchSize: Int, shuffle: Bool = true, patience: Int = 0,
                minDelta: Double = 0, restoreBest: Bool = true, schedule: LearningRateSchedule = .constant,
                optimizer: Optimizer? = nil) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.patience = patience
        self.minDelta = minDelta
        self.restoreBest = restoreBest
        self.schedule = schedule
        self.optimizer = optimizer
    }

    func validate() throws(MLPError) {
        guard epochs > 0 else { throw MLPError(.invalidArgument, "epochs must be at least 1, got \(UInt(bitPattern: epochs))") }
        guard batchSize > 0 else { throw MLPError(.invalidArgument, "batch size must be at least 1, got \(UInt(bitPattern: batchSize))") }
        guard patience >= 0 else { throw MLPError(.invalidArgument, "patience \(UInt(bitPattern: patience)) is too large") }
        guard minDelta.isFinite && minDelta >= 0 else {
            throw MLPError(.invalidArgument, "min delta \(minDelta) must be finite and >= 0")
        }
        try schedule.validate()
    }
}

/// What `fit` reports after each batch and at the end of each epoch.
public struct FitProgress: Sendable {
    /// 0-based epoch and batch; at an epoch's end `batch == batchCount`.
    public var epoch: Int
    public var epochs: Int
    public var batch: Int
    public var batchCount: Int
    /// Loss of the last batch (NaN at an epoch's end).
    public var batchLoss: Double
    /// Mean training loss of the epoch so far (the whole epoch at its end).
    public var trainLoss: Double
    /// Validation loss at an epoch's end with validation data, else NaN.
    public var validationLoss: Double
    public var epochEnd: Bool
    /// The learning rate of this epoch's steps.
    public var learningRate: Double = .nan
}

/// What `fit` did.
public struct FitHistory: Sendable, Equatable {
    /// Mean training loss of each completed epoch (over its batches, weighted by rows).
    public var trainLoss: [Double] = []
    /// Validation loss after each completed epoch (empty without validation data).
    public var validationLoss: [Double] = []
    /// The learning rate each completed epoch used (`FitOptions.schedule`).
    public var learningRates: [Double] = []
    /// 0-based epoch with the best monitored loss, -1 if none completed.
    public var bestEpoch: Int = -1
    /// Early stopping (patience) or the adaptive schedule's floor ended the fit.
    public var stoppedEarly = false
    public var cancelled = false
    /// True when the parameters were reset to the best epoch's.
    public var restoredBest = false
}
