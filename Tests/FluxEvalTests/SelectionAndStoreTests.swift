import FluxCore
import FluxEval
import Foundation
import XCTest

final class SelectionAndStoreTests: XCTestCase {
    func testShardsAreDisjointAndCoverTheSelection() throws {
        let all = RunSelection(offset: 3, limit: 20).positions(count: 40)
        XCTAssertEqual(all, Array(3..<23))
        var union: [Int] = []
        for i in 0..<3 { union += RunSelection(offset: 3, limit: 20, shard: i, shards: 3).positions(count: 40) }
        XCTAssertEqual(union.sorted(), all)
        XCTAssertEqual(Set(union).count, union.count)
        XCTAssertEqual(RunSelection(offset: 50).positions(count: 40), [])
        XCTAssertEqual(try RunSelection.parseShard("2/3").0, 2)
        // Messages name the setting, never a command-line flag (the library has other callers).
        for (field, call) in [("shard", { _ = try RunSelection.parseShard("3/3") }), ("shard", { _ = try RunSelection.parseShard("x") }),
                              ("offset", { try RunSelection(offset: -1).validate() }), ("limit", { try RunSelection(limit: -2).validate() }),
                              ("shard", { try RunSelection(shard: 2, shards: 2).validate() }),
                              ("endpoint", { _ = try JudgeClient(endpoint: "ftp://x", model: "m") })] as [(String, () throws -> Void)] {
            XCTAssertThrowsError(try call()) { e in
                XCTAssertEqual((e as? FluxError)?.code, .badRequest)
                let message = (e as? FluxError)?.message ?? ""
                XCTAssertTrue(message.hasPrefix(field) && !message.contains("--"), message)
            }
        }
    }

    func testStoreDropsATornLastLineAndDuplicates() throws {
        let dir = Fix.tempDir("store")
        let path = dir + "/s.jsonl"
        let text = "{\"id\":\"a\",\"v\":1}\n{\"id\":\"b\",\"v\":2}\n{\"id\":\"a\",\"v\":3}\n{\"id\":\"c\",\"v\""
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let store = try JSONLStore(path: path)
        XCTAssertEqual(store.ids, ["a", "b"])
        XCTAssertEqual(store.records.count, 2)
        try store.append(line: "{\"id\":\"c\",\"v\":4}", record: ["id": "c", "v": 4])
        XCTAssertEqual(Fix.text(path), "{\"id\":\"a\",\"v\":1}\n{\"id\":\"b\",\"v\":2}\n{\"id\":\"a\",\"v\":3}\n{\"id\":\"c\",\"v\":4}\n")
        XCTAssertEqual(try JSONLStore(path: path).ids, ["a", "b", "c"])
    }
}
