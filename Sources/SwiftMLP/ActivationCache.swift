/// The per-batch buffers of one network, allocated once for a batch
/// capacity and reused by every forward/backward with a batch up to it.
///
/// Index a = 0...L names the activation layer (a = 0 is the input x):
/// g[a] is (B, N_a); for a >= 1 also f[a], dL/dg[a], dL/df[a], each (B, N_a).
/// All live in one allocation of `capacity * (N0 + 4*(N1+...+NL))` elements;
/// each region is sized for `capacity` rows, of which a batch uses the first B.
struct ActivationCache<Scalar: MLPScalar> {
    let capacity: Int
    private let storage: AlignedBuffer<Scalar>
    private let gOffsets: [Int]
    private let fOffsets: [Int]
    private let dgOffsets: [Int]
    private let dfOffsets: [Int]

    init(layout: Layout, capacity: Int) throws(MLPError) {
        var g: [Int] = [], f: [Int] = [], dg: [Int] = [], df: [Int] = []
        var offset = 0
        for (a, n) in layout.sizes.enumerated() {
            let region = capacity * n
            g.append(offset); offset += region
            if a == 0 {
                f.append(0); dg.append(0); df.append(0)
            } else {
                f.append(offset); offset += region
                dg.append(offset); offset += region
                df.append(offset); offset += region
            }
        }
        self.storage = try AlignedBuffer(count: offset)
        self.capacity = capacity
        self.gOffsets = g
        self.fOffsets = f
        self.dgOffsets = dg
        self.dfOffsets = df
    }

    func deallocate() { storage.deallocate() }

    @inline(__always) func g(_ a: Int) -> UnsafeMutablePointer<Scalar> { storage.base + gOffsets[a] }
    @inline(__always) func f(_ a: Int) -> UnsafeMutablePointer<Scalar> { storage.base + fOffsets[a] }
    @inline(__always) func dg(_ a: Int) -> UnsafeMutablePointer<Scalar> { storage.base + dgOffsets[a] }
    @inline(__always) func df(_ a: Int) -> UnsafeMutablePointer<Scalar> { storage.base + dfOffsets[a] }
}
