// The slides' quantities of the last batch.
import CSwiftMLPABI
import SwiftMLP

@c @implementation
public func swiftmlp_cached_rows(_ net: OpaquePointer?, _ rows: UnsafeMutablePointer<Int>?) -> swiftmlp_status {
    run("swiftmlp_cached_rows", net, .read) { (h) throws(MLPError) in
        let network = h.network
        let out = try required(rows, "rows")
        guard let n = network.cachedRows else { throw MLPError(.state, "no batch yet: call forward first") }
        out.pointee = n
    }
}

@c @implementation
public func swiftmlp_get_quantity(
    _ net: OpaquePointer?, _ quantity: swiftmlp_quantity, _ layer: Int, _ dtype: swiftmlp_dtype,
    _ out: UnsafeMutableRawPointer?, _ out_cap: Int
) -> swiftmlp_status {
    run("swiftmlp_get_quantity", net, .read) { (h) throws(MLPError) in
        let network = h.network
        let out = try required(out, "out")
        let q: Quantity = try cEnum(quantity.rawValue, "quantity")
        try network.copyQuantity(q, layer: cSize(layer), try elementType(dtype), into: out, capacity: cSize(out_cap))
    }
}
