// Helpers shared by the C entry points: every entry point validates its C
// arguments, unwraps the handle, calls into SwiftMLP and maps a thrown
// MLPError to a status plus the thread-local message. Nothing here traps on
// caller data.
import CSwiftMLPABI
import CSwiftMLPSupport
import SwiftMLP

/// Runs `body`, returning SWIFTMLP_OK and clearing the thread's message, or
/// the error's status with "function: message" recorded.
@inline(__always)
func run(_ function: StaticString, _ body: () throws(MLPError) -> Void) -> swiftmlp_status {
    do {
        try body()
        smlp_error_clear()
        return SWIFTMLP_OK
    } catch {
        record(function, error)
        return swiftmlp_status(rawValue: numericCast(error.code.rawValue))
    }
}

func record(_ function: StaticString, _ error: MLPError) {
    let text = "\(function): \(error.message)"
    text.withCString { smlp_error_set($0, text.utf8.count) }
}

/// The network behind a handle, or `.nullPointer` for NULL.
@inline(__always)
func network(_ handle: OpaquePointer?) throws(MLPError) -> DynamicNetwork {
    guard let handle else { throw MLPError(.nullPointer, "net is NULL") }
    return Unmanaged<DynamicNetwork>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
}

/// Unwraps a required pointer argument, or throws `.nullPointer` naming it.
@inline(__always)
func required<P>(_ pointer: P?, _ name: StaticString) throws(MLPError) -> P {
    guard let pointer else { throw MLPError(.nullPointer, "\(name) is NULL") }
    return pointer
}

/// A C size_t arrives as Int; values >= 2^63 come in negative. Lengths and
/// capacities that large cannot be real, so they are clamped to Int.max,
/// which then fails (or trivially passes, for a capacity) every size check.
@inline(__always)
func elementCount(_ raw: Int) -> Int { raw < 0 ? Int.max : raw }

/// The element type a call declares, or `.invalidArgument` for an unknown value.
@inline(__always)
func elementType(_ raw: swiftmlp_dtype) throws(MLPError) -> DType {
    guard let dtype = DType(rawValue: Int32(truncatingIfNeeded: raw.rawValue)) else {
        throw MLPError(.invalidArgument, "unknown dtype \(raw.rawValue); use SWIFTMLP_FLOAT32 (1) or SWIFTMLP_FLOAT64 (2)")
    }
    return dtype
}

/// Nul-terminated static text as a C string.
@inline(__always)
func cString(_ s: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)
}
