// forward, backward, step.
import CSwiftMLPABI
import SwiftMLP

/// x (rows, N0) through the network into y (rows, NL): `forward` keeps the
/// batch's quantities for backward (a writing call), `predict` keeps nothing.
private struct Outputs: NetworkCall {
    let forward: Bool, x: CInput, rows: Int, y: COutput
    func callAsFunction<T: MLPScalar>(_ n: Network<T>) throws(MLPError) {
        if forward {
            try n.forward(x.elements(for: n), batch: rows, into: y.elements(for: n))
        } else {
            try n.predict(x.elements(for: n), rows: rows, into: y.elements(for: n))
        }
    }
}

@c @implementation
public func swiftmlp_forward(_ net: OpaquePointer?, _ dtype: swiftmlp_dtype, _ x: UnsafeRawPointer?, _ x_len: Int,
                             _ rows: Int, _ y: UnsafeMutableRawPointer?, _ y_cap: Int) -> swiftmlp_status {
    runOutputs("swiftmlp_forward", forward: true, net, dtype, x, x_len, rows, y, y_cap)
}

/// The body of swiftmlp_forward and swiftmlp_predict, which take the same
/// arguments and check them the same way.
@inline(__always)
func runOutputs(
    _ function: StaticString, forward: Bool, _ net: OpaquePointer?, _ dtype: swiftmlp_dtype,
    _ x: UnsafeRawPointer?, _ xLen: Int, _ rows: Int, _ y: UnsafeMutableRawPointer?, _ yCap: Int
) -> swiftmlp_status {
    run(function, net, forward ? .write : .read) { (h) throws(MLPError) in
        try h.call(dtype, Outputs(forward: forward, x: CInput(x, xLen, "x"), rows: cSize(rows), y: COutput(y, yCap, "y")))
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

@c @implementation
public func swiftmlp_train_step(_ net: OpaquePointer?, _ dtype: swiftmlp_dtype, _ x: UnsafeRawPointer?, _ x_len: Int,
                                _ y: UnsafeRawPointer?, _ y_len: Int, _ rows: Int,
                                _ loss: UnsafeMutablePointer<Double>?) -> swiftmlp_status {
    runBatchLoss("swiftmlp_train_step", train: true, net, dtype, x, x_len, y, y_len, rows, loss)
}
