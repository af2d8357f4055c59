// swift-tools-version:6.1
import PackageDescription

/// Kernels and the simulated tiles' hot loops are compiled optimised for this host's vector units
/// even in debug builds, so tests run real shapes quickly (see docs/architecture.md).
let hotPathSettings: [SwiftSetting] = [.unsafeFlags(["-O", "-target-cpu", "native"])]
/// The graph and the compiler walk millions of records through class properties; their code keeps
/// no overlapping accesses, so the run-time exclusivity checks (a tenth of lowering) are left out.
let compilerSettings: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"])]

let package = Package(
    name: "Tessera",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Tessera", targets: ["Tessera"]),
        .executable(name: "tessera", targets: ["TesseraCLI"]),
        .executable(name: "tessera-benchmarks", targets: ["TesseraBenchmarks"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // MARK: - Public API (the pipeline: graph → compiler → runtime → profile)
        .target(name: "TesseraGraph", swiftSettings: compilerSettings),
        .target(name: "TesseraCompiler", dependencies: ["TesseraGraph"], swiftSettings: compilerSettings),
        .target(
            name: "TesseraRuntime",
            dependencies: ["TesseraCompiler", "TesseraHost"],
            swiftSettings: hotPathSettings),
        .target(name: "TesseraProfile", dependencies: ["TesseraCompiler", "TesseraRuntime"]),
        .target(
            name: "Tessera",
            dependencies: ["TesseraGraph", "TesseraCompiler", "TesseraRuntime", "TesseraProfile", "TesseraHost", "TesseraOps", "TesseraModels"]),

        // MARK: - Operations (codelets and planners), beside the pipeline
        .target(name: "TesseraOps", dependencies: ["TesseraGraph", "TesseraCompiler", "_TesseraShim"], swiftSettings: hotPathSettings),
        .target(name: "TesseraModels", dependencies: ["TesseraOps", "TesseraRuntime", "TesseraHost", "CZlib"]),
        .target(name: "TesseraONNX", dependencies: ["TesseraModels", .product(name: "SwiftProtobuf", package: "swift-protobuf")]),

        // MARK: - Host platform: topology, pinned workers, NUMA arenas
        .target(
            name: "TesseraHost",
            dependencies: ["CHwloc", "CNuma", "_TesseraShim", .product(name: "Atomics", package: "swift-atomics")],
            swiftSettings: hotPathSettings),
        .systemLibrary(name: "CHwloc", pkgConfig: "hwloc", providers: [.apt(["libhwloc-dev"])]),
        .systemLibrary(name: "CNuma", providers: [.apt(["libnuma-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "_TesseraShim"),

        // MARK: - Examples, command line, benchmarks
        .target(name: "TesseraExamples", dependencies: ["Tessera"], path: "Examples"),
        .executableTarget(
            name: "TesseraCLI",
            dependencies: ["Tessera", "TesseraExamples", "TesseraONNX", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(
            name: "TesseraBenchmarks", dependencies: ["Tessera", "TesseraONNX"], path: "Benchmarks/TesseraBenchmarks",
            swiftSettings: hotPathSettings),

        // MARK: - Tests
        .target(name: "TesseraTestSupport", dependencies: ["Tessera"], path: "Tests/TesseraTestSupport"),
        .testTarget(name: "TesseraTests", dependencies: ["Tessera", "TesseraTestSupport", "TesseraExamples"]),
        .testTarget(name: "TesseraHostTests", dependencies: ["TesseraHost"]),
        .testTarget(name: "TesseraOpsTests", dependencies: ["Tessera", "TesseraTestSupport"]),
        .testTarget(name: "TesseraModelsTests", dependencies: ["Tessera", "TesseraONNX", "TesseraTestSupport"]),
    ]
)
