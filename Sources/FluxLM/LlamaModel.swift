import CKernels
import FluxCore
import Foundation

/// A Llama-family decoder (RMSNorm, RoPE, grouped-query attention with a KV cache, SwiGLU MLP,
/// tied or untied output head) matching Hugging Face transformers' `LlamaForCausalLM`.
///
/// Memory: weights are copied out of the safetensors files (which are then no longer needed) and
/// held in the precision they were stored in: f32 as f32 (4 bytes a weight), f16 and bf16 as 16
/// bits (2 bytes a weight, so half the memory and half the bytes read per decoded token); norm
/// weights as f32. A tied head shares the embedding table. Decode runs our own SIMD
/// matrix-vector kernels (`CKernels`, widening 16-bit weights in registers: no extra memory);
/// prefill runs OpenBLAS sgemm, and for 16-bit weights first widens them in blocks of at most
/// 4 MB of f32 (that pass reads each weight once more per prefill, a few percent of the product).
/// The q/k/v and gate/up projections are stacked at load time so each is one pass over the input.
/// The KV cache costs layers x 2 x kvHeads x headDim x 4 bytes per position (`KVCache`).
public final class LlamaModel: @unchecked Sendable {
    public let config: LlamaConfig

    struct Layer {
        let attnNorm: [Float]
        let qkv: WeightMatrix
        let o: WeightMatrix
        let mlpNorm: [Float]
        let gateUp: WeightMatrix
        let down: WeightMatrix
    }

    let embedding: WeightMatrix
    let layers: [Layer]
    let finalNorm: [Float]
    let head: WeightMatrix
    let invFreq: [Float]

    /// When set, each op's wall and CPU time is added to it (`fluxchat bench` prints the shares
    /// of a decode step). Not for concurrent use.
    public var profile: OpProfile?

    /// Loads `config.json` and `model.safetensors` (or the shards of `model.safetensors.index.json`)
    /// from a Hugging Face Llama folder. The tokenizer is loaded separately (`LanguageModelFiles`).
    public convenience init(directory: String) throws {
        let config = try LlamaConfig(directory: directory)
        try self.init(config: config, weights: CheckpointFiles.open(directory: directory))
    }

    /// Builds the model from tensors with Hugging Face names, each preceded by `prefix`
    /// (a FluxChat bundle uses "llm."). The files are copied from, not kept.
    public convenience init(config: LlamaConfig, weights: [SafeTensorsFile], prefix: String = "") throws {
        let loader = WeightLoader(files: weights, prefix: prefix)
        let tied = config.tieWordEmbeddings || !loader.has("lm_head.weight")
        try self.init(config: config, tied: tied,
                      matrix: { try loader.matrix($0, rows: $1, cols: $2) },
                      stacked: { try loader.stacked($0, rows: $1, cols: $2) },
                      vector: { try loader.vector($0, count: $1) })
    }

    /// A model with seeded random weights in the given precision (benchmarks; no files involved).
    public convenience init(config: LlamaConfig, randomSeed seed: UInt64, precision: WeightMatrix.Precision) throws {
        var rng = SplitMix64(seed: seed)
        func random(rows: Int, cols: Int) -> WeightMatrix {
            let n = rows * cols, scale = Float(1 / Double(cols).squareRoot())
            if precision == .f32 {
                let values = (0..<n).map { _ in rng.nextSymmetric() * scale }
                return values.withUnsafeBytes { WeightMatrix(rows: rows, cols: cols, precision: .f32, copyingFrom: $0.baseAddress!) }
            }
            let bits = (0..<n).map { _ -> UInt16 in
                let f = rng.nextSymmetric() * scale
                return precision == .bf16 ? Half.floatToBF16(f) : Half.floatToF16(f)
            }
            return bits.withUnsafeBytes { WeightMatrix(rows: rows, cols: cols, precision: precision, copyingFrom: $0.baseAddress!) }
        }
        try self.init(config: config, tied: config.tieWordEmbeddings,
                      matrix: { random(rows: $1, cols: $2) },
                      stacked: { random(rows: $1.reduce(0, +), cols: $2) },
                      vector: { [Float](repeating: 1, count: $1) })
    }

