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
                throw failure("cannot read", path, code)
            }
            if n == 0 {
                if done == size { break }
                throw MLPError(.io, "cannot read \"\(path)\": it shrank while being read (\(done) of the \(size) bytes fstat reported)")
            }
            if done == size {
                throw MLPError(.io, "cannot read \"\(path)\": it is longer than the \(size) bytes fstat reported (it grows while being read, as files in /proc do): not a model file")
            }
            done += n
        }
        return buffer
    }

    /// Writes a file atomically: `path` holds either what it held before or
    /// the complete new bytes, and nothing else is left in the directory,
    /// whatever happens (an error, or the process killed at any point but
    /// one, below).
    ///
    /// The bytes go to an unnamed file in the same directory (Linux
    /// O_TMPFILE), which is flushed (fsync) and given its name; then the
    /// directory is fsynced. An unnamed file that is never linked vanishes
    /// with its descriptor, so a save killed while writing or flushing leaves
    /// nothing. A new file is linked to `path` itself (through
    /// /proc/self/fd, AT_SYMLINK_FOLLOW), which leaves nothing in any case.
    /// Linux cannot link a file over an existing name, so a file that
    /// replaces another is linked to a hidden name,
    /// ".NAME.swiftmlp-XXXXXXXXXXXX", and renamed over `path` from there: a
    /// kill between those two system calls, a window of some microseconds
    /// after all the writing, leaves that hidden name holding the complete
    /// new model. Where the file system has no O_TMPFILE (or
    /// /proc is not mounted), the bytes go to that hidden name from the
    /// start, and a kill while writing leaves it, partial.
    ///
    /// Permissions: a new file gets what open(path, O_CREAT, 0666) under
    /// the process's umask (and the directory's default ACL) gives; an
    /// existing one keeps its mode (and, where permitted, owner and group).
    /// An existing `path` that is not a regular file (a directory, a device
    /// such as /dev/full) is refused. A symbolic link is followed: the file
    /// it points to is replaced.
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
        let exists = stat(path.bytes, &existing) == 0
        if exists && (existing.st_mode & S_IFMT) != S_IFREG {
            throw MLPError(.io, "cannot write \"\(path)\": it exists and is not a regular file")
        }
        let keep: stat? = exists ? existing : nil
        if let fd = openUnnamed(next: path) {
            defer { close(fd) }
            try fill(fd, path, keep, produce)
            // A new file is linked to its name at once: nothing can be left.
            if keep == nil && linkUnnamed(fd, to: path) {
                syncDirectory(of: path)
                return
            }
            if let hidden = linkUnnamed(fd, next: path) {
                try publish(hidden, path)
                return
            }
            // (A new `path` that appeared meanwhile was replaced just above.)
            // Not linkable here (no /proc mounted): write it again, named.
        }
        let (fd, hidden) = try createHidden(next: path)
        var done = false
        defer { if !done { unlink(hidden.bytes) } }
        do throws(MLPError) {
            try fill(fd, path, keep, produce)
        } catch {
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw failure("cannot close", path) }
        try publish(hidden, path)
        done = true
    }

    /// An unnamed file in `path`'s directory, created as open(..., 0666)
    /// creates files; nil where the kernel or file system has no O_TMPFILE.
    private static func openUnnamed(next path: Path) -> Int32? {
        #if os(Linux)
        let oTmpfile: Int32 = 0o20000000 | O_DIRECTORY  // O_TMPFILE (not imported: a compound macro)
        let fd = open(path.directory.bytes, oTmpfile | O_WRONLY | O_CLOEXEC, 0o666)
        return fd >= 0 ? fd : nil
        #else
        return nil
        #endif
    }

    /// ".NAME.swiftmlp-" plus 12 random hex digits, beside `path`.
    private static func hiddenName(next path: Path) -> Path {
        let body = path.bytes.dropLast()
        let slash = body.lastIndex(of: CChar(UInt8(ascii: "/")))
        let dir = slash.map { Array(body[...$0]) } ?? []
        let base = slash.map { Array(body[body.index(after: $0)...]) } ?? Array(body)
        let tag = String(UInt64.random(in: 0..<(1 << 48)), radix: 16)
        let suffix = String(repeating: "0", count: 12 - tag.count) + tag
        return Path(bytes: dir + Array(".".utf8CString.dropLast()) + base + Array(".swiftmlp-\(suffix)".utf8CString))
    }

    /// A new hidden file beside `path`, created as open(..., 0666) creates files.
    private static func createHidden(next path: Path) throws(MLPError) -> (Int32, Path) {
        while true {
            let name = hiddenName(next: path)
            let fd = open(name.bytes, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if fd >= 0 { return (fd, name) }
            if errno != EEXIST { throw failure("cannot create a temporary file next to", path) }
        }
    }

    /// Links the unnamed file `fd` to `name` (which must not exist).
    private static func linkUnnamed(_ fd: Int32, to name: Path) -> Bool {
        linkat(AT_FDCWD, Array("/proc/self/fd/\(fd)".utf8CString), AT_FDCWD, name.bytes, AT_SYMLINK_FOLLOW) == 0
    }

    /// Links the unnamed file `fd` to a new hidden name beside `path`; nil
    /// if the system does not let it be linked.
    private static func linkUnnamed(_ fd: Int32, next path: Path) -> Path? {
        while true {
            let name = hiddenName(next: path)
            if linkUnnamed(fd, to: name) { return name }
            if errno != EEXIST { return nil }
        }
    }

    /// Writes the bytes `produce` gives to `fd`, sets the mode (and owner)
    /// `existing` had, and flushes.
    private static func fill(
        _ fd: Int32, _ path: Path, _ existing: stat?,
        _ produce: ((UnsafeRawBufferPointer) throws(MLPError) -> Void) throws(MLPError) -> Void
    ) throws(MLPError) {
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
        if let existing {
            // Owner and group first (changing them may clear set-id bits);
            // only the owner or a privileged process may, so a failure is no error.
            var now = stat()
            if fstat(fd, &now) == 0 && (now.st_uid != existing.st_uid || now.st_gid != existing.st_gid) {
                _ = fchown(fd, existing.st_uid, existing.st_gid)
            }
            guard fchmod(fd, existing.st_mode & 0o7777) == 0 else { throw failure("cannot set permissions of", path) }
        }
        guard fsync(fd) == 0 else { throw failure("cannot flush", path) }
    }

    /// Renames the complete file `hidden` over `path` (removing `hidden` if
    /// that fails), then makes the rename durable.
    private static func publish(_ hidden: Path, _ path: Path) throws(MLPError) {
        guard rename(hidden.bytes, path.bytes) == 0 else {
            let code = errno
            unlink(hidden.bytes)
            throw failure("cannot rename the temporary file to", path, code)
        }
        syncDirectory(of: path)
    }

    /// Makes a new name in `path`'s directory durable (fsync of the directory).
    private static func syncDirectory(of path: Path) {
        let dfd = open(path.directory.bytes, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
    }
}
