import Testing
@testable import SwiftMLP

@Suite struct NamedCasesTests {
    /// Every case is in the table once, with a distinct non-empty name that
    /// parses back to it; the names are the model files' (the format spec).
    func check<E: NamedCases>(_: E.Type, _ expected: [String]) {
        #expect(E.names.count == E.allCases.count)
        #expect(E.allCases.map(\.description) == expected)
        #expect(Set(expected).count == expected.count)
        for c in E.allCases {
            #expect(!c.description.isEmpty)
            #expect(E(name: c.description) == c)
            #expect(E(name: c.description[...]) == c)
        }
        #expect(E(name: "") == nil)
        #expect(E(name: expected[0].uppercased() + "x") == nil)
    }

    @Test func eachEnumHasItsNames() {
        check(Activation.self, ["sigmoid", "tanh", "relu", "leaky_relu", "identity", "softmax"])
        check(Quantity.self, ["f", "g", "dL/df", "dL/dg"])
        check(Initialization.self, ["uniform", "glorot", "he"])
        check(Loss.self, ["mse", "binary_cross_entropy", "cross_entropy"])
        check(Optimizer.Kind.self, ["sgd", "adam", "adamw"])
        check(DType.self, ["float32", "float64"])
    }

    @Test func rawValuesAreTheCABIs() {
        #expect(Activation.allCases.map(\.rawValue) == [0, 1, 2, 3, 4, 5])
        #expect(Quantity.allCases.map(\.rawValue) == [0, 1, 2, 3])
        #expect(Initialization.allCases.map(\.rawValue) == [0, 1, 2])
        #expect(Loss.allCases.map(\.rawValue) == [0, 1, 2])
        #expect(Optimizer.Kind.allCases.map(\.rawValue) == [0, 1, 2])
        #expect(DType.allCases.map(\.rawValue) == [1, 2])
    }
}
