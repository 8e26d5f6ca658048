/// The set of live handle addresses: open addressing with linear probing
/// and a multiplicative (Fibonacci) hash, so a lookup on every C call costs a
/// few instructions (Swift's `Set` hashes with SipHash). Not thread-safe by
/// itself: `NetworkHandle` guards it with smlp_registry_lock.
///
/// Every slot has a state (empty, live, removed) of its own, apart from its
/// key: no key value stands for "empty" or "removed", so every one of the
/// 2^64 pointer values a caller can pass is either a registered address or
/// not one, and only a registered one is ever dereferenced. (Keys used to
/// double as markers, 0 and 1, so the two addresses that encode to them,
/// -1 and ~1, were taken as live.)
///
/// Keys hold each address bit-inverted: a leak checker that scans memory
/// for pointers (LeakSanitizer, valgrind) must not mistake the registry for
/// a reference, or a network the application leaked would never be reported.
struct HandleRegistry {
    private enum State: UInt8 { case empty, live, removed }
    private var keys = [UInt](repeating: 0, count: 64)
    private var states = [State](repeating: .empty, count: 64)
    private var used = 0                   // live entries plus tombstones

    @inline(__always)
    private func home(_ key: UInt) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & (keys.count - 1)
    }

    func contains(_ address: UInt) -> Bool { find(~address) != nil }

    mutating func insert(_ address: UInt) {
        let key = ~address
        if find(key) != nil { return }
        if 2 * (used + 1) > keys.count { rehash(capacity: keys.count * 2) }
        var i = home(key)
        while states[i] == .live { i = (i + 1) & (keys.count - 1) }
        if states[i] == .empty { used += 1 }
        keys[i] = key
        states[i] = .live
    }

    /// Removes `address`; false if it was not there.
    mutating func remove(_ address: UInt) -> Bool {
        guard let i = find(~address) else { return false }
        states[i] = .removed
        return true
    }

    /// The slot holding `key` live, if any. The probe ends at an empty slot;
    /// the table is at most half used, so there always is one.
    private func find(_ key: UInt) -> Int? {
        var i = home(key)
        while true {
            switch states[i] {
            case .empty: return nil
            case .live where keys[i] == key: return i
            default: i = (i + 1) & (keys.count - 1)
            }
        }
    }

    private mutating func rehash(capacity: Int) {
        let oldKeys = keys, oldStates = states
        var live = 0
        for s in oldStates where s == .live { live += 1 }
        var size = capacity
        while 2 * (live + 1) > size { size *= 2 }
        // Shrink back when tombstones, not live entries, filled the table.
        if 4 * (live + 1) < size / 2 && size > 64 { size = Swift.max(64, size / 2) }
        keys = [UInt](repeating: 0, count: size)
        states = [State](repeating: .empty, count: size)
        used = 0
        for (k, s) in zip(oldKeys, oldStates) where s == .live {
            var i = home(k)
            while states[i] != .empty { i = (i + 1) & (size - 1) }
            keys[i] = k
            states[i] = .live
            used += 1
        }
    }
}
