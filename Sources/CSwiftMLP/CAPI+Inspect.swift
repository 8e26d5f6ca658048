// The slides' quantities of the last batch.
import CSwiftMLPABI
import SwiftMLP

private struct CachedRows: NetworkCall {
    func callAsFunction<T: MLPScalar>(_ n: Network<T>) -> Int? { n.cachedRows }
}

@c @implementation
public func swiftmlp_get_cached_rows(_ net: OpaquePointer?, _ rows: UnsafeMutablePointer<Int>?) -> swiftmlp_status {
    run("swiftmlp_get_cached_rows", net, .read) { (h) throws(MLPError) in
        let out = try required(rows, "rows")
        guard let n = try h.call(CachedRows()) else { throw MLPError(.state, "no batch yet: call forward first") }
        out.pointee = n
    }
}

private struct CheckBatch: NetworkCall {
    let rows: Int
    func callAsFunction<T: MLPScalar>(_ n: Network<T>) throws(MLPError) { try n.layout.check(batch: rows) }
}

@c @implementation
public func swiftmlp_check_batch(_ net: OpaquePointer?, _ rows: Int) -> swiftmlp_status {
    run("swiftmlp_check_batch", net, .read) { (h) throws(MLPError) in try h.call(CheckBatch(rows: cSize(rows))) }
}

private struct CopyQuantity: NetworkCall {
    let quantity: Quantity, layer: Int, out: COutput
    func callAsFunction<T: MLPScalar>(_ n: Network<T>) throws(MLPError) {
        _ = try n.copyQuantity(quantity, layer: layer, into: out.elements(for: n))
    }
}

@c @implementation
public func swiftmlp_get_quantity(
    _ net: OpaquePointer?, _ quantity: swiftmlp_quantity, _ layer: Int, _ dtype: swiftmlp_dtype,
    _ out: UnsafeMutableRawPointer?, _ out_cap: Int
) -> swiftmlp_status {
    run("swiftmlp_get_quantity", net, .read) { (h) throws(MLPError) in
        let out = try COutput(out, out_cap, "out")
        let q: Quantity = try cEnum(quantity.rawValue, "quantity")
        try h.call(dtype, CopyQuantity(quantity: q, layer: cSize(layer), out: out))
    }
}
