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

    public init(epochs: Int, batchSize: Int, shuffle: Bool = true, patience: Int = 0,
                minDelta: Double = 0, restoreBest: Bool = true) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.shuffle = shuffle
        self.patience = patience
        self.minDelta = minDelta
        self.restoreBest = restoreBest
    }

    func validate() throws(MLPError) {
        guard epochs > 0 else { throw MLPError(.invalidArgument, "epochs must be at least 1, got \(UInt(bitPattern: epochs))") }
        guard batchSize > 0 else { throw MLPError(.invalidArgument, "batch size must be at least 1, got \(UInt(bitPattern: batchSize))") }
        guard patience >= 0 else { throw MLPError(.invalidArgument, "patience \(UInt(bitPattern: patience)) is too large") }
        guard minDelta.isFinite && minDelta >= 0 else {
            throw MLPError(.invalidArgument, "min delta \(minDelta) must be finite and >= 0")
        }
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
}

/// What `fit` did.
public struct FitHistory: Sendable, Equatable {
    /// Mean training loss of each completed epoch (over its batches, weighted by rows).
    public var trainLoss: [Double] = []
    /// Validation loss after each completed epoch (empty without validation data).
    public var validationLoss: [Double] = []
    /// 0-based epoch with the best monitored loss, -1 if none completed.
    public var bestEpoch: Int = -1
    public var stoppedEarly = false
    public var cancelled = false
    /// True when the parameters were reset to the best epoch's.
    public var restoredBest = false
}
