import Foundation

/// JSON text edited in place: where values sit, so a field can be replaced or added without
/// re-serializing the rest. Every other byte of a record stays as it was (key order, spacing,
/// number spelling), as the published DREAM-1K files and hand-edited config.json files need.
public enum JSONText {
    /// An object's member: its key and the byte range of its value.
    public struct Member: Sendable {
        public let key: String
        public let value: Range<Int>
    }

    /// Sets member `key` of the object whose `{` is at or after `start` to `value` (its stable
    /// spelling, which is also Python's `json.dumps(..., ensure_ascii=False)` for strings):
    /// replaces the member's value, or appends `, "key": value` before the closing brace.
    public static func set(_ key: String, to value: JSONValue, inObjectAt start: Int, of b: inout [UInt8]) throws {
        let text = [UInt8](value.stable().utf8)
        let (members, close) = try members(b, start)
        if let m = members.first(where: { $0.key == key }) {
            b.replaceSubrange(m.value, with: text)
        } else {
            b.insert(contentsOf: Array("\(members.isEmpty ? "" : ", ")\"\(key)\": ".utf8) + text, at: close)
        }
    }

    /// The end (exclusive) of the value starting at `i` (whitespace before it skipped).
    static func skipValue(_ b: [UInt8], _ i: Int) throws -> Int {
        var i = skipSpace(b, i)
        guard i < b.count else { throw bad("unexpected end") }
        switch b[i] {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while i < b.count {
                switch b[i] {
                case UInt8(ascii: "\""): i = try skipString(b, i); continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return i + 1 }
                default: break
                }
                i += 1
            }
            throw bad("unclosed bracket")
        case UInt8(ascii: "\""):
            return try skipString(b, i)
        default:
            while i < b.count, !",}] \t\r\n".utf8.contains(b[i]) { i += 1 }
            return i
        }
    }

    /// Members of the object whose `{` is at or after `start`.
    public static func members(_ b: [UInt8], _ start: Int) throws -> (members: [Member], close: Int) {
        var i = skipSpace(b, start)
        guard i < b.count, b[i] == UInt8(ascii: "{") else { throw bad("expected an object") }
        i += 1
        var out: [Member] = []
        while true {
            i = skipSpace(b, i)
            guard i < b.count else { throw bad("unclosed object") }
            if b[i] == UInt8(ascii: "}") { return (out, i) }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            let keyEnd = try skipString(b, i)
            let key = String(decoding: b[(i + 1)..<(keyEnd - 1)], as: UTF8.self)
            i = skipSpace(b, keyEnd)
            guard i < b.count, b[i] == UInt8(ascii: ":") else { throw bad("expected ':'") }
            let vStart = skipSpace(b, i + 1)
            let vEnd = try skipValue(b, vStart)
            out.append(Member(key: key, value: vStart..<vEnd))
            i = vEnd
        }
    }

    /// Byte ranges of the elements of the array whose `[` is at or after `start`.
    public static func elements(_ b: [UInt8], _ start: Int) throws -> [Range<Int>] {
        var i = skipSpace(b, start)
        guard i < b.count, b[i] == UInt8(ascii: "[") else { throw bad("expected an array") }
        i += 1
        var out: [Range<Int>] = []
        while true {
            i = skipSpace(b, i)
            guard i < b.count else { throw bad("unclosed array") }
            if b[i] == UInt8(ascii: "]") { return out }
            if b[i] == UInt8(ascii: ",") { i += 1; continue }
            let e = try skipValue(b, i)
            out.append(i..<e)
            i = e
        }
    }

    private static func skipSpace(_ b: [UInt8], _ i: Int) -> Int {
        var i = i
        while i < b.count, " \t\r\n".utf8.contains(b[i]) { i += 1 }
        return i
    }

    private static func skipString(_ b: [UInt8], _ i: Int) throws -> Int {
        guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw bad("expected a string") }
        var i = i + 1
        while i < b.count {
            if b[i] == UInt8(ascii: "\\") { i += 2; continue }
            if b[i] == UInt8(ascii: "\"") { return i + 1 }
            i += 1
        }
        throw bad("unclosed string")
    }

    private static func bad(_ what: String) -> FluxError { FluxError(.badJSON, "malformed JSON: \(what)") }
}
