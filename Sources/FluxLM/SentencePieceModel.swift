import FluxCore

/// Writes a SentencePiece ModelProto (sentencepiece_model.proto) from a vocabulary held as
/// arrays, the way a GGUF file stores a Llama tokenizer, so libsentencepiece itself tokenizes
/// GGUF models of the `llama` tokenizer kind: one SentencePiece implementation, not two.
public enum SentencePieceModel {
    /// The serialized model: a BPE model (`model_type` 2) over `pieces` with their `scores` and
    /// types (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte); byte fallback
    /// when byte pieces exist; Llama's normalizer (identity, no whitespace squeezing).
    public static func serialize(pieces: [String], scores: [Float], types: [Int32], unkId: Int32?, bosId: Int32?,
                                 eosId: Int32?, padId: Int32?, addDummyPrefix: Bool, origin: String) throws -> [UInt8] {
        guard !pieces.isEmpty, scores.count == pieces.count, types.count == pieces.count else {
            throw FluxError(.fileInvalid, "\(origin): \(pieces.count) tokens, \(scores.count) scores and \(types.count) types must be equal in number and not zero")
        }
        func name(_ id: Int32?, _ field: String) throws -> String? {
            guard let id else { return nil }
            guard id >= 0, Int(id) < pieces.count else {
                throw FluxError(.fileInvalid, "\(origin): \(field) \(id) is outside the vocabulary of \(pieces.count)")
            }
            return pieces[Int(id)]
        }
        var w = ProtoWriter()
        for i in pieces.indices {
            guard (1...6).contains(types[i]) else {
                throw FluxError(.fileInvalid, "\(origin): token \(i) has type \(types[i]), not 1 to 6")
            }
            var p = ProtoWriter()
            p.string(1, pieces[i])
            p.float(2, scores[i])
            p.varint(3, UInt64(types[i]))
            w.message(1, p)
        }
        var trainer = ProtoWriter()
        trainer.varint(3, 2)  // model_type BPE
        if types.contains(6) { trainer.varint(35, 1) }  // byte_fallback
        // The processor finds its special ids by these piece names; -1 marks one that is absent.
        for (field, pieceField, id, label) in [(40, 45, unkId, "unknown_token_id"), (41, 46, bosId, "bos_token_id"),
                                               (42, 47, eosId, "eos_token_id"), (43, 48, padId, "padding_token_id")] {
            if let piece = try name(id, label) {
                trainer.varint(field, UInt64(UInt32(id ?? 0)))
                trainer.string(pieceField, piece)
            } else {
                trainer.varint(field, UInt64(bitPattern: -1))
            }
        }
        w.message(2, trainer)
        var normalizer = ProtoWriter()
        normalizer.string(1, "identity")
        normalizer.varint(3, addDummyPrefix ? 1 : 0)
        normalizer.varint(4, 0)  // remove_extra_whitespaces
        normalizer.varint(5, 1)  // escape_whitespaces
        w.message(3, normalizer)
        return w.bytes
    }
}

/// Protocol-buffer wire format, the few field kinds a ModelProto uses.
struct ProtoWriter {
    var bytes: [UInt8] = []

    mutating func raw(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func varint(_ field: Int, _ v: UInt64) {
        raw(UInt64(field << 3))
        raw(v)
    }

    mutating func float(_ field: Int, _ v: Float) {
        raw(UInt64(field << 3 | 5))
        withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 }
    }

    mutating func string(_ field: Int, _ s: String) { lengthDelimited(field, Array(s.utf8)) }

    mutating func message(_ field: Int, _ m: ProtoWriter) { lengthDelimited(field, m.bytes) }

    private mutating func lengthDelimited(_ field: Int, _ b: [UInt8]) {
        raw(UInt64(field << 3 | 2))
        raw(UInt64(b.count))
        bytes += b
    }
}
