extension MLPScalar {
    @inline(__always)
    public static func loadLittleEndian(from p: UnsafeRawPointer) -> Self {
        Self(bitPattern: BitPattern(littleEndian: p.loadUnaligned(as: BitPattern.self)))
    }
    @inline(__always)
    public static func fromLittleEndianBits(_ v: Self) -> Self { Self(bitPattern: v.bitPattern.littleEndian) }
}
