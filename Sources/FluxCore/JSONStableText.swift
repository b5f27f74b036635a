import Foundation

/// How a value is spelled: the protocol's line (`stable: false`) or the stable form files use.
struct JSONTextStyle {
    /// Sorted keys and JSONSerialization's spelling of numbers and escapes, so files written
    /// before this encoder existed (eval records, settings.json compared on resume) match byte
    /// for byte.
    var stable: Bool
    /// Two-space indent and `"key" : value`, JSONSerialization's pretty layout.
    var pretty: Bool
    /// `/` written as `\/` (JSONSerialization's default, kept for the files that used it).
    var escapeSlashes: Bool
}

extension JSONValue {
    /// The stable form: keys sorted as Foundation sorts them (numeric, case-insensitive: "256"
    /// before "1024", "b9" before "b10"), numbers and escapes as JSONSerialization writes them.
    /// Two runs that did the same work write the same bytes. No trailing newline.
    public func stable(pretty: Bool = false, escapingSlashes: Bool = false) -> String {
        var out = ""
        write(to: &out, JSONTextStyle(stable: true, pretty: pretty, escapeSlashes: escapingSlashes), indent: "")
        return out
    }

    /// Writes the pretty stable form (with a trailing newline) to `path` atomically.
    public func write(to path: String) throws {
        try Self.writeAtomically(Data((stable(pretty: true) + "\n").utf8), to: path)
    }

    /// Writes `data` to a uniquely named temporary file beside `path`, then renames it over
    /// `path`, so a kill never leaves half a file and concurrent writers (shards) never collide.
    public static func writeAtomically(_ data: Data, to path: String) throws {
        let tmp = "\(path).tmp-\(getpid())-\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: tmp, contents: data) else {
            throw FluxError(.ioError, "\(tmp): cannot write")
        }
        guard rename(tmp, path) == 0 else {
            _ = try? FileManager.default.removeItem(atPath: tmp)
            throw FluxError(.ioError, "\(path): cannot write")
        }
    }

    /// `v` rounded to 2 decimals (accuracies, milliseconds in records).
    public static func round2(_ v: Double) -> Double { (v * 100).rounded() / 100 }

    func write(to out: inout String, _ style: JSONTextStyle, indent: String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): out += style.stable ? Self.stableNumber(d) : Self.lineNumber(d)
        case .string(let s): Self.quote(s, style, into: &out)
        case .array(let a):
            Self.container("[", "]", a.map { (nil, $0) }, style, indent, into: &out)
        case .object(let o):
            let members = style.stable ? o.sorted { Self.keyOrder($0.0, $1.0) } : o
            Self.container("{", "}", members.map { ($0.0, $0.1) }, style, indent, into: &out)
        }
    }

    private static func container(_ open: String, _ close: String, _ items: [(String?, JSONValue)], _ style: JSONTextStyle,
                                  _ indent: String, into out: inout String) {
        out += open
        let inner = indent + "  "
        if style.pretty { out += "\n" }
        for (i, (key, value)) in items.enumerated() {
            if i > 0 { out += style.pretty ? ",\n" : "," }
            if style.pretty { out += inner }
            if let key {
                quote(key, style, into: &out)
                out += style.pretty ? " : " : ":"
            }
            value.write(to: &out, style, indent: inner)
        }
        if style.pretty { out += "\n" + indent }
        out += close
    }

    /// Foundation's sorted-keys order (ICU root collation, numeric, case-insensitive, ties broken).
    private static func keyOrder(_ a: String, _ b: String) -> Bool {
        a.compare(b, options: [.numeric, .caseInsensitive, .forcedOrdering], range: a.startIndex..<a.endIndex,
                  locale: Locale(identifier: "")) == .orderedAscending
    }

    private static func lineNumber(_ d: Double) -> String {
        if !d.isFinite { return "null" }
        return d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
    }

    /// Whole numbers up to 2^53 as integers ("-0" keeps its sign), the rest in Swift's shortest
    /// round-trip spelling ("0.1", "1e-05", "1e+16"), as JSONSerialization writes them.
    private static func stableNumber(_ d: Double) -> String {
        if !d.isFinite { return "null" }
        if d == d.rounded(), abs(d) <= 9_007_199_254_740_992 {
            return d == 0 && d.sign == .minus ? "-0" : String(Int64(d))
        }
        return d.description
    }

    private static func quote(_ s: String, _ style: JSONTextStyle, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "/" where style.escapeSlashes: out += "\\/"
            case "\u{8}" where style.stable: out += "\\b"
            case "\u{c}" where style.stable: out += "\\f"
            case "\u{2028}" where !style.stable, "\u{2029}" where !style.stable: out += String(format: "\\u%04x", u.value)
            case let c where c.value < 0x20: out += String(format: "\\u%04x", c.value)
            default: out.unicodeScalars.append(u)
            }
        }
        out += "\""
    }
}
