// Creating and freeing networks.
import CSwiftMLPABI
import SwiftMLP

@c @implementation
public func swiftmlp_create(
    _ sizes: UnsafePointer<Int>?, _ n_sizes: Int, _ dtype: swiftmlp_dtype, _ seed: UInt64,
    _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> swiftmlp_status {
    out?.pointee = nil
    return run("swiftmlp_create") { () throws(MLPError) in
        let out = try required(out, "out")
        let sizes = try required(sizes, "sizes")
        let type = try elementType(dtype)
        guard n_sizes >= 0 && n_sizes <= Limits.maxSizes else {
            throw MLPError(.tooLarge, "n_sizes \(UInt(bitPattern: n_sizes)) exceeds the limit of \(Limits.maxSizes)")
        }
        let list = Array(UnsafeBufferPointer(start: sizes, count: n_sizes))
        let net = try DynamicNetwork(sizes: list, dtype: type, seed: seed)
        out.pointee = OpaquePointer(Unmanaged.passRetained(net).toOpaque())
    }
}

@c @implementation
public func swiftmlp_free(_ net: OpaquePointer?) {
    guard let net else { return }
    Unmanaged<DynamicNetwork>.fromOpaque(UnsafeRawPointer(net)).release()
}
