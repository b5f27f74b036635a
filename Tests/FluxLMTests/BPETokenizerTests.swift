import FluxCore
@testable import FluxLM
import Foundation
import XCTest

/// Byte-level BPE against Hugging Face `tokenizers` (Fixtures/bpe, made by
/// `python -m fluxtools.fixtures.bpe fixtures`): one small tokenizer per pre-tokenizer family.
final class BPETokenizerTests: XCTestCase {
    static let families = ["gpt2", "smollm", "llama3", "qwen2"]

    struct Cases {
        let strings: [String]
        let ids: [String: [[Int32]]]
        let pieces: [String: [[String]]]
    }

    static func cases() throws -> Cases {
        let c = try Fixtures.json("bpe/cases.json")
        let strings = try XCTUnwrap(c["strings"] as? [String])
        let ids = try XCTUnwrap(c["ids"] as? [String: [[NSNumber]]]).mapValues { $0.map { $0.map { Int32(truncating: $0) } } }
        return Cases(strings: strings, ids: ids, pieces: try XCTUnwrap(c["pieces"] as? [String: [[String]]]))
    }

    static func tokenizer(_ family: String) throws -> BPETokenizer {
        try BPETokenizer(tokenizerJSONPath: Fixtures.path("bpe/\(family)/tokenizer.json"))
    }

    func testIdsAndPiecesMatchHuggingFaceForEveryFamily() throws {
        let c = try Self.cases()
        XCTAssertGreaterThanOrEqual(c.strings.count, 40)
        for family in Self.families {
            let tok = try Self.tokenizer(family)
            let expected = try XCTUnwrap(c.ids[family]), pieces = try XCTUnwrap(c.pieces[family])
            for (i, s) in c.strings.enumerated() {
                let ids = try tok.encode(s, addBOS: true)
                XCTAssertEqual(ids, expected[i], "\(family): \(s.debugDescription)")
                XCTAssertEqual(ids.map { tok.piece($0) ?? "?" }, pieces[i], "\(family) pieces: \(s.debugDescription)")
            }
        }
    }

    func testPreTokenizerFamilyAndSpecialsFromTokenizerJSON() throws {
        XCTAssertEqual(try Self.tokenizer("gpt2").pre, .gpt2)
        XCTAssertEqual(try Self.tokenizer("smollm").pre, .smollm)
        XCTAssertEqual(try Self.tokenizer("llama3").pre, .llama3)
        XCTAssertEqual(try Self.tokenizer("qwen2").pre, .qwen2)
        let tok = try Self.tokenizer("smollm")
        // tokenizer_config.json names <|im_start|> / <|im_end|>; the post-processor adds no BOS.
        XCTAssertEqual(tok.bosId, 1)
        XCTAssertEqual(tok.eosIds, [2])
        XCTAssertFalse(tok.addsBOS)
        XCTAssertEqual(try tok.encode("<|im_start|>user\n", addBOS: true).first, 1)
        XCTAssertEqual(tok.type(1), .control)
    }

    /// The GGUF path: the same vocabulary as arrays (`tokenizer.ggml.*`) gives the same ids.
    func testGGUFArraysGiveTheSameTokenizer() throws {
        let c = try Self.cases()
        for (family, pre) in [("smollm", "smollm"), ("gpt2", "gpt2"), ("llama3", "llama-bpe"), ("qwen2", "qwen2")] {
            let json = try Fixtures.json("bpe/\(family)/tokenizer.json")
            let model = try XCTUnwrap(json["model"] as? [String: Any])
            let vocab = try XCTUnwrap(model["vocab"] as? [String: Int])
            var tokens = [String](repeating: "", count: vocab.count)
            for (t, id) in vocab { tokens[id] = t }
            let merges = try XCTUnwrap(model["merges"] as? [[String]]).map { $0.joined(separator: " ") }
            let specials = Set(try XCTUnwrap(json["added_tokens"] as? [[String: Any]]).compactMap { $0["id"] as? Int })
            let types = tokens.indices.map { specials.contains($0) ? Int32(3) : 1 }
            let meta = GGUFTokenizerMetadata(model: "gpt2", pre: pre, tokens: tokens, types: types, merges: merges,
                                             bosId: 1, eosId: 2, padId: 2, addBOS: false, source: "test.gguf")
            let tok = try meta.makeTokenizer()
            for (i, s) in c.strings.enumerated() {
                XCTAssertEqual(try tok.encode(s, addBOS: true), c.ids[family]?[i], "\(family) from arrays: \(s.debugDescription)")
            }
            XCTAssertEqual(tok.eosIds, [2])
        }
    }

