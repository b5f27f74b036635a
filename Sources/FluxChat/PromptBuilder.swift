import FluxCore

/// One turn of a conversation.
public struct ChatMessage: Sendable, Equatable {
    public enum Role: String, Sendable { case system, user, assistant }
    public var role: Role
    public var content: String

    public init(role: Role, content: String) {
        self.role = role
        self.content = content
    }
}

/// A stretch of the rendered prompt: text, or the place where the video's visual tokens go.
public enum PromptSegment: Sendable, Equatable {
    case text(String)
    case video
}

/// Renders a conversation through the templates. Each turn is its own segment so that a
/// follow-up question renders (and tokenizes) to the previous prompt plus new turns, which is
/// what lets the KV cache of the shared prefix be reused.
public struct PromptBuilder: Sendable {
    public let templates: PromptTemplates

    public init(templates: PromptTemplates) { self.templates = templates }

    /// Segments for `messages` (an optional leading system message, then user/assistant turns
    /// ending with a user turn). With `video` the first user turn carries the video; with
    /// `options` the last user turn becomes the multiple-choice question and the assistant turn
    /// is opened with the prefill.
    public func render(_ messages: [ChatMessage], video: Bool, options: [String]?) throws -> [PromptSegment] {
        var turns = messages[...]
        var system = options == nil ? templates.defaultSystem : templates.mvbenchSystem
        if let first = turns.first, first.role == .system {
            system = first.content
            turns = turns.dropFirst()
        }
        guard let last = turns.last, last.role == .user else {
            throw FluxError(.badRequest, "messages: the last message must have role \"user\"")
        }
        if let bad = turns.firstIndex(where: { $0.role == .system }) {
            throw FluxError(.badRequest, "messages[\(bad)]: a system message may only come first")
        }
        var out: [PromptSegment] = [.text(system.isEmpty ? templates.systemNone ?? fill(templates.system, ["system": ""])
                                                         : fill(templates.system, ["system": system]))]
        var videoPlaced = false
        for (i, m) in zip(turns.indices, turns) {
            var content = m.content
            if i == turns.endIndex - 1, let options { content = question(content, options: options) }
            if m.role == .assistant {
                out.append(.text(fill(templates.assistant, ["content": content])))
            } else if video && !videoPlaced {
                let parts = templates.userVideo.components(separatedBy: "{video}")
                out.append(.text(fill(parts[0], ["content": content])))
                out.append(.video)
                out.append(.text(fill(parts[1], ["content": content])))
                videoPlaced = true
            } else {
                out.append(.text(fill(templates.user, ["content": content])))
            }
        }
        out.append(.text(options == nil ? templates.generation : templates.generation + " " + templates.mvbenchPrefill))
        return out
    }

    /// The multiple-choice question block with lettered options.
    public func question(_ q: String, options: [String]) -> String {
        let lines = options.enumerated().map { i, o in
            fill(templates.mvbenchOption, ["letter": Self.letter(i), "option": o])
        }
        return fill(templates.mvbenchQuestion, ["question": q, "options": lines.joined(separator: "\n")])
    }

    /// "A", "B", ... for option `i` (0-based, below 26).
    public static func letter(_ i: Int) -> String { String(UnicodeScalar(UInt8(65 + i % 26))) }

    /// Replaces `{name}` placeholders in one pass, so inserted text is never scanned again.
    func fill(_ template: String, _ values: [String: String]) -> String {
        var out = ""
        var rest = template[...]
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            if let close = rest[open...].firstIndex(of: "}"), let v = values[String(rest[rest.index(after: open)..<close])] {
                out += v
                rest = rest[rest.index(after: close)...]
            } else {
                out += "{"
                rest = rest[rest.index(after: open)...]
            }
        }
        return out + rest
    }
}
