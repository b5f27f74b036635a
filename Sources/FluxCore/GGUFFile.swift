import Foundation

/// One tensor of a GGUF file's table.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    public let type: GGMLType
    /// Dimensions as GGUF stores them: dims[0] is the innermost (contiguous) one.
    public let dims: [Int]
    /// Byte range inside the mapped file.
    public let byteRange: Range<Int>

    /// Row-major shape (numpy order): a [rows, cols] matrix has dims [cols, rows].
    public var shape: [Int] { dims.reversed() }
    public var count: Int { dims.reduce(1, *) }
}

/// A GGUF file (llama.cpp's model format, versions 2 and 3) mapped read-only into memory: the
/// header, the key-value metadata, the tensor table and the aligned data section. Nothing is
/// converted at load; `bytes(of:)` points into the mapping (valid while this object lives).
/// Every structural fault is `file_invalid` naming the field: counts are checked against the
/// bytes left, so a corrupt length never allocates more than the file could hold.
public final class GGUFFile: @unchecked Sendable {
    public let path: String
    public let version: UInt32
    public let metadata: GGUFMetadata
    /// Tensors in file order.
    public let tensors: [GGUFTensorInfo]
    public let alignment: Int
    /// Offset of the data section in the file.
    public let dataOffset: Int
    private let byName: [String: Int]
    private let base: UnsafeMutableRawPointer
    public let fileSize: Int

    /// Arrays nested deeper than this are refused (the format allows nesting; no writer uses more than 1).
    static let maxArrayDepth = 4
    /// ggml tensors have at most 4 dimensions.
    static let maxDims = 4

    public init(path: String) throws {
        self.path = path
        let (m, size) = try MappedFile.map(path, minBytes: 24, what: "a GGUF header")
        base = m
        fileSize = size
        do {
            var c = Cursor(base: UnsafeRawPointer(m), size: size, path: path)
            let magic = try c.u32("magic")
            guard magic == 0x4655_4747 else { // "GGUF" little-endian
                throw FluxError(.fileInvalid, "\(path): magic is not GGUF")
            }
            let v = try c.u32("version")
            guard v == 2 || v == 3 else {
                let hint = v.byteSwapped == 2 || v.byteSwapped == 3 ? " (a big-endian file)" : ""
                throw FluxError(.fileInvalid, "\(path): version \(v)\(hint) is not supported (2 and 3 are)")
            }
            version = v
            let tensorCount = try c.count("tensor_count", minBytesEach: 24)
            let kvCount = try c.count("metadata_kv_count", minBytesEach: 12)

            var keys: [String] = [], values: [String: GGUFValue] = [:]
            keys.reserveCapacity(kvCount)
            for i in 0..<kvCount {
                let key = try c.string("metadata key \(i)")
                guard values[key] == nil else { throw FluxError(.fileInvalid, "\(path): metadata key '\(key)' appears twice") }
                let type = try c.valueType("metadata '\(key)' type")
                values[key] = try c.value(type, field: "metadata '\(key)'", depth: 0)
                keys.append(key)
            }
            metadata = GGUFMetadata(path: path, keys: keys, values: values)

            var align = 32
            if let a = values["general.alignment"] {
                guard case .uint(let u, .uint32) = a, u > 0, u <= 1 << 20, u & (u - 1) == 0 else {
                    throw FluxError(.fileInvalid, "\(path): metadata 'general.alignment' must be a uint32 power of two up to 2^20")
                }
                align = Int(u)
            }
            alignment = align

            var infos: [GGUFTensorInfo] = [], index: [String: Int] = [:], offsets: [Int] = []
            infos.reserveCapacity(tensorCount)
            for i in 0..<tensorCount {
                let name = try c.string("tensor \(i) name")
                guard index[name] == nil else { throw FluxError(.fileInvalid, "\(path): tensor '\(name)' appears twice") }
                let nd = Int(try c.u32("tensor '\(name)' n_dims"))
                guard nd >= 1, nd <= Self.maxDims else {
                    throw FluxError(.fileInvalid, "\(path): tensor '\(name)' n_dims \(nd) is not in 1...\(Self.maxDims)")
                }
                var dims: [Int] = [], count = 1
                for d in 0..<nd {
                    let n = try c.u64("tensor '\(name)' dim \(d)")
                    guard n >= 1, n < 1 << 40 else { throw FluxError(.fileInvalid, "\(path): tensor '\(name)' dim \(d) = \(n) is out of range") }
                    let (p, o) = count.multipliedReportingOverflow(by: Int(n))
                    guard !o, p < 1 << 42 else { throw FluxError(.fileInvalid, "\(path): tensor '\(name)' element count overflows") }
                    count = p
                    dims.append(Int(n))
                }
                let rawType = try c.u32("tensor '\(name)' type")
                guard let type = GGMLType(rawValue: rawType) else {
                    throw FluxError(.fileInvalid, "\(path): tensor '\(name)' has unknown type id \(rawType)")
                }
                guard dims[0] % type.blockSize == 0 else {
                    throw FluxError(.fileInvalid, "\(path): tensor '\(name)' dim 0 = \(dims[0]) is not a multiple of \(type.name)'s block of \(type.blockSize)")
                }
                let off = try c.u64("tensor '\(name)' offset")
                guard off < UInt64(size), Int(off) % align == 0 else {
                    throw FluxError(.fileInvalid, "\(path): tensor '\(name)' offset \(off) is past the file or not a multiple of the alignment \(align)")
                }
                index[name] = i
                offsets.append(Int(off))
                // byteRange is filled once the data section's start is known.
                infos.append(GGUFTensorInfo(name: name, type: type, dims: dims, byteRange: 0..<(type.byteCount(elements: count) ?? 0)))
            }
            let (start, o) = c.offset.addingReportingOverflow((align - c.offset % align) % align)
            guard !o, start <= size else { throw FluxError(.fileInvalid, "\(path): the data section starts past the end of the file") }
            dataOffset = start
            tensors = try zip(infos, offsets).map { info, off in
                let bytes = info.byteRange.count
                guard off <= size - start, bytes <= size - start - off else {
                    throw FluxError(.fileInvalid, "\(path): tensor '\(info.name)' (\(bytes) bytes at data offset \(off)) runs past the end of the \(size)-byte file")
                }
                return GGUFTensorInfo(name: info.name, type: info.type, dims: info.dims, byteRange: (start + off)..<(start + off + bytes))
            }
            byName = index
        } catch {
            munmap(m, size)
            throw error
        }
    }

