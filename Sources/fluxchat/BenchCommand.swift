import ArgumentParser
import FluxChat
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
            vocab 32000), so no model is needed. The lm stage measures the streaming-read bandwidth
            in the same run and reports decode as a share of the bound it sets; with --llm FILE (a GGUF
            file or a Hugging Face Llama folder) the lm stage runs that model instead, load time too.
            The e2e stage runs the model of --model (default: the shipped model) on a clip the way a
            user waits for an answer: decode the clip, encode it at the model's default budget,
            prefill, first token, then --e2e-tokens more; each part in ms and the totals.
            python -m fluxtools.bench.vit and fluxtools.bench.llama time PyTorch on the same shapes;
            python -m fluxtools.bench.compare runs both engines side by side.
            """)

    @Option(help: "Comma-separated stages: machine, video, encoder, lm, e2e; none prints only the processor and BLAS core.")
    var stages: String = "machine,video,encoder,lm,e2e"

    @Option(help: "Video for the decode stage.")
    var video: String = "weights/examples/bouncing.mp4"

    @Option(help: "Frames decoded in the video stage.")
    var frames: Int = RequestDefaults.toolFrames

    @Option(help: "Crop size in the video stage.")
    var resolution: Int = RequestDefaults.toolResolution

    @Option(help: "Encoder cases, each FRAMESxRES or FRAMESxRES@BUDGET.")
    var encoderCases: String = "8x224,16x224@1024,16x224@512,16x112@128,8x168@256"

    @Option(help: "Encoder shapes, each case runs on each: s (FluxViT-S), small (192/4/3).")
    var encoderShapes: String = "s,small"

    @Option(help: "Timed repeats per encoder case (median reported).")
    var repeats: Int = 3

    @Option(help: "Weight types for the LM stage: f32, f16, bf16.")
    var lmDtypes: String = "f32,bf16"

    @Option(help: "Prompt tokens for the LM prefill.")
    var promptTokens: Int = 512

    @Option(help: "Tokens decoded in the LM stage.")
    var decodeTokens: Int = 64

    @Option(help: "Rounds of the LM stage: each reads the bandwidth buffer, then decodes --decode-tokens.")
    var lmRounds: Int = 3

    @OptionGroup var model: ModelOptions

    @Option(help: "Clip for the e2e stage (default: weights/examples/01_*.mp4).")
    var e2eVideo: String?

    @Option(help: "Tokens decoded after the first one in the e2e stage.")
    var e2eTokens: Int = 32

    @Option(help: "Question asked in the e2e stage.")
    var e2eQuestion: String = "Describe what happens in the video."

    @OptionGroup var threads: ThreadOptions

    func run() throws {
        try threads.apply()
        let wanted = Set(stages.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        let known: Set<String> = ["machine", "video", "encoder", "lm", "e2e", "none"]
        if let bad = wanted.subtracting(known).first {
            throw FluxError(.badRequest, "--stages: unknown stage '\(bad)' (known: machine, video, encoder, lm, e2e, none)")
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
            // The model options' --llm (one option of that name: the argument parser refuses two):
            // the LM stage on that model instead of the random 110M shape, with its load time.
            let llm = model.llm
            if let llm {
                progress("lm: \(llm), \(promptTokens) prompt + \(decodeTokens) decoded tokens")
                runs.append(try benchLMFile(path: llm, promptTokens: promptTokens, decodeTokens: decodeTokens))
            }
            for dtype in lmDtypes.split(separator: ",") where llm == nil {
                progress("lm: \(dtype), \(promptTokens) prompt + \(decodeTokens) decoded tokens")
                runs.append(try benchLM(dtype: String(dtype), promptTokens: promptTokens, decodeTokens: decodeTokens, rounds: lmRounds))
            }
            report["lm"] = runs
        }
        if wanted.contains("e2e") {
            let engine = try model.makeEngine()
            let clip = try e2eVideo ?? Self.defaultClip()
            progress("e2e: \(engine.bundle.directory ?? "model"), \(clip), \(e2eTokens) tokens after the first")
            let e2e = try benchEndToEnd(engine: engine, video: clip, question: e2eQuestion, tokens: e2eTokens, repeats: repeats)
            report["e2e"] = e2e
            if let parts = e2e["parts_ms"] as? [String: Double] {
                let shown = ["decode", "encode", "prefill", "first_token", "tokens"].map { "\($0) \(Self.ms(parts[$0] ?? 0))" }
                progress("e2e: " + shown.joined(separator: ", ") + "; first token at \(Self.ms(e2e["time_to_first_token_ms"] as? Double ?? 0)) ms, total \(Self.ms(e2e["total_ms"] as? Double ?? 0)) ms")
            }
        }
        print(try JSONValue(checking: report).stable(pretty: true, escapingSlashes: true))
    }

    /// The first shipped example clip (weights/examples/01_*.mp4).
    static func defaultClip() throws -> String {
        let folder = "weights/examples"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        guard let name = names.sorted().first(where: { $0.hasPrefix("01_") && $0.hasSuffix(".mp4") }) else {
            throw FluxError(.videoNotFound, "\(folder)/01_*.mp4: no example clip here; give one with --e2e-video")
        }
        return folder + "/" + name
    }

    static func ms(_ v: Double) -> String { String(format: "%.1f", v) }

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
