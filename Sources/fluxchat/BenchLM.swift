import CKernels
import FluxCore
import FluxLM
import Foundation

/// Speed of the language model on a ~110M-parameter Llama shape (hidden 768, intermediate 2048,
/// 12 layers, 12 heads, vocab 32000, tied head) with seeded random weights held in `dtype`
/// (f32, f16 or bf16): prefill and decode tokens/s, and decode against the bound that memory
/// bandwidth sets, measured in the same run (fluxtools.bench.llama times transformers on the
/// same shape).
///
/// The bound: a streaming read (`fk_read_sum`, the widest loads, eight 64-byte streams a step)
/// over a buffer at least as large as what one token reads, allocated like the weights, on 1
/// and on 2 threads; the faster is the bandwidth. Reads and decode alternate over `rounds`, so a
/// change in load hits both; the best round of each is compared (`decode_fraction_of_bound`),
/// and the medians too. On a machine shared with other work wall time also counts the waits for
/// a core, so the same ratio is given per CPU second (bytes read per second of CPU time, both
/// at the run's thread count: `cpu_fraction_of_bound`).
func benchLM(dtype: String, promptTokens: Int, decodeTokens: Int, rounds: Int = 3) throws -> [String: Any] {
    guard let precision = WeightMatrix.Precision(rawValue: dtype) else {
        throw FluxError(.badRequest, "dtype must be f32, f16 or bf16, got '\(dtype)'")
    }
    guard promptTokens >= 1, decodeTokens >= 1, promptTokens + decodeTokens * max(1, rounds) <= 2048 else {
        throw FluxError(.badRequest, "prompt tokens + decode tokens x rounds must be >= 1 and fit in 2048 positions")
    }
    let config = try LlamaConfig(json: JSONValue.Fields(JSONValue(checking: [
        "hidden_size": 768, "intermediate_size": 2048, "num_hidden_layers": 12, "num_attention_heads": 12,
        "num_key_value_heads": 12, "vocab_size": 32000, "max_position_embeddings": 2048,
        "rms_norm_eps": 1e-5, "tie_word_embeddings": true,
    ] as [String: Any]), source: "bench-110m"))
    let model = try LlamaModel(config: config, randomSeed: 1, precision: precision)
    var rng = SplitMix64(seed: 2)
    let prompt = (0..<promptTokens).map { _ in Int32(rng.next() % 32000) }
    let rounds = max(1, rounds)

    // Warm-up (page in the weights and scratch), then the timed prefill.
    _ = try model.prefill([.tokens(Array(prompt.prefix(16)))], cache: model.makeCache(capacity: 16))
    let cache = model.makeCache(capacity: promptTokens + decodeTokens * rounds)
    let t0 = Timing.nowMs()
    var logits = try model.prefill([.tokens(prompt)], cache: cache)
    let prefillMs = Timing.nowMs() - t0

    let weightBytes = model.weightBytesPerToken
    // Keys and values read per decoded token, at the mean decode position.
    let meanPosition = promptTokens + decodeTokens * rounds / 2
    let kvBytes = 2 * config.numLayers * config.numKVHeads * config.headDim * 4 * meanPosition
    let tokenBytes = Double(weightBytes + kvBytes)

    let reader = StreamReader(bytes: max(256 << 20, weightBytes + kvBytes))
    defer { reader.free() }
    var read1: [StreamReader.Rate] = [], read2: [StreamReader.Rate] = [], decode: [StreamReader.Rate] = []
    let threads = Threads.count
    for _ in 0..<rounds {
        read1.append(reader.measure(threads: 1))
        if threads >= 2 { read2.append(reader.measure(threads: 2)) }
        Threads.set(threads)
        let w0 = Timing.nowMs(), c0 = Timing.cpuMs()
        for _ in 0..<decodeTokens {
            logits = try model.decodeStep(token: Sampler.argmax(logits), cache: cache)
        }
        let wall = (Timing.nowMs() - w0) / 1e3, cpu = (Timing.cpuMs() - c0) / 1e3
        decode.append(.init(bytesPerSecond: tokenBytes * Double(decodeTokens) / wall,
                            bytesPerCPUSecond: tokenBytes * Double(decodeTokens) / cpu))
    }
    Threads.set(threads)

    // Where a decode step's time goes: one more profiled pass, plus sampling and the cost of
    // one parallel loop (~5 per layer and the head) measured on its own.
    let profile = OpProfile()
    model.profile = profile
    let probe = model.makeCache(capacity: 64 + 16)
    var probeLogits = try model.prefill([.tokens(Array(prompt.prefix(64)))], cache: probe)
    var sampleMs = 0.0
    for _ in 0..<16 {
        let s0 = Timing.nowMs()
        let next = Sampler.argmax(probeLogits)
        sampleMs += Timing.nowMs() - s0
        probeLogits = try model.decodeStep(token: next, cache: probe)
    }
    model.profile = nil
    let loopsPerToken = config.numLayers * 5 + 1
    let dispatchUs = parallelLoopMicroseconds()
    var ops = profile.shares.map { ($0.op, $0.ms) }
    ops.append(("sampling", sampleMs))
    let stepMs = ops.reduce(0) { $0 + $1.1 }
    let opShares = ops.map { op, ms -> [String: Any] in
        ["op": op, "ms_per_token": ms / 16, "share": stepMs > 0 ? ms / stepMs : 0]
    }

    func best(_ r: [StreamReader.Rate], _ key: KeyPath<StreamReader.Rate, Double>) -> Double { r.map { $0[keyPath: key] }.max() ?? 0 }
    func median(_ r: [StreamReader.Rate], _ key: KeyPath<StreamReader.Rate, Double>) -> Double {
        let v = r.map { $0[keyPath: key] }.sorted()
        return v.isEmpty ? 0 : v[v.count / 2]
    }
    let bandwidth = max(best(read1, \.bytesPerSecond), best(read2, \.bytesPerSecond))
    let bandwidthMedian = max(median(read1, \.bytesPerSecond), median(read2, \.bytesPerSecond))
    let readAtThreads = threads >= 2 ? read2 : read1
    let bound = bandwidth / tokenBytes
    let decodeRate = best(decode, \.bytesPerSecond) / tokenBytes
    return [
        "model": "llama-110m-random", "dtype": dtype, "threads": threads, "kernel": decodeKernelLevel,
        "parameters": 768 * 32000 + 12 * (4 * 768 * 768 + 3 * 768 * 2048 + 2 * 768) + 768,
        "prompt_tokens": promptTokens, "decode_tokens": decodeTokens, "rounds": rounds,
        "prefill_tok_s": Double(promptTokens) / (prefillMs / 1e3),
        "decode_tok_s": decodeRate,
        "decode_tok_s_median": median(decode, \.bytesPerSecond) / tokenBytes,
        "weight_bytes_per_token": weightBytes, "kv_bytes_per_token": kvBytes,
        "read_gb_s_1_thread": best(read1, \.bytesPerSecond) / 1e9,
        "read_gb_s_2_threads": best(read2, \.bytesPerSecond) / 1e9,
        "bandwidth_gb_s": bandwidth / 1e9,
        "decode_bound_tok_s": bound,
        "decode_fraction_of_bound": decodeRate / bound,
        "decode_fraction_of_bound_median": median(decode, \.bytesPerSecond) / bandwidthMedian,
        "cpu_fraction_of_bound": best(decode, \.bytesPerCPUSecond) / best(readAtThreads, \.bytesPerCPUSecond),
        "op_shares": opShares,
        "parallel_loop_us": dispatchUs, "parallel_loops_per_token": loopsPerToken,
    ]
}

