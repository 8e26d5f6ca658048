extension Network {
    /// One plain SGD step with the gradients of the last backward:
    /// W -= lr dL/dW, b -= lr dL/db. Invalidates the forward cache, so the
    /// next backward needs a forward on the new parameters. Allocates nothing.
    public func step(learningRate lr: Double) throws(MLPError) {
        guard lr.isFinite && lr >= 0 else {
            throw MLPError(.invalidArgument, "learning rate \(lr) must be finite and >= 0")
        }
        guard hasGradients else {
            throw MLPError(.state, "step needs gradients: call backward first")
        }
        Kernels.sgdStep(params: params.base, grads: grads.base, count: layout.parameterCount, lr: Scalar(lr))
        forwardBatch = nil
    }
}
