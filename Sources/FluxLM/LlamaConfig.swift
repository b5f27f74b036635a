import FluxCore
import Foundation

/// The fields of a Hugging Face Llama `config.json` that inference needs. Both layouts are read:
/// the classic one (`rope_theta`, `rope_scaling`) and the transformers-5 one (`rope_parameters`).
public struct LlamaConfig: Sendable {
    public let hiddenSize: Int
    public let intermediateSize: Int
    public let numLayers: Int
    public let numHeads: Int
    public let numKVHeads: Int
    public let headDim: Int
    public let vocabSize: Int
    public let maxPositionEmbeddings: Int
    public let rmsNormEps: Float
    public let ropeTheta: Double
    public let ropeScaling: RopeScaling
    public let tieWordEmbeddings: Bool
    public let bosTokenId: Int32?
    /// eos_token_id may be one id or a list in config.json; all of them stop generation.
    public let eosTokenIds: [Int32]

    /// How rotary frequencies are adjusted for long contexts.
    public enum RopeScaling: Sendable, Equatable {
        case none
        /// Positions divided by `factor` (rope_type "linear").
        case linear(factor: Double)
        /// Llama 3.1 frequency-dependent scaling (rope_type "llama3").
        case llama3(factor: Double, lowFreqFactor: Double, highFreqFactor: Double, originalMaxPositions: Int)
    }

    public init(json: JSONValue.Fields) throws {
        let src = json.source
        func positive(_ key: String, _ v: Int) throws -> Int {
            guard v > 0 else { throw FluxError(.modelInvalid, "\(src): field '\(key)' must be positive, got \(v)") }
            return v
        }
        if let act = try json.optionalString("hidden_act"), act != "silu" {
            throw FluxError(.modelInvalid, "\(src): hidden_act '\(act)' is not supported (Llama uses silu)")
        }
        if try json.bool("attention_bias", default: false) || json.bool("mlp_bias", default: false) {
            throw FluxError(.modelInvalid, "\(src): attention_bias / mlp_bias are not supported")
        }
        hiddenSize = try positive("hidden_size", json.int("hidden_size"))
        intermediateSize = try positive("intermediate_size", json.int("intermediate_size"))
        numLayers = try positive("num_hidden_layers", json.int("num_hidden_layers"))
        numHeads = try positive("num_attention_heads", json.int("num_attention_heads"))
        numKVHeads = try positive("num_key_value_heads", json.int("num_key_value_heads", default: numHeads))
        guard numHeads % numKVHeads == 0 else {
            throw FluxError(.modelInvalid, "\(src): num_attention_heads \(numHeads) is not a multiple of num_key_value_heads \(numKVHeads)")
        }
        headDim = try positive("head_dim", json.int("head_dim", default: hiddenSize / numHeads))
        guard headDim % 2 == 0 else { throw FluxError(.modelInvalid, "\(src): head_dim \(headDim) must be even for RoPE") }
        vocabSize = try positive("vocab_size", json.int("vocab_size"))
        maxPositionEmbeddings = try positive("max_position_embeddings", json.int("max_position_embeddings", default: 2048))
        let eps = try json.double("rms_norm_eps", default: 1e-6)
        guard eps > 0, eps < 1 else { throw FluxError(.modelInvalid, "\(src): rms_norm_eps \(eps) is out of range") }
        rmsNormEps = Float(eps)
        tieWordEmbeddings = try json.bool("tie_word_embeddings", default: false)

        let ropeParams = try json.optionalObject("rope_parameters")
        let theta = try json.optionalDouble("rope_theta") ?? ropeParams?.optionalDouble("rope_theta") ?? 10000
        guard theta > 1 else { throw FluxError(.modelInvalid, "\(src): rope_theta \(theta) must be > 1") }
        ropeTheta = theta
        ropeScaling = try Self.parseScaling(json.optionalObject("rope_scaling") ?? ropeParams, source: src)

        let vocab = vocabSize
        func tokenId(_ v: JSONValue) throws -> Int32 {
            var id: Int32?
            switch v {
            case .int(let n): id = Int32(exactly: n)
            case .double(let d): id = Int32(exactly: d)
            default: break
            }
            guard let i = id, i >= 0, Int(i) < vocab else {
                throw FluxError(.modelInvalid, "\(src): special token id \(v.encoded) is not an id in the vocabulary")
            }
            return i
        }
        bosTokenId = try json["bos_token_id"].map(tokenId)
        switch json["eos_token_id"] {
        case .array(let list)?: eosTokenIds = try list.map(tokenId)
        case let eos?: eosTokenIds = [try tokenId(eos)]
        case nil: eosTokenIds = []
        }
    }

    /// Reads `config.json` in `directory`.
    public init(directory: String) throws {
        try self.init(json: JSONValue.Fields(contentsOf: (directory as NSString).appendingPathComponent("config.json")))
    }

    private static func parseScaling(_ obj: JSONValue.Fields?, source: String) throws -> RopeScaling {
        guard let obj else { return .none }
        let type = try obj.optionalString("rope_type") ?? obj.optionalString("type") ?? "default"
        switch type {
        case "default":
            return .none
        case "linear":
            let f = try obj.double("factor")
            guard f > 0 else { throw FluxError(.modelInvalid, "\(source): rope scaling factor must be positive") }
            return .linear(factor: f)
        case "llama3":
            let f = try obj.double("factor"), lo = try obj.double("low_freq_factor"), hi = try obj.double("high_freq_factor")
            let orig = try obj.int("original_max_position_embeddings")
            guard f > 0, lo > 0, hi > lo, orig > 0 else {
                throw FluxError(.modelInvalid, "\(source): llama3 rope scaling needs factor > 0, 0 < low_freq_factor < high_freq_factor, original_max_position_embeddings > 0")
            }
            return .llama3(factor: f, lowFreqFactor: lo, highFreqFactor: hi, originalMaxPositions: orig)
        default:
            throw FluxError(.modelInvalid, "\(source): rope_type '\(type)' is not supported (default, linear, llama3)")
        }
    }

    /// Rotary inverse frequencies (headDim / 2 of them) after scaling, as transformers computes them.
    public var ropeInverseFrequencies: [Float] {
        let half = headDim / 2
        var inv = (0..<half).map { i -> Double in
            let e = Float(2 * i) / Float(headDim)
            return Double(1 / Float(pow(ropeTheta, Double(e))))
        }
        switch ropeScaling {
        case .none:
            break
        case .linear(let f):
            inv = inv.map { $0 / f }
        case let .llama3(factor, lo, hi, orig):
            let lowWavelen = Double(orig) / lo, highWavelen = Double(orig) / hi
            inv = inv.map { f in
                let wavelen = 2 * Double.pi / f
                if wavelen < highWavelen { return f }
                if wavelen > lowWavelen { return f / factor }
                let smooth = (Double(orig) / wavelen - lo) / (hi - lo)
                return (1 - smooth) * f / factor + smooth * f
            }
        }
        return inv.map { Float($0) }
    }
}
