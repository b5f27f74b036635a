import FluxCore
import Foundation

/// The prompt templates of `prompts/` (chat.txt, mvbench.txt, dream.txt): plain `key = value`
/// files, documented in the files themselves.
public struct PromptTemplates: Sendable, Equatable {
    public var defaultSystem: String
    public var system: String
    /// Used instead of `system` when the system text is empty (chat.txt's optional `system_none`;
    /// Llama 2 and Llama 3 write no system block then).
    public var systemNone: String?
    public var user: String
    public var userVideo: String
    public var assistant: String
    public var generation: String
    public var stop: String
    public var mvbenchSystem: String
    public var mvbenchQuestion: String
    public var mvbenchOption: String
    public var mvbenchPrefill: String
    public var dreamPrompt: String

    /// Copies of the files in the repository's `prompts/` (a test keeps them equal), used when
    /// neither a `--prompts` folder nor the model folder's `prompts/` provides them.
    public static let builtIn: PromptTemplates = {
        do {
            return try PromptTemplates(chat: parse(BuiltInPrompts.chat, source: "built-in chat.txt"),
                                       mvbench: parse(BuiltInPrompts.mvbench, source: "built-in mvbench.txt"),
                                       dream: parse(BuiltInPrompts.dream, source: "built-in dream.txt"), source: "built-in")
        } catch {
            preconditionFailure("built-in prompt templates do not parse: \(error)")
        }
    }()

    /// Reads chat.txt, mvbench.txt and dream.txt from `directory`.
    public init(directory: String) throws {
        func read(_ name: String) throws -> [String: String] {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw FluxError(.fileNotFound, "\(path): no such prompt template")
            }
            guard let text = String(data: data, encoding: .utf8) else {
                throw FluxError(.fileInvalid, "\(path): not UTF-8 text")
            }
            return try Self.parse(text, source: path)
        }
        try self.init(chat: read("chat.txt"), mvbench: read("mvbench.txt"), dream: read("dream.txt"), source: directory)
    }

    /// The templates for a model: `override` when given, else `<model>/prompts/` when it exists, else built-in.
    public static func resolve(override: String?, modelDirectory: String?) throws -> PromptTemplates {
        if let override { return try PromptTemplates(directory: override) }
        if let modelDirectory {
            let dir = (modelDirectory as NSString).appendingPathComponent("prompts")
            if FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent("chat.txt")) {
                return try PromptTemplates(directory: dir)
            }
        }
        return builtIn
    }

    private init(chat: [String: String], mvbench: [String: String], dream: [String: String], source: String) throws {
        /// The keys of one file; a missing key names the file.
        func keys(_ d: [String: String], _ file: String) -> (String) throws -> String {
            { key in
                guard let v = d[key] else { throw FluxError(.fileInvalid, "\(source) \(file): missing key '\(key)'") }
                return v
            }
        }
        let c = keys(chat, "chat.txt"), m = keys(mvbench, "mvbench.txt")
        (defaultSystem, system, user, userVideo) = (try c("default_system"), try c("system"), try c("user"), try c("user_video"))
        (assistant, generation, stop) = (try c("assistant"), try c("generation"), try c("stop"))
        systemNone = chat["system_none"]
        (mvbenchSystem, mvbenchQuestion, mvbenchOption, mvbenchPrefill) = (try m("system"), try m("question"), try m("option"), try m("prefill"))
        dreamPrompt = try keys(dream, "dream.txt")("prompt")
        guard userVideo.components(separatedBy: "{video}").count == 2 else {
            throw FluxError(.fileInvalid, "\(source) chat.txt: user_video must contain {video} exactly once")
        }
    }

    /// `key = value` lines; `#` comment lines and blank lines are skipped; `\n` and `\\` unescaped.
    public static func parse(_ text: String, source: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw)
            if line.trimmingCharacters(in: .whitespaces).isEmpty || line.hasPrefix("#") { continue }
            guard let eq = line.range(of: " = ") else {
                throw FluxError(.fileInvalid, "\(source): line \(n + 1) is not `key = value`")
            }
            let key = line[..<eq.lowerBound].trimmingCharacters(in: .whitespaces)
            var value = "", escape = false
            for ch in line[eq.upperBound...] {
                if escape {
                    value.append(ch == "n" ? "\n" : ch)
                    escape = false
                } else if ch == "\\" {
                    escape = true
                } else {
                    value.append(ch)
                }
            }
            out[key] = value
        }
        return out
    }
}
