import Testing
@testable import SwiftMLP

@Suite struct JSONParserTests {
    func parse(_ text: String) throws(MLPError) -> JSONValue {
        var bytes = Array(text.utf8)
        return try bytes.withUnsafeMutableBufferPointer { (b) throws(MLPError) in
            try JSONParser.parse(UnsafeBufferPointer(b))
        }
    }

    func rejects(_ text: String) -> Bool {
        do { _ = try parse(text); return false } catch { return error.code == .format }
    }

    @Test func parsesTheShapesAHeaderUses() throws {
        let v = try parse(#" {"a": {"dtype": "F64", "shape": [2, 3], "data_offsets": [0, 48]}, "m": {"k": "v\u00e9\n"}} "#)
        guard case .object(let members) = v else { Issue.record("not an object"); return }
        #expect(members.map(\.key) == ["a", "m"])
        #expect(members[1].value == .object([(key: "k", value: .string("vé\n"))]))
        guard case .object(let a) = members[0].value else { Issue.record("not an object"); return }
        #expect(a[1].value == .array([.number("2"), .number("3")]))
        #expect(JSONValue.number("48").unsignedInteger == 48)
    }

    @Test func decodesSurrogatePairs() throws {
        #expect(try parse(#""\ud83d\ude00""#) == .string("😀"))
    }

    @Test func rejectsWhatIsNotStrictJSON() {
        for bad in ["", "{", "{\"a\":1,}", "[1,]", "{\"a\" 1}", "{'a':1}", "01", "1.", "-", "1e", "\"\\x\"",
                    "\"\u{01}\"", "{\"a\":1}x", "nul", "\"\\ud800\"", "\"\\udc00x\"", "{\"a\":1,\"a\":2}"] {
            #expect(rejects(bad), "accepted \(bad)")
        }
    }

    @Test func rejectsDeepNestingWithoutRecursingIntoIt() {
        #expect(rejects(String(repeating: "[", count: 100_000)))
        #expect(!rejects(String(repeating: "[", count: JSONParser.maxDepth) + String(repeating: "]", count: JSONParser.maxDepth)))
        #expect(rejects(String(repeating: "[", count: JSONParser.maxDepth + 1) + String(repeating: "]", count: JSONParser.maxDepth + 1)))
    }

    @Test func rejectsInvalidUTF8InStrings() {
        var bytes: [UInt8] = Array("\"a".utf8) + [0xC3, 0x28] + Array("\"".utf8)
        let rejected = bytes.withUnsafeMutableBufferPointer { b in
            (try? JSONParser.parse(UnsafeBufferPointer(b))) == nil
        }
        #expect(rejected)
    }

    @Test func unsignedIntegersRejectSignsFractionsAndOverflow() {
        #expect(JSONValue.number("18446744073709551615").unsignedInteger == UInt64.max)
        #expect(JSONValue.number("18446744073709551616").unsignedInteger == nil)
        #expect(JSONValue.number("-1").unsignedInteger == nil)
        #expect(JSONValue.number("1.0").unsignedInteger == nil)
        #expect(JSONValue.number("1e3").unsignedInteger == nil)
    }
}

@Suite struct ModelRoundTripTests {
    func bytes<T>(of net: Network<T>, state: Bool) throws -> [UInt8] {
        var out: [UInt8] = []
        try net.save(includeOptimizerState: state) { (chunk) throws(MLPError) in out += chunk }
        #expect(out.count == net.modelByteCount(includeOptimizerState: state))
        return out
    }

    func bytes(of net: AnyNetwork, state: Bool) throws -> [UInt8] {
        switch net {
        case .float32(let n): return try bytes(of: n, state: state)
        case .float64(let n): return try bytes(of: n, state: state)
        }
    }

    func load(_ bytes: [UInt8]) throws -> AnyNetwork {
        try bytes.withUnsafeBytes { b in try AnyNetwork.load(model: b) }
    }

