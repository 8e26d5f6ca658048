// swiftmlp-dump-params <f32|f64> <seed> <uniform|glorot|he> <size0> <size1> ...
//
// Creates a network with the Swift API and prints its initial parameters'
// raw bytes as one line of lowercase hex: the Swift side of the test that
// C, Python and Swift get bit-identical parameters from the same seed.
import SwiftMLP

func fail(_ message: String) -> Never {
    print("swiftmlp-dump-params: \(message)")
    exit(2)
}

#if canImport(Glibc)
import Glibc
#endif

let args = Array(CommandLine.arguments.dropFirst())
guard args.count >= 5 else { fail("usage: swiftmlp-dump-params <f32|f64> <seed> <uniform|glorot|he> <size0> <size1> ...") }
guard let seed = UInt64(args[1]) else { fail("bad seed \(args[1])") }
guard let scheme = Initialization(name: args[2]) else { fail("bad init \(args[2])") }
let sizes = args[3...].compactMap { Int($0) }
guard sizes.count == args.count - 3 else { fail("bad sizes") }
let configuration = NetworkConfiguration(sizes: sizes, initialization: scheme, seed: seed)

func hex<T>(_ values: [T]) -> String {
    values.withUnsafeBytes { bytes in
        bytes.map { b in
            let s = String(b, radix: 16)
            return s.count == 1 ? "0" + s : s
        }.joined()
    }
}

do {
    switch args[0] {
    case "f32": print(hex(try Network<Float>(configuration: configuration).parameters))
    case "f64": print(hex(try Network<Double>(configuration: configuration).parameters))
    default: fail("bad dtype \(args[0])")
    }
} catch {
    fail("\(error)")
}
