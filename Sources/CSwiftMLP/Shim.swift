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

/// Runs `body` on the live network behind `net` with `access` (see
/// `NetworkHandle.Access`), mapping failures as `run` does.
@inline(__always)
func run(
    _ function: StaticString, _ net: OpaquePointer?, _ access: NetworkHandle.Access,
    _ body: (NetworkHandle) throws(MLPError) -> Void
) -> swiftmlp_status {
    run(function) { () throws(MLPError) in
        guard let net else { throw MLPError(.nullPointer, "net is NULL") }
        let h = try NetworkHandle.enter(net, access)
        defer { NetworkHandle.leave(h, access) }
        // The handle stays alive until `leave` (see NetworkHandle.enter):
        // used without a retain/release.
        try h._withUnsafeGuaranteedRef { h in Result { () throws(MLPError) in try body(h) } }.get()
    }
}

func record(_ function: StaticString, _ error: MLPError) {
    let text = "\(function): \(error.message)"
    text.withCString { smlp_error_set($0, text.utf8.count) }
}

/// A C enum value as one of SwiftMLP's enums, or `.invalidArgument` naming it.
@inline(__always)
func cEnum<E: RawRepresentable>(_ raw: UInt32, _ what: StaticString) throws(MLPError) -> E where E.RawValue == Int32 {
    guard let value = E(rawValue: cInt32(raw)) else {
        throw MLPError(.invalidArgument, "unknown \(what) value \(raw)")
    }
    return value
}

/// Every C enum's value (the header's enums import as UInt32) as the Int32
/// raw value of SwiftMLP's enums: the same 32 bits, so a value no enumerator
/// has stays one that no case matches. The one Int32 conversion of the shim.
@inline(__always)
func cInt32(_ raw: UInt32) -> Int32 { Int32(bitPattern: raw) }

/// A versioned struct's `_default` function: `value` (every field's default,
/// struct_size set) written to `out`, or `.nullPointer` naming it.
@inline(__always)
func writeDefaults<S>(_ function: StaticString, _ value: S, to out: UnsafeMutablePointer<S>?,
                      _ name: StaticString) -> swiftmlp_status {
    run(function) { () throws(MLPError) in try required(out, name).pointee = value }
}

/// Checks a versioned struct's struct_size field.
@inline(__always)
func checkStructSize(_ size: Int, _ expected: Int, _ name: StaticString) throws(MLPError) {
    guard size == expected else {
        throw MLPError(.invalidArgument, "\(name).struct_size is \(size), expected \(expected): fill it with its _default function (header and library versions differ?)")
    }
}

/// Unwraps a required pointer argument, or throws `.nullPointer` naming it.
@inline(__always)
func required<P>(_ pointer: P?, _ name: StaticString) throws(MLPError) -> P {
    guard let pointer else { throw MLPError(.nullPointer, "\(name) is NULL") }
    return pointer
}

/// Every C `size_t` parameter, as the Int the Swift code computes with. The
/// header's size_t arrives as Int, so the values 2^63 ... SIZE_MAX come in
/// negative; read as they are they would be taken for small or negative
/// numbers. No size, count, index or capacity can be that large (no address
/// space holds 2^63 elements), so they are read as Int.max, which keeps the
/// meaning of each parameter: a length or count that large fails its size
/// check (BUFFER_SIZE, TOO_LARGE, LAYER_INDEX), a capacity is large enough,
/// batch_size means the whole data, epochs and patience mean "no limit".
/// Every size_t parameter goes through here and nowhere else (the header
/// says so under "Integers").
@inline(__always)
func cSize(_ raw: Int) -> Int { raw < 0 ? Int.max : raw }

/// The element type a call declares, or `.invalidArgument` for an unknown value.
@inline(__always)
func elementType(_ raw: swiftmlp_dtype) throws(MLPError) -> DType {
    guard let dtype = DType(rawValue: cInt32(raw.rawValue)) else {
        throw MLPError(.invalidArgument, "unknown dtype \(raw.rawValue); use SWIFTMLP_FLOAT32 (1) or SWIFTMLP_FLOAT64 (2)")
    }
    return dtype
}

// MARK: buffers: where C pointers become typed

/// A C buffer argument: the caller's pointer, checked non-NULL, and its
/// element count (a length or a capacity) through `cSize`. `elements(for:)`
/// types it, given the network that `NetworkHandle.call` hands a
/// `NetworkCall` once the caller's dtype has been checked against it: no
/// other code turns a C pointer into elements. The count is the caller's;
/// the core checks it against the shapes.
struct CBuffer<Pointer> {
    let base: Pointer
    let count: Int

    @inline(__always)
    init(_ pointer: Pointer?, _ count: Int, _ name: StaticString) throws(MLPError) {
        base = try required(pointer, name)
        self.count = cSize(count)
    }
}

typealias CInput = CBuffer<UnsafeRawPointer>
typealias COutput = CBuffer<UnsafeMutableRawPointer>

extension CBuffer where Pointer == UnsafeRawPointer {
    @inline(__always)
    func elements<T>(for _: Network<T>) -> UnsafeBufferPointer<T> {
        UnsafeBufferPointer(start: base.assumingMemoryBound(to: T.self), count: count)
    }
}

extension CBuffer where Pointer == UnsafeMutableRawPointer {
    @inline(__always)
    func elements<T>(for _: Network<T>) -> UnsafeMutableBufferPointer<T> {
        UnsafeMutableBufferPointer(start: base.assumingMemoryBound(to: T.self), count: count)
    }
}

/// One C call's work on a network, written once over the element type.
/// `NetworkHandle.call` dispatches on the network's type once and runs it
/// specialised for Float or Double.
protocol NetworkCall {
    associatedtype Output = Void
    func callAsFunction<T: MLPScalar>(_ network: Network<T>) throws(MLPError) -> Output
}

/// Nul-terminated static text as a C string.
@inline(__always)
func cString(_ s: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)
}
