/// The slides' per-layer quantities of the last batch, for inspection.
/// Raw values equal the C ABI's `swiftmlp_quantity`.
public enum Quantity: Int32, NamedCases {
    /// Pre-activations f^(l) = g^(l-1) W^T + b, layers 1...L.
    case f = 0
    /// Activations g^(l) = act(f^(l)), layers 0...L (g^(0) = x).
    case g = 1
    /// dL/df^(l), layers 1...L, after a backward.
    case dLdf = 2
    /// dL/dg^(l), layers 1...L, after a backward.
    case dLdg = 3

    public static let names: [Quantity: String] = [.f: "f", .g: "g", .dLdf: "dL/df", .dLdg: "dL/dg"]
}
