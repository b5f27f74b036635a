import Foundation

/// A parsed JSON object with typed getters whose errors name the source file and the field
/// (used for config.json files of every kind).
public struct JSONObject: @unchecked Sendable {
    public let source: String
    public let dict: [String: Any]

    public init(dict: [String: Any], source: String) {
        self.dict = dict
        self.source = source
    }

    public init(contentsOf path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw FluxError(.fileNotFound, "\(path): no such file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw FluxError(.ioError, "\(path): cannot read")
        }
        try self.init(data: data, source: path)
    }

    public init(data: Data, source: String) throws {
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw FluxError(.fileInvalid, "\(source): not valid JSON (\(error.localizedDescription))")
        }
        guard let d = value as? [String: Any] else {
            throw FluxError(.fileInvalid, "\(source): expected a JSON object at the top level")
        }
        self.init(dict: d, source: source)
    }

    /// JSONSerialization gives booleans as NSNumber with the C type "c" (on Linux and Darwin).
    public static func isBool(_ n: NSNumber) -> Bool { String(cString: n.objCType) == "c" }

    public func has(_ key: String) -> Bool { dict[key] != nil && !(dict[key] is NSNull) }

    private func wrongType(_ key: String, _ expected: String) -> FluxError {
        FluxError(.modelInvalid, "\(source): field '\(key)' must be \(expected)")
    }

    public func optionalInt(_ key: String) throws -> Int? {
        guard has(key), let v = dict[key] else { return nil }
        if let n = v as? NSNumber, !Self.isBool(n) {
            let d = n.doubleValue
            if d == d.rounded(), abs(d) < 9e15 { return Int(d) }
        }
        throw wrongType(key, "an integer")
    }

    public func int(_ key: String) throws -> Int {
        guard let v = try optionalInt(key) else { throw FluxError(.modelInvalid, "\(source): missing field '\(key)'") }
        return v
    }

    public func int(_ key: String, default d: Int) throws -> Int { try optionalInt(key) ?? d }

    public func optionalDouble(_ key: String) throws -> Double? {
        guard has(key), let v = dict[key] else { return nil }
        if let n = v as? NSNumber, !Self.isBool(n) { return n.doubleValue }
        throw wrongType(key, "a number")
    }

    public func double(_ key: String) throws -> Double {
        guard let v = try optionalDouble(key) else { throw FluxError(.modelInvalid, "\(source): missing field '\(key)'") }
        return v
    }

    public func double(_ key: String, default d: Double) throws -> Double { try optionalDouble(key) ?? d }

    public func optionalBool(_ key: String) throws -> Bool? {
        guard has(key), let v = dict[key] else { return nil }
        if let n = v as? NSNumber, Self.isBool(n) { return n.boolValue }
        throw wrongType(key, "true or false")
    }

    public func bool(_ key: String, default d: Bool) throws -> Bool { try optionalBool(key) ?? d }

    public func optionalString(_ key: String) throws -> String? {
        guard has(key), let v = dict[key] else { return nil }
        if let s = v as? String { return s }
        throw wrongType(key, "a string")
    }

    public func string(_ key: String, default d: String) throws -> String { try optionalString(key) ?? d }

    public func optionalObject(_ key: String) throws -> JSONObject? {
        guard has(key), let v = dict[key] else { return nil }
        if let d = v as? [String: Any] { return JSONObject(dict: d, source: "\(source) (\(key))") }
        throw wrongType(key, "an object")
    }

    public func optionalArray(_ key: String) throws -> [Any]? {
        guard has(key), let v = dict[key] else { return nil }
        if let a = v as? [Any] { return a }
        throw wrongType(key, "an array")
    }
}
