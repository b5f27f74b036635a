import FluxCore
import Foundation

/// Hugging Face `tokenizer.json` files of byte-level BPE models, read into a `BPETokenizer`.
/// Only what byte-level BPE models use is accepted (model BPE without byte fallback; the
/// ByteLevel, Digits + ByteLevel, or Llama 3 / Qwen 2 Split + ByteLevel pre-tokenizers; no
/// normalizer or NFC); anything else is a `file_invalid` error naming the field.
extension BPETokenizer {
    /// Reads `path`; `tokenizer_config.json` beside it, when present, gives the BOS / EOS tokens.
    public convenience init(tokenizerJSONPath path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FluxError(.fileNotFound, "\(path): no such file")
        }
        let configPath = ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent("tokenizer_config.json")
        let config = FileManager.default.fileExists(atPath: configPath) ? try Self.object(JSONValue.read(configPath, code: .fileInvalid), source: configPath) : nil
        try self.init(tokenizerJSON: data, source: path, tokenizerConfig: config)
    }

    public convenience init(tokenizerJSON data: Data, source: String, tokenizerConfig: [String: Any]? = nil) throws {
        let json = try Self.object(JSONValue.parse(data, source: source, code: .fileInvalid), source: source)
        func invalid(_ what: String) -> FluxError { FluxError(.fileInvalid, "\(source): \(what)") }
        guard let model = json["model"] as? [String: Any] else { throw invalid("no 'model' object") }
        guard model["type"] as? String == "BPE" else {
            throw invalid("model.type must be \"BPE\" (byte-level BPE); SentencePiece models load from tokenizer.model")
        }
        if let flag = model["byte_fallback"], !(flag is NSNull), (flag as? Bool) != false {
            throw invalid("model.byte_fallback: a SentencePiece-style BPE, not byte-level; use its tokenizer.model")
        }
        guard let vocab = model["vocab"] as? [String: Any] else { throw invalid("model.vocab must be an object") }
        var byId: [Int: String] = [:]
        func place(_ token: String, _ idValue: Any?, _ field: String) throws {
            guard let n = idValue as? NSNumber, !JSONValue.isBool(n), n.doubleValue == n.doubleValue.rounded(),
                  n.doubleValue >= 0, n.doubleValue < 16_777_216 else {
                throw invalid("\(field) of \(token.prefix(40).debugDescription) must be an id from 0 to 2^24")
            }
            let id = n.intValue
            if let old = byId[id], old != token { throw invalid("\(field): id \(id) names both \(old.debugDescription) and \(token.debugDescription)") }
            byId[id] = token
        }
        for (token, id) in vocab { try place(token, id, "model.vocab") }

        var types: [Int: Int32] = [:]
        var flags: [Int32: (lstrip: Bool, rstrip: Bool)] = [:]
        for (i, any) in ((json["added_tokens"] as? [Any]) ?? []).enumerated() {
            guard let t = any as? [String: Any], let content = t["content"] as? String, !content.isEmpty else {
                throw invalid("added_tokens[\(i)] needs a non-empty 'content'")
            }
            try place(content, t["id"], "added_tokens[\(i)].id")
            guard let id = (t["id"] as? NSNumber)?.intValue else { continue }
            types[id] = (t["special"] as? Bool) == true ? BPETokenizer.TokenType.control.rawValue : BPETokenizer.TokenType.userDefined.rawValue
            flags[Int32(id)] = ((t["lstrip"] as? Bool) ?? false, (t["rstrip"] as? Bool) ?? false)
        }
        guard let maxId = byId.keys.max() else { throw invalid("model.vocab is empty") }
        var tokens = [String](repeating: "", count: maxId + 1)
        for (id, t) in byId { tokens[id] = t }
        if byId.count != tokens.count {
            let gap = (0...maxId).first { byId[$0] == nil } ?? 0
            throw invalid("model.vocab: no token has id \(gap) (ids must run from 0 without gaps)")
        }

        var merges: [String] = []
        for (i, m) in ((model["merges"] as? [Any]) ?? []).enumerated() {
            if let s = m as? String {
                merges.append(s)
            } else if let pair = m as? [String], pair.count == 2 {
                merges.append(pair[0] + " " + pair[1])
            } else {
                throw invalid("model.merges[\(i)] must be \"left right\" or [left, right]")
            }
        }

        let pre = try Self.preTokenizer(json["pre_tokenizer"], invalid: invalid)
        var nfc = false
        if let norm = json["normalizer"], !(norm is NSNull) {
            guard (norm as? [String: Any])?["type"] as? String == "NFC" else { throw invalid("normalizer: only none or NFC is supported") }
            nfc = true
        }

        // BOS / EOS: tokenizer_config.json names them; the post-processor says whether BOS leads.
        func tokenId(_ key: String) -> Int32? {
            let v = tokenizerConfig?[key]
            let name = (v as? String) ?? ((v as? [String: Any])?["content"] as? String)
            guard let name, let id = tokens.firstIndex(of: name) else { return nil }
            return Int32(id)
        }
        var bos = tokenId("bos_token")
        var addsBOS = false
        if let lead = Self.leadingSpecial(json["post_processor"]), let id = tokens.firstIndex(of: lead) {
            bos = Int32(id)
            addsBOS = true
        }
        if let flag = tokenizerConfig?["add_bos_token"] as? Bool { addsBOS = flag }
        let unk = (model["unk_token"] as? String).flatMap { tokens.firstIndex(of: $0) }.map { Int32($0) }
        try self.init(tokens: tokens, merges: merges, types: (0..<tokens.count).map { types[$0] ?? TokenType.normal.rawValue },
                      bosId: bos, eosId: tokenId("eos_token"), padId: tokenId("pad_token"), unkId: unk, addsBOS: addsBOS,
                      pre: pre, ignoreMerges: (model["ignore_merges"] as? Bool) ?? false, nfc: nfc,
                      specialFlags: flags, origin: source)
    }

    /// A parsed file's top-level object, as Foundation values (the traversal below reads them).
    private static func object(_ value: JSONValue, source: String) throws -> [String: Any] {
        guard let o = value.foundationValue as? [String: Any] else {
            throw FluxError(.fileInvalid, "\(source): expected a JSON object at the top level")
        }
        return o
    }

    /// The pre-tokenizer family of a `pre_tokenizer` object.
    private static func preTokenizer(_ any: Any?, invalid: (String) -> FluxError) throws -> PreTokenizer {
        let unsupported = invalid("pre_tokenizer: not a byte-level family FluxLM implements (gpt2, smollm, llama3, qwen2)")
        guard let obj = any as? [String: Any], let type = obj["type"] as? String else { throw unsupported }
        func byteLevel(_ o: [String: Any], regex: Bool) -> Bool {
            o["type"] as? String == "ByteLevel" && (o["add_prefix_space"] as? Bool ?? false) == false
                && (o["use_regex"] as? Bool ?? true) == regex
        }
        if type == "ByteLevel", byteLevel(obj, regex: true) { return .gpt2 }
        guard type == "Sequence", let seq = obj["pretokenizers"] as? [[String: Any]], seq.count == 2 else { throw unsupported }
        if seq[0]["type"] as? String == "Digits", seq[0]["individual_digits"] as? Bool == true, byteLevel(seq[1], regex: true) {
            return .smollm
        }
        if seq[0]["type"] as? String == "Split", byteLevel(seq[1], regex: false),
           seq[0]["behavior"] as? String == "Isolated", seq[0]["invert"] as? Bool != true,
           let pattern = (seq[0]["pattern"] as? [String: Any])?["Regex"] as? String {
            if pattern == llama3Pattern { return .llama3 }
            if pattern == qwen2Pattern { return .qwen2 }
        }
        throw unsupported
    }

    static let llama3Pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// The special token a TemplateProcessing post-processor puts before a single sequence.
    private static func leadingSpecial(_ any: Any?) -> String? {
        guard let obj = any as? [String: Any] else { return nil }
        if obj["type"] as? String == "Sequence" {
            return (obj["processors"] as? [Any])?.lazy.compactMap { leadingSpecial($0) }.first
        }
        guard obj["type"] as? String == "TemplateProcessing", let single = obj["single"] as? [[String: Any]],
              let first = single.first?["SpecialToken"] as? [String: Any] else { return nil }
        return first["id"] as? String
    }
}
