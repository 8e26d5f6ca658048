/// The per-batch buffers of one network, allocated once for a batch
/// capacity and reused by every forward/backward with a batch up to it.
///
/// Index a = 0...L names the activation layer (a = 0 is the input x):
/// g[a] is (B, N_a); for a >= 1 also f[a], dL/dg[a], dL/df[a], each (B, N_a).
/// All live in one allocation of `capacity * (N0 + 4*(N1+...+NL))` elements;
/// each region is sized for `capacity` rows, of which a batch uses the first B.
/// The region offsets live in a second small allocation.
final class ActivationCache<Scalar: MLPScalar> {
    let capacity: Int
    private let storage: AlignedBuffer<Scalar>
    /// For each a: offsets of g, f, dL/dg, dL/df (4 entries per layer).
    private let offsets: AlignedBuffer<Int>

    init(layout: Layout, capacity: Int) throws(MLPError) {
        let table = try AlignedBuffer<Int>(count: 4 * layout.sizes.count)
        var offset = 0
        for (a, n) in layout.sizes.enumerated() {
            let region = capacity * n
            table.base[4 * a] = offset
            offset += region
            for q in 1...3 {
                table.base[4 * a + q] = a == 0 ? 0 : offset
                if a > 0 { offset += region }
            }
        }
        self.storage = try AlignedBuffer(count: offset)
        self.capacity = capacity
        self.offsets = table
    }

    @inline(__always) func g(_ a: Int) -> UnsafeMutablePointer<Scalar> { storage.base + offsets.base[4 * a] }
    @inline(__always) func f(_ a: Int) -> UnsafeMutablePointer<Scalar> { storage.base + offsets.base[4 * a + 1] }
    @inline(__always) func dg(_ a: Int) -> UnsafeMutablePointer<Scalar> { storage.base + offsets.base[4 * a + 2] }
    @inline(__always) func df(_ a: Int) -> UnsafeMutablePointer<Scalar> { storage.base + offsets.base[4 * a + 3] }
}
