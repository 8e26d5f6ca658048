extension Float {
    @inline(__always)
    public static func loadLittleEndian(from p: UnsafeRawPointer) -> Float {
        Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
    }
    @inline(__always)
    public static func fromLittleEndianBits(_ v: Float) -> Float { Float(bitPattern: v.bitPattern.littleEndian) }
}

extension Double {
    @inline(__always)
    public static func loadLittleEndian(from p: UnsafeRawPointer) -> Double {
        Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(as: UInt64.self)))
    }
    @inline(__always)
    public static func fromLittleEndianBits(_ v: Double) -> Double { Double(bitPattern: v.bitPattern.littleEndian) }
}
