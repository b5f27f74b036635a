import FluxCore
import FluxLM
import XCTest

final class TokenizerTests: XCTestCase {
    func testIdsMatchPythonSentencePiece() throws {
        let tok = try Fixtures.tokenizer
        let ref = try Fixtures.json("tokenizer_cases.json")
        let cases = try XCTUnwrap(ref["cases"] as? [[String: Any]])
        XCTAssertGreaterThan(cases.count, 10)
        for c in cases {
            let text = try XCTUnwrap(c["text"] as? String)
            let expected = try Fixtures.ids(c["ids"])
            XCTAssertEqual(try tok.encode(text, addBOS: false), expected, "encode \(text.debugDescription)")
            XCTAssertEqual(tok.decode(expected), c["decoded"] as? String, "decode \(text.debugDescription)")
        }
    }

    func testSpecialIdsAndPieces() throws {
        let tok = try Fixtures.tokenizer
        let ref = try Fixtures.json("tokenizer_cases.json")
        XCTAssertEqual(tok.vocabSize, ref["vocab_size"] as? Int)
        XCTAssertEqual(tok.bosId.map(Int.init), ref["bos_id"] as? Int)
        XCTAssertEqual(tok.eosId.map(Int.init), ref["eos_id"] as? Int)
        for (id, piece) in try XCTUnwrap(ref["pieces"] as? [String: String]) {
            XCTAssertEqual(tok.piece(try XCTUnwrap(Int32(id))), piece)
        }
        XCTAssertNil(tok.piece(-1))
        XCTAssertNil(tok.piece(Int32(tok.vocabSize)))
        let byteIds = try Fixtures.ids(ref["byte_ids"])
        XCTAssertTrue(byteIds.allSatisfy(tok.isByte))
        XCTAssertEqual(try tok.encode("Hello", addBOS: true).first, tok.bosId)
        XCTAssertEqual(try tok.encode("Hello", addBOS: true).dropFirst().map { $0 }, try tok.encode("Hello", addBOS: false))
    }

    func testConfigOverridesSpecialIds() throws {
        let tok = try Fixtures.tokenizer
        let json = try JSONValue.Fields(JSONValue(any: ["hidden_size": 8, "intermediate_size": 8, "num_hidden_layers": 1,
                                     "num_attention_heads": 2, "vocab_size": 512, "bos_token_id": 1,
                                     "eos_token_id": [2, 7]] as [String: Any]), source: "test")
        tok.apply(config: try LlamaConfig(json: json))
        XCTAssertEqual(tok.eosId, 2)
        XCTAssertEqual(tok.eosIds, [2, 7])
    }

    func testMissingAndInvalidFiles() throws {
        XCTAssertThrowsError(try SentencePieceTokenizer(path: "/nonexistent/tokenizer.model")) {
            XCTAssertEqual(($0 as? FluxError)?.code, .fileNotFound)
        }
        XCTAssertThrowsError(try SentencePieceTokenizer(path: Fixtures.path("tokenizer_cases.json"))) {
            XCTAssertEqual(($0 as? FluxError)?.code, .fileInvalid)
        }
    }

    /// Streaming one id at a time gives exactly the text of decoding them all, and no chunk
    /// contains a replacement character (half a UTF-8 sequence or byte-fallback run).
    func testStreamingDetokenizer() throws {
        let tok = try Fixtures.tokenizer
        let ref = try Fixtures.json("tokenizer_cases.json")
        var sawByteFallback = false
        for c in try XCTUnwrap(ref["cases"] as? [[String: Any]]) {
            let text = try XCTUnwrap(c["text"] as? String)
            let ids = try [tok.bosId!] + tok.encode(text, addBOS: false)
            sawByteFallback = sawByteFallback || ids.contains(where: tok.isByte)
            var stream = StreamingDetokenizer(tokenizer: tok)
            var out = ""
            for id in ids {
                let chunk = stream.append(id)
                XCTAssertFalse(chunk.contains("\u{FFFD}"), "chunk of \(text.debugDescription)")
                out += chunk
            }
            out += stream.flush()
            XCTAssertEqual(out, tok.decode(ids), "stream of \(text.debugDescription)")
        }
        XCTAssertTrue(sawByteFallback, "the cases must exercise byte fallback")
    }

    /// A lone byte-fallback piece that never completes comes out as U+FFFD only on flush.
    func testStreamingHoldsIncompleteBytes() throws {
        let tok = try Fixtures.tokenizer
        let lead = try XCTUnwrap(tok.id(ofPiece: "<0xE2>"))
        var stream = StreamingDetokenizer(tokenizer: tok)
        XCTAssertEqual(stream.append(lead), "")
        XCTAssertEqual(stream.flush(), "\u{FFFD}")
    }
}