    /// Without `tokenizer.ggml.add_bos_token`, Llama 3 vocabularies start with BOS and others do not.
    func testGGUFBOSDefaults() throws {
        func tokenizer(_ pre: String, addBOS: Bool?) throws -> any Tokenizer {
            try GGUFTokenizerMetadata(model: "gpt2", pre: pre, tokens: ["a", "b", "<|begin|>"], types: [1, 1, 3], bosId: 2,
                                      addBOS: addBOS, source: "x.gguf").makeTokenizer()
        }
        XCTAssertEqual(try tokenizer("llama-bpe", addBOS: nil).encode("ab", addBOS: true), [2, 0, 1])
        XCTAssertEqual(try tokenizer("llama-bpe", addBOS: false).encode("ab", addBOS: true), [0, 1])
        XCTAssertEqual(try tokenizer("smollm", addBOS: nil).encode("ab", addBOS: true), [0, 1])
        XCTAssertEqual(try tokenizer("smollm", addBOS: true).encode("ab", addBOS: false), [0, 1])
    }

    func testDecodeRestoresTheTextAndDropsControlTokens() throws {
        let c = try Self.cases()
        for family in Self.families {
            let tok = try Self.tokenizer(family)
            for s in c.strings where !s.contains("<|") {
                XCTAssertEqual(tok.decode(try tok.encode(s, addBOS: false)), s, "\(family): \(s.debugDescription)")
            }
            XCTAssertEqual(tok.decode(try tok.encode("<|im_start|>user\nhi<|im_end|>", addBOS: false)), "user\nhi")
        }
    }

    /// Emoji and CJK spread over several byte tokens stream out whole, never as U+FFFD.
    func testStreamingNeverSplitsACharacter() throws {
        let tok = try Self.tokenizer("smollm")
        let text = "emoji 😀 and 🎉 family 👨‍👩‍👧‍👦 東京 ok"
        let ids = try tok.encode(text, addBOS: false)
        // The fixture's small vocabulary spells these characters as single bytes, so some tokens
        // alone are incomplete UTF-8.
        XCTAssertTrue(ids.contains { tok.decode([$0]).contains("\u{FFFD}") })
        var detok = StreamingDetokenizer(tokenizer: tok)
        var pieces: [String] = []
        for id in ids {
            let p = detok.append(id)
            if !p.isEmpty { pieces.append(p) }
        }
        pieces.append(detok.flush())
        XCTAssertEqual(pieces.joined(), text)
        for p in pieces { XCTAssertFalse(p.contains("\u{FFFD}"), p.debugDescription) }
        XCTAssertGreaterThan(pieces.count, 5)
    }

    /// Merging is O(n log n) in the word length: a 40k-letter word finishes quickly (even in a debug build).
    func testLongWordsEncodeInNearLinearTime() throws {
        let tok = try Self.tokenizer("gpt2")
        let word = String(repeating: "ab", count: 20_000)
        let t0 = Date()
        let ids = try tok.encode(word, addBOS: false)
        XCTAssertEqual(tok.decode(ids), word)
        XCTAssertLessThan(Date().timeIntervalSince(t0), 20)
    }

