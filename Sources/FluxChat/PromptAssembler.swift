import FluxCore
import FluxLM

/// The language model's input for a rendered prompt: text segments become token ids (BOS first),
/// the video segment becomes the video's projected rows. Holds the one context-length check, so
/// every request (chat, JSON, evaluation) is refused the same way when it does not fit.
struct PromptAssembler {
    let tokenizer: any Tokenizer
    /// Positions the KV cache holds at most.
    let contextLimit: Int
    /// True when the projector writes as many video rows whatever the budget (slot_resampler),
    /// so that lowering the budget does not shorten the prompt.
    var fixedVideoRows = false

    /// What to do about a prompt that does not fit.
    var overflowAdvice: String {
        fixedVideoRows ? "shorten the conversation (this model's video rows do not depend on the budget)"
                       : "lower the budget or shorten the conversation"
    }

    /// A position of the prompt: a token id (serial 0) or row `value` of encoded video `serial`,
    /// so the prefix shared with the previous prompt can be found.
    struct Slot: Equatable {
        let serial: Int
        let value: Int
    }

    /// Refuses, before anything is decoded, a video whose rows alone fill the context.
    func checkVideo(rows: Int) throws {
        guard rows < contextLimit else {
            throw FluxError(.contextOverflow, "the video alone takes \(rows) positions but the context holds \(contextLimit)"
                            + (fixedVideoRows ? " whatever the budget" : "; lower the budget"))
        }
    }

    /// Token ids and visual rows of `segments`, and what each position holds; refuses a prompt
    /// that leaves no room to generate.
    func assemble(_ segments: [PromptSegment], video: EncodedVideo?) throws -> (pieces: [PromptPiece], slots: [Slot]) {
        var pieces: [PromptPiece] = [], slots: [Slot] = [], pending: [Int32] = []
        var first = true
        func flush() {
            if !pending.isEmpty { pieces.append(.tokens(pending)) }
            slots += pending.map { Slot(serial: 0, value: Int($0)) }
            pending = []
        }
        for s in segments {
            switch s {
            case .text(let t):
                pending += try tokenizer.encode(t, addBOS: first)
                first = false
            case .video:
                guard let video else { continue }
                flush()
                pieces.append(.embeddings(video.embeddings))
                slots += (0..<video.embeddings.rows).map { Slot(serial: video.serial, value: $0) }
            }
        }
        flush()
        guard slots.count < contextLimit else {
            let visual = video?.embeddings.rows ?? 0
            throw FluxError(.contextOverflow, "the prompt takes \(slots.count) positions (\(visual) visual) but the context holds \(contextLimit); \(overflowAdvice)")
        }
        return (pieces, slots)
    }

    /// `pieces` cut after their first `n` positions.
    static func split(_ pieces: [PromptPiece], at n: Int) -> ([PromptPiece], [PromptPiece]) {
        var left = n, head: [PromptPiece] = [], tail: [PromptPiece] = []
        for p in pieces {
            let c = p.count
            if left >= c {
                head.append(p)
                left -= c
            } else if left == 0 {
                tail.append(p)
            } else {
                switch p {
                case .tokens(let t):
                    head.append(.tokens(Array(t[..<left])))
                    tail.append(.tokens(Array(t[left...])))
                case .embeddings(let e):
                    head.append(.embeddings(e.slice(rows: 0..<left)))
                    tail.append(.embeddings(e.slice(rows: left..<e.rows)))
                }
                left = 0
            }
        }
        return (head, tail)
    }
}
