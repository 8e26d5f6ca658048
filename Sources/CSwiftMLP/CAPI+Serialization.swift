// Saving and loading model files (safetensors).
import CSwiftMLPABI
import SwiftMLP

/// The save flags as a Bool, or `.invalidArgument` for unknown bits.
private func includesOptimizerState(_ flags: swiftmlp_save_flags) throws(MLPError) -> Bool {
    let known = SWIFTMLP_SAVE_OPTIMIZER_STATE.rawValue
    guard flags.rawValue & ~known == 0 else {
        throw MLPError(.invalidArgument, "unknown save flag bits 0x\(String(flags.rawValue & ~known, radix: 16))")
    }
    return flags.rawValue & known != 0
}

/// The size of the model file, or the file itself to `sink` or `path`.
private enum Save: NetworkCall {
    case size(state: Bool)
    case stream(state: Bool, sink: (UnsafeRawBufferPointer) throws(MLPError) -> Void)
    case file(state: Bool, path: FileIO.Path)

    func callAsFunction<T: MLPScalar>(_ n: Network<T>) throws(MLPError) -> Int {
        switch self {
        case .size(let state): return n.modelByteCount(includeOptimizerState: state)
        case .stream(let state, let sink): try n.save(includeOptimizerState: state, to: sink)
        case .file(let state, let path): try n.save(path: path, includeOptimizerState: state)
        }
        return 0
    }
}

@c @implementation
public func swiftmlp_save_size(_ net: OpaquePointer?, _ flags: swiftmlp_save_flags, _ size: UnsafeMutablePointer<Int>?) -> swiftmlp_status {
    run("swiftmlp_save_size", net, .read) { (h) throws(MLPError) in
        let out = try required(size, "size")
        out.pointee = try h.call(Save.size(state: try includesOptimizerState(flags)))
    }
}

@c @implementation
public func swiftmlp_save_buffer(
    _ net: OpaquePointer?, _ flags: swiftmlp_save_flags, _ buf: UnsafeMutableRawPointer?, _ buf_cap: Int,
    _ written: UnsafeMutablePointer<Int>?
) -> swiftmlp_status {
    run("swiftmlp_save_buffer", net, .read) { (h) throws(MLPError) in
        let state = try includesOptimizerState(flags)
        let buf = try required(buf, "buf")
        let needed = try h.call(Save.size(state: state))
        guard cSize(buf_cap) >= needed else {
            written?.pointee = needed
            throw MLPError(.bufferSize, "buffer capacity \(cSize(buf_cap)) is less than the \(needed) bytes of the model")
        }
        var offset = 0
        _ = try h.call(Save.stream(state: state) { (chunk) throws(MLPError) in
            guard let base = chunk.baseAddress else { return }
            (buf + offset).copyMemory(from: base, byteCount: chunk.count)
            offset += chunk.count
        })
        written?.pointee = offset
    }
}

@c @implementation
public func swiftmlp_save_file(
    _ net: OpaquePointer?, _ flags: swiftmlp_save_flags, _ path: UnsafePointer<CChar>?
) -> swiftmlp_status {
    run("swiftmlp_save_file", net, .read) { (h) throws(MLPError) in
        let state = try includesOptimizerState(flags)
        let path = FileIO.Path(cString: try required(path, "path"))
        _ = try h.call(Save.file(state: state, path: path))
    }
}

@c @implementation
public func swiftmlp_load_buffer(
    _ buf: UnsafeRawPointer?, _ buf_len: Int, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> swiftmlp_status {
    out?.pointee = nil
    return run("swiftmlp_load_buffer") { () throws(MLPError) in
        let out = try required(out, "out")
        let buf = try required(buf, "buf")
        let net = try AnyNetwork.load(model: UnsafeRawBufferPointer(start: buf, count: cSize(buf_len)))
        out.pointee = NetworkHandle.publish(NetworkHandle(net))
    }
}

@c @implementation
public func swiftmlp_load_file(_ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> swiftmlp_status {
    out?.pointee = nil
    return run("swiftmlp_load_file") { () throws(MLPError) in
        let out = try required(out, "out")
        let path = FileIO.Path(cString: try required(path, "path"))
        let net = try AnyNetwork.load(path: path)
        out.pointee = NetworkHandle.publish(NetworkHandle(net))
    }
}
