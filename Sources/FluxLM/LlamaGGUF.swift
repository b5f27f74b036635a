import FluxCore
import Foundation

/// Llama models from GGUF files (llama.cpp's format): the `llama.*` metadata as a `LlamaConfig`,
/// and the tensors (ggml names) as the model's weights, used in place in the file's mapping.
extension LlamaConfig {
    /// The config of a GGUF file whose `general.architecture` is "llama". Missing or mistyped keys
    /// are `file_invalid` naming the key; values out of range are `model_invalid`.
    public init(gguf file: GGUFFile) throws {
        let md = file.metadata, path = file.path
        let arch = try file.architecture
        guard arch == "llama" else {
            throw FluxError(.modelInvalid, "\(path): general.architecture '\(arch)' is not supported (llama is)")
        }
        func key(_ k: String) -> String { "\(arch).\(k)" }
        func positive(_ k: String) throws -> Int {
            let v = try md.int(key(k))
            guard v > 0, v < 1 << 31 else { throw FluxError(.modelInvalid, "\(path): metadata '\(key(k))' = \(v) is out of range") }
            return v
        }
        guard let embedding = file.info("token_embd.weight"), embedding.dims.count == 2 else {
            throw FluxError(.modelInvalid, "\(path): no 2-D tensor 'token_embd.weight'")
        }
        let hidden = try positive("embedding_length"), heads = try positive("attention.head_count")
        var dict: [String: Any] = [
            "hidden_size": hidden,
            "intermediate_size": try positive("feed_forward_length"),
            "num_hidden_layers": try positive("block_count"),
            "num_attention_heads": heads,
            "num_key_value_heads": try md.has(key("attention.head_count_kv")) ? positive("attention.head_count_kv") : heads,
            "vocab_size": embedding.dims[1],
            "max_position_embeddings": try positive("context_length"),
            "rms_norm_eps": try md.float(key("attention.layer_norm_rms_epsilon")),
            "rope_theta": try md.optionalFloat(key("rope.freq_base")) ?? 10000,
            "tie_word_embeddings": file.info("output.weight") == nil,
        ]
        if md.has(key("attention.key_length")) { dict["head_dim"] = try positive("attention.key_length") }
        if let dims = try md.optionalInt(key("rope.dimension_count")) {
            let headDim = (dict["head_dim"] as? Int) ?? hidden / heads
            guard dims == headDim else {
                throw FluxError(.modelInvalid, "\(path): metadata '\(key("rope.dimension_count"))' = \(dims): partial rotary embeddings are not supported (head dim \(headDim))")
            }
        }
        if let type = try md.optionalString(key("rope.scaling.type")), type != "none" {
            guard type == "linear" else {
                throw FluxError(.modelInvalid, "\(path): metadata '\(key("rope.scaling.type"))' = '\(type)' is not supported (none, linear)")
            }
            dict["rope_scaling"] = ["rope_type": "linear", "factor": try md.float(key("rope.scaling.factor"))]
        }
        guard file.info("rope_freqs.weight") == nil else {
            throw FluxError(.modelInvalid, "\(path): tensor 'rope_freqs.weight' (Llama 3.1 frequency scaling) is not supported")
        }
        if let bos = try md.optionalUInt("tokenizer.ggml.bos_token_id") { dict["bos_token_id"] = NSNumber(value: bos) }
        if let eos = try md.optionalUInt("tokenizer.ggml.eos_token_id") { dict["eos_token_id"] = NSNumber(value: eos) }
        try self.init(json: JSONValue.Fields(JSONValue(checking: dict), source: "\(path) (llama metadata)"))
    }
}

/// Finds Llama weights in a GGUF file by their Hugging Face names (the model's loader asks for
/// those) and wraps them as `WeightMatrix`es over the mapping. GGUF stores the rows of the q and
/// k projections of each head interleaved (llama.cpp's rotary layout: pairs of adjacent rows,
/// where Hugging Face rotates the two halves of a head): those two matrices are copied once, rows
/// put back in Hugging Face order, so the rest of the model is the same for both sources.
struct GGUFWeights {
    let file: GGUFFile
    let config: LlamaConfig

    /// The ggml name of a Hugging Face Llama tensor name.
    static func ggmlName(_ hf: String) -> String {
        if hf == "model.embed_tokens.weight" { return "token_embd.weight" }
        if hf == "model.norm.weight" { return "output_norm.weight" }
        if hf == "lm_head.weight" { return "output.weight" }
        let table = [("input_layernorm", "attn_norm"), ("self_attn.q_proj", "attn_q"), ("self_attn.k_proj", "attn_k"),
                     ("self_attn.v_proj", "attn_v"), ("self_attn.o_proj", "attn_output"),
                     ("post_attention_layernorm", "ffn_norm"), ("mlp.gate_proj", "ffn_gate"),
                     ("mlp.up_proj", "ffn_up"), ("mlp.down_proj", "ffn_down")]
        var name = hf.replacingOccurrences(of: "model.layers.", with: "blk.")
        for (a, b) in table { name = name.replacingOccurrences(of: a, with: b) }
        return name
    }

