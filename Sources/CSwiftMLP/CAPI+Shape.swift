// Shape and type queries.
import CSwiftMLPABI
import SwiftMLP

@c @implementation
public func swiftmlp_get_dtype(_ net: OpaquePointer?, _ dtype: UnsafeMutablePointer<swiftmlp_dtype>?) -> swiftmlp_status {
    run("swiftmlp_get_dtype", net, .read) { (h) throws(MLPError) in
        try required(dtype, "dtype").pointee = swiftmlp_dtype(rawValue: numericCast(h.network.dtype.rawValue))
    }
}

@c @implementation
public func swiftmlp_get_layer_count(_ net: OpaquePointer?, _ n_layers: UnsafeMutablePointer<Int>?) -> swiftmlp_status {
    run("swiftmlp_get_layer_count", net, .read) { (h) throws(MLPError) in
        try required(n_layers, "n_layers").pointee = h.layout.layerCount
    }
}

@c @implementation
public func swiftmlp_get_sizes(_ net: OpaquePointer?, _ sizes: UnsafeMutablePointer<Int>?, _ sizes_cap: Int) -> swiftmlp_status {
    run("swiftmlp_get_sizes", net, .read) { (h) throws(MLPError) in
        let out = try required(sizes, "sizes")
        let list = h.layout.sizes
        guard cSize(sizes_cap) >= list.count else {
            throw MLPError(.bufferSize, "sizes capacity \(cSize(sizes_cap)) is less than the \(list.count) layer sizes")
        }
        for (i, n) in list.enumerated() { out[i] = n }
    }
}

@c @implementation
public func swiftmlp_get_param_count(_ net: OpaquePointer?, _ count: UnsafeMutablePointer<Int>?) -> swiftmlp_status {
    run("swiftmlp_get_param_count", net, .read) { (h) throws(MLPError) in
        try required(count, "count").pointee = h.layout.parameterCount
    }
}

@c @implementation
public func swiftmlp_get_layer_offsets(
    _ net: OpaquePointer?, _ layer: Int,
    _ w_offset: UnsafeMutablePointer<Int>?, _ b_offset: UnsafeMutablePointer<Int>?
) -> swiftmlp_status {
    run("swiftmlp_get_layer_offsets", net, .read) { (h) throws(MLPError) in
        let w = try required(w_offset, "w_offset"), b = try required(b_offset, "b_offset")
        let layout = h.layout, layer = cSize(layer)
        guard layer < layout.layerCount else {
            throw MLPError(.layerIndex, "layer index \(layer) out of range: the network has \(layout.layerCount) weight layer(s)")
        }
        w.pointee = layout.weightOffsets[layer]
        b.pointee = layout.biasOffsets[layer]
    }
}

@c @implementation
public func swiftmlp_get_activations(
    _ net: OpaquePointer?, _ activations: UnsafeMutablePointer<swiftmlp_activation>?, _ activations_cap: Int
) -> swiftmlp_status {
    run("swiftmlp_get_activations", net, .read) { (h) throws(MLPError) in
        let out = try required(activations, "activations")
        guard cSize(activations_cap) >= h.activations.count else {
            throw MLPError(.bufferSize, "activations capacity \(cSize(activations_cap)) is less than the \(h.activations.count) weight layers")
        }
        for (i, a) in h.activations.enumerated() { out[i] = a }
    }
}

@c @implementation
public func swiftmlp_get_config(_ net: OpaquePointer?, _ config: UnsafeMutablePointer<swiftmlp_config>?) -> swiftmlp_status {
    run("swiftmlp_get_config", net, .read) { (h) throws(MLPError) in
        let out = try required(config, "config")
        let c = h.configuration
        var r = swiftmlp_config()
        r.struct_size = MemoryLayout<swiftmlp_config>.size
        r.sizes = UnsafePointer(h.sizes.baseAddress)
        r.n_sizes = h.sizes.count
        r.dtype = swiftmlp_dtype(rawValue: numericCast(h.network.dtype.rawValue))
        r.seed = c.seed
        r.activations = UnsafePointer(h.activations.baseAddress)
        r.n_activations = h.activations.count
        r.leaky_slope = c.leakySlope
        r.loss = swiftmlp_loss(rawValue: numericCast(c.loss.rawValue))
        r.`init` = swiftmlp_init(rawValue: numericCast(c.initialization.rawValue))
        out.pointee = r
    }
}
