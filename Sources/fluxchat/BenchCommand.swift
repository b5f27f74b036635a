import ArgumentParser
import FluxCore
import Foundation

/// `fluxchat bench`: speed of each stage on this machine, as one JSON object on stdout.
/// Progress goes to stderr. Compare runs side by side (the machine is shared and noisy).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time each stage (machine peaks, video decode, encoder, language model) and print JSON.",
        discussion: """
            Encoder and language-model stages use seeded random weights of the FluxViT-S shape
            (384/12/6) and the small trained shape (192/4/3), and a ~110M Llama shape (768/12/12,
            vocab 32000), so no model is needed.
            python -m fluxtools.bench.vit and fluxtools.bench.llama time PyTorch on the same shapes;
            python -m fluxtools.bench.compare runs both engines side by side.
            """)

    @Option(help: "Comma-separated stages: machine, video, encoder, lm; none prints only the processor and BLAS core.")
    var stages: String = "machine,video,encoder,lm"

    @Option(help: "Video for the decode stage.")
    var video: String = "weights/examples/bouncing.mp4"

    @Option(help: "Frames decoded in the video stage.")
    var frames: Int = 16

    @Option(help: "Crop size in the video stage.")
    var resolution: Int = 224

    @Option(help: "Encoder cases, each FRAMESxRES or FRAMESxRES@BUDGET.")
    var encoderCases: String = "8x224,16x224@1024,16x224@512,16x112@128,8x168@256"

    @Option(help: "Encoder shapes, each case runs on each: s (FluxViT-S), small (192/4/3).")
    var encoderShapes: String = "s,small"

    @Option(help: "Timed repeats per encoder case (median reported).")
    var repeats: Int = 3

    @Option(help: "Weight types for the LM stage: f32, f16, bf16.")
    var lmDtypes: String = "f32,bf16"

    @Option(help: "LM stage on this model (a GGUF file or a Hugging Face Llama folder) instead of the random 110M shape; prints load time too.")
    var llm: String?

    @Option(help: "Prompt tokens for the LM prefill.")
    var promptTokens: Int = 512

    @Option(help: "Tokens decoded in the LM stage.")
    var decodeTokens: Int = 64

    @OptionGroup var threads: ThreadOptions

    func run() throws {
        try threads.apply()
        let wanted = Set(stages.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        let known: Set<String> = ["machine", "video", "encoder", "lm", "none"]
        if let bad = wanted.subtracting(known).first {
            throw FluxError(.badRequest, "--stages: unknown stage '\(bad)' (known: machine, video, encoder, lm, none)")
        }
        let kernels = KernelReport.current
        var blas = Dictionary(uniqueKeysWithValues: kernels.blasFields.map { ($0.0, $0.1 as Any) })
        blas["config"] = BLAS.configString
        var report: [String: Any] = ["version": FluxVersion.string, "threads": Threads.count, "blas": blas,
                                     "processor": ["name": kernels.processor, "features": kernels.processorFeatures]]
        if wanted.contains("machine") {
            progress("machine: sgemm 1024^3 and DRAM read bandwidth")
            report["machine"] = ["sgemm_gflops": MachinePeaks.sgemmGFLOPs(), "read_gb_s": MachinePeaks.readBandwidthGBs()]
        }
        if wanted.contains("video") {
            progress("video: \(frames) frames at \(resolution) from \(video)")
            report["video"] = try benchVideoDecode(path: video, frames: frames, resolution: resolution)
        }
        if wanted.contains("encoder") {
            var cases: [[String: Any]] = []
            let shapes = try encoderShapes.split(separator: ",").map { name -> EncoderShape in
                guard let s = EncoderShape(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                    throw FluxError(.badRequest, "--encoder-shapes: unknown shape '\(name)' (known: s, small)")
                }
                return s
            }
            let specs = try encoderCases.split(separator: ",").map { ($0, try Self.parseCase(String($0))) }
            for shape in shapes {
                for (spec, (f, r, b)) in specs {
                    progress("encoder: \(shape.rawValue) \(spec)")
                    cases.append(try benchEncoder(shape: shape, frames: f, resolution: r, budget: b, repeats: repeats))
                }
            }
            report["encoder"] = cases
        }
        if wanted.contains("lm") {
            var runs: [[String: Any]] = []
            if let llm {
                progress("lm: \(llm), \(promptTokens) prompt + \(decodeTokens) decoded tokens")
                runs.append(try benchLMFile(path: llm, promptTokens: promptTokens, decodeTokens: decodeTokens))
            }
            for dtype in lmDtypes.split(separator: ",") where llm == nil {
                progress("lm: \(dtype), \(promptTokens) prompt + \(decodeTokens) decoded tokens")
                runs.append(try benchLM(dtype: String(dtype), promptTokens: promptTokens, decodeTokens: decodeTokens))
            }
            report["lm"] = runs
        }
        let data = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    /// "16x224@1024" -> (16, 224, 1024); the budget is optional.
    static func parseCase(_ spec: String) throws -> (Int, Int, Int?) {
        let parts = spec.split(separator: "@", omittingEmptySubsequences: false)
        let dims = parts[0].split(separator: "x")
        guard parts.count <= 2, dims.count == 2, let f = Int(dims[0]), let r = Int(dims[1]), f > 0, r > 0 else {
            throw FluxError(.badRequest, "--encoder-cases: '\(spec)' is not FRAMESxRES[@BUDGET]")
        }
        var budget: Int?
        if parts.count == 2 {
            guard let b = Int(parts[1]), b > 0 else {
                throw FluxError(.budgetOutOfRange, "--encoder-cases: budget in '\(spec)' must be a positive integer")
            }
            budget = b
        }
        return (f, r, budget)
    }

    private func progress(_ s: String) {
        FileHandle.standardError.write(Data("bench: \(s)\n".utf8))
    }
}
