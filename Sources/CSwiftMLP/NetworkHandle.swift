import CSwiftMLPABI
import SwiftMLP

/// What a `swiftmlp_net *` points to: the network and the C views of its
/// configuration that `swiftmlp_get_config` hands out (valid until free).
final class NetworkHandle {
    let network: DynamicNetwork
    let sizes: UnsafeMutableBufferPointer<Int>
    let activations: UnsafeMutableBufferPointer<swiftmlp_activation>

    init(_ network: DynamicNetwork) {
        self.network = network
        let layout = network.layout
        sizes = .allocate(capacity: layout.sizes.count)
        _ = sizes.initialize(from: layout.sizes)
        activations = .allocate(capacity: layout.layerCount)
        _ = activations.initialize(from: network.activations.map { swiftmlp_activation(rawValue: numericCast($0.rawValue)) })
    }

    deinit {
        sizes.deallocate()
        activations.deallocate()
    }
}
