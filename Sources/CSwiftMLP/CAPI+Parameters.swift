// Reading and writing parameters and gradients, flat and per layer.
import CSwiftMLPABI
import SwiftMLP

@c @implementation
public func swiftmlp_get_params(
    _ net: OpaquePointer?, _ dtype: swiftmlp_dtype, _ out: UnsafeMutableRawPointer?, _ out_cap: Int
) -> swiftmlp_status {
    run("swiftmlp_get_params", net, .read) { (h) throws(MLPError) in
        let network = h.network
        let out = try required(out, "out")
        try network.copyParameters(try elementType(dtype), into: out, capacity: cSize(out_cap))
    }
}

@c @implementation
public func swiftmlp_set_params(
    _ net: OpaquePointer?, _ dtype: swiftmlp_dtype, _ values: UnsafeRawPointer?, _ in_len: Int
) -> swiftmlp_status {
    run("swiftmlp_set_params", net, .write) { (h) throws(MLPError) in
        let network = h.network
        let values = try required(values, "in")
        try network.setParameters(try elementType(dtype), from: values, count: cSize(in_len))
    }
}

@c @implementation
public func swiftmlp_get_grads(
    _ net: OpaquePointer?, _ dtype: swiftmlp_dtype, _ out: UnsafeMutableRawPointer?, _ out_cap: Int
) -> swiftmlp_status {
    run("swiftmlp_get_grads", net, .read) { (h) throws(MLPError) in
        let network = h.network
        let out = try required(out, "out")
        try network.copyGradients(try elementType(dtype), into: out, capacity: cSize(out_cap))
    }
}

@c @implementation
public func swiftmlp_set_grads(
    _ net: OpaquePointer?, _ dtype: swiftmlp_dtype, _ grads: UnsafeRawPointer?, _ grads_len: Int
) -> swiftmlp_status {
    run("swiftmlp_set_grads", net, .write) { (h) throws(MLPError) in
        let network = h.network
        let grads = try required(grads, "grads")
        try network.setGradients(try elementType(dtype), from: grads, count: cSize(grads_len))
    }
}

@c @implementation
public func swiftmlp_get_layer(
    _ net: OpaquePointer?, _ layer: Int, _ dtype: swiftmlp_dtype,
    _ w: UnsafeMutableRawPointer?, _ w_cap: Int, _ b: UnsafeMutableRawPointer?, _ b_cap: Int
) -> swiftmlp_status {
    run("swiftmlp_get_layer", net, .read) { (h) throws(MLPError) in
        let network = h.network
        let w = try required(w, "w"), b = try required(b, "b")
        try network.copyLayer(cSize(layer), try elementType(dtype), gradients: false,
                              weights: w, weightsCapacity: cSize(w_cap),
                              biases: b, biasesCapacity: cSize(b_cap))
    }
}

@c @implementation
public func swiftmlp_get_layer_grads(
    _ net: OpaquePointer?, _ layer: Int, _ dtype: swiftmlp_dtype,
    _ dw: UnsafeMutableRawPointer?, _ dw_cap: Int, _ db: UnsafeMutableRawPointer?, _ db_cap: Int
) -> swiftmlp_status {
    run("swiftmlp_get_layer_grads", net, .read) { (h) throws(MLPError) in
        let network = h.network
        let dw = try required(dw, "dw"), db = try required(db, "db")
        try network.copyLayer(cSize(layer), try elementType(dtype), gradients: true,
                              weights: dw, weightsCapacity: cSize(dw_cap),
                              biases: db, biasesCapacity: cSize(db_cap))
    }
}

@c @implementation
public func swiftmlp_set_layer(
    _ net: OpaquePointer?, _ layer: Int, _ dtype: swiftmlp_dtype,
    _ w: UnsafeRawPointer?, _ w_len: Int, _ b: UnsafeRawPointer?, _ b_len: Int
) -> swiftmlp_status {
    run("swiftmlp_set_layer", net, .write) { (h) throws(MLPError) in
        let network = h.network
        let w = try required(w, "w"), b = try required(b, "b")
        try network.setLayer(cSize(layer), try elementType(dtype),
                             weights: w, weightsCount: cSize(w_len),
                             biases: b, biasesCount: cSize(b_len))
    }
}