/// The streaming-read measurement behind the decode bound.
private struct StreamReader {
    struct Rate {
        let bytesPerSecond: Double
        let bytesPerCPUSecond: Double
    }

    let floats: Int
    let buffer: UnsafeMutablePointer<Float>

    init(bytes: Int) {
        floats = bytes / 4
        buffer = fk_alloc_streamed(floats * 4)!.bindMemory(to: Float.self, capacity: floats)
        buffer.initialize(repeating: 1, count: floats)
    }

    func free() { fk_free_streamed(buffer) }

    /// One pass over the buffer on `threads` threads (the team's ranges, as decode splits rows).
    func measure(threads: Int) -> Rate {
        Threads.set(threads)
        let n = floats, base = buffer
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: 64)
        defer { sums.deallocate() }
        sums.initialize(repeating: 0, count: 64)
        let blocks = 64
        let w0 = Timing.nowMs(), c0 = Timing.cpuMs()
        Threads.parallelFor(blocks) { range in
            for b in range {
                let lo = n * b / blocks, hi = n * (b + 1) / blocks
                sums[b] = fk_read_sum(base + lo, Int64(hi - lo))
            }
        }
        let wall = (Timing.nowMs() - w0) / 1e3, cpu = (Timing.cpuMs() - c0) / 1e3
        if sums[0] == -1 { print(sums[0]) } // keeps the reads alive
        return Rate(bytesPerSecond: Double(n * 4) / wall, bytesPerCPUSecond: Double(n * 4) / cpu)
    }
}