    init(config c: LlamaConfig, tied: Bool,
         matrix: (String, Int, Int) throws -> WeightMatrix,
         stacked: ([String], [Int], Int) throws -> WeightMatrix,
         vector: (String, Int) throws -> [Float]) throws {
        config = c
        let d = c.hiddenSize, qd = c.numHeads * c.headDim, kvd = c.numKVHeads * c.headDim
        embedding = try matrix("model.embed_tokens.weight", c.vocabSize, d)
        // One layer at a time, not map over the range: map reserves numLayers slots first, and a
        // corrupt file's layer count (billions) must fail on its first missing tensor, not in malloc.
        var built: [Layer] = []
        for i in 0..<c.numLayers {
            let p = "model.layers.\(i)."
            built.append(Layer(
                attnNorm: try vector(p + "input_layernorm.weight", d),
                qkv: try stacked([p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight", p + "self_attn.v_proj.weight"],
                                 [qd, kvd, kvd], d),
                o: try matrix(p + "self_attn.o_proj.weight", d, qd),
                mlpNorm: try vector(p + "post_attention_layernorm.weight", d),
                gateUp: try stacked([p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"],
                                    [c.intermediateSize, c.intermediateSize], d),
                down: try matrix(p + "mlp.down_proj.weight", d, c.intermediateSize)))
        }
        layers = built
        finalNorm = try vector("model.norm.weight", d)
        head = tied ? embedding : try matrix("lm_head.weight", c.vocabSize, d)
        invFreq = c.ropeInverseFrequencies
    }

    /// Bytes of weights one decoded token reads: every layer, the final norm and the output head
    /// (the input embedding is a single-row lookup).
    public var weightBytesPerToken: Int {
        layers.reduce(head.byteCount + finalNorm.count * 4) { acc, l in
            acc + l.qkv.byteCount + l.o.byteCount + l.gateUp.byteCount + l.down.byteCount + 4 * (l.attnNorm.count + l.mlpNorm.count)
        }
    }

    /// Bytes the weights occupy in memory (the head counted once when tied).
    public var weightBytes: Int {
        weightBytesPerToken + (head === embedding ? 0 : embedding.byteCount)
    }

    /// A KV cache for up to `capacity` positions (clamped to max_position_embeddings).
    public func makeCache(capacity: Int) -> KVCache {
        KVCache(layers: config.numLayers, kvHeads: config.numKVHeads, headDim: config.headDim,
                capacity: max(1, min(capacity, config.maxPositionEmbeddings)))
    }

    /// Embedding rows of `tokens` [n, hiddenSize]; ids outside the vocabulary give zero rows
    /// (`prefill` refuses them before getting here).
    public func embed(tokens: [Int32]) -> Tensor {
        let d = config.hiddenSize
        var t = Tensor(shape: [tokens.count, d])
        t.withUnsafeMutableBufferPointer { buf in
            for (i, id) in tokens.enumerated() where id >= 0 && Int(id) < config.vocabSize {
                embedding.copyRow(Int(id), to: buf.baseAddress! + i * d)
            }
        }
        return t
    }

    /// Runs the prompt pieces at the next positions of `cache` and returns the logits of the last
    /// position. Throws `context_overflow` when they do not fit, before any work.
    public func prefill(_ pieces: [PromptPiece], cache: KVCache) throws -> [Float] {
        try forward(pieces, cache: cache, allLogits: false).data
    }

    /// Logits of every position of `pieces` [n, vocabSize] (parity tests, option scoring).
    public func logits(_ pieces: [PromptPiece], cache: KVCache) throws -> Tensor {
        try forward(pieces, cache: cache, allLogits: true)
    }

    /// Runs one token at the next position and returns its logits (matrix-vector path).
    public func decodeStep(token: Int32, cache: KVCache) throws -> [Float] {
        try forward([.tokens([token])], cache: cache, allLogits: false).data
    }

    /// Builds the input rows and checks ids, shapes and the context length.
    private func inputRows(_ pieces: [PromptPiece], cache: KVCache) throws -> Tensor {
        let d = config.hiddenSize
        let n = pieces.reduce(0) { $0 + $1.count }
        guard n > 0 else { throw FluxError(.badRequest, "the prompt is empty") }
        guard cache.layers == config.numLayers, cache.kvHeads == config.numKVHeads, cache.headDim == config.headDim else {
            throw FluxError(.internal, "the KV cache was made for a different model")
        }
        let limit = min(cache.capacity, config.maxPositionEmbeddings)
        guard cache.count + n <= limit else {
            throw FluxError(.contextOverflow, "\(cache.count) cached + \(n) new positions exceed the context of \(limit) (cache capacity \(cache.capacity), max_position_embeddings \(config.maxPositionEmbeddings))")
        }
        var x = Tensor(shape: [n, d])
        var row = 0
        try x.withUnsafeMutableBufferPointer { buf in
            let base = buf.baseAddress!
            for piece in pieces {
                switch piece {
                case .tokens(let ids):
                    for id in ids {
                        guard id >= 0, Int(id) < config.vocabSize else {
                            throw FluxError(.badRequest, "token id \(id) is outside the vocabulary of \(config.vocabSize)")
                        }
                        embedding.copyRow(Int(id), to: base + row * d)
                        row += 1
                    }
                case .embeddings(let e):
                    guard e.rank == 2, e.shape[1] == d else {
                        throw FluxError(.badRequest, "embedding rows have shape \(e.shape), expected [n, \(d)]")
                    }
                    if e.count > 0 {
                        e.withUnsafeBufferPointer { (base + row * d).update(from: $0.baseAddress!, count: e.count) }
                    }
                    row += e.shape[0]
                }
            }
        }
        return x
    }

    private func forward(_ pieces: [PromptPiece], cache: KVCache, allLogits: Bool) throws -> Tensor {
        var x = try inputRows(pieces, cache: cache)
        let n = x.rows, start = cache.count
        let c = config, d = c.hiddenSize, hd = c.headDim
        let qd = c.numHeads * hd, kvd = c.numKVHeads * hd, ffn = c.intermediateSize
        let positions = Array(start..<(start + n))

        let h = Buffer(n * d), qkv = Buffer(n * (qd + 2 * kvd)), q = Buffer(n * qd), k = Buffer(n * kvd)
        let att = Buffer(n * qd), gu = Buffer(n * 2 * ffn), act = Buffer(n * ffn), tmp = Buffer(n * d)
        defer { [h, qkv, q, k, att, gu, act, tmp].forEach { $0.free() } }

        let prof = profile
        x.withUnsafeMutableBufferPointer { xb in
            let xp = xb.baseAddress!
            for (li, layer) in layers.enumerated() {
                // Attention block.
                timed(prof, "norm") {
                    layer.attnNorm.withUnsafeBufferPointer { Ops.rmsNorm(xp, out: h.p, rows: n, dim: d, weight: $0.baseAddress!, eps: c.rmsNormEps) }
                }
                timed(prof, "qkv") { layer.qkv.matmul(h.p, n: n, qkv.p) }
                let width = qd + 2 * kvd
                timed(prof, "rope_cache") {
                    for t in 0..<n {
                        let row = qkv.p + t * width
                        (q.p + t * qd).update(from: row, count: qd)
                        (k.p + t * kvd).update(from: row + qd, count: kvd)
                    }
                    Ops.rope(q.p, tokens: n, heads: c.numHeads, headDim: hd, positions: positions, invFreq: invFreq)
                    Ops.rope(k.p, tokens: n, heads: c.numKVHeads, headDim: hd, positions: positions, invFreq: invFreq)
                    for t in 0..<n {
                        for g in 0..<c.numKVHeads {
                            cache.key(layer: li, head: g, position: start + t).update(from: k.p + t * kvd + g * hd, count: hd)
                            cache.value(layer: li, head: g, position: start + t).update(from: qkv.p + t * width + qd + kvd + g * hd, count: hd)
                        }
                    }
                }
                timed(prof, "attention") {
                    Attention.run(q: q.p, out: att.p, tokens: n, start: start, layer: li, cache: cache, heads: c.numHeads)
                }
                timed(prof, "o") { layer.o.matmul(att.p, n: n, tmp.p) }
                timed(prof, "residual") { Ops.add(xp, tmp.p, count: n * d) }

                // MLP block: down(silu(gate(h)) * up(h)).
                timed(prof, "norm") {
                    layer.mlpNorm.withUnsafeBufferPointer { Ops.rmsNorm(xp, out: h.p, rows: n, dim: d, weight: $0.baseAddress!, eps: c.rmsNormEps) }
                }
                timed(prof, "gate_up") { layer.gateUp.matmul(h.p, n: n, gu.p) }
                timed(prof, "silu_mul") {
                    Threads.parallelFor(n, minPerThread: 4) { range in
                        for t in range {
                            let g = gu.p + t * 2 * ffn
                            fk_silu_mul(g, g + ffn, act.p + t * ffn, Int64(ffn))
                        }
                    }
                }
                timed(prof, "down") { layer.down.matmul(act.p, n: n, tmp.p) }
                timed(prof, "residual") { Ops.add(xp, tmp.p, count: n * d) }
            }
        }
        cache.count = start + n

        let rows = allLogits ? n : 1
        var out = Tensor(shape: allLogits ? [n, c.vocabSize] : [c.vocabSize])
        timed(prof, "norm") {
            x.withUnsafeBufferPointer { xb in
                let first = xb.baseAddress! + (n - rows) * d
                finalNorm.withUnsafeBufferPointer { Ops.rmsNorm(first, out: h.p, rows: rows, dim: d, weight: $0.baseAddress!, eps: c.rmsNormEps) }
            }
        }
        timed(prof, "head") { out.withUnsafeMutableBufferPointer { head.matmul(h.p, n: rows, $0.baseAddress!) } }
        return out
    }
}

/// A scratch allocation freed explicitly (avoids array copy-on-write checks in the hot loops).
struct Buffer {
    let p: UnsafeMutablePointer<Float>
    init(_ count: Int) { p = .allocate(capacity: max(1, count)) }
    func free() { p.deallocate() }
}
