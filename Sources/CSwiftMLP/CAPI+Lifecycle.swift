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
        let n_sizes = cSize(n_sizes)
        guard n_sizes <= Limits.maxSizes else {
            throw MLPError(.tooLarge, "n_sizes \(n_sizes) exceeds the limit of \(Limits.maxSizes)")
        }
        let list = UnsafeBufferPointer(start: sizes, count: n_sizes).map(cSize)
        let net = try AnyNetwork(sizes: list, dtype: type, seed: seed)
        out.pointee = NetworkHandle.publish(NetworkHandle(net))
    }
}

@c @implementation
public func swiftmlp_free(_ net: OpaquePointer?) {
    guard let net else { return }
    NetworkHandle.free(net)
}

@c @implementation
public func swiftmlp_config_default(_ config: UnsafeMutablePointer<swiftmlp_config>?) -> swiftmlp_status {
    let defaults = swiftmlp_config(
        struct_size: MemoryLayout<swiftmlp_config>.size, sizes: nil, n_sizes: 0, dtype: SWIFTMLP_FLOAT64, seed: 0,
        activations: nil, n_activations: 0, leaky_slope: 0.01, loss: SWIFTMLP_LOSS_MSE, init: SWIFTMLP_INIT_UNIFORM)
    return writeDefaults("swiftmlp_config_default", defaults, to: config, "config")
}

@c @implementation
public func swiftmlp_create_with_config(
    _ config: UnsafePointer<swiftmlp_config>?, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> swiftmlp_status {
    out?.pointee = nil
    return run("swiftmlp_create_with_config") { () throws(MLPError) in
        let out = try required(out, "out")
        let c = try required(config, "config").pointee
        try checkStructSize(cSize(c.struct_size), MemoryLayout<swiftmlp_config>.size, "swiftmlp_config")
        let sizes = try required(c.sizes, "config->sizes")
        let n_sizes = cSize(c.n_sizes), n_activations = cSize(c.n_activations)
        guard n_sizes <= Limits.maxSizes else {
            throw MLPError(.tooLarge, "n_sizes \(n_sizes) exceeds the limit of \(Limits.maxSizes)")
        }
        let type = try elementType(c.dtype)
        var acts: [Activation] = [.sigmoid]
        if let list = c.activations {
            // Check the count before reading the caller's array.
            guard n_activations == 1 || (n_sizes >= 2 && n_activations == n_sizes - 1) else {
                throw MLPError(.invalidArgument, "n_activations \(n_activations) must be 1 or the number of weight layers (\(Swift.max(n_sizes - 1, 0)))")
            }
            acts = []
            for i in 0..<n_activations { acts.append(try cEnum(list[i].rawValue, "activation")) }
        }
        let configuration = NetworkConfiguration(
            sizes: UnsafeBufferPointer(start: sizes, count: n_sizes).map(cSize),
            activations: acts, leakySlope: c.leaky_slope,
            loss: try cEnum(c.loss.rawValue, "loss"), initialization: try cEnum(c.`init`.rawValue, "init"),
            seed: c.seed)
        let net = try AnyNetwork(configuration: configuration, dtype: type)
        out.pointee = NetworkHandle.publish(NetworkHandle(net))
    }
}