/// Wall time of one parallel loop whose pieces do nothing (the fixed cost decode pays per loop).
private func parallelLoopMicroseconds(loops: Int = 2000) -> Double {
    let sink = UnsafeMutablePointer<Int>.allocate(capacity: 8)
    defer { sink.deallocate() }
    sink.initialize(repeating: 0, count: 8)
    let t0 = Timing.nowMs()
    for _ in 0..<loops {
        Threads.parallelFor(Threads.count, minPerThread: 1) { range in sink[range.lowerBound] &+= 1 }
    }
    return (Timing.nowMs() - t0) * 1e3 / Double(loops)
}

/// Speed of a real language model (a GGUF file or a Hugging Face folder): load time, prefill of
/// `promptTokens` random ids in one call, and `decodeTokens` greedy steps after a 16-token prompt
/// (fluxtools.bench.gguf runs llama.cpp the same way on the same file).
func benchLMFile(path: String, promptTokens: Int, decodeTokens: Int) throws -> [String: Any] {
    func now() -> Double { Timing.nowMs() / 1e3 }
    let t0 = now()
    let model = try LanguageModelFiles.model(llm: path)
    let loadSeconds = now() - t0
    let c = model.config
    guard promptTokens >= 16, decodeTokens >= 1, promptTokens + decodeTokens <= c.maxPositionEmbeddings else {
        throw FluxError(.badRequest, "prompt tokens must be >= 16 and prompt + decode tokens fit in \(c.maxPositionEmbeddings) positions")
    }
    var rng = SplitMix64(seed: 2)
    let prompt = (0..<promptTokens).map { _ in Int32(rng.next() % UInt64(c.vocabSize)) }

    _ = try model.prefill([.tokens(Array(prompt.prefix(16)))], cache: model.makeCache(capacity: 16))
    let t1 = now()
    _ = try model.prefill([.tokens(prompt)], cache: model.makeCache(capacity: promptTokens))
    let t2 = now()
    let cache = model.makeCache(capacity: 16 + decodeTokens)
    var logits = try model.prefill([.tokens(Array(prompt.prefix(16)))], cache: cache)
    let t3 = now()
    for _ in 0..<decodeTokens {
        let next = Int32(logits.indices.max { logits[$0] < logits[$1] } ?? 0)
        logits = try model.decodeStep(token: next, cache: cache)
    }
    let t4 = now()
    return [
        "model": path, "threads": Threads.count, "kernel": decodeKernelLevel, "load_ms": loadSeconds * 1000,
        "weight_bytes_per_token": model.weightBytesPerToken, "prompt_tokens": promptTokens, "decode_tokens": decodeTokens,
        "prefill_tok_s": Double(promptTokens) / (t2 - t1), "decode_tok_s": Double(decodeTokens) / (t4 - t3),
    ]
}
