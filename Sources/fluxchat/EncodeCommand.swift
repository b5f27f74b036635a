import ArgumentParser
import Dispatch
import Foundation
import FluxChat
import FluxCore
import FluxVideo
import FluxViT

/// `fluxchat encode`: FluxViT visual tokens of a video (or of a ready pixel tensor) to safetensors.
struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Encode a video with FluxViT and write its visual tokens to a safetensors file.",
        discussion: """
            OUT holds `tokens` f32 [1+K', C] (final hidden states, CLS first, kept tokens in their original order), \
            `kept` i64 [K'] (indices t*L + p into the T x L patch grid) and, when the checkpoint has attention-pooling \
            heads, `pooled` f32 [P, 768] (each head's output before fc_norm).
            With --budget and no --frames/--resolution, the budget plan picks them (the model config's `budgets` \
            table, else the default rule: sample about twice the budget, then select down to it).
            """)

    @Option(help: "Vision folder (config.json + model.safetensors).")
    var vision: String

    @Option(help: "Video file, gif or frame folder to encode.")
    var video: String?

    @Option(help: "Safetensors file with one f32 tensor `pixels` [3, T, H, W], already normalised (instead of --video).")
    var pixels: String?

    @Option(help: "Frames to sample (default: from the budget plan, or \(RequestDefaults.encodeFrames) without --budget).")
    var frames: Int?

    @Option(help: "Square crop size, a multiple of the patch size (default: from the budget plan, or \(RequestDefaults.toolResolution) without --budget).")
    var resolution: Int?

    @Option(help: "Token budget K: keep at most K patch tokens by group-dynamic selection (default: keep all).")
    var budget: Int?

    @OptionGroup var span: SpanOptions

    @Option(help: "Output safetensors file.")
    var out: String

    @OptionGroup var threads: ThreadOptions

    func validate() throws {
        guard (video == nil) != (pixels == nil) else {
            throw ValidationError("give exactly one of --video and --pixels")
        }
        if pixels != nil, frames != nil || resolution != nil || span.start != nil || span.end != nil {
            throw ValidationError("--frames, --resolution, --start and --end apply to --video only")
        }
    }

    func run() throws {
        try threads.apply()
        let model = try FluxViTModel(directory: vision)
        let input: Tensor
        var plan: BudgetPlan?
        var meta: [String: String] = [:]
        if let pixels {
            let file = try SafeTensorsFile(path: pixels)
            input = try file.tensor("pixels")
            if let budget, input.rank == 4 {
                plan = try BudgetPlanner.plan(budget: budget, frames: input.shape[1], resolution: input.shape[2], config: model.config)
            }
        } else if let video {
            let frames: Int, resolution: Int
            if let budget {
                let p = try BudgetPlanner.plan(budget: budget, config: model.config, frames: self.frames, resolution: self.resolution)
                (plan, frames, resolution) = (p, p.frames, p.resolution)
            } else {
                (frames, resolution) = (self.frames ?? RequestDefaults.encodeFrames, self.resolution ?? RequestDefaults.toolResolution)
                let p = model.config.patchSize
                guard resolution % p == 0 else {
                    throw FluxError(.badRequest, "resolution: \(resolution) is not a multiple of the patch size \(p)")
                }
            }
            let clip = try VideoLoader.load(path: video, frames: frames, resolution: resolution, start: span.start, end: span.end)
            input = clip.pixels
            meta["frame_indices"] = clip.indices.map(String.init).joined(separator: ",")
        } else {
            throw FluxError(.badRequest, "give --video or --pixels")
        }
        let t0 = DispatchTime.now().uptimeNanoseconds
        let result = try model.encode(pixels: input, plan: plan)
        let ms = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
        meta["frames"] = String(input.shape.count == 4 ? input.shape[1] : 0)
        meta["resolution"] = String(input.shape.count == 4 ? input.shape[2] : 0)
        meta["budget"] = budget.map(String.init) ?? "none"
        meta["grid"] = "\(result.gridT)x\(result.gridL)"
        var blobs: [(String, TensorBlob)] = [
            ("tokens", TensorBlob(result.tokens)),
            ("kept", TensorBlob(i64: result.kept.map(Int64.init), shape: [result.kept.count])),
        ]
        if let pooled = result.pooled { blobs.append(("pooled", TensorBlob(pooled))) }
        try SafeTensorsWriter.write(blobs, metadata: meta, to: out)
        FileHandle.standardError.write(Data(("encoded \(input.shape) -> \(result.tokens.shape[0]) tokens "
            + "(\(result.kept.count) of \(result.gridT * result.gridL) patches) in \(String(format: "%.1f", ms)) ms, "
            + "\(Threads.count) threads -> \(out)\n").utf8))
    }
}
