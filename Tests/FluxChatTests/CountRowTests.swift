import FluxChat
import FluxCore
import Foundation
import XCTest

/// A slot_resampler row written as the count of the lines whose object moves (config `count_row`,
/// session 20): against PyTorch (`python -m fluxtools.fixtures.resampler --count`), the count's
/// distribution worked by hand, and its config checks.
extension SlotResamplerTests {
    static let countFixture = Fixtures.root.appendingPathComponent("resampler_count.safetensors").path

    func fixtureCountRow() throws -> CountRow {
        let text = try XCTUnwrap(SafeTensorsFile(path: Self.countFixture).metadata["count_row"])
        return try CountRow(JSONValue.Fields(JSONValue.parse(Data(text.utf8), source: "count_row"), source: "count_row"))
    }

    /// Rows match PyTorch; only the count row (line 2, row 0: row 4 of 6) differs from the plain resampler's.
    func testCountRowMatchesPyTorch() throws {
        let file = try SafeTensorsFile(path: Self.countFixture)
        let count = try fixtureCountRow()
        XCTAssertEqual(count, CountRow(line: 2, row: 0, lines: [0, 1], presentRow: 0, absent: 0, motionRow: 1, still: [1, 0], numbers: [2, 3]))
        let p = try resampler(Self.countFixture, countRow: count)
        XCTAssertTrue(p.summary.encoded.contains(#""count_row":true"#), p.summary.encoded)
        let want = try file.tensor("expected")
        for suffix in ["", "_1"] {
            let y = try p(file.tensor("tokens" + suffix)), want = try file.tensor("expected" + suffix)
            let diff = zip(y.data, want.data).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThan(diff, 1e-4, "tokens\(suffix): max abs diff \(diff)")
        }
        let plain = try resampler(Self.countFixture)(file.tensor("tokens"))
        func rowDiff(_ r: Int) -> Float { (0..<6).map { abs(plain.data[r * 6 + $0] - want.data[r * 6 + $0]) }.max() ?? 0 }
        XCTAssertGreaterThan(rowDiff(4), 1e-2, "the count row")
        for r in [0, 1, 2, 3, 5] { XCTAssertLessThan(rowDiff(r), 1e-4, "row \(r) is not the count's") }
    }

    /// Three lines: one surely moving, one moving half the time, one absent. Counts 1 and 2 are
    /// even; with two number words, 2 folds onto the last.
    func testCountRowDistributionByHand() {
        let r = 2, w = 5  // rows: 0 present (word 0 = absent), 1 motion (word 1 = still); line 3 holds the count
        var p = [Float](repeating: 0, count: 4 * r * w)
        func set(_ line: Int, _ row: Int, _ word: Int, _ v: Float) { p[(line * r + row) * w + word] = v }
        set(0, 0, 4, 1); set(0, 1, 4, 1)                        // there, moving
        set(1, 0, 4, 1); set(1, 1, 1, 0.5); set(1, 1, 4, 0.5)   // there, still half the time
        set(2, 0, 0, 1); set(2, 1, 0, 1)                        // absent
        set(3, 0, 2, 1)                                          // the learnt count's word, overwritten
        for (numbers, want) in [([2, 3, 4], [0, 0, 0, 0.5, 0.5]), ([2, 3], [0, 0, 0, 1, 0])] as [([Int], [Float])] {
            let count = CountRow(line: 3, row: 0, lines: [0, 1, 2], presentRow: 0, absent: 0, motionRow: 1, still: [1, 0], numbers: numbers)
            var q = p
            q.withUnsafeMutableBufferPointer { count.apply(to: $0, rowsPerQuery: r, words: w) }
            XCTAssertEqual(Array(q[(3 * r) * w ..< (3 * r + 1) * w]), want, "numbers \(numbers)")
            XCTAssertEqual(Array(q[0 ..< 3 * r * w]), Array(p[0 ..< 3 * r * w]), "other rows untouched")
        }
    }

    /// A count row outside the table, counting its own line, naming words that are not there, with
    /// fewer than two numbers, or on a phrase group's row is a model error naming count_row; so are
    /// a missing or non-integer field and count_row on an MLP projector.
    func testMalformedCountRowIsModelError() throws {
        let good = try fixtureCountRow()
        func with(line: Int = 2, row: Int = 0, lines: [Int] = [0, 1], motionRow: Int = 1, still: [Int] = [1, 0], numbers: [Int] = [2, 3]) -> CountRow {
            CountRow(line: line, row: row, lines: lines, presentRow: good.presentRow, absent: good.absent, motionRow: motionRow, still: still, numbers: numbers)
        }
        for (name, count) in [("line", with(line: 3)), ("row", with(row: 2)), ("own line", with(lines: [0, 2])),
                              ("repeated lines", with(lines: [0, 0])), ("motion row", with(motionRow: 2)),
                              ("word", with(still: [5])), ("numbers", with(numbers: [2]))] {
            XCTAssertThrowsError(try resampler(Self.countFixture, countRow: count), name) {
                XCTAssertEqual(($0 as? FluxError)?.code, .modelInvalid, "\(name): \($0)")
                XCTAssertTrue("\($0)".contains("count_row"), "\(name): \($0)")
            }
        }
        let phrase = PhraseGroup(lines: [2], rows: [0], words: [[1]])
        XCTAssertThrowsError(try resampler(Self.countFixture, phrases: [phrase], countRow: good)) {
            XCTAssertTrue("\($0)".contains("count_row") && "\($0)".contains("phrase group"), "\($0)")
        }
        XCTAssertThrowsError(try Projector(weights: SafeTensorsFile(path: Fixtures.bundlePath + "/model.safetensors"), prefix: "projector.",
                                           type: "mlp2x_gelu", pool: "none", inputDim: nil, hiddenDim: nil, outputDim: nil, countRow: good)) {
            XCTAssertTrue("\($0)".contains("count_row does not apply to mlp2x_gelu"), "\($0)")
        }
        for (field, json) in [("missing field 'numbers'", #"{"line": 2, "row": 0, "lines": [0], "present_row": 0, "absent": 0, "motion_row": 1, "still": [1]}"#),
                              ("lines[1] holds", #"{"line": 2, "row": 0, "lines": [0, "a"], "present_row": 0, "absent": 0, "motion_row": 1, "still": [1], "numbers": [2, 3]}"#)] {
            XCTAssertThrowsError(try CountRow(JSONValue.Fields(JSONValue.parse(Data(json.utf8), source: "t"), source: "cfg (count_row)")), field) {
                XCTAssertEqual(($0 as? FluxError)?.code, .modelInvalid, "\(field): \($0)")
                XCTAssertTrue("\($0)".contains("count_row") && "\($0)".contains(field), "\(field): \($0)")
            }
        }
    }

    /// A bundle's config `count_row` is read (its info says so); a malformed one fails the bundle's load.
    func testBundleReadsCountRow() throws {
        let count: [String: Any] = ["line": 2, "row": 0, "lines": [0, 1], "present_row": 0, "absent": 0, "motion_row": 1,
                                    "still": [1, 0], "numbers": [2, 3]]
        let bundle = try ModelBundle(directory: resamplerBundle("resampler-count-bundle", countRow: count))
        XCTAssertTrue(bundle.summary.encoded.contains(#""count_row":true"#), bundle.summary.encoded)
        var bad = count
        bad["numbers"] = [2, 9]
        XCTAssertThrowsError(try ModelBundle(directory: resamplerBundle("resampler-count-bad", countRow: bad))) {
            XCTAssertEqual(($0 as? FluxError)?.code, .modelInvalid, "\($0)")
            XCTAssertTrue("\($0)".contains("count_row"), "\($0)")
        }
    }
}
