import Foundation

/// Element types of the safetensors format that we read.
public enum DType: String, Sendable, CaseIterable {
    case f32 = "F32", f16 = "F16", bf16 = "BF16", i8 = "I8", i32 = "I32", i64 = "I64"

    public var byteSize: Int {
        switch self {
        case .i8: return 1
        case .f16, .bf16: return 2
        case .f32, .i32: return 4
        case .i64: return 8
        }
    }
}

public struct TensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    /// Byte range inside the data section (after the header).
    public let dataRange: Range<Int>
    public var count: Int { shape.reduce(1, *) }
}

/// A safetensors file mapped read-only into memory. Tensors are converted to Float32 on request;
/// `rawBytes` gives direct access (valid while this object lives) for 16-bit weight kernels.
public final class SafeTensorsFile: @unchecked Sendable {
    public let path: String
    public let tensors: [String: TensorInfo]
    public let metadata: [String: String]
    private let base: UnsafeMutableRawPointer
    private let mappedSize: Int
    private let dataStart: Int

    /// Upper bound on the JSON header (the format's own reference loader uses 100 MB).
    public static let maxHeaderBytes = 100_000_000

    public init(path: String) throws {
        self.path = path
        let (m, size) = try MappedFile.map(path, minBytes: 8, what: "a safetensors header")
        base = m
        mappedSize = size
        do {
            let headerLen = UInt64(littleEndian: m.loadUnaligned(as: UInt64.self))
            guard headerLen <= UInt64(min(size - 8, Self.maxHeaderBytes)) else {
                throw FluxError(.fileInvalid, "\(path): header length \(headerLen) runs past the end of the \(size)-byte file")
            }
            dataStart = 8 + Int(headerLen)
            let headerData = Data(bytes: m + 8, count: Int(headerLen))
            (tensors, metadata) = try Self.parseHeader(headerData, dataSize: size - dataStart, path: path)
        } catch {
            munmap(m, size)
            throw error
        }
    }

    deinit { munmap(base, mappedSize) }

    private static func parseHeader(_ data: Data, dataSize: Int, path: String) throws -> ([String: TensorInfo], [String: String]) {
        let obj: Any
        do { obj = try JSONValue.parse(data, source: path).foundationValue } catch {
            throw FluxError(.fileInvalid, "\(path): header is not valid JSON")
        }
        guard let dict = obj as? [String: Any] else { throw FluxError(.fileInvalid, "\(path): header is not a JSON object") }
        var infos: [String: TensorInfo] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in dict {
            if name == "__metadata__" {
                if let md = value as? [String: Any] {
                    for (k, v) in md { if let s = v as? String { metadata[k] = s } }
                }
                continue
            }
            guard let entry = value as? [String: Any],
                  let dtypeName = entry["dtype"] as? String,
                  let shapeAny = entry["shape"] as? [Any],
                  let offsetsAny = entry["data_offsets"] as? [Any], offsetsAny.count == 2 else {
                throw FluxError(.fileInvalid, "\(path): tensor '\(name)' lacks dtype, shape or data_offsets")
            }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw FluxError(.fileInvalid, "\(path): tensor '\(name)' has unsupported dtype \(dtypeName)")
            }
            var shape: [Int] = []
            var count = 1
            for d in shapeAny {
                guard let n = (d as? NSNumber)?.intValue, n >= 0 else {
                    throw FluxError(.fileInvalid, "\(path): tensor '\(name)' has a bad shape")
                }
                shape.append(n)
                let (c, overflow) = count.multipliedReportingOverflow(by: n)
                guard !overflow else { throw FluxError(.fileInvalid, "\(path): tensor '\(name)' shape overflows") }
                count = c
            }
            guard let begin = (offsetsAny[0] as? NSNumber)?.intValue, let end = (offsetsAny[1] as? NSNumber)?.intValue,
                  begin >= 0, end >= begin, end <= dataSize else {
                throw FluxError(.fileInvalid, "\(path): tensor '\(name)' data offsets are out of range (data section is \(dataSize) bytes)")
            }
            let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
            guard !overflow, bytes == end - begin else {
                throw FluxError(.fileInvalid, "\(path): tensor '\(name)' shape \(shape) \(dtype.rawValue) needs \(overflow ? -1 : bytes) bytes but its offsets span \(end - begin)")
            }
            infos[name] = TensorInfo(name: name, dtype: dtype, shape: shape, dataRange: begin..<end)
        }
        return (infos, metadata)
    }

    public var names: [String] { tensors.keys.sorted() }

    public func info(_ name: String) throws -> TensorInfo {
        guard let i = tensors[name] else { throw FluxError(.modelInvalid, "\(path): no tensor named '\(name)'") }
        return i
    }

    /// The tensor's bytes as stored (little-endian), valid while this file object is alive.
    public func rawBytes(_ name: String) throws -> UnsafeRawBufferPointer {
        let i = try info(name)
        return UnsafeRawBufferPointer(start: base + dataStart + i.dataRange.lowerBound, count: i.dataRange.count)
    }

    /// The tensor converted to Float32; `shape`, when given, must match exactly.
    public func tensor(_ name: String, shape expected: [Int]? = nil) throws -> Tensor {
        let i = try info(name)
        if let expected, expected != i.shape {
            throw FluxError(.modelInvalid, "\(path): tensor '\(name)' has shape \(i.shape), expected \(expected)")
        }
        let raw = base + dataStart + i.dataRange.lowerBound
        var out = [Float](repeating: 0, count: i.count)
        out.withUnsafeMutableBufferPointer { dst in
            guard let d = dst.baseAddress else { return }
            switch i.dtype {
            case .f32:
                UnsafeMutableRawPointer(d).copyMemory(from: raw, byteCount: i.count * 4)
            case .bf16:
                for k in 0..<i.count { d[k] = Half.bf16ToFloat(raw.loadUnaligned(fromByteOffset: 2 * k, as: UInt16.self)) }
            case .f16:
                for k in 0..<i.count { d[k] = Half.f16ToFloat(raw.loadUnaligned(fromByteOffset: 2 * k, as: UInt16.self)) }
            case .i8:
                for k in 0..<i.count { d[k] = Float(raw.load(fromByteOffset: k, as: Int8.self)) }
            case .i32:
                for k in 0..<i.count { d[k] = Float(raw.loadUnaligned(fromByteOffset: 4 * k, as: Int32.self)) }
            case .i64:
                for k in 0..<i.count { d[k] = Float(raw.loadUnaligned(fromByteOffset: 8 * k, as: Int64.self)) }
            }
        }
        return Tensor(shape: i.shape, data: out)
    }

    /// An integer tensor (I32 or I64) as Int64 values.
    public func integers(_ name: String) throws -> [Int64] {
        let i = try info(name)
        let raw = UnsafeRawPointer(base + dataStart + i.dataRange.lowerBound)
        switch i.dtype {
        case .i64: return (0..<i.count).map { raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self) }
        case .i32: return (0..<i.count).map { Int64(raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) }
        default: throw FluxError(.modelInvalid, "\(path): tensor '\(name)' is \(i.dtype.rawValue), expected an integer type")
        }
    }
}

