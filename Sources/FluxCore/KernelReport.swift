import CBLASCore

/// The processor and the BLAS kernels running on it (`bench` and the `info` reply print it).
/// The BLAS core is chosen when the program loads (Sources/CBLASCore): OpenBLAS's own pick, raised
/// to the processor's instruction set when the pick is below it, unless OPENBLAS_CORETYPE is set.
public struct KernelReport: Sendable {
    /// "GenuineIntel family 6 model 207".
    public let processor: String
    /// Features both the processor and the OS enable, /proc/cpuinfo spelling ("avx2", "avx512_bf16").
    public let processorFeatures: [String]
    /// The OpenBLAS kernel family in use ("SkylakeX"), or "unknown".
    public let blasCore: String
    /// The family OpenBLAS picked by itself when it loaded.
    public let blasLibraryCore: String
    /// "library", "fluxchat" (raised at load) or "user" (OPENBLAS_CORETYPE was set).
    public let blasCoreChosenBy: String
    /// The family that matches this processor, "" when none applies.
    public let blasCoreForProcessor: String

    public static var current: KernelReport {
        KernelReport(processor: String(cString: bc_processor()),
                     processorFeatures: String(cString: bc_processor_features()).split(separator: " ").map(String.init),
                     blasCore: String(cString: bc_blas_core()),
                     blasLibraryCore: String(cString: bc_blas_library_core()),
                     blasCoreChosenBy: String(cString: bc_blas_core_chosen_by()),
                     blasCoreForProcessor: String(cString: bc_blas_core_for_processor()))
    }

    /// Whether `core` names an OpenBLAS AVX-512 kernel family.
    public static func isAVX512(core: String) -> Bool { bc_core_is_avx512(core) != 0 }

    /// The BLAS part as JSON-ready pairs, in a fixed order.
    public var blasFields: [(String, String)] {
        [("core", blasCore), ("chosen_by", blasCoreChosenBy), ("library_core", blasLibraryCore),
         ("core_for_processor", blasCoreForProcessor)]
    }
}
