/// The element types a GGUF tensor can hold (ggml's type ids) and their block layout: `blockSize`
/// elements are stored in `blockBytes` bytes. Types are listed so that any well-formed file's
/// tensor table can be checked; which of them the model can run is FluxLM's business.
public enum GGMLType: UInt32, Sendable, CaseIterable {
    case f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9
    case q2_K = 10, q3_K = 11, q4_K = 12, q5_K = 13, q6_K = 14, q8_K = 15
    case i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28, bf16 = 30

    /// Elements per block (1 for plain types).
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16, .i8, .i16, .i32, .i64, .f64: return 1
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q8_1: return 32
        case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .q8_K: return 256
        }
    }

    /// Bytes per block.
    public var blockBytes: Int {
        switch self {
        case .f32, .i32: return 4
        case .f16, .bf16, .i16: return 2
        case .i8: return 1
        case .i64, .f64: return 8
        case .q4_0: return 18       // f16 scale + 32 nibbles
        case .q4_1: return 20       // f16 scale, f16 min + 32 nibbles
        case .q5_0: return 22
        case .q5_1: return 24
        case .q8_0: return 34       // f16 scale + 32 int8
        case .q8_1: return 36
        case .q2_K: return 84
        case .q3_K: return 110
        case .q4_K: return 144      // f16 d, f16 dmin, 12 bytes of 6-bit scales/mins, 128 nibble bytes
        case .q5_K: return 176
        case .q6_K: return 210      // 128 low-nibble bytes, 64 high-bit bytes, 16 int8 scales, f16 d
        case .q8_K: return 292
        }
    }

    /// The name llama.cpp prints (F32, Q4_K, ...).
    public var name: String { "\(self)".uppercased() }

    /// Bytes of `count` elements, nil when `count` is not a whole number of blocks or overflows.
    public func byteCount(elements count: Int) -> Int? {
        guard count >= 0, count % blockSize == 0 else { return nil }
        let (b, o) = (count / blockSize).multipliedReportingOverflow(by: blockBytes)
        return o ? nil : b
    }
}

/// The value types of GGUF metadata.
public enum GGUFValueType: UInt32, Sendable {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7
    case string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12
}

/// One metadata value. Arrays hold one element type (nested arrays are allowed by the format).
public indirect enum GGUFValue: Sendable, Equatable {
    case uint(UInt64, GGUFValueType)
    case int(Int64, GGUFValueType)
    case float(Double, GGUFValueType)
    case bool(Bool)
    case string(String)
    case array(GGUFArray)

    public var typeName: String {
        switch self {
        case .uint(_, let t), .int(_, let t), .float(_, let t): return "\(t)"
        case .bool: return "bool"
        case .string: return "string"
        case .array(let a): return "array of \(a.elementTypeName)"
        }
    }
}

/// A metadata array, stored by element kind so that a 50,000-entry vocabulary is one Swift array.
public indirect enum GGUFArray: Sendable, Equatable {
    case uints([UInt64], GGUFValueType)
    case ints([Int64], GGUFValueType)
    case floats([Double], GGUFValueType)
    case bools([Bool])
    case strings([String])
    case arrays([GGUFArray])

    public var count: Int {
        switch self {
        case .uints(let a, _): return a.count
        case .ints(let a, _): return a.count
        case .floats(let a, _): return a.count
        case .bools(let a): return a.count
        case .strings(let a): return a.count
        case .arrays(let a): return a.count
        }
    }

    public var elementTypeName: String {
        switch self {
        case .uints(_, let t), .ints(_, let t), .floats(_, let t): return "\(t)"
        case .bools: return "bool"
        case .strings: return "string"
        case .arrays: return "array"
        }
    }
}

/// The key-value metadata of a GGUF file with typed accessors. Each accessor throws
/// `file_invalid` naming the file and key when the key is missing (non-optional forms) or holds
/// another type; integer accessors accept any integer type whose value fits.
public struct GGUFMetadata: Sendable {
    public let path: String
    /// Keys in file order.
    public let keys: [String]
    public let values: [String: GGUFValue]

    public init(path: String, keys: [String], values: [String: GGUFValue]) {
        self.path = path
        self.keys = keys
        self.values = values
    }

    public subscript(key: String) -> GGUFValue? { values[key] }
    public func has(_ key: String) -> Bool { values[key] != nil }

