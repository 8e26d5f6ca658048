// Library information: versions, status strings, the thread's last message.
import CSwiftMLPABI
import CSwiftMLPKernels
import CSwiftMLPSupport
import SwiftMLP

@c @implementation
public func swiftmlp_version_number() -> UInt32 {
    UInt32(SWIFTMLP_VERSION_MAJOR * 10000 + SWIFTMLP_VERSION_MINOR * 100 + SWIFTMLP_VERSION_PATCH)
}

@c @implementation
public func swiftmlp_version_string() -> UnsafePointer<CChar>? {
    smlp_version_string()
}

@c @implementation
public func swiftmlp_status_string(_ status: swiftmlp_status) -> UnsafePointer<CChar>? {
    switch status {
    case SWIFTMLP_OK: return cString("ok")
    case SWIFTMLP_ERR_NULL_POINTER: return cString("null pointer")
    case SWIFTMLP_ERR_INVALID_ARGUMENT: return cString("invalid argument")
    case SWIFTMLP_ERR_BUFFER_SIZE: return cString("buffer size mismatch")
    case SWIFTMLP_ERR_DTYPE: return cString("element type mismatch")
    case SWIFTMLP_ERR_STATE: return cString("call out of order")
    case SWIFTMLP_ERR_TOO_LARGE: return cString("too large")
    case SWIFTMLP_ERR_OUT_OF_MEMORY: return cString("out of memory")
    case SWIFTMLP_ERR_LAYER_INDEX: return cString("layer index out of range")
    case SWIFTMLP_ERR_NON_FINITE: return cString("non-finite value")
    case SWIFTMLP_ERR_CANCELLED: return cString("cancelled")
    case SWIFTMLP_ERR_FORMAT: return cString("malformed model")
    case SWIFTMLP_ERR_IO: return cString("i/o error")
    case SWIFTMLP_ERR_BUSY: return cString("network busy")
    case SWIFTMLP_ERR_BAD_HANDLE: return cString("bad handle")
    default: return cString("unknown status")
    }
}

@c @implementation
public func swiftmlp_last_error() -> UnsafePointer<CChar>? {
    smlp_error_get()
}

@c @implementation
public func swiftmlp_blas_info() -> UnsafePointer<CChar>? {
    smlp_blas_info()
}

@c @implementation
public func swiftmlp_get_num_threads() -> Int {
    Int(smlp_blas_get_threads())
}

@c @implementation
public func swiftmlp_set_num_threads(_ threads: Int) -> swiftmlp_status {
    run("swiftmlp_set_num_threads") { () throws(MLPError) in
        // size_t arrives as Int: read it back as the unsigned value it is.
        let count = UInt(bitPattern: threads)
        guard count >= 1, count <= UInt(SWIFTMLP_MAX_THREADS) else {
            throw MLPError(.invalidArgument, "threads must be 1 to \(SWIFTMLP_MAX_THREADS), got \(count)")
        }
        guard smlp_blas_set_threads(Int32(count)) else {
            throw MLPError(.outOfMemory, "could not start \(count - 1) worker threads")
        }
    }
}
