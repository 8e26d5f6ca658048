// Optimizers: configuration, state, steps.
import CSwiftMLPABI
import SwiftMLP

extension swiftmlp_optimizer {
    init(_ opt: Optimizer) {
        self.init()
        struct_size = MemoryLayout<swiftmlp_optimizer>.size
        kind = swiftmlp_optimizer_kind(rawValue: numericCast(opt.kind.rawValue))
        lr = opt.learningRate
        momentum = opt.momentum
        nesterov = opt.nesterov ? 1 : 0
        beta1 = opt.beta1
        beta2 = opt.beta2
        eps = opt.epsilon
        weight_decay = opt.weightDecay
        max_grad_norm = opt.maxGradNorm
    }
}

@c @implementation
public func swiftmlp_optimizer_default(
    _ kind: swiftmlp_optimizer_kind, _ optimizer: UnsafeMutablePointer<swiftmlp_optimizer>?
) -> swiftmlp_status {
    run("swiftmlp_optimizer_default") { () throws(MLPError) in
        let out = try required(optimizer, "optimizer")
        let k: Optimizer.Kind = try cEnum(kind.rawValue, "optimizer kind")
        switch k {
        case .sgd: out.pointee = swiftmlp_optimizer(.sgd(learningRate: 0.01))
        case .adam: out.pointee = swiftmlp_optimizer(.adam())
        case .adamW: out.pointee = swiftmlp_optimizer(.adamW())
        }
    }
}

/// The optimizer calls that need only the network, not its element type.
private enum OptimizerCall: NetworkCall {
    case set(Optimizer), setLearningRate(Double), reset, step

    func callAsFunction<T: MLPScalar>(_ n: Network<T>) throws(MLPError) {
        switch self {
        case .set(let opt): try n.setOptimizer(opt)
        case .setLearningRate(let lr): try n.setLearningRate(lr)
        case .reset: try n.resetOptimizer()
        case .step: try n.optimizerStep()
        }
    }
}

/// The optimizer and its step count.
private struct OptimizerState: NetworkCall {
    func callAsFunction<T: MLPScalar>(_ n: Network<T>) -> (optimizer: Optimizer?, steps: Int) {
        (n.currentOptimizer, n.optimizerStepCount)
    }
}

extension Optimizer {
    /// The one conversion of a C swiftmlp_optimizer (swiftmlp_set_optimizer,
    /// swiftmlp_fit_options.optimizer); its values are checked when set.
    init(_ o: swiftmlp_optimizer) throws(MLPError) {
        try checkStructSize(cSize(o.struct_size), MemoryLayout<swiftmlp_optimizer>.size, "swiftmlp_optimizer")
        self.init(
            kind: try cEnum(o.kind.rawValue, "optimizer kind"), learningRate: o.lr, momentum: o.momentum,
            nesterov: o.nesterov != 0, beta1: o.beta1, beta2: o.beta2, epsilon: o.eps, weightDecay: o.weight_decay,
            maxGradNorm: o.max_grad_norm)
    }
}

@c @implementation
public func swiftmlp_set_optimizer(_ net: OpaquePointer?, _ optimizer: UnsafePointer<swiftmlp_optimizer>?) -> swiftmlp_status {
    run("swiftmlp_set_optimizer", net, .write) { (h) throws(MLPError) in
        try h.call(OptimizerCall.set(Optimizer(required(optimizer, "optimizer").pointee)))
    }
}

@c @implementation
public func swiftmlp_get_optimizer(_ net: OpaquePointer?, _ optimizer: UnsafeMutablePointer<swiftmlp_optimizer>?) -> swiftmlp_status {
    run("swiftmlp_get_optimizer", net, .read) { (h) throws(MLPError) in
        let out = try required(optimizer, "optimizer")
        guard let opt = try h.call(OptimizerState()).optimizer else { throw MLPError(.state, "no optimizer is set") }
        out.pointee = swiftmlp_optimizer(opt)
    }
}

@c @implementation
public func swiftmlp_set_learning_rate(_ net: OpaquePointer?, _ lr: Double) -> swiftmlp_status {
    run("swiftmlp_set_learning_rate", net, .write) { (h) throws(MLPError) in try h.call(OptimizerCall.setLearningRate(lr)) }
}

@c @implementation
public func swiftmlp_reset_optimizer(_ net: OpaquePointer?) -> swiftmlp_status {
    run("swiftmlp_reset_optimizer", net, .write) { (h) throws(MLPError) in try h.call(OptimizerCall.reset) }
}

@c @implementation
public func swiftmlp_get_step_count(_ net: OpaquePointer?, _ steps: UnsafeMutablePointer<UInt64>?) -> swiftmlp_status {
    run("swiftmlp_get_step_count", net, .read) { (h) throws(MLPError) in
        try required(steps, "steps").pointee = UInt64(try h.call(OptimizerState()).steps)
    }
}

@c @implementation
public func swiftmlp_optimizer_step(_ net: OpaquePointer?) -> swiftmlp_status {
    run("swiftmlp_optimizer_step", net, .write) { (h) throws(MLPError) in try h.call(OptimizerCall.step) }
}
