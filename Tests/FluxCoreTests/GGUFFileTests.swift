import FluxCore
import Foundation
import XCTest

/// Builds GGUF bytes field by field (little-endian), so tests can write valid files and then
/// break them in one place.
struct GGUFBytes {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func f32(_ v: Float) { u32(v.bitPattern) }
    mutating func string(_ s: String) { u64(UInt64(s.utf8.count)); bytes += s.utf8 }
    mutating func key(_ k: String, _ type: UInt32) { string(k); u32(type) }
    mutating func pad(to a: Int) { while bytes.count % a != 0 { bytes.append(0) } }

    /// A version-`version` file with the given metadata writer and tensors (name, dims, type,
    /// payload); tensor data is laid out aligned to `alignment`.
    static func file(version: UInt32 = 3, kvCount: UInt64, metadata: (inout GGUFBytes) -> Void,
                     tensors: [(String, [UInt64], UInt32, [UInt8])], alignment: Int = 32) -> [UInt8] {
        var b = GGUFBytes()
        b.bytes += Array("GGUF".utf8)
        b.u32(version)
        b.u64(UInt64(tensors.count))
        b.u64(kvCount)
        metadata(&b)
        var offset = 0
        var offsets: [Int] = []
        for t in tensors {
            offsets.append(offset)
            offset += t.3.count
            offset = (offset + alignment - 1) / alignment * alignment
        }
        for (t, off) in zip(tensors, offsets) {
            b.string(t.0)
            b.u32(UInt32(t.1.count))
            t.1.forEach { b.u64($0) }
            b.u32(t.2)
            b.u64(UInt64(off))
        }
        b.pad(to: alignment)
        for t in tensors {
            b.bytes += t.3
            b.pad(to: alignment)
        }
        return b.bytes
    }
}

