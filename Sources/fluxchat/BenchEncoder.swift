import FluxCore
import FluxViT
import Foundation

/// Times the FluxViT-S shape (embed 384, depth 12, 6 heads, 3 pooling heads), seeded random weights
/// and pixels, at `frames` x `resolution`^2 with an optional budget. Returns median ms over `repeats`
/// runs after one warm-up, the tokens entering the blocks, backbone GFLOP and GFLOP/s, and the share of
/// the sgemm rate measured just before (MachinePeaks, same threads).
func benchEncoder(frames: Int, resolution: Int, budget: Int?, repeats: Int) throws -> [String: Any] {
    guard repeats > 0 else { throw FluxError(.badRequest, "repeats must be positive, got \(repeats)") }
    let cfg = try FluxViTConfig(embedDim: 384, depth: 12, numHeads: 6, posEmbedFrames: 24, posEmbedGrid: 18)
    let model = try FluxViTModel(config: cfg, tensors: FluxViTModel.randomTensors(config: cfg, seed: 42))
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
    var times: [Double] = []
    for _ in 0..<repeats {
        let t0 = DispatchTime.now().uptimeNanoseconds
        out = try model.encode(pixels: pixels, plan: plan)
        times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
    }
    times.sort()
    let ms = times[times.count / 2]
    let patches = out.gridT * out.gridL
    let gflop = model.flops(patches: patches, tokens: out.tokens.shape[0]) / 1e9
    return ["model": "FluxViT-S shape (384/12/6), random weights", "frames": frames, "resolution": resolution,
            "budget": budget.map { $0 as Any } ?? NSNull(), "patch_tokens": patches, "tokens": out.kept.count,
            "threads": Threads.count, "repeats": repeats, "ms_median": ms, "ms_min": times[0], "ms_max": times[times.count - 1],
            "gflop": gflop, "gflops_per_s": gflop / (ms / 1000), "sgemm_gflops": peak,
            "share_of_sgemm_peak": gflop / (ms / 1000) / peak]
}
