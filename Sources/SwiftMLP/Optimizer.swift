#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An optimizer and its hyperparameters. Formulas, per parameter p with
/// gradient dp (t counts optimizer steps, from 1):
///
/// SGD:   d = dp + weightDecay p;  with momentum: buf = momentum buf + d,
///        d = nesterov ? d + momentum buf : buf;  p -= lr d.
///        (PyTorch optim.SGD with dampening 0.)
/// Adam:  d = dp + weightDecay p;  m = b1 m + (1-b1) d;  v = b2 v + (1-b2) d^2;
///        p -= lr (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps).
/// AdamW: p *= 1 - lr weightDecay, then Adam with d = dp.
///
/// With `maxGradNorm` > 0 every optimizer step first clips the gradients by
/// their global norm, as torch.nn.utils.clip_grad_norm_ does: total =
/// ||all gradients||_2 (summed in Double), coef = min(1, maxGradNorm /
/// (total + 1e-6)), dp = coef * dp (coef rounded to the element type) in the
/// formulas above. The gradients the network holds are not changed (torch
/// scales .grad in place; here the step uses the scaled values), so a
/// refused step changes nothing. 0 turns clipping off.
public struct Optimizer: Sendable, Equatable {
    /// Raw values equal the C ABI's `swiftmlp_optimizer_kind`.
    public enum Kind: Int32, NamedCases {
        case sgd = 0
        case adam = 1
        case adamW = 2

        public static let names: [Kind: String] = [.sgd: "sgd", .adam: "adam", .adamW: "adamw"]
    }

    public var kind: Kind
    public var learningRate: Double
    public var momentum: Double
    public var nesterov: Bool
    public var beta1: Double
    public var beta2: Double
    public var epsilon: Double
    public var weightDecay: Double
    /// Gradient clipping by global norm before each step (see above); 0 = off.
    public var maxGradNorm: Double

    public init(
        kind: Kind, learningRate: Double, momentum: Double = 0, nesterov: Bool = false,
        beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double = 0,
        maxGradNorm: Double = 0
    ) {
        self.kind = kind
        self.learningRate = learningRate
        self.momentum = momentum
        self.nesterov = nesterov
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.maxGradNorm = maxGradNorm
    }

    public static func sgd(learningRate: Double, momentum: Double = 0, nesterov: Bool = false, weightDecay: Double = 0,
                           maxGradNorm: Double = 0) -> Optimizer {
        Optimizer(kind: .sgd, learningRate: learningRate, momentum: momentum, nesterov: nesterov, weightDecay: weightDecay,
                  maxGradNorm: maxGradNorm)
    }

    public static func adam(learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999,
                            epsilon: Double = 1e-8, weightDecay: Double = 0, maxGradNorm: Double = 0) -> Optimizer {
        Optimizer(kind: .adam, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
                  maxGradNorm: maxGradNorm)
    }

    public static func adamW(learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999,
                             epsilon: Double = 1e-8, weightDecay: Double = 0.01, maxGradNorm: Double = 0) -> Optimizer {
        Optimizer(kind: .adamW, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
                  maxGradNorm: maxGradNorm)
    }

    /// Throws `.invalidArgument` naming the first hyperparameter out of its
    /// domain. Every field must be finite, including those this kind does
    /// not use (they are kept, read back and saved).
    public func validate() throws(MLPError) {
        for (name, value) in [("momentum", momentum), ("beta1", beta1), ("beta2", beta2), ("epsilon", epsilon)]
        where !value.isFinite {
            throw MLPError(.invalidArgument, "\(name) \(value) must be finite (even where \(kind) does not use it)")
        }
        guard learningRate.isFinite && learningRate > 0 else {
            throw MLPError(.invalidArgument, "learning rate \(learningRate) must be finite and > 0")
        }
        guard weightDecay.isFinite && weightDecay >= 0 else {
            throw MLPError(.invalidArgument, "weight decay \(weightDecay) must be finite and >= 0")
        }
        guard maxGradNorm.isFinite && maxGradNorm >= 0 else {
            throw MLPError(.invalidArgument, "max grad norm \(maxGradNorm) must be finite and >= 0 (0 = no clipping)")
        }
        switch kind {
        case .sgd:
            guard momentum >= 0 && momentum < 1 else {
                throw MLPError(.invalidArgument, "momentum \(momentum) must be in [0, 1)")
            }
            guard !nesterov || momentum > 0 else {
                throw MLPError(.invalidArgument, "Nesterov momentum needs momentum > 0")
            }
        case .adam, .adamW:
            guard beta1 > 0 && beta1 < 1 else { throw MLPError(.invalidArgument, "beta1 \(beta1) must be in (0, 1)") }
            guard beta2 > 0 && beta2 < 1 else { throw MLPError(.invalidArgument, "beta2 \(beta2) must be in (0, 1)") }
            guard epsilon.isFinite && epsilon > 0 else {
                throw MLPError(.invalidArgument, "epsilon \(epsilon) must be finite and > 0")
            }
        }
    }

    /// Number of state buffers (each one parameter-sized) this optimizer keeps.
    var stateBufferCount: Int {
        switch kind {
        case .sgd: return momentum > 0 ? 1 : 0
        case .adam, .adamW: return 2
        }
    }
}
