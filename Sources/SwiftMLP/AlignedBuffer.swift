#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A zero-filled, 64-byte aligned array of `count` elements from the C heap.
///
/// Unlike a Swift `Array`, a failed allocation is reported (as
/// `MLPError.outOfMemory`) instead of terminating the process. Freed when
/// the last reference goes: no holder releases it by hand.
final class AlignedBuffer<Element> {
    let base: UnsafeMutablePointer<Element>
    let count: Int

    init(count: Int) throws(MLPError) {
        precondition(count >= 0)
        let stride = MemoryLayout<Element>.stride
        let (bytes, overflow) = Swift.max(count, 1).multipliedReportingOverflow(by: stride)
        guard !overflow else {
            throw MLPError(.tooLarge, "allocation of \(count) elements overflows")
        }
        var raw: UnsafeMutableRawPointer? = nil
        guard posix_memalign(&raw, 64, bytes) == 0, let raw else {
            throw MLPError(.outOfMemory, "could not allocate \(bytes) bytes")
        }
        memset(raw, 0, bytes)
        self.base = raw.bindMemory(to: Element.self, capacity: Swift.max(count, 1))
        self.count = count
    }

    var buffer: UnsafeMutableBufferPointer<Element> {
        UnsafeMutableBufferPointer(start: base, count: count)
    }

    deinit {
        free(UnsafeMutableRawPointer(base))
    }
}
