// forward, backward, step.
import CSwiftMLPABI
import SwiftMLP

@c @implementation
public func swiftmlp_forward(
    _ net: OpaquePointer?, _ dtype: swiftmlp_dtype,
    _ x: UnsafeRawPointer?, _ x_len: Int, _ batch: Int,
    _ y: UnsafeMutableRawPointer?, _ y_cap: Int
) -> swiftmlp_status {
    run("swiftmlp_forward", net, .write) { (h) throws(MLPError) in
        let network = h.network
        let x = try required(x, "x"), y = try required(y, "y")
        try network.forward(try elementType(dtype), x: x, count: cSize(x_len), batch: cSize(batch),
                            y: y, capacity: cSize(y_cap))
    }
}

@c @implementation
public func swiftmlp_backward(
    _ net: OpaquePointer?, _ dtype: swiftmlp_dtype,
    _ y: UnsafeRawPointer?, _ y_len: Int, _ batch: Int,
    _ loss: UnsafeMutablePointer<Double>?
) -> swiftmlp_status {
    run("swiftmlp_backward", net, .write) { (h) throws(MLPError) in
        let network = h.network
        let y = try required(y, "y")
        let value = try network.backward(try elementType(dtype), y: y, count: cSize(y_len), batch: cSize(batch))
        loss?.pointee = value
    }
}

@c @implementation
public func swiftmlp_step(_ net: OpaquePointer?, _ lr: Double) -> swiftmlp_status {
    run("swiftmlp_step", net, .write) { (h) throws(MLPError) in
        let network = h.network
        try network.step(learningRate: lr)
    }
}

@c @implementation
public func swiftmlp_backward_labels(
    _ net: OpaquePointer?, _ labels: UnsafePointer<Int64>?, _ labels_len: Int, _ batch: Int,
    _ loss: UnsafeMutablePointer<Double>?
) -> swiftmlp_status {
    run("swiftmlp_backward_labels", net, .write) { (h) throws(MLPError) in
        let network = h.network
        let labels = try required(labels, "labels")
        let value = try network.backward(labels: UnsafeBufferPointer(start: labels, count: cSize(labels_len)), batch: cSize(batch))
        loss?.pointee = value
    }
}

@c @implementation
public func swiftmlp_train_step(
    _ net: OpaquePointer?, _ dtype: swiftmlp_dtype,
    _ x: UnsafeRawPointer?, _ x_len: Int, _ y: UnsafeRawPointer?, _ y_len: Int, _ batch: Int,
    _ loss: UnsafeMutablePointer<Double>?
) -> swiftmlp_status {
    run("swiftmlp_train_step", net, .write) { (h) throws(MLPError) in
        let x = try required(x, "x"), y = try required(y, "y")
        let value: Double
        // The caller's dtype is the network's: straight to the typed network
        // (see Network+CEntry.swift). Otherwise the general path, which
        // reports the unknown or mismatched dtype.
        if dtype == SWIFTMLP_FLOAT32, let n = h.float32 {
            value = try n._withUnsafeGuaranteedRef { n in
                Result { () throws(MLPError) in
                    try n.trainStep(rawX: x, xCount: cSize(x_len), rawY: y, yCount: cSize(y_len),
                                    batch: cSize(batch))
                }
            }.get()
        } else if dtype == SWIFTMLP_FLOAT64, let n = h.float64 {
            value = try n._withUnsafeGuaranteedRef { n in
                Result { () throws(MLPError) in
                    try n.trainStep(rawX: x, xCount: cSize(x_len), rawY: y, yCount: cSize(y_len),
                                    batch: cSize(batch))
                }
            }.get()
        } else {
            let data = DynamicNetwork.RawData(x: x, xCount: cSize(x_len),
                                              y: y, yCount: cSize(y_len), rows: cSize(batch))
            value = try h.network.trainStep(try elementType(dtype), data: data)
        }
        loss?.pointee = value
    }
}
