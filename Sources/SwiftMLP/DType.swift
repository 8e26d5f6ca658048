/// The element type of a network, chosen at creation. Raw values equal the
/// C ABI's `swiftmlp_dtype` values.
public enum DType: Int32, NamedCases {
    case float32 = 1
    case float64 = 2

    /// Size of one element in bytes.
    public var byteCount: Int {
        switch self {
        case .float32: return MemoryLayout<Float>.stride
        case .float64: return MemoryLayout<Double>.stride
        }
    }

    public static let names: [DType: String] = [.float32: "float32", .float64: "float64"]
}
