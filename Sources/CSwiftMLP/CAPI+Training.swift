// forward, backward, step.
import CSwiftMLPABI
import SwiftMLP

private struct Forward: NetworkCall {
    let x: CInput, rows: Int, y: COutput
    func callAsFunction<T: MLPScalar>(_ n: Network<T>) throws(MLPError) {
        try n.forward(x.elements(for: n), batch: rows, into: y.elements(for: n))
    }
}

@c @implementation
public func swiftmlp_forward(
    _ net: OpaquePointer?, _ dtype: swiftmlp_dtype,
    _ x: UnsafeRawPointer?, _ x_len: Int, _ rows: Int,
    _ y: UnsafeMutableRawPointer?, _ y_cap: Int
) -> swiftmlp_status {
    run("swiftmlp_forward", net, .write) { (h) throws(MLPError) in
        try h.call(dtype, Forward(x: CInput(x, x_len, "x"), rows: cSize(rows), y: COutput(y, y_cap, "y")))
    }
}

private struct Backward: NetworkCall {
    let y: CInput, rows: Int
    func callAsFunction<T: MLPScalar>(_ n: Network<T>) throws(MLPError) -> Double {
        try n.backward(y.elements(for: n), batch: rows)
    }
}

@c @implementation
public func swiftmlp_backward(
    _ net: OpaquePointer?, _ dtype: swiftmlp_dtype,
    _ y: UnsafeRawPointer?, _ y_len: Int, _ rows: Int,
    _ loss: UnsafeMutablePointer<Double>?
) -> swiftmlp_status {
    run("swiftmlp_backward", net, .write) { (h) throws(MLPError) in
        let value = try h.call(dtype, Backward(y: CInput(y, y_len, "y"), rows: cSize(rows)))
        loss?.pointee = value
    }
}

private struct Step: NetworkCall {
    let lr: Double
    func callAsFunction<T: MLPScalar>(_ n: Network<T>) throws(MLPError) { try n.step(learningRate: lr) }
}

@c @implementation
public func swiftmlp_step(_ net: OpaquePointer?, _ lr: Double) -> swiftmlp_status {
    run("swiftmlp_step", net, .write) { (h) throws(MLPError) in try h.call(Step(lr: lr)) }
}

private struct BackwardLabels: NetworkCall {
    let labels: UnsafeBufferPointer<Int64>, rows: Int
    func callAsFunction<T: MLPScalar>(_ n: Network<T>) throws(MLPError) -> Double {
        try n.backward(labels: labels, batch: rows)
    }
}

@c @implementation
public func swiftmlp_backward_labels(
    _ net: OpaquePointer?, _ labels: UnsafePointer<Int64>?, _ labels_len: Int, _ rows: Int,
    _ loss: UnsafeMutablePointer<Double>?
) -> swiftmlp_status {
    run("swiftmlp_backward_labels", net, .write) { (h) throws(MLPError) in
        let labels = UnsafeBufferPointer(start: try required(labels, "labels"), count: cSize(labels_len))
        let value = try h.call(BackwardLabels(labels: labels, rows: cSize(rows)))
        loss?.pointee = value
    }
}

private struct TrainStep: NetworkCall {
    let x: CInput, y: CInput, rows: Int
    func callAsFunction<T: MLPScalar>(_ n: Network<T>) throws(MLPError) -> Double {
        try n.trainStep(x: x.elements(for: n), y: y.elements(for: n), batch: rows)
    }
}

@c @implementation
public func swiftmlp_train_step(
    _ net: OpaquePointer?, _ dtype: swiftmlp_dtype,
    _ x: UnsafeRawPointer?, _ x_len: Int, _ y: UnsafeRawPointer?, _ y_len: Int, _ rows: Int,
    _ loss: UnsafeMutablePointer<Double>?
) -> swiftmlp_status {
    run("swiftmlp_train_step", net, .write) { (h) throws(MLPError) in
        let value = try h.call(dtype, TrainStep(x: CInput(x, x_len, "x"), y: CInput(y, y_len, "y"), rows: cSize(rows)))
        loss?.pointee = value
    }
}
