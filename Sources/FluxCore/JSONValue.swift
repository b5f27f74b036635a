import Foundation

/// The one JSON value type: protocol lines, config files, evaluation records and safetensors
/// headers are parsed into it and written from it. Objects keep their keys in the order given,
/// so protocol lines read the same every time (`id` first, then `event`, ...); `encoded` is the
/// protocol's one-line form and `stable(...)` the sorted form files use (JSONStableText.swift).
public indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool { a.encoded == b.encoded }

    /// Compact single-line JSON as the protocol writes it: keys in the order given, U+2028/2029
    /// escaped so a line is also a safe JavaScript string.
    public var encoded: String {
        var out = ""
        write(to: &out, JSONTextStyle(stable: false, pretty: false, escapeSlashes: false), indent: "")
        return out
    }

    /// A value parsed by JSONSerialization (numbers keep integer-ness; booleans stay booleans).
    /// Values JSON cannot hold become null; `init(checking:)` throws for them instead.
    public init(any v: Any) {
        self = (try? Self.convert(v, strict: false)) ?? .null
    }

    /// A Foundation value built by code (an evaluation record): throws `internal` for anything
    /// JSON cannot hold (a non-finite number, a type JSON has no form for).
    public init(checking v: Any) throws {
        self = try Self.convert(v, strict: true)
    }

    /// Foundation gives JSON booleans as NSNumber with the C type "c" (on Linux and Darwin).
    public static func isBool(_ n: NSNumber) -> Bool { String(cString: n.objCType) == "c" }

    private static func convert(_ v: Any, strict: Bool) throws -> JSONValue {
        switch v {
        case is NSNull: return .null
        case let s as String: return .string(s)
        case let n as NSNumber:
            if isBool(n) { return .bool(n.boolValue) }
            let kind = String(cString: n.objCType)
            // Integers stay exact past 2^53 (a 64-bit seed in settings.json reads back as written).
            if "qlis".contains(kind), let i = Int(exactly: n.int64Value) { return .int(i) }
            if "QLIS".contains(kind), let i = Int(exactly: n.uint64Value) { return .int(i) }
            let d = n.doubleValue
            if strict, !d.isFinite { throw FluxError(.internal, "a non-finite number (\(d)) reached a JSON record") }
            if d == d.rounded(), abs(d) < 9e15, !String(describing: n).contains(".") { return .int(Int(d)) }
            return .double(d)
        case let a as [Any]: return .array(try a.map { try convert($0, strict: strict) })
        case let o as [String: Any]:
            return .object(try o.sorted { $0.key < $1.key }.map { ($0.key, try convert($0.value, strict: strict)) })
        default:
            if strict { throw FluxError(.internal, "a value that JSON cannot hold (\(type(of: v))) reached a JSON record") }
            return .null
        }
    }

    /// Parses JSON text (any top-level value). Errors carry `code` and name `source`.
    public static func parse(_ data: Data, source: String, code: FluxError.Code = .badJSON) throws -> JSONValue {
        do {
            return JSONValue(any: try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]))
        } catch {
            throw FluxError(code, "\(source): not valid JSON (\(error.localizedDescription))")
        }
    }

    /// Reads and parses the JSON file at `path` (`file_not_found` when it cannot be read).
    public static func read(_ path: String, code: FluxError.Code = .badJSON) throws -> JSONValue {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FluxError(.fileNotFound, "\(path): no such file")
        }
        return try parse(data, source: path, code: code)
    }

    /// The object `data` holds, as a Foundation dictionary; nil when `data` is not a JSON object.
    public static func foundationObject(_ data: Data) -> [String: Any]? {
        (try? parse(data, source: "")).map(\.foundationValue) as? [String: Any]
    }

    /// The value as Foundation objects (NSNull, NSNumber, String, [Any], [String: Any]), for
    /// code that reads records field by field as dictionaries (evaluation, safetensors headers).
    public var foundationValue: Any {
        switch self {
        case .null: return NSNull()
        case .bool(let b): return NSNumber(value: b)
        case .int(let i): return NSNumber(value: i)
        case .double(let d): return NSNumber(value: d)
        case .string(let s): return s
        case .array(let a): return a.map(\.foundationValue)
        case .object(let o): return Dictionary(o.map { ($0.0, $0.1.foundationValue) }, uniquingKeysWith: { _, last in last })
        }
    }
}
