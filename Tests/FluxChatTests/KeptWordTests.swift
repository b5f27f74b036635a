import FluxChat
import FluxCore
import Foundation
import XCTest

/// A slot_resampler's change row that says "visible" where a line's object stays (config
/// `kept_word`, session 22): against PyTorch (`python -m fluxtools.fixtures.resampler --kept`), the
/// shift worked by hand, and its config checks.
extension SlotResamplerTests {
    static let keptFixture = Fixtures.root.appendingPathComponent("resampler_kept.safetensors").path

    func fixtureKeptWord() throws -> KeptWord {
        let text = try XCTUnwrap(SafeTensorsFile(path: Self.keptFixture).metadata["kept_word"])
        return try KeptWord(JSONValue.Fields(JSONValue.parse(Data(text.utf8), source: "kept_word"), source: "kept_word"))
    }

    /// Rows match PyTorch; only the change rows of lines 0 and 1 (rows 1 and 3 of 6) differ from the
    /// plain resampler's.
    func testKeptWordMatchesPyTorch() throws {
        let file = try SafeTensorsFile(path: Self.keptFixture)
        let kept = try fixtureKeptWord()
        XCTAssertEqual(kept, KeptWord(lines: [0, 1], presentRow: 0, row: 1, absent: 1))
        let p = try resampler(Self.keptFixture, keptWord: kept)
        XCTAssertTrue(p.summary.encoded.contains(#""kept_word":true"#), p.summary.encoded)
        for suffix in ["", "_1"] {
            let y = try p(file.tensor("tokens" + suffix)), want = try file.tensor("expected" + suffix)
            let diff = zip(y.data, want.data).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThan(diff, 1e-4, "tokens\(suffix): max abs diff \(diff)")
        }
        let plain = try resampler(Self.keptFixture)(file.tensor("tokens")), want = try file.tensor("expected")
        func rowDiff(_ r: Int) -> Float { (0..<6).map { abs(plain.data[r * 6 + $0] - want.data[r * 6 + $0]) }.max() ?? 0 }
        XCTAssertGreaterThan(max(rowDiff(1), rowDiff(3)), 1e-2, "the kept rows")
        for r in [0, 2, 4, 5] { XCTAssertLessThan(rowDiff(r), 1e-4, "row \(r) is not a kept row") }
    }

    /// Three lines of 2 rows over 3 words (word 0 the separator): there and unchanged moves all the
    /// way, there and changing half the time half, absent not at all; other rows stay.
    func testKeptWordShiftByHand() {
        let r = 2, w = 3, d = 2
        var p = [Float](repeating: 0, count: 3 * r * w)
        func set(_ line: Int, _ row: Int, _ word: Int, _ v: Float) { p[(line * r + row) * w + word] = v }
        set(0, 0, 1, 1); set(0, 1, 0, 1)                        // there, no change
        set(1, 0, 2, 1); set(1, 1, 0, 0.5); set(1, 1, 2, 0.5)   // there, changes half the time
        set(2, 0, 0, 1); set(2, 1, 0, 1)                        // absent
        let kept = KeptWord(lines: [0, 1, 2], presentRow: 0, row: 1, absent: 0)
        var y = [Float](repeating: 1, count: 3 * r * d)
        p.withUnsafeBufferPointer { pp in
            y.withUnsafeMutableBufferPointer { kept.apply(probabilities: pp, words: w, delta: [2, -4], to: $0, rowsPerQuery: r) }
        }
        XCTAssertEqual(y, [1, 1, 3, -3, 1, 1, 2, -1, 1, 1, 1, 1])
    }

    /// Lines outside the table or repeated, the change row on the present row, a word column outside
    /// the table, a kept_word tensor of the wrong length or none, a missing field and kept_word on an
    /// MLP projector are model errors naming kept_word.
    func testMalformedKeptWordIsModelError() throws {
        for (name, kept) in [("line", KeptWord(lines: [3], presentRow: 0, row: 1, absent: 0)),
                             ("repeated", KeptWord(lines: [0, 0], presentRow: 0, row: 1, absent: 0)),
                             ("same row", KeptWord(lines: [0], presentRow: 1, row: 1, absent: 0)),
                             ("row", KeptWord(lines: [0], presentRow: 0, row: 2, absent: 0)),
                             ("word", KeptWord(lines: [0], presentRow: 0, row: 1, absent: 5))] {
            XCTAssertThrowsError(try resampler(Self.keptFixture, keptWord: kept), name) {
                XCTAssertEqual(($0 as? FluxError)?.code, .modelInvalid, "\(name): \($0)")
                XCTAssertTrue("\($0)".contains("kept_word"), "\(name): \($0)")
            }
        }
        let good = try fixtureKeptWord()
        XCTAssertThrowsError(try resampler(Self.countFixture, keptWord: good)) {  // no tensor kept_word
            XCTAssertTrue("\($0)".contains("projector.kept_word"), "\($0)")
        }
        XCTAssertThrowsError(try Projector(weights: SafeTensorsFile(path: Fixtures.bundlePath + "/model.safetensors"), prefix: "projector.",
                                           type: "mlp2x_gelu", pool: "none", inputDim: nil, hiddenDim: nil, outputDim: nil, keptWord: good)) {
            XCTAssertTrue("\($0)".contains("kept_word does not apply to mlp2x_gelu"), "\($0)")
        }
        let json = #"{"lines": [0], "present_row": 0, "absent": 0}"#
        XCTAssertThrowsError(try KeptWord(JSONValue.Fields(JSONValue.parse(Data(json.utf8), source: "t"), source: "cfg (kept_word)"))) {
            XCTAssertEqual(($0 as? FluxError)?.code, .modelInvalid, "\($0)")
            XCTAssertTrue("\($0)".contains("kept_word") && "\($0)".contains("'row'"), "\($0)")
        }
    }

    /// A bundle's config `kept_word` is read with its tensor (its info says so); a malformed one
    /// fails the bundle's load.
    func testBundleReadsKeptWord() throws {
        let kept: [String: Any] = ["lines": [0, 1], "present_row": 0, "row": 1, "absent": 0]
        let bundle = try ModelBundle(directory: resamplerBundle("resampler-kept-bundle", keptWord: kept))
        XCTAssertTrue(bundle.summary.encoded.contains(#""kept_word":true"#), bundle.summary.encoded)
        var bad = kept
        bad["absent"] = 9
        XCTAssertThrowsError(try ModelBundle(directory: resamplerBundle("resampler-kept-bad", keptWord: bad))) {
            XCTAssertEqual(($0 as? FluxError)?.code, .modelInvalid, "\($0)")
            XCTAssertTrue("\($0)".contains("kept_word"), "\($0)")
        }
    }
}