/// A tensor to be written: its dtype, shape and little-endian bytes.
public struct TensorBlob: Sendable {
    public let dtype: DType
    public let shape: [Int]
    public let bytes: [UInt8]

    public init(_ t: Tensor) { self.init(f32: t.data, shape: t.shape) }

    public init(f32 values: [Float], shape: [Int]) {
        dtype = .f32; self.shape = shape
        bytes = values.withUnsafeBytes { Array($0) }
    }

    public init(i64 values: [Int64], shape: [Int]) {
        dtype = .i64; self.shape = shape
        bytes = values.withUnsafeBytes { Array($0) }
    }

    public init(i8 values: [Int8], shape: [Int]) {
        dtype = .i8; self.shape = shape
        bytes = values.map { UInt8(bitPattern: $0) }
    }

    public init(i32 values: [Int32], shape: [Int]) {
        dtype = .i32; self.shape = shape
        bytes = values.withUnsafeBytes { Array($0) }
    }

    /// 16-bit floats, rounding each value (`dtype` must be .f16 or .bf16).
    public init(half values: [Float], dtype: DType, shape: [Int]) {
        precondition(dtype == .f16 || dtype == .bf16)
        self.dtype = dtype; self.shape = shape
        let bits = values.map { dtype == .f16 ? Half.floatToF16($0) : Half.floatToBF16($0) }
        bytes = bits.withUnsafeBytes { Array($0) }
    }
}

public enum SafeTensorsWriter {
    /// Writes tensors (in the given order) and string metadata to `path`, atomically.
    public static func write(_ tensors: [(String, TensorBlob)], metadata: [String: String] = [:], to path: String) throws {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for (name, blob) in tensors {
            precondition(blob.shape.reduce(1, *) * blob.dtype.byteSize == blob.bytes.count, "blob \(name) size mismatch")
            header[name] = ["dtype": blob.dtype.rawValue, "shape": blob.shape, "data_offsets": [offset, offset + blob.bytes.count]]
            offset += blob.bytes.count
        }
        var json = Data(try JSONValue(checking: header).stable(escapingSlashes: true).utf8)
        // Pad the header with spaces so the data section starts 8-byte aligned.
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        var out = Data()
        out.reserveCapacity(8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for (_, blob) in tensors { out.append(contentsOf: blob.bytes) }
        do {
            try out.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw FluxError(.ioError, "\(path): cannot write (\(error.localizedDescription))")
        }
    }
}