    deinit { munmap(base, fileSize) }

    public func info(_ name: String) -> GGUFTensorInfo? { byName[name].map { tensors[$0] } }

    /// The stored bytes of a tensor (inside the mapping; valid while this object lives).
    public func bytes(of info: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        return UnsafeRawBufferPointer(start: UnsafeRawPointer(base) + info.byteRange.lowerBound, count: info.byteRange.count)
    }

    /// The architecture (`general.architecture`), e.g. "llama".
    public var architecture: String { get throws { try metadata.string("general.architecture") } }
}

/// Reads little-endian fields with every read bounds-checked against the file.
private struct Cursor {
    let base: UnsafeRawPointer
    let size: Int
    let path: String
    var offset = 0

    init(base: UnsafeRawPointer, size: Int, path: String) {
        self.base = base
        self.size = size
        self.path = path
    }

    var remaining: Int { size - offset }

    mutating func need(_ n: Int, _ field: @autoclosure () -> String) throws {
        guard n >= 0, n <= remaining else {
            throw FluxError(.fileInvalid, "\(path): \(field()) is truncated (needs \(n) bytes at offset \(offset), \(remaining) left)")
        }
    }

    mutating func load<T: FixedWidthInteger>(_: T.Type, _ field: @autoclosure () -> String) throws -> T {
        try need(MemoryLayout<T>.size, field())
        defer { offset += MemoryLayout<T>.size }
        return T(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    mutating func u32(_ field: String) throws -> UInt32 { try load(UInt32.self, field) }
    mutating func u64(_ field: String) throws -> UInt64 { try load(UInt64.self, field) }

    /// A count of items that each take at least `minBytesEach` bytes: larger than the rest of the
    /// file could hold means the file is corrupt (and must not size an allocation).
    mutating func count(_ field: String, minBytesEach: Int) throws -> Int {
        let n = try u64(field)
        guard n <= UInt64(remaining / max(1, minBytesEach)) else {
            throw FluxError(.fileInvalid, "\(path): \(field) \(n) is more than the \(remaining) bytes left can hold")
        }
        return Int(n)
    }

    mutating func string(_ field: @autoclosure () -> String) throws -> String {
        let n = try load(UInt64.self, "\(field()) length")
        guard n <= UInt64(remaining) else {
            throw FluxError(.fileInvalid, "\(path): \(field()) length \(n) runs past the end of the file")
        }
        let s = String(decoding: UnsafeRawBufferPointer(start: base + offset, count: Int(n)), as: UTF8.self)
        offset += Int(n)
        return s
    }

    mutating func valueType(_ field: String) throws -> GGUFValueType {
        let raw = try u32(field)
        guard let t = GGUFValueType(rawValue: raw) else { throw FluxError(.fileInvalid, "\(path): \(field) \(raw) is not a GGUF value type") }
        return t
    }

    mutating func value(_ type: GGUFValueType, field: String, depth: Int) throws -> GGUFValue {
        switch type {
        case .uint8: return .uint(UInt64(try load(UInt8.self, field)), type)
        case .uint16: return .uint(UInt64(try load(UInt16.self, field)), type)
        case .uint32: return .uint(UInt64(try load(UInt32.self, field)), type)
        case .uint64: return .uint(try load(UInt64.self, field), type)
        case .int8: return .int(Int64(try load(Int8.self, field)), type)
        case .int16: return .int(Int64(try load(Int16.self, field)), type)
        case .int32: return .int(Int64(try load(Int32.self, field)), type)
        case .int64: return .int(try load(Int64.self, field), type)
        case .float32: return .float(Double(Float(bitPattern: try load(UInt32.self, field))), type)
        case .float64: return .float(Double(bitPattern: try load(UInt64.self, field)), type)
        case .bool:
            let b = try load(UInt8.self, field)
            guard b <= 1 else { throw FluxError(.fileInvalid, "\(path): \(field) bool byte is \(b)") }
            return .bool(b == 1)
        case .string: return .string(try string(field))
        case .array: return .array(try array(field: field, depth: depth + 1))
        }
    }

    private static func minBytes(_ t: GGUFValueType) -> Int {
        switch t {
        case .uint8, .int8, .bool: return 1
        case .uint16, .int16: return 2
        case .uint32, .int32, .float32: return 4
        case .uint64, .int64, .float64, .string: return 8
        case .array: return 12
        }
    }

    mutating func array(field: String, depth: Int) throws -> GGUFArray {
        guard depth <= GGUFFile.maxArrayDepth else {
            throw FluxError(.fileInvalid, "\(path): \(field) nests arrays deeper than \(GGUFFile.maxArrayDepth)")
        }
        let t = try valueType("\(field) element type")
        let n = try count("\(field) element count", minBytesEach: Self.minBytes(t))
        switch t {
        case .uint8, .uint16, .uint32, .uint64:
            var a: [UInt64] = []
            a.reserveCapacity(n)
            for _ in 0..<n { if case .uint(let u, _) = try value(t, field: field, depth: depth) { a.append(u) } }
            return .uints(a, t)
        case .int8, .int16, .int32, .int64:
            var a: [Int64] = []
            a.reserveCapacity(n)
            for _ in 0..<n { if case .int(let i, _) = try value(t, field: field, depth: depth) { a.append(i) } }
            return .ints(a, t)
        case .float32, .float64:
            var a: [Double] = []
            a.reserveCapacity(n)
            for _ in 0..<n { if case .float(let f, _) = try value(t, field: field, depth: depth) { a.append(f) } }
            return .floats(a, t)
        case .bool:
            var a: [Bool] = []
            a.reserveCapacity(n)
            for _ in 0..<n { if case .bool(let b) = try value(t, field: field, depth: depth) { a.append(b) } }
            return .bools(a)
        case .string:
            var a: [String] = []
            a.reserveCapacity(n)
            for i in 0..<n { a.append(try string("\(field)[\(i)]")) }
            return .strings(a)
        case .array:
            var a: [GGUFArray] = []
            for i in 0..<n { a.append(try array(field: "\(field)[\(i)]", depth: depth + 1)) }
            return .arrays(a)
        }
    }
}