    static func precision(_ t: GGMLType) -> WeightMatrix.Precision? {
        switch t {
        case .f32: return .f32
        case .f16: return .f16
        case .bf16: return .bf16
        case .q8_0: return .q8_0
        case .q4_0: return .q4_0
        case .q4_1: return .q4_1
        case .q4_K: return .q4_K
        case .q6_K: return .q6_K
        default: return nil
        }
    }

    func tensor(_ hf: String, shape: [Int]) throws -> GGUFTensorInfo {
        let name = Self.ggmlName(hf)
        guard let info = file.info(name) else { throw FluxError(.modelInvalid, "\(file.path): no tensor named '\(name)'") }
        guard info.shape == shape else {
            throw FluxError(.modelInvalid, "\(file.path): tensor '\(name)' has shape \(info.shape), expected \(shape)")
        }
        return info
    }

    func matrix(_ hf: String, rows: Int, cols: Int) throws -> WeightMatrix {
        let info = try tensor(hf, shape: [rows, cols])
        guard let p = Self.precision(info.type) else {
            let known = WeightMatrix.Precision.allCases.map { $0.rawValue.uppercased() }.joined(separator: ", ")
            throw FluxError(.modelInvalid, "\(file.path): tensor '\(info.name)' is \(info.type.name); supported weight types: \(known)")
        }
        let bytes = file.bytes(of: info)
        guard let base = bytes.baseAddress, bytes.count == rows * p.rowBytes(cols: cols) else {
            throw FluxError(.modelInvalid, "\(file.path): tensor '\(info.name)' has no data")
        }
        let heads = hf.hasSuffix("q_proj.weight") ? config.numHeads : hf.hasSuffix("k_proj.weight") ? config.numKVHeads : 0
        guard heads > 0 else { return WeightMatrix(rows: rows, cols: cols, precision: p, borrowing: base, owner: file) }
        // Row 2i + j of a head in the file is row i + j * headDim / 2 in Hugging Face's order.
        let hd = config.headDim, rb = p.rowBytes(cols: cols)
        guard rows == heads * hd else { throw FluxError(.modelInvalid, "\(file.path): tensor '\(info.name)' rows \(rows) != heads x head dim") }
        let reordered = UnsafeMutableRawPointer.allocate(byteCount: max(64, rows * rb), alignment: 64)
        defer { reordered.deallocate() }
        for h in 0..<heads {
            for i in 0..<(hd / 2) {
                for j in 0..<2 {
                    (reordered + (h * hd + i + j * hd / 2) * rb).copyMemory(from: base + (h * hd + 2 * i + j) * rb, byteCount: rb)
                }
            }
        }
        return WeightMatrix(rows: rows, cols: cols, precision: p, copyingFrom: reordered)
    }

    /// A 1-D vector (norm weights) of any supported type, as f32.
    func vector(_ hf: String, count: Int) throws -> [Float] {
        let m = try matrix(hf, rows: 1, cols: count, oneDimensional: true)
        return [Float](unsafeUninitializedCapacity: count) { buf, n in
            m.copyRow(0, to: buf.baseAddress!)
            n = count
        }
    }

    private func matrix(_ hf: String, rows: Int, cols: Int, oneDimensional: Bool) throws -> WeightMatrix {
        let info = try tensor(hf, shape: [cols])
        guard let p = Self.precision(info.type) else {
            throw FluxError(.modelInvalid, "\(file.path): tensor '\(info.name)' is \(info.type.name), not a supported type")
        }
        let bytes = file.bytes(of: info)
        guard let base = bytes.baseAddress, bytes.count == p.rowBytes(cols: cols) else {
            throw FluxError(.modelInvalid, "\(file.path): tensor '\(info.name)' has no data")
        }
        return WeightMatrix(rows: 1, cols: cols, precision: p, borrowing: base, owner: file)
    }
}

extension LlamaModel {
    /// Loads a Llama model from a GGUF file (weights stay in the file's mapping; only the q and k
    /// projections are copied, reordered, and the matrices an `adapter` changes are merged into
    /// f16 copies). The tokenizer is loaded separately.
    public convenience init(gguf file: GGUFFile, adapter: LowRankAdapter? = nil) throws {
        let config = try LlamaConfig(gguf: file)
        let w = GGUFWeights(file: file, config: config)
        var used = Set<String>()
        func matrix(_ name: String, rows: Int, cols: Int) throws -> WeightMatrix {
            let m = try w.matrix(name, rows: rows, cols: cols)
            guard let adapter else { return m }
            used.insert(name)
            return try adapter.merged(name, m)
        }
        try self.init(config: config, tied: config.tieWordEmbeddings,
                      matrix: { try matrix($0, rows: $1, cols: $2) },
                      stacked: { try WeightMatrix.stack($0, rows: $1, cols: $2) { try matrix($0, rows: $1, cols: $2) } },
                      vector: { try w.vector($0, count: $1) })
        if let adapter, let stray = adapter.weightNames.first(where: { !used.contains($0) }) {
            throw FluxError(.modelInvalid, "\(adapter.path): the adapter changes \(stray), which \(file.path) does not have")
        }
    }

    /// Loads the GGUF file at `path`.
    public convenience init(ggufPath path: String) throws {
        try self.init(gguf: GGUFFile(path: path))
    }
}
