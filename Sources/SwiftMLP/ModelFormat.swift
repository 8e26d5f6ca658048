/// swiftmlp's model file is a safetensors file
/// (https://github.com/huggingface/safetensors): an 8-byte little-endian
/// header length n, n bytes of UTF-8 JSON (padded with spaces to a multiple
/// of 8), then the raw little-endian row-major tensors back to back.
///
/// Tensors: `layers.<l>.weight` (N_out, N_in) and `layers.<l>.bias` (N_out)
/// for each weight layer l = 0..<L, dtype F32 or F64 (the network's); with
/// optimizer state also `optimizer.momentum` (SGD with momentum) or
/// `optimizer.m` and `optimizer.v` (Adam/AdamW), each (P,) in the flat
/// parameter layout. A PyTorch `nn.Sequential` of Linear and activation
/// modules loads the layer tensors after the rename `layers.<l>.` ->
/// `<2l>.`.
///
/// `__metadata__` (all values strings): format = "swiftmlp",
/// format_version = "1", dtype, sizes ("2,4,1"), activations
/// ("sigmoid,sigmoid"), leaky_slope, loss, init, seed, shuffle_state;
/// with an optimizer: optimizer (sgd, adam, adamw) and optimizer_lr,
/// optimizer_momentum, optimizer_nesterov (0/1), optimizer_beta1,
/// optimizer_beta2, optimizer_eps, optimizer_weight_decay, and
/// optimizer_max_grad_norm when clipping is on (absent: 0); with its state
/// also optimizer_steps. Real numbers are written in Swift's shortest
/// round-trip form, so a save -> load round trip is bit-exact.
enum ModelFormat {
    static let name = "swiftmlp"
    static let version = 1
    /// Largest accepted JSON header.
    static let maxHeaderLength = 16 << 20
    /// Most optimizer steps a network counts (and a file may declare): 2^53.
    static let maxOptimizerSteps = 1 << 53

    static func weightName(_ l: Int) -> String { "layers.\(l).weight" }
    static func biasName(_ l: Int) -> String { "layers.\(l).bias" }
    static let momentumName = "optimizer.momentum"
    static let firstMomentName = "optimizer.m"
    static let secondMomentName = "optimizer.v"

    static func tensorDType(_ dtype: DType) -> String { dtype == .float32 ? "F32" : "F64" }

    /// Names of the optimizer state tensors, in buffer order.
    static func stateNames(_ opt: Optimizer) -> [String] {
        switch opt.stateBufferCount {
        case 0: return []
        case 1: return [momentumName]
        default: return [firstMomentName, secondMomentName]
        }
    }

    /// A JSON string literal.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let h = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    /// A finite real written as a JSON number ("0.01", "-1e-08"; no NUL,
    /// spaces, hex, inf or nan).
    static func real(_ s: String) -> Double? {
        var bytes = Array(s.utf8)
        let isNumber = bytes.withUnsafeMutableBufferPointer { b -> Bool in
            guard case .number? = try? JSONParser.parse(UnsafeBufferPointer(b)) else { return false }
            return true
        }
        guard isNumber, !s.contains(" "), let v = Double(s), v.isFinite else { return nil }
        return v
    }

    /// A plain unsigned decimal integer ("0", "42"; no sign, no leading zeros beyond "0").
    static func unsigned(_ s: String) -> UInt64? {
        guard !s.isEmpty, s.count <= 20, s == "0" || !s.hasPrefix("0") else { return nil }
        return JSONValue.number(s).unsignedInteger
    }
}
