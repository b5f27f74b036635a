import CKernels
import FluxCore

extension GGUFFile {
    /// The values of a tensor as f32, for the types the model runs (F32, F16, BF16, Q8_0, Q4_0,
    /// Q4_1, Q4_K, Q6_K); other types are `model_invalid` naming the tensor.
    public func floats(_ name: String) throws -> [Float] {
        guard let info = info(name) else { throw FluxError(.modelInvalid, "\(path): no tensor named '\(name)'") }
        guard let p = GGUFWeights.precision(info.type) else {
            throw FluxError(.modelInvalid, "\(path): tensor '\(name)' is \(info.type.name), which FluxChat cannot read")
        }
        let raw = bytes(of: info), count = info.count
        return [Float](unsafeUninitializedCapacity: count) { buf, n in
            if count > 0, let src = raw.baseAddress {
                let rows = count / info.dims[0]
                let m = WeightMatrix(rows: rows, cols: info.dims[0], precision: p, borrowing: src, owner: self)
                for r in 0..<rows { m.copyRow(r, to: buf.baseAddress! + r * info.dims[0]) }
            }
            n = count
        }
    }
}
