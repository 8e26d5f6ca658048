/// An error from the swiftmlp core: a status code pinned to the C ABI's
/// `swiftmlp_status` values, and a message naming the argument and sizes.
public struct MLPError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The status codes, equal to the C ABI's `SWIFTMLP_ERR_*` values.
    public enum Code: Int32, Sendable {
        case nullPointer = 1
        case invalidArgument = 2
        case bufferSize = 3
        case dtype = 4
        case state = 5
        case tooLarge = 6
        case outOfMemory = 7
        case layerIndex = 8
        case nonFinite = 9
        case cancelled = 10
        case format = 11
        case io = 12
        case busy = 13
        case badHandle = 14
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
