import FluxCore
import FluxViT
import Foundation

/// Encoder shapes `bench` times, with seeded random weights (fluxtools.bench.vit --shape matches).
enum EncoderShape: String, CaseIterable {
    /// FluxViT-S: embed 384, depth 12, 6 heads, 3 pooling heads.
    case s
    /// The small model fluxtools.stages.encoder trains by default: embed 192, depth 4, 3 heads, no pooling heads.
    case small

    var label: String {
        switch self {
        case .s: return "FluxViT-S shape (384/12/6, 3 pooling heads), random weights"
        case .small: return "small shape (192/4/3, no pooling heads), random weights"
        }
    }

    func model() throws -> FluxViTModel {
        switch self {
        case .s:
            let cfg = try FluxViTConfig(embedDim: 384, depth: 12, numHeads: 6, posEmbedFrames: 24, posEmbedGrid: 18)
            return try FluxViTModel(config: cfg, tensors: FluxViTModel.randomTensors(config: cfg, seed: 42))
        case .small:
            let cfg = try FluxViTConfig(embedDim: 192, depth: 4, numHeads: 3, posEmbedFrames: 8, posEmbedGrid: 16)
            return try FluxViTModel(config: cfg, tensors: FluxViTModel.randomTensors(config: cfg, poolingHeads: 0, seed: 42))
        }
    }
}

/// Times one encoder shape at `frames` x `resolution`^2 with an optional budget, seeded random
/// pixels. Returns median/min/max ms over `repeats` runs after one warm-up, the tokens entering the
/// blocks, the process CPU time per run (all threads; near threads x wall on an idle machine),
/// backbone GFLOP and GFLOP/s, the share of the sgemm rate measured just before (MachinePeaks,
/// same threads), and each op's share of one more, profiled run.
func benchEncoder(shape: EncoderShape, frames: Int, resolution: Int, budget: Int?, repeats: Int) throws -> [String: Any] {
    guard repeats > 0 else { throw FluxError(.badRequest, "repeats must be positive, got \(repeats)") }
    let model = try shape.model()
    let cfg = model.config
    guard resolution > 0, resolution % cfg.patchSize == 0, frames > 0 else {
        throw FluxError(.badRequest, "frames \(frames) / resolution \(resolution): need a positive multiple of \(cfg.patchSize)")
    }
    let plan = try budget.map { try BudgetPlanner.plan(budget: $0, frames: frames, resolution: resolution, config: cfg) }
    var state: UInt32 = 12345
    let count = 3 * frames * resolution * resolution
    let data = (0..<count).map { _ -> Float in
        state = state &* 1_664_525 &+ 1_013_904_223
        return Float(state >> 8) / Float(1 << 24) * 4 - 2
    }
    let pixels = Tensor(shape: [3, frames, resolution, resolution], data: data)
    let peak = MachinePeaks.sgemmGFLOPs()
    var out = try model.encode(pixels: pixels, plan: plan)
    var times: [Double] = [], cpu: [Double] = []
    for _ in 0..<repeats {
        let t0 = Timing.nowMs(), c0 = Timing.cpuMs()
        out = try model.encode(pixels: pixels, plan: plan)
        times.append(Timing.nowMs() - t0)
        cpu.append(Timing.cpuMs() - c0)
    }
    times.sort()
    cpu.sort()
    let ms = times[times.count / 2]
    let profile = OpProfile()
    model.profile = profile
    _ = try model.encode(pixels: pixels, plan: plan)
    model.profile = nil
    let shares = profile.shares.map { ["op": $0.op, "ms": $0.ms, "share": $0.share, "cpu_ms": $0.cpuMs] as [String: Any] }
    let patches = out.gridT * out.gridL
    let gflop = model.flops(patches: patches, tokens: out.tokens.shape[0]) / 1e9
    return ["model": shape.label, "shape": shape.rawValue, "frames": frames, "resolution": resolution,
            "budget": budget.map { $0 as Any } ?? NSNull(), "patch_tokens": patches, "tokens": out.kept.count,
            "threads": Threads.count, "repeats": repeats, "ms_median": ms, "ms_min": times[0], "ms_max": times[times.count - 1],
            "cpu_ms_median": cpu[cpu.count / 2],
            "gflop": gflop, "gflops_per_s": gflop / (ms / 1000), "sgemm_gflops": peak,
            "share_of_sgemm_peak": gflop / (ms / 1000) / peak, "op_shares": shares]
}
