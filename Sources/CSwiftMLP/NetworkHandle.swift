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

    /// The network, of the element type it was created or loaded with.
    let network: AnyNetwork
    /// The network's shape and configuration, fixed for its life.
    let layout: Layout
    let configuration: NetworkConfiguration
    let sizes: UnsafeMutableBufferPointer<Int>
    let activations: UnsafeMutableBufferPointer<swiftmlp_activation>
    /// The calls in this handle: `writerBit` while a writing call runs,
    /// otherwise the number of reading calls; plus `freedBit` once
    /// swiftmlp_free has unregistered the handle while calls were still in
    /// it (the last of them to leave then releases it).
    private let users = Atomic<Int>(0)
    private static var writerBit: Int { 1 << 61 }
    private static var freedBit: Int { 1 << 62 }

    init(_ network: AnyNetwork) {
        self.network = network
        let (layout, configuration, activations) = switch network {
        case .float32(let n): (n.layout, n.configuration, n.activations)
        case .float64(let n): (n.layout, n.configuration, n.activations)
        }
        self.layout = layout
        self.configuration = configuration
        sizes = .allocate(capacity: layout.sizes.count)
        _ = sizes.initialize(from: layout.sizes)
        self.activations = .allocate(capacity: layout.layerCount)
        _ = self.activations.initialize(from: activations.map { swiftmlp_activation(rawValue: numericCast($0.rawValue)) })
    }

    /// Runs `work` on the network, whatever its element type: with the
    /// next function, the switch over the two types that every call takes.
    @inline(__always)
    func call<C: NetworkCall>(_ work: C) throws(MLPError) -> C.Output {
        switch network {
        case .float32(let n): return try work(n)
        case .float64(let n): return try work(n)
        }
    }

    /// Runs `work`, whose buffers the caller declared of element type
    /// `dtype`: `.invalidArgument` for an unknown value, `.dtype` when it is
    /// not the network's. The only check of a call's dtype.
    @inline(__always)
    func call<C: NetworkCall>(_ dtype: swiftmlp_dtype, _ work: C) throws(MLPError) -> C.Output {
        switch network {
        case .float32(let n) where dtype == SWIFTMLP_FLOAT32: return try work(n)
        case .float64(let n) where dtype == SWIFTMLP_FLOAT64: return try work(n)
        default:
            let claimed = try elementType(dtype)
            throw MLPError(.dtype, "the buffers are declared \(claimed) but the network is \(network.dtype)")
        }
    }

    deinit {
        sizes.deallocate()
        activations.deallocate()
    }

    /// Counts a call with `access` in; false if it conflicts with one running
    /// on another thread. Never blocks. Called with the registry lock held,
    /// on a registered handle (so `freedBit` is not set).
    private func tryEnter(_ access: Access) -> Bool {
        switch access {
        case .write:
            return users.compareExchange(expected: 0, desired: Self.writerBit, ordering: .acquiring).exchanged
        case .read:
            var current = users.load(ordering: .relaxed)
            while true {
                guard current & Self.writerBit == 0 else { return false }
                let (exchanged, seen) = users.compareExchange(expected: current, desired: current + 1, ordering: .acquiring)
                if exchanged { return true }
                current = seen
            }
        }
    }

    /// Counts a call out; true when swiftmlp_free ran during the calls and
    /// this was the last one: the caller then releases the handle.
    private func leave(_ access: Access) -> Bool {
        let after = switch access {
        case .write: users.wrappingSubtract(Self.writerBit, ordering: .acquiringAndReleasing).newValue
        case .read: users.wrappingSubtract(1, ordering: .acquiringAndReleasing).newValue
        }
        return after == Self.freedBit
    }

    /// Marks an unregistered handle freed; true when no call is in it, so
    /// the caller releases it now (otherwise the last call out does).
    private func markFreed() -> Bool {
        users.bitwiseOr(Self.freedBit, ordering: .acquiringAndReleasing).oldValue == 0
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

    /// Enters a call with `access` on the live handle behind `pointer`:
    /// `.badHandle` if it is not one (its memory is not read), `.busy` if the
    /// call conflicts with one running on another thread. Lookup and entry
    /// happen under the registry lock, so a concurrent swiftmlp_free (a
    /// caller error, but one that must not crash the library) cannot release
    /// the handle in between; afterwards the count of calls in it keeps it
    /// alive (see `free`), with no retain and release per call. Pair with
    /// `leave`.
    static func enter(_ pointer: OpaquePointer, _ access: Access) throws(MLPError) -> Unmanaged<NetworkHandle> {
        let address = UInt(bitPattern: UnsafeRawPointer(pointer))
        let handle = Unmanaged<NetworkHandle>.fromOpaque(UnsafeRawPointer(pointer))
        smlp_registry_lock()
        let registered = live.pointee.contains(address)
        let entered = registered && handle._withUnsafeGuaranteedRef { $0.tryEnter(access) }
        smlp_registry_unlock()
        guard registered else {
            throw MLPError(.badHandle, "net is not a live swiftmlp network (already freed, or not from swiftmlp_create/load)")
        }
        guard entered else {
            switch access {
            case .write:
                throw MLPError(.busy, "another thread is using this network; calls that change a network must not overlap with any other call on it")
            case .read:
                throw MLPError(.busy, "another thread is changing this network")
            }
        }
        return handle
    }

    /// Ends a call `enter` let in; releases the handle if swiftmlp_free ran
    /// meanwhile and no other call is left in it.
    static func leave(_ handle: Unmanaged<NetworkHandle>, _ access: Access) {
        if handle._withUnsafeGuaranteedRef({ $0.leave(access) }) { handle.release() }
    }

    /// Unregisters and releases (at once, or when the last call still in
    /// it leaves); a pointer that is not live is ignored.
    static func free(_ pointer: OpaquePointer) {
        let address = UInt(bitPattern: UnsafeRawPointer(pointer))
        let handle = Unmanaged<NetworkHandle>.fromOpaque(UnsafeRawPointer(pointer))
        smlp_registry_lock()
        let removed = live.pointee.remove(address)
        let releaseNow = removed && handle._withUnsafeGuaranteedRef { $0.markFreed() }
        smlp_registry_unlock()
        if releaseNow { handle.release() }
    }
}
