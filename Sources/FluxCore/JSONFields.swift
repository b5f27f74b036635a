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

        private func wrongType(_ key: String, _ expected: String) -> FluxError {
            FluxError(.modelInvalid, "\(source): field '\(key)' must be \(expected)")
        }

        private func missing(_ key: String) -> FluxError { FluxError(.modelInvalid, "\(source): missing field '\(key)'") }

        public func optionalInt(_ key: String) throws -> Int? {
            switch self[key] {
            case nil: return nil
            case .int(let i)?: return i
            case .double(let d)? where d == d.rounded() && abs(d) < 9e15: return Int(d)
            default: throw wrongType(key, "an integer")
            }
        }

        public func int(_ key: String) throws -> Int {
            guard let v = try optionalInt(key) else { throw missing(key) }
            return v
        }

        public func int(_ key: String, default d: Int) throws -> Int { try optionalInt(key) ?? d }

        public func optionalDouble(_ key: String) throws -> Double? {
            switch self[key] {
            case nil: return nil
            case .int(let i)?: return Double(i)
            case .double(let d)?: return d
            default: throw wrongType(key, "a number")
            }
        }

        public func double(_ key: String) throws -> Double {
            guard let v = try optionalDouble(key) else { throw missing(key) }
            return v
        }

        public func double(_ key: String, default d: Double) throws -> Double { try optionalDouble(key) ?? d }

        public func optionalBool(_ key: String) throws -> Bool? {
            switch self[key] {
            case nil: return nil
            case .bool(let b)?: return b
            default: throw wrongType(key, "true or false")
            }
        }

        public func bool(_ key: String, default d: Bool) throws -> Bool { try optionalBool(key) ?? d }

        public func optionalString(_ key: String) throws -> String? {
            switch self[key] {
            case nil: return nil
            case .string(let s)?: return s
            default: throw wrongType(key, "a string")
            }
        }

        public func string(_ key: String, default d: String) throws -> String { try optionalString(key) ?? d }

        /// A nested object; its errors name "source (key)".
        public func optionalObject(_ key: String) throws -> Fields? {
            switch self[key] {
            case nil: return nil
            case .object(let pairs)?: return Fields(pairs, source: "\(source) (\(key))")
            default: throw wrongType(key, "an object")
            }
        }

        public func optionalArray(_ key: String) throws -> [JSONValue]? {
            switch self[key] {
            case nil: return nil
            case .array(let a)?: return a
            default: throw wrongType(key, "an array")
            }
        }
    }
}
