import Foundation
import XCTest
import FluxCore

final class JSONValueTests: XCTestCase {
    func testTypedGettersAndErrorsNameTheField() throws {
        let j = try JSONValue.Fields(data: Data(#"{"n": 3, "x": 1.5, "b": true, "s": "tanh", "o": {"k": 1}, "nul": null, "w": 2.0}"#.utf8), source: "config.json")
        XCTAssertEqual(try j.int("n"), 3)
        XCTAssertEqual(try j.int("w"), 2)
        XCTAssertEqual(try j.double("x"), 1.5)
        XCTAssertEqual(try j.double("n"), 3)
        XCTAssertEqual(try j.bool("b", default: false), true)
        XCTAssertEqual(try j.string("s", default: ""), "tanh")
        XCTAssertEqual(try j.optionalObject("o")?.int("k"), 1)
        XCTAssertEqual(try j.int("nul", default: 7), 7)
        XCTAssertFalse(j.has("nul"))
        XCTAssertEqual(try j.int("missing", default: 9), 9)
        for (key, call) in [("x", { _ = try j.int("x") }), ("b", { _ = try j.int("b") }), ("s", { _ = try j.double("s") }),
                            ("n", { _ = try j.bool("n", default: false) }), ("missing", { _ = try j.int("missing") }),
                            ("o", { _ = try j.optionalArray("o") }), ("s", { _ = try j.optionalObject("s") })] as [(String, () throws -> Void)] {
            XCTAssertThrowsError(try call()) { e in
                let fe = e as? FluxError
                XCTAssertEqual(fe?.code, .modelInvalid)
                XCTAssertTrue(fe?.message.contains("config.json") == true && fe?.message.contains("'\(key)'") == true, fe?.message ?? "")
            }
        }
        XCTAssertThrowsError(try j.optionalObject("o")?.int("zz")) { XCTAssertTrue("\($0)".contains("config.json (o)")) }
    }

    func testBadFiles() {
        XCTAssertThrowsError(try JSONValue.Fields(contentsOf: "/nonexistent/config.json")) { XCTAssertEqual(($0 as? FluxError)?.code, .fileNotFound) }
        XCTAssertThrowsError(try JSONValue.Fields(data: Data("[1,2]".utf8), source: "a.json")) { XCTAssertEqual(($0 as? FluxError)?.code, .fileInvalid) }
        XCTAssertThrowsError(try JSONValue.Fields(data: Data("{".utf8), source: "a.json")) { XCTAssertEqual(($0 as? FluxError)?.code, .fileInvalid) }
        XCTAssertThrowsError(try JSONValue.parse(Data("{".utf8), source: "r.json")) {
            XCTAssertEqual(($0 as? FluxError)?.code, .badJSON)
            XCTAssertTrue("\($0)".contains("r.json"))
        }
        XCTAssertThrowsError(try JSONValue(checking: ["x": Double.nan])) { XCTAssertEqual(($0 as? FluxError)?.code, .internal) }
        XCTAssertThrowsError(try JSONValue(checking: ["x": Date()])) { XCTAssertEqual(($0 as? FluxError)?.code, .internal) }
    }

    /// The protocol's line: keys in the order given, U+2028/2029 and control characters as \u escapes.
    func testProtocolLineIsUnchanged() {
        let v = JSONValue.object([("id", .int(7)), ("event", .string("done")), ("text", .string("a/b\u{8}\u{c}\u{2028}\"\\\n\té")),
                                  ("x", .double(2.5)), ("y", .double(3)), ("z", .double(.infinity)), ("n", .null),
                                  ("a", .array([.bool(true), .bool(false)]))])
        XCTAssertEqual(v.encoded, #"{"id":7,"event":"done","text":"a/b\u0008\u000c\u2028\"\\\n\té","x":2.5,"y":3,"z":null,"n":null,"a":[true,false]}"#)
        XCTAssertEqual(JSONValue(any: ["b": 1, "a": NSNull()] as [String: Any]).encoded, #"{"a":null,"b":1}"#)
        XCTAssertEqual(try JSONValue.parse(Data(#"{"id":9007199254740993,"x":3.0,"u":18446744073709551615}"#.utf8), source: "r"),
                       .object([("id", .int(9_007_199_254_740_993)), ("u", .double(18446744073709551615)), ("x", .double(3))]))
    }

    /// Files written before JSONValue held them came from JSONSerialization (sorted keys; pretty
    /// for results, compact for records, slashes escaped for safetensors headers and judge
    /// requests): the stable form must write the same bytes, or resumed runs and merges break.
    func testStableFormMatchesJSONSerialization() throws {
        let record: [String: Any] = [
            "b10": 1, "b9": 2.5, "B1": 0.1, "a": 1e-5, "_x": 1e20, "1024": ["frames": 16, "resolution": 224], "256": [String: Any](),
            "Avg": [12.34, -0.0, 1.0 / 3, 123456789.125, 5.0, 1e15, 1e16, 2e-7, 100.0, 0.3, 9_007_199_254_740_992.0, 9_007_199_254_740_994.0],
            "s": "a/b\u{8}\u{c}\u{7f}\u{2028}é😀\u{1}\u{1f}\"\\\n\r\t", "n": NSNull(), "t": true, "f": false, "ea": [Any](),
            "i": 9_007_199_254_740_993, "neg": -42, "Zeta": 1, "alpha": 2, "a-b": 1, "a_b": 2, "aB": 3, "ab": 4, "x2y": 1, "x10y": 2,
            "nested": ["z": [[1, [2]], ["q": "p/q"]], "Action Sequence": [3, 4, 75.0]] as [String: Any],
        ]
        let cases: [(JSONSerialization.WritingOptions, Bool, Bool)] = [
            ([.sortedKeys, .withoutEscapingSlashes], false, false), ([.sortedKeys, .withoutEscapingSlashes, .prettyPrinted], true, false),
            ([.sortedKeys], false, true), ([.sortedKeys, .prettyPrinted], true, true),
        ]
        for (options, pretty, slashes) in cases {
            let reference = String(decoding: try JSONSerialization.data(withJSONObject: record, options: options), as: UTF8.self)
            XCTAssertEqual(try JSONValue(checking: record).stable(pretty: pretty, escapingSlashes: slashes), reference, "\(options)")
            // A record read back from its file writes the same bytes again (resume, merge); only
            // JSONSerialization's reading of -0 as 0 differs, as it did before.
            XCTAssertEqual(try JSONValue.parse(Data(reference.utf8), source: "r").stable(pretty: pretty, escapingSlashes: slashes),
                           reference.replacingOccurrences(of: "-0,", with: "0,"))
        }
    }

    /// In-place edits keep every other byte (DREAM-1K records, a bundle's config.json).
    func testTextEditsKeepTheRest() throws {
        var b = [UInt8](#"{"idx": 3,  "text": {"response": "x/y"}, "n": 1.50}"#.utf8)
        let text = try XCTUnwrap(JSONText.members(b, 0).members.first { $0.key == "text" })
        try JSONText.set("prediction", to: .string("a \"b\"\n/\u{8}"), inObjectAt: text.value.lowerBound, of: &b)
        XCTAssertEqual(String(decoding: b, as: UTF8.self), #"{"idx": 3,  "text": {"response": "x/y", "prediction": "a \"b\"\n/\b"}, "n": 1.50}"#)
        try JSONText.set("idx", to: .int(4), inObjectAt: 0, of: &b)
        XCTAssertTrue(String(decoding: b, as: UTF8.self).hasPrefix(#"{"idx": 4,  "text""#))
        var empty = [UInt8]("{ }".utf8)
        try JSONText.set("k", to: .array([]), inObjectAt: 0, of: &empty)
        XCTAssertEqual(String(decoding: empty, as: UTF8.self), #"{ "k": []}"#)
        XCTAssertThrowsError(try JSONText.members([UInt8](#"{"a": "#.utf8), 0)) { XCTAssertEqual(($0 as? FluxError)?.code, .badJSON) }
    }
}
