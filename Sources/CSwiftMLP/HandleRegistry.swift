/// The set of live handle addresses: open addressing with linear probing
/// and a multiplicative (Fibonacci) hash, so a lookup on every C call costs a
/// few instructions (Swift's `Set` hashes with SipHash). Not thread-safe by
/// itself: `NetworkHandle` guards it with smlp_registry_lock.
///
/// Slots hold each address bit-inverted: a leak checker that scans memory
/// for pointers (LeakSanitizer, valgrind) must not mistake the registry for
/// a reference, or a network the application leaked would never be reported.
struct HandleRegistry {
    private static let empty: UInt = 0
    private static let removed: UInt = 1   // tombstone; real addresses are aligned, never 0 or 1
    private var slots = [UInt](repeating: HandleRegistry.empty, count: 64)
    private var used = 0                   // live entries plus tombstones

    @inline(__always)
    private func home(_ address: UInt) -> Int {
        Int(truncatingIfNeeded: (address &* 0x9E37_79B9_7F4A_7C15) >> 32) & (slots.count - 1)
    }

    func contains(_ address: UInt) -> Bool { containsKey(~address) }

    mutating func insert(_ address: UInt) { insertKey(~address) }

    /// Removes `address`; false if it was not there.
    mutating func remove(_ address: UInt) -> Bool { removeKey(~address) }

    // Keys are inverted addresses: never `empty` (0) or `removed` (1), since
    // real addresses are aligned and not all ones.
    private func containsKey(_ address: UInt) -> Bool {
        var i = home(address)
        while true {
            let s = slots[i]
            if s == address { return true }
            if s == Self.empty { return false }
            i = (i + 1) & (slots.count - 1)
        }
    }

    private mutating func insertKey(_ address: UInt) {
        if 2 * (used + 1) > slots.count { rehash(capacity: slots.count * 2) }
        var i = home(address)
        while slots[i] != Self.empty && slots[i] != Self.removed {
            if slots[i] == address { return }
            i = (i + 1) & (slots.count - 1)
        }
        if slots[i] == Self.empty { used += 1 }
        slots[i] = address
    }

    private mutating func removeKey(_ address: UInt) -> Bool {
        var i = home(address)
        while true {
            let s = slots[i]
            if s == address {
                slots[i] = Self.removed
                return true
            }
            if s == Self.empty { return false }
            i = (i + 1) & (slots.count - 1)
        }
    }

    private mutating func rehash(capacity: Int) {
        let old = slots
        var live = 0
        for s in old where s != Self.empty && s != Self.removed { live += 1 }
        var size = capacity
        while 2 * (live + 1) > size { size *= 2 }
        // Shrink back when tombstones, not live entries, filled the table.
        if 4 * (live + 1) < size / 2 && size > 64 { size = Swift.max(64, size / 2) }
        slots = [UInt](repeating: Self.empty, count: size)
        used = 0
        for s in old where s != Self.empty && s != Self.removed { insertKey(s) }
    }
}