    private func wrongType(_ key: String, _ want: String, _ got: GGUFValue) -> FluxError {
        FluxError(.fileInvalid, "\(path): metadata '\(key)' is \(got.typeName), expected \(want)")
    }

    private func required<T>(_ key: String, _ get: (String) throws -> T?) throws -> T {
        guard let v = try get(key) else { throw FluxError(.fileInvalid, "\(path): metadata '\(key)' is missing") }
        return v
    }

    public func optionalString(_ key: String) throws -> String? {
        guard let v = values[key] else { return nil }
        guard case .string(let s) = v else { throw wrongType(key, "string", v) }
        return s
    }

    public func string(_ key: String) throws -> String { try required(key, optionalString) }

    public func optionalInt(_ key: String) throws -> Int? {
        guard let v = values[key] else { return nil }
        switch v {
        case .uint(let u, _):
            guard let i = Int(exactly: u) else { throw FluxError(.fileInvalid, "\(path): metadata '\(key)' = \(u) is out of range") }
            return i
        case .int(let i, _):
            guard let r = Int(exactly: i) else { throw FluxError(.fileInvalid, "\(path): metadata '\(key)' = \(i) is out of range") }
            return r
        default:
            throw wrongType(key, "an integer", v)
        }
    }

    public func int(_ key: String) throws -> Int { try required(key, optionalInt) }

    /// Non-negative integers as UInt64 (e.g. token ids, sizes).
    public func optionalUInt(_ key: String) throws -> UInt64? {
        guard let v = values[key] else { return nil }
        switch v {
        case .uint(let u, _): return u
        case .int(let i, _) where i >= 0: return UInt64(i)
        case .int(let i, _): throw FluxError(.fileInvalid, "\(path): metadata '\(key)' = \(i) must not be negative")
        default: throw wrongType(key, "an unsigned integer", v)
        }
    }

    public func uint(_ key: String) throws -> UInt64 { try required(key, optionalUInt) }

    /// Floating-point values; integers are accepted too (some writers store e.g. rope bases as ints).
    public func optionalFloat(_ key: String) throws -> Double? {
        guard let v = values[key] else { return nil }
        switch v {
        case .float(let d, _): return d
        case .uint(let u, _): return Double(u)
        case .int(let i, _): return Double(i)
        default: throw wrongType(key, "a number", v)
        }
    }

    public func float(_ key: String) throws -> Double { try required(key, optionalFloat) }

    public func optionalBool(_ key: String) throws -> Bool? {
        guard let v = values[key] else { return nil }
        guard case .bool(let b) = v else { throw wrongType(key, "bool", v) }
        return b
    }

    public func bool(_ key: String) throws -> Bool { try required(key, optionalBool) }

    public func optionalStrings(_ key: String) throws -> [String]? {
        guard let v = values[key] else { return nil }
        guard case .array(.strings(let a)) = v else { throw wrongType(key, "array of string", v) }
        return a
    }

    public func strings(_ key: String) throws -> [String] { try required(key, optionalStrings) }

    /// Integer arrays of any integer element type, as Int (token types, ids).
    public func optionalInts(_ key: String) throws -> [Int]? {
        guard let v = values[key] else { return nil }
        switch v {
        case .array(.ints(let a, _)):
            return try a.map { x in
                guard let i = Int(exactly: x) else { throw FluxError(.fileInvalid, "\(path): metadata '\(key)' holds \(x), out of range") }
                return i
            }
        case .array(.uints(let a, _)):
            return try a.map { x in
                guard let i = Int(exactly: x) else { throw FluxError(.fileInvalid, "\(path): metadata '\(key)' holds \(x), out of range") }
                return i
            }
        case .array(let arr) where arr.count == 0:
            return []
        default:
            throw wrongType(key, "array of integers", v)
        }
    }

    public func ints(_ key: String) throws -> [Int] { try required(key, optionalInts) }

    /// Float arrays (token scores); integer arrays are widened.
    public func optionalFloats(_ key: String) throws -> [Float]? {
        guard let v = values[key] else { return nil }
        switch v {
        case .array(.floats(let a, _)): return a.map { Float($0) }
        case .array(.ints(let a, _)): return a.map { Float($0) }
        case .array(.uints(let a, _)): return a.map { Float($0) }
        case .array(let arr) where arr.count == 0: return []
        default: throw wrongType(key, "array of numbers", v)
        }
    }

    public func floats(_ key: String) throws -> [Float] { try required(key, optionalFloats) }
}
