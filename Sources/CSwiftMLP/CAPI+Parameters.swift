// Reading and writing parameters and gradients, flat and per layer.
import CSwiftMLPABI
import SwiftMLP

/// Copies the flat parameters (or gradients) out.
private struct CopyFlat: NetworkCall {
    let gradients: Bool, out: COutput
    func callAsFunction<T: MLPScalar>(_ n: Network<T>) throws(MLPError) {
        if gradients { try n.copyGradients(into: out.elements(for: n)) } else { try n.copyParameters(into: out.elements(for: n)) }
    }
}

/// Replaces the flat parameters (or gradients).
private struct SetFlat: NetworkCall {
    let gradients: Bool, values: CInput
    func callAsFunction<T: MLPScalar>(_ n: Network<T>) throws(MLPError) {
        if gradients { try n.setGradients(values.elements(for: n)) } else { try n.setParameters(values.elements(for: n)) }
    }
}

@c @implementation
public func swiftmlp_get_params(
    _ net: OpaquePointer?, _ dtype: swiftmlp_dtype, _ out: UnsafeMutableRawPointer?, _ out_cap: Int
) -> swiftmlp_status {
    run("swiftmlp_get_params", net, .read) { (h) throws(MLPError) in
        try h.call(dtype, CopyFlat(gradients: false, out: COutput(out, out_cap, "out")))
    }
}

@c @implementation
public func swiftmlp_set_params(
    _ net: OpaquePointer?, _ dtype: swiftmlp_dtype, _ values: UnsafeRawPointer?, _ in_len: Int
) -> swiftmlp_status {
    run("swiftmlp_set_params", net, .write) { (h) throws(MLPError) in
        try h.call(dtype, SetFlat(gradients: false, values: CInput(values, in_len, "in")))
    }
}

@c @implementation
public func swiftmlp_get_grads(
    _ net: OpaquePointer?, _ dtype: swiftmlp_dtype, _ out: UnsafeMutableRawPointer?, _ out_cap: Int
) -> swiftmlp_status {
    run("swiftmlp_get_grads", net, .read) { (h) throws(MLPError) in
        try h.call(dtype, CopyFlat(gradients: true, out: COutput(out, out_cap, "out")))
    }
}

@c @implementation
public func swiftmlp_set_grads(
    _ net: OpaquePointer?, _ dtype: swiftmlp_dtype, _ grads: UnsafeRawPointer?, _ grads_len: Int
) -> swiftmlp_status {
    run("swiftmlp_set_grads", net, .write) { (h) throws(MLPError) in
        try h.call(dtype, SetFlat(gradients: true, values: CInput(grads, grads_len, "grads")))
    }
}

/// Copies one layer's weights and biases (or their gradients) out.
private struct CopyLayer: NetworkCall {
    let layer: Int, gradients: Bool, w: COutput, b: COutput
    func callAsFunction<T: MLPScalar>(_ n: Network<T>) throws(MLPError) {
        if gradients {
            try n.copyLayerGradients(layer, weights: w.elements(for: n), biases: b.elements(for: n))
        } else {
            try n.copyLayer(layer, weights: w.elements(for: n), biases: b.elements(for: n))
        }
    }
}

@c @implementation
public func swiftmlp_get_layer(
    _ net: OpaquePointer?, _ layer: Int, _ dtype: swiftmlp_dtype,
    _ w: UnsafeMutableRawPointer?, _ w_cap: Int, _ b: UnsafeMutableRawPointer?, _ b_cap: Int
) -> swiftmlp_status {
    run("swiftmlp_get_layer", net, .read) { (h) throws(MLPError) in
        try h.call(dtype, CopyLayer(layer: cSize(layer), gradients: false, w: COutput(w, w_cap, "w"), b: COutput(b, b_cap, "b")))
    }
}

@c @implementation
public func swiftmlp_get_layer_grads(
    _ net: OpaquePointer?, _ layer: Int, _ dtype: swiftmlp_dtype,
    _ dw: UnsafeMutableRawPointer?, _ dw_cap: Int, _ db: UnsafeMutableRawPointer?, _ db_cap: Int
) -> swiftmlp_status {
    run("swiftmlp_get_layer_grads", net, .read) { (h) throws(MLPError) in
        try h.call(dtype, CopyLayer(layer: cSize(layer), gradients: true, w: COutput(dw, dw_cap, "dw"), b: COutput(db, db_cap, "db")))
    }
}

private struct SetLayer: NetworkCall {
    let layer: Int, w: CInput, b: CInput
    func callAsFunction<T: MLPScalar>(_ n: Network<T>) throws(MLPError) {
        try n.setLayer(layer, weights: w.elements(for: n), biases: b.elements(for: n))
    }
}

@c @implementation
public func swiftmlp_set_layer(
    _ net: OpaquePointer?, _ layer: Int, _ dtype: swiftmlp_dtype,
    _ w: UnsafeRawPointer?, _ w_len: Int, _ b: UnsafeRawPointer?, _ b_len: Int
) -> swiftmlp_status {
    run("swiftmlp_set_layer", net, .write) { (h) throws(MLPError) in
        try h.call(dtype, SetLayer(layer: cSize(layer), w: CInput(w, w_len, "w"), b: CInput(b, b_len, "b")))
    }
}
