import FluxCore
import FluxLM
import Foundation

/// Speed of the language model on a ~110M-parameter Llama shape (hidden 768, intermediate 2048,
/// 12 layers, 12 heads, vocab 32000, tied head) with seeded random weights held in `dtype`
/// (f32, f16 or bf16): prefill and decode tokens/s, weight bytes read per decoded token and the
/// decode bound that ~30 GB/s of memory bandwidth allows (fluxtools.bench.llama times
/// transformers on the same shape).
func benchLM(dtype: String, promptTokens: Int, decodeTokens: Int) throws -> [String: Any] {
    guard let precision = WeightMatrix.Precision(rawValue: dtype) else {
        throw FluxError(.badRequest, "dtype must be f32, f16 or bf16, got '\(dtype)'")
    }
    guard promptTokens >= 1, decodeTokens >= 1, promptTokens + decodeTokens <= 2048 else {
        throw FluxError(.badRequest, "prompt and decode tokens must be >= 1 and fit in 2048 positions")
    }
    let config = try LlamaConfig(json: JSONObject(dict: [
        "hidden_size": 768, "intermediate_size": 2048, "num_hidden_layers": 12, "num_attention_heads": 12,
        "num_key_value_heads": 12, "vocab_size": 32000, "max_position_embeddings": 2048,
        "rms_norm_eps": 1e-5, "tie_word_embeddings": true,
    ], source: "bench-110m"))
    let model = try LlamaModel(config: config, randomSeed: 1, precision: precision)
    var rng = SplitMix64(seed: 2)
    let prompt = (0..<promptTokens).map { _ in Int32(rng.next() % 32000) }
    func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    // Warm-up (page in the weights and scratch), then the timed prefill.
    _ = try model.prefill([.tokens(Array(prompt.prefix(16)))], cache: model.makeCache(capacity: 16))
    let cache = model.makeCache(capacity: promptTokens + decodeTokens)
    let t0 = now()
    var logits = try model.prefill([.tokens(prompt)], cache: cache)
    let t1 = now()
    for _ in 0..<decodeTokens {
        let next = Int32(logits.indices.max { logits[$0] < logits[$1] } ?? 0)
        logits = try model.decodeStep(token: next, cache: cache)
    }
    let t2 = now()

    let weightBytes = model.weightBytesPerToken
    // Keys and values read per decoded token, at the mean decode position.
    let meanPosition = promptTokens + decodeTokens / 2
    let kvBytes = 2 * config.numLayers * config.numKVHeads * config.headDim * 4 * meanPosition
    let bandwidth = 30e9
    let bound = bandwidth / Double(weightBytes + kvBytes)
    let decodeRate = Double(decodeTokens) / (t2 - t1)
    return [
        "model": "llama-110m-random", "dtype": dtype, "threads": Threads.count, "kernel": decodeKernelLevel,
        "parameters": 768 * 32000 + 12 * (4 * 768 * 768 + 3 * 768 * 2048 + 2 * 768) + 768,
        "prompt_tokens": promptTokens, "decode_tokens": decodeTokens,
        "prefill_tok_s": Double(promptTokens) / (t1 - t0), "decode_tok_s": decodeRate,
        "weight_bytes_per_token": weightBytes, "kv_bytes_per_token": kvBytes,
        "bandwidth_gb_s_assumed": bandwidth / 1e9, "decode_bound_tok_s": bound,
        "decode_fraction_of_bound": decodeRate / bound,
    ]
}

/// Speed of a real language model (a GGUF file or a Hugging Face folder): load time, prefill of
/// `promptTokens` random ids in one call, and `decodeTokens` greedy steps after a 16-token prompt
/// (fluxtools.bench.gguf runs llama.cpp the same way on the same file).
func benchLMFile(path: String, promptTokens: Int, decodeTokens: Int) throws -> [String: Any] {
    func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
    let t0 = now()
    let model = GGUFFile.isGGUF(path: path) ? try LlamaModel(ggufPath: path) : try LlamaModel(directory: path)
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