    func testBadVocabulariesAreFileInvalidNamingTheField() throws {
        func code(_ f: () throws -> Any) -> (FluxError.Code?, String) {
            do { _ = try f(); return (nil, "") } catch let e as FluxError { return (e.code, e.message) } catch { return (nil, "\(error)") }
        }
        let tokens = ["a", "b", "ab"]
        var r = code { try GGUFTokenizerMetadata(model: "gpt2", pre: "klingon", tokens: tokens, source: "x.gguf").makeTokenizer() }
        XCTAssertEqual(r.0, .fileInvalid)
        XCTAssertTrue(r.1.contains("tokenizer.ggml.pre"), r.1)
        r = code { try GGUFTokenizerMetadata(model: "bert", tokens: tokens, source: "x.gguf").makeTokenizer() }
        XCTAssertTrue(r.0 == .fileInvalid && r.1.contains("tokenizer.ggml.model"), r.1)
        r = code { try BPETokenizer(tokens: tokens, merges: ["ab"], pre: .gpt2, origin: "x") }
        XCTAssertTrue(r.0 == .fileInvalid && r.1.contains("merge 0"), r.1)
        r = code { try BPETokenizer(tokens: tokens, merges: [], types: [1], pre: .gpt2, origin: "x") }
        XCTAssertTrue(r.0 == .fileInvalid && r.1.contains("types"), r.1)
        r = code { try BPETokenizer(tokens: tokens, merges: [], eosId: 9, pre: .gpt2, origin: "x") }
        XCTAssertTrue(r.0 == .fileInvalid && r.1.contains("eos_token_id"), r.1)
        r = code { try BPETokenizer(tokens: [], merges: [], pre: .gpt2, origin: "x") }
        XCTAssertEqual(r.0, .fileInvalid)
        r = code { try GGUFTokenizerMetadata(model: "llama", tokens: tokens, source: "x.gguf").makeTokenizer() }
        XCTAssertTrue(r.0 == .fileInvalid && r.1.contains("tokenizer.ggml.scores"), r.1)

        for (json, field) in [(#"{"model": {"type": "Unigram"}}"#, "model.type"),
                              (#"{"model": {"type": "BPE", "byte_fallback": true, "vocab": {}}}"#, "byte_fallback"),
                              (#"{"model": {"type": "BPE", "vocab": {"a": 0, "b": 2}}, "pre_tokenizer": {"type": "ByteLevel"}}"#, "id 1"),
                              (#"{"model": {"type": "BPE", "vocab": {"a": 0}}, "pre_tokenizer": {"type": "Whitespace"}}"#, "pre_tokenizer"),
                              (#"{"model": {"type": "BPE", "vocab": {"a": -1}}}"#, "model.vocab"),
                              (#"[1, 2]"#, "object")] {
            r = code { try BPETokenizer(tokenizerJSON: Data(json.utf8), source: "t.json") }
            XCTAssertEqual(r.0, .fileInvalid, json)
            XCTAssertTrue(r.1.contains(field), "\(json): \(r.1)")
        }
    }
}

/// SentencePiece models held as GGUF arrays go through libsentencepiece itself.
final class SentencePieceFromArraysTests: XCTestCase {
    func testArraysRebuildTheSameSentencePieceModel() throws {
        let original = try Fixtures.tokenizer
        let n = Int32(original.vocabSize)
        let pieces = (0..<n).map { original.piece($0) ?? "" }
        let meta = GGUFTokenizerMetadata(model: "llama", tokens: pieces, scores: (0..<n).map(original.score),
                                         types: (0..<n).map(original.type), bosId: original.bosId, eosId: original.eosId,
                                         unkId: original.unkId, source: "test.gguf")
        let rebuilt = try XCTUnwrap(try meta.makeTokenizer() as? SentencePieceTokenizer)
        XCTAssertEqual(rebuilt.vocabSize, original.vocabSize)
        XCTAssertEqual(rebuilt.bosId, original.bosId)
        XCTAssertEqual(rebuilt.eosIds, original.eosIds)
        let ref = try Fixtures.json("tokenizer_cases.json")
        let cases = try XCTUnwrap(ref["cases"] as? [[String: Any]])
        for c in cases {
            let text = try XCTUnwrap(c["text"] as? String)
            XCTAssertEqual(try rebuilt.encode(text, addBOS: true), try original.encode(text, addBOS: true), text.debugDescription)
            XCTAssertEqual(try rebuilt.encode(text, addBOS: false), try Fixtures.ids(c["ids"]), text.debugDescription)
        }
        XCTAssertTrue((0..<n).contains { original.type($0) == 6 }, "the fixture has byte-fallback pieces")
    }

    func testControlPiecesInTextBecomeTheirIds() throws {
        let tok = try Fixtures.tokenizer
        let bos = try XCTUnwrap(tok.bosId), eos = try XCTUnwrap(tok.eosId)
        let ids = try tok.encode("Hi</s><s>there", addBOS: false)
        XCTAssertEqual(ids, try tok.encode("Hi", addBOS: false) + [eos, bos] + tok.encode("there", addBOS: false))
    }

    func testBadArraysAreRefused() throws {
        XCTAssertThrowsError(try SentencePieceModel.serialize(pieces: ["a"], scores: [], types: [1], unkId: nil, bosId: nil,
                                                              eosId: nil, padId: nil, addDummyPrefix: true, origin: "x")) {
            XCTAssertEqual(($0 as? FluxError)?.code, .fileInvalid)
        }
        XCTAssertThrowsError(try SentencePieceModel.serialize(pieces: ["a"], scores: [0], types: [9], unkId: nil, bosId: nil,
                                                              eosId: nil, padId: nil, addDummyPrefix: true, origin: "x")) {
            XCTAssertTrue(($0 as? FluxError)?.message.contains("type 9") ?? false)
        }
        // No unknown piece: libsentencepiece refuses the model, and the error says so.
        let proto = try SentencePieceModel.serialize(pieces: ["a", "b"], scores: [0, 0], types: [1, 1], unkId: nil, bosId: nil,
                                                     eosId: nil, padId: nil, addDummyPrefix: true, origin: "x")
        XCTAssertThrowsError(try SentencePieceTokenizer(modelProto: proto, origin: "x.gguf")) {
            XCTAssertEqual(($0 as? FluxError)?.code, .fileInvalid)
        }
    }
}