final class GGUFFileTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("gguf-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func write(_ bytes: [UInt8], _ name: String = "t.gguf") throws -> String {
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    /// One key of every value type, nested arrays, two tensors.
    func sample(version: UInt32 = 3, alignment: UInt32? = nil) -> [UInt8] {
        let f32: [UInt8] = [Float](arrayLiteral: 1, 2, 3, 4, 5, 6).withUnsafeBytes { Array($0) }
        let q8: [UInt8] = [0x00, 0x3C] + (0..<32).map { UInt8(bitPattern: Int8($0 - 16)) } // d = 1.0
        return GGUFBytes.file(version: version, kvCount: alignment == nil ? 16 : 17, metadata: { b in
            b.key("general.architecture", 8); b.string("llama")
            b.key("u8", 0); b.u8(200)
            b.key("i8", 1); b.u8(0xFF)
            b.key("u16", 2); b.u8(0x34); b.u8(0x12)
            b.key("i16", 3); b.u8(0xFE); b.u8(0xFF)
            b.key("u32", 4); b.u32(4_000_000_000)
            b.key("i32", 5); b.u32(UInt32(bitPattern: -7))
            b.key("f32", 6); b.f32(0.5)
            b.key("bool", 7); b.u8(1)
            b.key("u64", 10); b.u64(1 << 40)
            b.key("i64", 11); b.u64(UInt64(bitPattern: -(1 << 40)))
            b.key("f64", 12); b.u64((1e-5 as Double).bitPattern)
            b.key("tokens", 9); b.u32(8); b.u64(3); b.string("a"); b.string("é"); b.string("<|im_start|>")
            b.key("types", 9); b.u32(5); b.u64(2); b.u32(1); b.u32(3)
            b.key("scores", 9); b.u32(6); b.u64(2); b.f32(-1.5); b.f32(2)
            b.key("nested", 9); b.u32(9); b.u64(2)
            b.u32(4); b.u64(1); b.u32(9)
            b.u32(8); b.u64(0)
            if let alignment { b.key("general.alignment", 4); b.u32(alignment) }
        }, tensors: [("w", [3, 2], 0, f32), ("q", [32], 8, q8)], alignment: Int(alignment ?? 32))
    }

    func testReadsEveryValueTypeAndTheTensorTable() throws {
        for version: UInt32 in [2, 3] {
            let f = try GGUFFile(path: write(sample(version: version)))
            XCTAssertEqual(f.version, version)
            let md = f.metadata
            XCTAssertEqual(try f.architecture, "llama")
            XCTAssertEqual(md.keys.first, "general.architecture")
            XCTAssertEqual(try md.int("u8"), 200)
            XCTAssertEqual(try md.int("i8"), -1)
            XCTAssertEqual(try md.int("u16"), 0x1234)
            XCTAssertEqual(try md.int("i16"), -2)
            XCTAssertEqual(try md.uint("u32"), 4_000_000_000)
            XCTAssertEqual(try md.int("i32"), -7)
            XCTAssertEqual(try md.float("f32"), 0.5)
            XCTAssertEqual(try md.bool("bool"), true)
            XCTAssertEqual(try md.int("u64"), 1 << 40)
            XCTAssertEqual(try md.int("i64"), -(1 << 40))
            XCTAssertEqual(try md.float("f64"), 1e-5)
            XCTAssertEqual(try md.strings("tokens"), ["a", "é", "<|im_start|>"])
            XCTAssertEqual(try md.ints("types"), [1, 3])
            XCTAssertEqual(try md.floats("scores"), [-1.5, 2])
            XCTAssertEqual(md["nested"], .array(.arrays([.uints([9], .uint32), .strings([])])))
            XCTAssertNil(try md.optionalString("absent"))

            XCTAssertEqual(f.tensors.map(\.name), ["w", "q"])
            let w = try XCTUnwrap(f.info("w"))
            XCTAssertEqual(w.shape, [2, 3])
            XCTAssertEqual(w.type, .f32)
            XCTAssertEqual(f.dataOffset % 32, 0)
            let values = Array(f.bytes(of: w).bindMemory(to: Float.self))
            XCTAssertEqual(values, [1, 2, 3, 4, 5, 6])
            let q = try XCTUnwrap(f.info("q"))
            XCTAssertEqual(q.type, .q8_0)
            XCTAssertEqual(f.bytes(of: q).count, 34)
            XCTAssertEqual(q.byteRange.lowerBound % 32, 0)
        }
    }

    func testCustomAlignment() throws {
        let f = try GGUFFile(path: write(sample(alignment: 64)))
        XCTAssertEqual(f.alignment, 64)
        XCTAssertEqual(f.dataOffset % 64, 0)
        XCTAssertEqual(f.info("q")!.byteRange.lowerBound % 64, 0)
        XCTAssertThrowsError(try GGUFFile(path: write(sample(alignment: 48)))) { error in
            XCTAssertEqual((error as? FluxError)?.code, .fileInvalid)
            XCTAssertTrue("\(error)".contains("general.alignment"), "\(error)")
        }
    }

    func testTypedAccessorsNameTheKeyOnAMismatch() throws {
        let md = try GGUFFile(path: write(sample())).metadata
        for (call, key) in [({ _ = try md.string("u8") }, "u8"), ({ _ = try md.int("f32") }, "f32"),
                            ({ _ = try md.strings("types") }, "types"), ({ _ = try md.bool("u8") }, "u8"),
                            ({ _ = try md.uint("i32") }, "i32"), ({ _ = try md.string("missing.key") }, "missing.key")]
            as [(() throws -> Void, String)] {
            XCTAssertThrowsError(try call()) { error in
                XCTAssertEqual((error as? FluxError)?.code, .fileInvalid)
                XCTAssertTrue("\(error)".contains("'\(key)'"), "\(error)")
            }
        }
    }

    /// Every truncation of a valid file is a typed error (never a crash), and so is every
    /// single corrupted field below.
    func testTruncatedAndCorruptFilesAreFileInvalid() throws {
        let good = sample()
        // Trailing padding after the last tensor's data may go; any cut before its end may not.
        let end = try GGUFFile(path: write(good, "good.gguf")).tensors.map(\.byteRange.upperBound).max()!
        for cut in stride(from: 0, to: end, by: 3) {
            let path = try write(Array(good[..<cut]), "cut.gguf")
            XCTAssertThrowsError(try GGUFFile(path: path), "cut at \(cut)") { error in
                XCTAssertEqual((error as? FluxError)?.code, .fileInvalid, "cut at \(cut): \(error)")
            }
        }
        func corrupt(_ offset: Int, _ bytes: [UInt8], expect: String) throws {
            var b = good
            b.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
            XCTAssertThrowsError(try GGUFFile(path: write(b, "bad.gguf"))) { error in
                XCTAssertEqual((error as? FluxError)?.code, .fileInvalid)
                XCTAssertTrue("\(error)".contains(expect), "expected '\(expect)' in \(error)")
            }
        }
        try corrupt(0, Array("GGUX".utf8), expect: "magic")
        try corrupt(4, [1, 0, 0, 0], expect: "version 1")
        try corrupt(4, [0, 0, 0, 3], expect: "big-endian")
        try corrupt(8, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0], expect: "tensor_count")
        try corrupt(16, [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0], expect: "metadata_kv_count")
        // The first key's length: 2^40 bytes.
        try corrupt(24, [0, 0, 0, 0, 0, 1, 0, 0], expect: "metadata key 0 length")
        // The first value's type (after the 8-byte length and 20-byte key).
        try corrupt(24 + 8 + 20, [99, 0, 0, 0], expect: "general.architecture' type")
    }

    func testTensorTableFaultsNameTheTensor() throws {
        let payload = [UInt8](repeating: 0, count: 24)
        func build(_ dims: [UInt64], _ type: UInt32, data: [UInt8] = payload) -> [UInt8] {
            GGUFBytes.file(kvCount: 0, metadata: { _ in }, tensors: [("blk.0.attn_q.weight", dims, type, data)])
        }
        for (bytes, expect) in [(build([3, 2], 99), "unknown type id 99"),
                                (build([3, 2, 1, 1, 1], 0), "n_dims 5"),
                                (build([0, 2], 0), "dim 0 = 0"),
                                (build([3, 2], 8), "not a multiple of Q8_0's block of 32"),
                                (build([6, 2], 0), "runs past the end")] {
            XCTAssertThrowsError(try GGUFFile(path: write(bytes))) { error in
                XCTAssertEqual((error as? FluxError)?.code, .fileInvalid)
                XCTAssertTrue("\(error)".contains("blk.0.attn_q.weight"), "\(error)")
                XCTAssertTrue("\(error)".contains(expect), "expected '\(expect)' in \(error)")
            }
        }
        // Duplicate names and a misaligned offset.
        var b = GGUFBytes.file(kvCount: 0, metadata: { _ in }, tensors: [("a", [2], 0, [0, 0, 0, 0, 0, 0, 0, 0]), ("a", [2], 0, [0, 0, 0, 0, 0, 0, 0, 0])])
        XCTAssertThrowsError(try GGUFFile(path: write(b))) { XCTAssertTrue("\($0)".contains("'a' appears twice"), "\($0)") }
        b = GGUFBytes.file(kvCount: 0, metadata: { _ in }, tensors: [("a", [2], 0, [0, 0, 0, 0, 0, 0, 0, 0])])
        let offsetAt = 24 + 8 + 1 + 4 + 8 + 4
        b[offsetAt] = 4
        XCTAssertThrowsError(try GGUFFile(path: write(b))) { XCTAssertTrue("\($0)".contains("offset 4"), "\($0)") }
    }

    func testMissingFileIsFileNotFound() {
        XCTAssertThrowsError(try GGUFFile(path: dir.appendingPathComponent("none.gguf").path)) {
            XCTAssertEqual(($0 as? FluxError)?.code, .fileNotFound)
        }
    }
}
