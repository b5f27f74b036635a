import Foundation

extension JSONValue {
    /// A JSON object read field by field: typed getters whose errors name the source (a file, or
    /// "request") and the field. Null counts as absent. Used for config.json files of every kind
    /// and for protocol requests.
    public struct Fields: Sendable {
        public let source: String
        public let members: [String: JSONValue]

        /// `value` must be an object.
        public init(_ value: JSONValue, source: String, code: FluxError.Code = .fileInvalid) throws {
            guard case .object(let pairs) = value else {
                throw FluxError(code, "\(source): expected a JSON object at the top level")
            }
            self.init(pairs, source: source)
        }

        init(_ pairs: [(String, JSONValue)], source: String) {
            members = Dictionary(pairs, uniquingKeysWith: { _, last in last })
            self.source = source
        }

        public init(contentsOf path: String) throws {
            try self.init(JSONValue.read(path, code: .fileInvalid), source: path)
        }

        public init(data: Data, source: String) throws {
            try self.init(JSONValue.parse(data, source: source, code: .fileInvalid), source: source)
        }

        /// The field's value; nil when absent or null.
        public subscript(_ key: String) -> JSONValue? {
            if let v = members[key], case .null = v { return nil }
            return members[key]
        }

        public func has(_ key: String) -> Bool { self[key] != nil }

        private func missing(_ key: String) -> FluxError { FluxError(.modelInvalid, "\(source): missing field '\(key)'") }

        /// The field read by `read`; nil when absent or null; a type error naming `expected` otherwise.
        private func typed<T>(_ key: String, _ expected: String, _ read: (JSONValue) -> T?) throws -> T? {
            guard let v = self[key] else { return nil }
            guard let t = read(v) else { throw FluxError(.modelInvalid, "\(source): field '\(key)' must be \(expected)") }
            return t
        }

        public func optionalInt(_ key: String) throws -> Int? {
            try typed(key, "an integer") {
                if case .int(let i) = $0 { return i }
                if case .double(let d) = $0, d == d.rounded(), abs(d) < 9e15 { return Int(d) }
                return nil
            }
        }

        public func optionalDouble(_ key: String) throws -> Double? {
            try typed(key, "a number") {
                if case .int(let i) = $0 { return Double(i) }
                if case .double(let d) = $0 { return d }
                return nil
            }
        }

        public func optionalBool(_ key: String) throws -> Bool? {
            try typed(key, "true or false") { if case .bool(let b) = $0 { b } else { nil } }
        }

        public func optionalString(_ key: String) throws -> String? {
            try typed(key, "a string") { if case .string(let s) = $0 { s } else { nil } }
        }

        public func optionalArray(_ key: String) throws -> [JSONValue]? {
            try typed(key, "an array") { if case .array(let a) = $0 { a } else { nil } }
        }

        /// A nested object; its errors name "source (key)".
        public func optionalObject(_ key: String) throws -> Fields? {
            try typed(key, "an object") { if case .object(let o) = $0 { Fields(o, source: "\(source) (\(key))") } else { nil } }
        }

        public func int(_ key: String) throws -> Int {
            guard let v = try optionalInt(key) else { throw missing(key) }
            return v
        }

        public func double(_ key: String) throws -> Double {
            guard let v = try optionalDouble(key) else { throw missing(key) }
            return v
        }

        /// An array of integers; errors name the field, or the entry that is not an integer.
        public func ints(_ key: String) throws -> [Int] {
            guard let items = try optionalArray(key) else { throw missing(key) }
            return try items.enumerated().map { i, x in
                guard case .int(let n) = x else { throw FluxError(.modelInvalid, "\(source): \(key)[\(i)] holds \(x.encoded), not an integer") }
                return n
            }
        }

        public func int(_ key: String, default d: Int) throws -> Int { try optionalInt(key) ?? d }
        public func double(_ key: String, default d: Double) throws -> Double { try optionalDouble(key) ?? d }
        public func bool(_ key: String, default d: Bool) throws -> Bool { try optionalBool(key) ?? d }
        public func string(_ key: String, default d: String) throws -> String { try optionalString(key) ?? d }
    }
}
