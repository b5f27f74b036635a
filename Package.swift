// swift-tools-version:6.1
import PackageDescription

// Dependencies point one way: kernels (FluxCore) <- video / encoder / LM <- chat <- CLI.
let package = Package(
    name: "FluxChat",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "fluxchat", targets: ["fluxchat"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // The HTTP front end's server (FluxHTTP only); no traits: neither its config reader nor full Foundation is used.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        // Already in Hummingbird's graph; named for the channel (disconnects), the drain on SIGTERM, the log level.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // System libraries (Debian packages; scripts/bootstrap installs them).
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CFFmpeg", path: "Sources/CFFmpeg", pkgConfig: "libavformat",
                       providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev", "libavutil-dev"])]),
        .systemLibrary(name: "CReadline", path: "Sources/CReadline", pkgConfig: "readline",
                       providers: [.apt(["libreadline-dev"])]),
        // SentencePiece through a tiny extern "C" shim (simpler to build and link than C++ interop).
        .target(name: "CSentencePiece", path: "Sources/CSentencePiece",
                linkerSettings: [.linkedLibrary("sentencepiece")]),

        // Decode kernels over 16-bit and GGUF-quantized weights (intrinsics, ISA picked at run time; Debian's OpenBLAS has no
        // bf16/f16 gemv), decode attention, and the thread team behind Threads.parallelFor.
        .target(name: "CKernels", path: "Sources/CKernels"),

        // Processor features and the load-time choice of OpenBLAS's kernel family.
        .target(name: "CBLASCore", path: "Sources/CBLASCore"),

        .target(name: "FluxCore", dependencies: ["CBLAS", "CBLASCore", "CKernels"],
                swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]),
        .target(name: "FluxVideo", dependencies: ["FluxCore", "CFFmpeg"]),
        // The encoder's fused row kernels (AVX-512 / AVX2 / SSE2 clones, picked at load).
        .target(name: "CViTKernels", path: "Sources/CViTKernels"),
        .target(name: "FluxViT", dependencies: ["FluxCore", "CBLAS", "CViTKernels"],
                swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]),
        .target(name: "FluxLM", dependencies: ["FluxCore", "CSentencePiece", "CKernels"],
                swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]),
        .target(name: "FluxChat", dependencies: ["FluxCore", "FluxVideo", "FluxViT", "FluxLM"],
                swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]),
        // The OpenAI chat-completions wire format: request parsing, media paths, replies and errors.
        // No server library here, so its fuzz target builds quickly.
        .target(name: "FluxOpenAI", dependencies: ["FluxCore", "FluxChat"]),
        // `serve --http`: the Hummingbird server, engine slots, queue, auth, drain on SIGTERM.
        .target(name: "FluxHTTP", dependencies: [
            "FluxCore", "FluxChat", "FluxOpenAI",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Benchmark runners (MVBench, Dream-1k, the budget sweep) over FluxChat.
        .target(name: "FluxEval", dependencies: ["FluxCore", "FluxChat"]),
        .executableTarget(name: "fluxchat", dependencies: [
            "FluxCore", "FluxVideo", "FluxViT", "FluxLM", "FluxChat", "FluxEval", "FluxHTTP", "CReadline",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // libFuzzer targets (ARCHITECTURE.md, Fuzzing; Fuzz/run builds them with -sanitize=fuzzer).
        // In an ordinary build each replays the input files it is given.
        .target(name: "CFuzzDriver", path: "Fuzz/CFuzzDriver"),
        .target(name: "FuzzSupport", dependencies: ["CFuzzDriver"], path: "Fuzz/FuzzSupport"),
        .executableTarget(name: "FuzzSafeTensors", dependencies: ["FluxChat", "FluxCore", "FluxLM", "FuzzSupport"], path: "Fuzz/FuzzSafeTensors"),
        .executableTarget(name: "FuzzRequest", dependencies: ["FluxChat", "FluxCore", "FluxViT", "FuzzSupport"], path: "Fuzz/FuzzRequest"),
        .executableTarget(name: "FuzzTokenizer", dependencies: ["FluxLM", "FuzzSupport"], path: "Fuzz/FuzzTokenizer"),
        .executableTarget(name: "FuzzBPE", dependencies: ["FluxCore", "FluxLM", "FuzzSupport"], path: "Fuzz/FuzzBPE"),
        .executableTarget(name: "FuzzGGUF", dependencies: ["FluxCore", "FluxLM", "FuzzSupport"], path: "Fuzz/FuzzGGUF"),
        .executableTarget(name: "FuzzChatCompletion", dependencies: ["FluxOpenAI", "FluxChat", "FluxCore", "FluxViT", "FuzzSupport"], path: "Fuzz/FuzzChatCompletion"),
        .executableTarget(name: "FuzzMedia", dependencies: ["FluxCore", "FluxVideo", "FuzzSupport"], path: "Fuzz/FuzzMedia"),

        .testTarget(name: "FluxCoreTests", dependencies: ["FluxCore"]),
        .testTarget(name: "FluxVideoTests", dependencies: ["FluxCore", "FluxVideo"]),
        .testTarget(name: "FluxViTTests", dependencies: ["FluxCore", "FluxViT", "CViTKernels"], resources: [.copy("Fixtures")]),
        .testTarget(name: "FluxLMTests", dependencies: ["FluxCore", "FluxLM", "CKernels"], resources: [.copy("Fixtures")]),
        .testTarget(name: "FluxChatTests", dependencies: ["FluxChat", "FluxCore", "FluxViT"], resources: [.copy("Fixtures")]),
        .testTarget(name: "FluxEvalTests", dependencies: ["FluxEval", "FluxChat", "FluxCore", "FluxVideo"], resources: [.copy("Fixtures")]),
        // Runs the built `fluxchat` binary as a user would.
        .testTarget(name: "CLITests", dependencies: ["fluxchat", "FluxChat"]),
    ],
    swiftLanguageModes: [.v5],
    cxxLanguageStandard: .cxx17
)
