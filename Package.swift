// swift-tools-version:6.0
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
    ],
    targets: [
        // System libraries (Debian packages; scripts/bootstrap installs them).
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CFFmpeg", path: "Sources/CFFmpeg", pkgConfig: "libavformat",
                       providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev", "libavutil-dev"])]),
        .systemLibrary(name: "CReadline", path: "Sources/CReadline", pkgConfig: "readline",
                       providers: [.apt(["libreadline-dev"])]),
        // SentencePiece through a tiny extern "C" shim (cleaner than C++ interop, see feasibility notes).
        .target(name: "CSentencePiece", path: "Sources/CSentencePiece",
                linkerSettings: [.linkedLibrary("sentencepiece")]),

        // Decode kernels over 16-bit weights (intrinsics, ISA picked at run time); Debian's OpenBLAS has no bf16/f16 gemv.
        .target(name: "CKernels", path: "Sources/CKernels"),

        // Processor features and the load-time choice of OpenBLAS's kernel family.
        .target(name: "CBLASCore", path: "Sources/CBLASCore"),

        .target(name: "FluxCore", dependencies: ["CBLAS", "CBLASCore"],
                swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]),
        .target(name: "FluxVideo", dependencies: ["FluxCore", "CFFmpeg"]),
        // The encoder's fused row kernels (AVX-512 / AVX2 / SSE2 clones, picked at load).
        .target(name: "CViTKernels", path: "Sources/CViTKernels"),
        .target(name: "FluxViT", dependencies: ["FluxCore", "CViTKernels"],
                swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]),
        .target(name: "FluxLM", dependencies: ["FluxCore", "CSentencePiece", "CKernels"],
                swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]),
        .target(name: "FluxChat", dependencies: ["FluxCore", "FluxVideo", "FluxViT", "FluxLM"],
                swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]),
        // Benchmark runners (MVBench, Dream-1k, the budget sweep) over FluxChat.
        .target(name: "FluxEval", dependencies: ["FluxCore", "FluxVideo", "FluxViT", "FluxLM", "FluxChat"]),
        .executableTarget(name: "fluxchat", dependencies: [
            "FluxCore", "FluxVideo", "FluxViT", "FluxLM", "FluxChat", "FluxEval", "CReadline",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "FluxCoreTests", dependencies: ["FluxCore"]),
        .testTarget(name: "FluxVideoTests", dependencies: ["FluxVideo"]),
        .testTarget(name: "FluxViTTests", dependencies: ["FluxViT", "CViTKernels"], resources: [.copy("Fixtures")]),
        .testTarget(name: "FluxLMTests", dependencies: ["FluxLM"], resources: [.copy("Fixtures")]),
        .testTarget(name: "FluxChatTests", dependencies: ["FluxChat", "FluxCore", "FluxLM", "FluxVideo", "FluxViT"], resources: [.copy("Fixtures")]),
        .testTarget(name: "FluxEvalTests", dependencies: ["FluxEval", "FluxChat", "FluxCore", "FluxVideo"], resources: [.copy("Fixtures")]),
        // Runs the built `fluxchat` binary as a user would.
        .testTarget(name: "CLITests", dependencies: ["fluxchat"]),
    ],
    swiftLanguageModes: [.v5],
    cxxLanguageStandard: .cxx17
)
