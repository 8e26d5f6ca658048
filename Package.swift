// swift-tools-version:6.0
//
// swiftmlp: a multilayer perceptron with a Swift numeric core and a C ABI.
//
// Products
//   swiftmlp  (dynamic) -> libswiftmlp.so, the C ABI declared in include/swiftmlp.h
//   SwiftMLP            -> the Swift API, `import SwiftMLP`
//
// The .so that `swift build -c release` produces is the shipped one: it has a
// SONAME, exports only swiftmlp_* (linker version script) and links the Swift
// runtime statically, so it loads on machines without a Swift toolchain.
import Foundation
import PackageDescription

let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path
// The SONAME carries the major version of include/swiftmlp.h, the one place
// the version is written.
let majorVersion: String = {
    let header = (try? String(contentsOfFile: root + "/include/swiftmlp.h", encoding: .utf8)) ?? ""
    let prefix = "#define SWIFTMLP_VERSION_MAJOR "
    let line = header.split(separator: "\n").first { $0.hasPrefix(prefix) }
    return line.map { String($0.dropFirst(prefix.count)) } ?? "0"
}()
let soname = "libswiftmlp.so.\(majorVersion)"

// OpenBLAS is linked statically, as a private copy inside libswiftmlp.so
// (Debian's libopenblas-dev ships the archive, built position-independent):
// swiftmlp sets that copy's thread count and core without touching an
// OpenBLAS the application itself uses, and the library needs no OpenBLAS at
// run time. Where no archive is found it links the shared libopenblas and
// leaves it as it is (no thread splitting, no core correction).
let openBLASArchive = ["x86_64-linux-gnu", "aarch64-linux-gnu"]
    .flatMap { ["/usr/lib/\($0)/openblas-pthread/libopenblas.a", "/usr/lib/\($0)/libopenblas.a"] }
    .first { FileManager.default.fileExists(atPath: $0) }
let openBLASCSettings: [CSetting] = openBLASArchive == nil ? [] : [.define("SMLP_PRIVATE_OPENBLAS")]
let openBLASLinkerSettings: [LinkerSetting] =
    (openBLASArchive.map { [LinkerSetting.unsafeFlags([$0])] } ?? [.linkedLibrary("openblas")]) +
    [.linkedLibrary("pthread"), .linkedLibrary("dl"), .linkedLibrary("m")]

// For every module that uses SwiftMLP, which with cross-module optimisation
// compiles SwiftMLP's generic code specialised in its own object files:
// - -enforce-exclusivity=unchecked: inside SwiftMLP the compiler proves the
//   network's stored properties are never accessed overlappingly and drops
//   the run-time checks; compiled in a client it cannot, and would check
//   every access (a swift_beginAccess call each).
//   The C ABI's handle already lets only one changing call in at a time.
// - -enable-copy-propagation=false: Swift 6.3's CopyPropagation pass aborts
//   on the serialised body of `Network.init(configuration:)` ("Found outside
//   of lifetime use?!" at the drop_deinit of its Atomic<Bool>) in a client;
//   drop it once the compiler no longer crashes without it.
let swiftMLPClientSettings: [SwiftSetting] = [
    .unsafeFlags(["-enforce-exclusivity=unchecked", "-Xfrontend", "-enable-copy-propagation=false"]),
]

let package = Package(
    name: "swiftmlp",
    products: [
        .library(name: "swiftmlp", type: .dynamic, targets: ["CSwiftMLP"]),
        .library(name: "SwiftMLP", targets: ["SwiftMLP"]),
        .executable(name: "swiftmlp-dump-params", targets: ["swiftmlp-dump-params"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
    ],
    targets: [
        // The C kernels: matrix products through OpenBLAS (Debian:
        // libopenblas-dev), split over swiftmlp's own threads when large, and
        // the element-wise kernels compiled for the running CPU (sigmoid,
        // loss, optimizer steps); see its include/smlp_kernels.h.
        .target(name: "CSwiftMLPKernels", path: "Sources/CSwiftMLPKernels",
                cSettings: openBLASCSettings, linkerSettings: openBLASLinkerSettings),
        // include/swiftmlp.h as a Clang module, so `@c @implementation` checks
        // every exported Swift function against the hand-written header.
        .systemLibrary(name: "CSwiftMLPABI", path: "Sources/CSwiftMLPABI"),
        // Thread-local error message storage (C11 _Thread_local).
        // (and the version text, from include/swiftmlp.h's macros).
        .target(name: "CSwiftMLPSupport", path: "Sources/CSwiftMLPSupport",
                cSettings: [.headerSearchPath("../../include")]),
        // The numeric core and Swift API. Its generic code is made available
        // to the modules that use it (cross-module optimisation), so the C
        // ABI's calls, written once over the element type, run specialised
        // for Float and Double as code inside the module does.
        .target(name: "SwiftMLP",
                dependencies: ["CSwiftMLPKernels", .product(name: "RealModule", package: "swift-numerics")],
                swiftSettings: [.unsafeFlags(["-cross-module-optimization"])]),
        // The C ABI: thin shims over SwiftMLP.
        .target(name: "CSwiftMLP",
                dependencies: ["SwiftMLP", "CSwiftMLPABI", "CSwiftMLPSupport", "CSwiftMLPKernels"],
                exclude: ["exports.map"],
                swiftSettings: [.enableExperimentalFeature("CImplementation")] + swiftMLPClientSettings,
                linkerSettings: [.unsafeFlags([
                    "-static-stdlib", "-use-ld=lld",
                    "-Xlinker", "-soname", "-Xlinker", soname,
                    "-Xlinker", "--version-script=\(root)/Sources/CSwiftMLP/exports.map",
                ])]),
        // Prints a new network's parameter bytes (cross-language seeding test).
        .executableTarget(name: "swiftmlp-dump-params", dependencies: ["SwiftMLP"],
                          swiftSettings: swiftMLPClientSettings),
        .testTarget(name: "SwiftMLPTests", dependencies: ["SwiftMLP"], swiftSettings: swiftMLPClientSettings),
    ]
)
