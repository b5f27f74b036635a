import FluxCore
import Foundation

/// Finds Llama tensors by their Hugging Face names across one or more safetensors files and turns
/// them into `WeightMatrix`es (keeping 16-bit storage) or f32 vectors.
struct WeightLoader {
    let files: [SafeTensorsFile]
    let prefix: String

    func file(for name: String) throws -> SafeTensorsFile {
        let full = prefix + name
        guard let f = files.first(where: { $0.tensors[full] != nil }) else {
            let where_ = files.map(\.path).joined(separator: ", ")
            throw FluxError(.modelInvalid, "no tensor named '\(full)' in \(where_.isEmpty ? "(no files)" : where_)")
        }
        return f
    }

    func has(_ name: String) -> Bool { files.contains { $0.tensors[prefix + name] != nil } }

    /// A [rows, cols] matrix in its stored precision: f32, f16, bf16, or Q8_0 stored as I8 values
    /// with an F16 `<name>_scale` [rows, cols / 32] (fluxtools.bundle.quantize_q8).
    func matrix(_ name: String, rows: Int, cols: Int) throws -> WeightMatrix {
        let f = try file(for: name), full = prefix + name
        let info = try f.info(full)
        guard info.shape == [rows, cols] else {
            throw FluxError(.modelInvalid, "\(f.path): tensor '\(full)' has shape \(info.shape), expected \([rows, cols])")
        }
        let raw = try f.rawBytes(full)
        switch info.dtype {
        case .f32, .f16, .bf16:
            guard let base = raw.baseAddress ?? (rows * cols == 0 ? UnsafeRawPointer(bitPattern: 64) : nil) else {
                throw FluxError(.modelInvalid, "\(f.path): tensor '\(full)' has no data")
            }
            let p: WeightMatrix.Precision = info.dtype == .f32 ? .f32 : info.dtype == .f16 ? .f16 : .bf16
            return WeightMatrix(rows: rows, cols: cols, precision: p, copyingFrom: base)
        case .i8:
            return try q8Matrix(f, full, raw, rows: rows, cols: cols)
        default:
            throw FluxError(.modelInvalid, "\(f.path): tensor '\(full)' is \(info.dtype.rawValue); weights must be F32, F16, BF16 or I8 (Q8_0 values)")
        }
    }

    /// I8 values and their F16 scales interleaved into ggml's Q8_0 blocks (f16 d, 32 int8), the
    /// layout the quantized kernels read.
    private func q8Matrix(_ f: SafeTensorsFile, _ full: String, _ raw: UnsafeRawBufferPointer,
                          rows: Int, cols: Int) throws -> WeightMatrix {
        let block = WeightMatrix.Precision.q8_0.blockSize, scaleName = full + "_scale"
        guard rows > 0, cols > 0, cols % block == 0 else {
            throw FluxError(.modelInvalid, "\(f.path): tensor '\(full)' is I8 [\(rows), \(cols)]; Q8_0 needs a column count that is a positive multiple of \(block)")
        }
        let blocks = cols / block
        guard let scales = f.tensors[scaleName] else {
            throw FluxError(.modelInvalid, "\(f.path): the I8 tensor '\(full)' has no '\(scaleName)' (F16 [\(rows), \(blocks)]: Q8_0's scale per 32 values)")
        }
        guard scales.dtype == .f16, scales.shape == [rows, blocks] else {
            throw FluxError(.modelInvalid, "\(f.path): '\(scaleName)' must be F16 [\(rows), \(blocks)] for the I8 tensor '\(full)', not \(scales.dtype.rawValue) \(scales.shape)")
        }
        let d = try f.rawBytes(scaleName)
        guard let values = raw.baseAddress, let scaleBase = d.baseAddress else {
            throw FluxError(.modelInvalid, "\(f.path): tensor '\(full)' has no data")
        }
        let blockBytes = 2 + block
        return WeightMatrix(rows: rows, cols: cols, precision: .q8_0) { out, _ in
            for b in 0..<(rows * blocks) {
                let o = out + b * blockBytes
                o.copyMemory(from: scaleBase + 2 * b, byteCount: 2)
                (o + 2).copyMemory(from: values + b * block, byteCount: block)
            }
        }
    }

    /// Several matrices stacked along the rows (each keeps its own precision).
    func stacked(_ names: [String], rows: [Int], cols: Int) throws -> WeightMatrix {
        try WeightMatrix.stack(names, rows: rows, cols: cols) { try matrix($0, rows: $1, cols: $2) }
    }

    /// A 1-D f32 vector (norm weights).
    func vector(_ name: String, count: Int) throws -> [Float] {
        try file(for: name).tensor(prefix + name, shape: [count]).data
    }
}

/// Opens the safetensors files of a Hugging Face model folder: `model.safetensors`, or the shards
/// listed by `model.safetensors.index.json`.
enum CheckpointFiles {
    static func open(directory: String) throws -> [SafeTensorsFile] {
        let dir = directory as NSString
        let index = dir.appendingPathComponent("model.safetensors.index.json")
        if FileManager.default.fileExists(atPath: index) {
            let json = try JSONValue.Fields(contentsOf: index)
            guard let map = try? json.optionalObject("weight_map") else {
                throw FluxError(.fileInvalid, "\(index): missing object 'weight_map'")
            }
            var shards: [String] = []
            for (name, v) in map.members {
                guard case .string(let s) = v, !s.isEmpty, !s.contains("/"), !s.hasPrefix(".") else {
                    throw FluxError(.fileInvalid, "\(index): weight_map entry '\(name)' is not a file name in the folder")
                }
                if !shards.contains(s) { shards.append(s) }
            }
            guard !shards.isEmpty else { throw FluxError(.fileInvalid, "\(index): weight_map is empty") }
            return try shards.sorted().map { try SafeTensorsFile(path: dir.appendingPathComponent($0)) }
        }
        let single = dir.appendingPathComponent("model.safetensors")
        guard FileManager.default.fileExists(atPath: single) else {
            throw FluxError(.fileNotFound, "\(directory): neither model.safetensors nor model.safetensors.index.json")
        }
        return [try SafeTensorsFile(path: single)]
    }
}
