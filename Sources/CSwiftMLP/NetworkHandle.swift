import CSwiftMLPABI
import SwiftMLP
import CSwiftMLPSupport
import Synchronization

/// What a `swiftmlp_net *` points to: the network, the C views of its
/// configuration that `swiftmlp_get_config` hands out (valid until free),
/// and the access state that turns a conflicting call from a second thread
/// into SWIFTMLP_ERR_BUSY instead of a data race.
final class NetworkHandle: @unchecked Sendable {  // shared across threads only through `enter`/`leave`
    /// How a call uses the network: reading calls may run together; a
    /// writing call runs alone.
    enum Access { case read, write }

    let network: DynamicNetwork
    /// The typed network inside `network` (nil for the other element type),
    /// for the hot path of swiftmlp_train_step. Unretained: `network` holds
    /// it for the handle's whole life, and a call holds the handle, so a call
    /// may use it through `_withUnsafeGuaranteedRef` without a retain/release.
    let float32: Unmanaged<Network<Float>>?
    let float64: Unmanaged<Network<Double>>?
    let sizes: UnsafeMutableBufferPointer<Int>
    let activations: UnsafeMutableBufferPointer<swiftmlp_activation>
    /// -1: one writer; n >= 0: n readers.
    private let users = Atomic<Int>(0)

    init(_ network: DynamicNetwork) {
        self.network = network
        float32 = network.float32Network.map { Unmanaged.passUnretained($0) }
        float64 = network.float64Network.map { Unmanaged.passUnretained($0) }
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

    /// Enters a call with `access`, or throws `.busy` if it conflicts with
    /// one running on another thread. Never blocks.
    func enter(_ access: Access) throws(MLPError) {
        switch access {
        case .write:
            guard users.compareExchange(expected: 0, desired: -1, ordering: .acquiring).exchanged else {
                throw MLPError(.busy, "another thread is using this network; calls that change a network must not overlap with any other call on it")
            }
        case .read:
            var current = users.load(ordering: .relaxed)
            while true {
                guard current >= 0 else {
                    throw MLPError(.busy, "another thread is changing this network")
                }
                let (exchanged, seen) = users.compareExchange(expected: current, desired: current + 1, ordering: .acquiring)
                if exchanged { return }
                current = seen
            }
        }
    }

    func leave(_ access: Access) {
        switch access {
        case .write: users.store(0, ordering: .releasing)
        case .read: users.subtract(1, ordering: .releasing)
        }
    }

    // MARK: the registry of live handles

    /// Addresses of the handles swiftmlp_create/load returned and
    /// swiftmlp_free has not released: a freed, foreign or twice-freed
    /// pointer is recognised without reading the memory it points to.
    /// Guarded by smlp_registry_lock (CSwiftMLPSupport). Held through a
    /// pointer rather than in a `static var`, which would cost a dynamic
    /// exclusivity check (swift_beginAccess) on every lookup: the lock
    /// already serialises every access.
    nonisolated(unsafe) private static let live: UnsafeMutablePointer<HandleRegistry> = {
        let p = UnsafeMutablePointer<HandleRegistry>.allocate(capacity: 1)
        p.initialize(to: HandleRegistry())
        return p
    }()

    /// Registers `handle` and returns the pointer C callers hold.
    static func publish(_ handle: NetworkHandle) -> OpaquePointer {
        let pointer = Unmanaged.passRetained(handle).toOpaque()
        smlp_registry_lock()
        live.pointee.insert(UInt(bitPattern: pointer))
        smlp_registry_unlock()
        return OpaquePointer(pointer)
    }

    /// The live handle behind `pointer` (retained for the caller's scope).
    static func lookUp(_ pointer: OpaquePointer) throws(MLPError) -> NetworkHandle {
        let address = UInt(bitPattern: UnsafeRawPointer(pointer))
        smlp_registry_lock()
        // Retained while the registry still owns it, so a concurrent free
        // cannot release it under this call.
        let handle = live.pointee.contains(address)
            ? Unmanaged<NetworkHandle>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue() : nil
        smlp_registry_unlock()
        guard let handle else {
            throw MLPError(.badHandle, "net is not a live swiftmlp network (already freed, or not from swiftmlp_create/load)")
        }
        return handle
    }

    /// Unregisters and releases; a pointer that is not live is ignored.
    static func free(_ pointer: OpaquePointer) {
        let address = UInt(bitPattern: UnsafeRawPointer(pointer))
        smlp_registry_lock()
        let removed = live.pointee.remove(address)
        smlp_registry_unlock()
        if removed { Unmanaged<NetworkHandle>.fromOpaque(UnsafeRawPointer(pointer)).release() }
    }
}
