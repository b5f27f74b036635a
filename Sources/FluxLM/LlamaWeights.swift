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

    /// A [rows, cols] matrix in its stored precision (f32, f16 or bf16).
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
        default:
            throw FluxError(.modelInvalid, "\(f.path): tensor '\(full)' is \(info.dtype.rawValue); weights must be F32, F16 or BF16")
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
