#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file reads and atomic whole-file writes with POSIX calls; every
/// failure is `MLPError(.io)` naming the path, the step and the reason.
public enum FileIO {
    /// Text for an errno value (no shared static buffer, unlike strerror).
    static func reason(_ code: Int32) -> String {
        switch code {
        case ENOENT: return "no such file or directory"
        case EACCES: return "permission denied"
        case EPERM: return "operation not permitted"
        case EISDIR: return "is a directory"
        case ENOTDIR: return "a path component is not a directory"
        case ENOSPC: return "no space left on device"
        case EDQUOT: return "disk quota exceeded"
        case EROFS: return "read-only file system"
        case EEXIST: return "file exists"
        case EIO: return "input/output error"
        case ENAMETOOLONG: return "file name too long"
        case EMFILE, ENFILE: return "too many open files"
        case EFBIG: return "file too large"
        case ELOOP: return "too many levels of symbolic links (a symbolic link loop?)"
        case ENXIO: return "no such device or address"
        case ENODEV: return "no such device"
        case ETXTBSY: return "text file busy"
        case EAGAIN: return "resource temporarily unavailable"
        case ENOMEM: return "out of memory"
        default: return "errno \(code)"
        }
    }

    static func failure(_ step: String, _ path: FileIO.Path, _ code: Int32 = errno) -> MLPError {
        MLPError(.io, "\(step) \"\(path)\": \(reason(code))")
    }

    /// A file name as the bytes the system calls take (NUL-terminated), so
    /// names that are not valid UTF-8 reach the file system unchanged.
    public struct Path: CustomStringConvertible, Sendable {
        let bytes: [CChar]

        public init(_ string: String) { bytes = Array(string.utf8CString) }

        /// The bytes of a NUL-terminated C string.
        public init(cString: UnsafePointer<CChar>) {
            bytes = Array(UnsafeBufferPointer(start: cString, count: strlen(cString) + 1))
        }

        init(bytes: [CChar]) { self.bytes = bytes.last == 0 ? bytes : bytes + [0] }

        var isEmpty: Bool { bytes.count <= 1 }

        /// For messages: the bytes as UTF-8, invalid sequences replaced.
        public var description: String {
            String(decoding: bytes.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }

        func appending(_ suffix: String) -> Path { Path(bytes: bytes.dropLast() + Array(suffix.utf8CString)) }

        /// The directory part ("." when there is no slash, "/" for "/name").
        var directory: Path {
            let body = bytes.dropLast()
            guard let slash = body.lastIndex(of: CChar(UInt8(ascii: "/"))) else { return Path(".") }
            return slash == body.startIndex ? Path("/") : Path(bytes: Array(body[..<slash]))
        }
    }

    /// What a file type is, for messages.
    static func kind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "is a directory"
        case S_IFIFO: return "is a FIFO (named pipe), not a regular file"
        case S_IFCHR: return "is a character device, not a regular file"
        case S_IFBLK: return "is a block device, not a regular file"
        case S_IFSOCK: return "is a socket, not a regular file"
        default: return "is not a regular file"
        }
    }

    /// The whole contents of the regular file at `path`. Never blocks and
    /// never reads anything but a regular file: the open does not wait
    /// (O_NONBLOCK: a FIFO without a writer, a device), the file type is
    /// checked on the open descriptor (fstat, no race with a rename) before
    /// any read, and the file must end where fstat said (a file that grows
    /// or shrinks while read, such as one in /proc, is refused). Symbolic
    /// links are followed; a loop is reported.
    static func read(path: Path) throws(MLPError) -> AlignedBuffer<UInt8> {
        guard !path.isEmpty else { throw MLPError(.invalidArgument, "path is empty") }
        let fd = open(path.bytes, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            // A socket cannot be opened (ENXIO): say what it is.
            var info = stat()
            if code == ENXIO && stat(path.bytes, &info) == 0 {
                throw MLPError(.io, "cannot open \"\(path)\": it \(kind(info.st_mode))")
            }
            throw failure("cannot open", path, code)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw failure("cannot stat", path) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw MLPError(.io, "cannot read \"\(path)\": it \(kind(info.st_mode))")
        }
        guard info.st_size >= 0 && UInt64(info.st_size) <= UInt64(Int.max / 2) else {
            throw MLPError(.io, "cannot read \"\(path)\": size \(info.st_size) is too large")
        }
        let size = Int(info.st_size)
        let buffer = try AlignedBuffer<UInt8>(count: size)
        var done = 0
        var extra: UInt8 = 0
        // Read the size fstat gave, then one byte more, which must be the end.
        while done <= size {
            let n = done < size ? Glibc.read(fd, buffer.base + done, size - done) : Glibc.read(fd, &extra, 1)
            if n < 0 {
                if errno == EINTR { continue }
                let code = errno
                buffer.deallocate()
                throw failure("cannot read", path, code)
            }
            if n == 0 {
                if done == size { break }
                buffer.deallocate()
                throw MLPError(.io, "cannot read \"\(path)\": it shrank while being read (\(done) of the \(size) bytes fstat reported)")
            }
            if done == size {
                buffer.deallocate()
                throw MLPError(.io, "cannot read \"\(path)\": it is longer than the \(size) bytes fstat reported (it grows while being read, as files in /proc do): not a model file")
            }
            done += n
        }
        return buffer
    }

    /// Writes a file atomically: the bytes go to a new temporary file in the
    /// same directory, which is flushed (fsync), then renamed over `path`;
    /// the directory is fsynced. On any failure the temporary is removed and
    /// whatever was at `path` is untouched. An existing `path` that is not a
    /// regular file (a directory, a device such as /dev/full) is refused. A
    /// symbolic link is followed: the file it points to is replaced.
    static func writeAtomically(
        path requested: Path, _ produce: ((UnsafeRawBufferPointer) throws(MLPError) -> Void) throws(MLPError) -> Void
    ) throws(MLPError) {
        guard !requested.isEmpty else { throw MLPError(.invalidArgument, "path is empty") }
        var path = requested
        var link = stat()
        if lstat(requested.bytes, &link) == 0 && (link.st_mode & S_IFMT) == S_IFLNK {
            guard let resolved = realpath(requested.bytes, nil) else { throw failure("cannot resolve the symbolic link", requested) }
            path = Path(cString: resolved)
            Glibc.free(resolved)
        }
        var existing = stat()
        if stat(path.bytes, &existing) == 0 && (existing.st_mode & S_IFMT) != S_IFREG {
            throw MLPError(.io, "cannot write \"\(path)\": it exists and is not a regular file")
        }
        var template = path.appending(".tmp-XXXXXX").bytes
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw failure("cannot create a temporary file next to", path) }
        let temporary = Path(bytes: template)
        var committed = false
        defer { if !committed { unlink(temporary.bytes) } }
        do throws(MLPError) {
            try produce { (chunk) throws(MLPError) in
                var done = 0
                while done < chunk.count {
                    let n = write(fd, chunk.baseAddress! + done, chunk.count - done)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw failure("cannot write", path)
                    }
                    done += n
                }
            }
            guard fchmod(fd, 0o644) == 0 else { throw failure("cannot set permissions of", path) }
            guard fsync(fd) == 0 else { throw failure("cannot flush", path) }
        } catch {
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw failure("cannot close", path) }
        guard rename(temporary.bytes, path.bytes) == 0 else { throw failure("cannot rename the temporary file to", path) }
        committed = true
        // Make the rename durable.
        let dfd = open(path.directory.bytes, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
    }
}