    func roundTrip<T>(_ net: Network<T>, _ config: NetworkConfiguration) throws {
        try net.setOptimizer(.adamW(learningRate: 0.003, weightDecay: 0.05))
        let copy = try load(try bytes(of: net, state: false))
        #expect(copy.dtype == T.dtype)
        let (configuration, optimizer): (NetworkConfiguration, Optimizer?) = switch copy {
        case .float32(let n): (n.configuration, n.currentOptimizer)
        case .float64(let n): (n.configuration, n.currentOptimizer)
        }
        #expect(configuration == config)
        #expect(optimizer == net.currentOptimizer)
        #expect(try bytes(of: copy, state: false) == (try bytes(of: net, state: false)))
    }

    @Test func everyConfigurationRoundTrips() throws {
        let config = NetworkConfiguration(sizes: [3, 5, 4], activations: [.leakyReLU, .softmax], leakySlope: 0.2,
                                          loss: .crossEntropy, initialization: .glorotUniform, seed: 99)
        try roundTrip(try Network<Float>(configuration: config), config)
        try roundTrip(try Network<Double>(configuration: config), config)
    }

    @Test func trainingResumesBitIdenticallyWithOptimizerState() throws {
        let config = NetworkConfiguration(sizes: [2, 6, 2], activations: [.tanh, .softmax], loss: .crossEntropy, seed: 5)
        let a = try Network<Double>(configuration: config)
        try a.setOptimizer(.adam(learningRate: 0.01))
        var data = TestData(seed: 1)
        let x: [Double] = data.uniform(40, -1, 1)
        let y: [Double] = (0..<20).flatMap { $0 % 2 == 0 ? [1.0, 0] : [0, 1.0] }
        _ = try a.fit(x: x, y: y, rows: 20, options: FitOptions(epochs: 2, batchSize: 6))
        var file: [UInt8] = []
        try a.save(includeOptimizerState: true) { (chunk) throws(MLPError) in file += chunk }
        let b = try load(file)
        guard case .float64(let bn) = b else { Issue.record("dtype"); return }
        #expect(bn.optimizerStepCount == a.optimizerStepCount)
        let ha = try a.fit(x: x, y: y, rows: 20, options: FitOptions(epochs: 3, batchSize: 6))
        let hb = try bn.fit(x: x, y: y, rows: 20, options: FitOptions(epochs: 3, batchSize: 6))
        #expect(ha == hb)
        #expect(a.parameters == bn.parameters)
    }

    @Test func safetensorsLayoutIsAsDocumented() throws {
        let net = try Network<Float>(sizes: [3, 2], seed: 1)
        let file = try bytes(of: net, state: false)
        let n = file[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(n % 8 == 0)
        #expect(file.count == 8 + n + (6 + 2) * 4)
        let header = String(decoding: file[8..<(8 + n)], as: UTF8.self)
        #expect(header.contains(#""layers.0.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}"#))
        #expect(header.contains(#""layers.0.bias":{"dtype":"F32","shape":[2],"data_offsets":[24,32]}"#))
    }

    @Test func aFileWithANaNWeightIsRejected() throws {
        let net = try Network<Double>(sizes: [1, 1], seed: 1)
        var file = try bytes(of: net, state: false)
        let nan = Double.nan.bitPattern
        for k in 0..<8 { file[file.count - 16 + k] = UInt8(truncatingIfNeeded: nan >> (8 * UInt64(k))) }
        #expect(throws: MLPError.self) { _ = try load(file) }
    }
}

@Suite struct ConcurrentPredictTests {
    @Test func predictFromManyTasksMatchesOneThread() async throws {
        let net = try Network<Double>(sizes: [6, 16, 3], seed: 2)
        var data = TestData(seed: 3)
        let x: [Double] = data.uniform(6 * 300, -1, 1)
        let expected = try net.predict(x, rows: 300)
        nonisolated(unsafe) let shared = net
        try await withThrowingTaskGroup(of: [Double].self) { group in
            for _ in 0..<8 {
                group.addTask { try shared.predict(x, rows: 300) }
            }
            for try await result in group { #expect(result == expected) }
        }
    }
}
