import FluxCore
import Foundation

/// The chat formats of the language models people run, as `PromptTemplates` values. A model's
/// Jinja template (GGUF `tokenizer.chat_template`, tokenizer_config.json `chat_template`) is
/// recognised by its marker strings; no Jinja engine runs. `fluxchat` is FluxChat's own
/// templates (prompts/), the default for FluxChat bundles.
public enum ChatTemplateFamily: String, CaseIterable, Sendable {
    /// `<|im_start|>role\n...<|im_end|>\n` (SmolLM2, Qwen).
    case chatml
    /// `<s>[INST] <<SYS>>\n...\n<</SYS>>\n\n... [/INST] ... </s>`.
    case llama2
    /// `<|start_header_id|>role<|end_header_id|>\n\n...<|eot_id|>`.
    case llama3
    case fluxchat

    /// The family of a Jinja chat template, nil when no family's markers are in it.
    public static func detect(_ jinja: String) -> ChatTemplateFamily? {
        if jinja.contains("<|im_start|>") { return .chatml }
        if jinja.contains("<|start_header_id|>") { return .llama3 }
        if jinja.contains("[INST]") { return .llama2 }
        return nil
    }

    /// The system text a ChatML template writes when the conversation has none, as a literal
    /// ("<|im_start|>system\nYou are a helpful AI assistant named SmolLM...<|im_end|>"); nil when
    /// it writes none. `\n` may be a newline or an escaped one inside the Jinja string.
    public static func defaultSystem(in jinja: String) -> String? {
        for open in ["<|im_start|>system\n", "<|im_start|>system\\n"] {
            guard let start = jinja.range(of: open)?.upperBound,
                  let end = jinja[start...].range(of: "<|im_end|>")?.lowerBound else { continue }
            let text = String(jinja[start..<end])
            // Anything Jinja computes (a variable, a concatenation) is not a literal default.
            if text.isEmpty || text.contains(where: { "'\"{}+".contains($0) }) { continue }
            return text.replacingOccurrences(of: "\\n", with: "\n")
        }
        return nil
    }

    /// The family's templates; `defaultSystem` is the system text of a conversation that gives
    /// none ("" writes no system block where the family allows). The multiple-choice and
    /// description prompts stay FluxChat's.
    public func templates(defaultSystem: String = "", fluxchat: PromptTemplates = .builtIn) -> PromptTemplates {
        var t = fluxchat
        switch self {
        case .fluxchat:
            return fluxchat
        case .chatml:
            t.system = "<|im_start|>system\n{system}<|im_end|>\n"
            t.systemNone = ""
            t.user = "<|im_start|>user\n{content}<|im_end|>\n"
            t.userVideo = "<|im_start|>user\n<video>{video}</video>\n{content}<|im_end|>\n"
            t.assistant = "<|im_start|>assistant\n{content}<|im_end|>\n"
            t.generation = "<|im_start|>assistant\n"
            t.stop = "<|im_end|>"
        case .llama2:
            // BOS comes from the tokenizer; each later turn reopens with </s><s>[INST].
            t.system = "[INST] <<SYS>>\n{system}\n<</SYS>>\n\n"
            t.systemNone = "[INST] "
            t.user = "{content} [/INST]"
            t.userVideo = "<video>{video}</video>\n{content} [/INST]"
            t.assistant = " {content} </s><s>[INST] "
            t.generation = ""
            t.stop = "</s>"
        case .llama3:
            t.system = "<|start_header_id|>system<|end_header_id|>\n\n{system}<|eot_id|>"
            t.systemNone = ""
            t.user = "<|start_header_id|>user<|end_header_id|>\n\n{content}<|eot_id|>"
            t.userVideo = "<|start_header_id|>user<|end_header_id|>\n\n<video>{video}</video>\n{content}<|eot_id|>"
            t.assistant = "<|start_header_id|>assistant<|end_header_id|>\n\n{content}<|eot_id|>"
            t.generation = "<|start_header_id|>assistant<|end_header_id|>\n\n"
            t.stop = "<|eot_id|>"
        }
        t.defaultSystem = defaultSystem
        return t
    }

    /// FluxChat's chat template without a system line, for a language model whose own format is
    /// unknown: BOS + "User: ...\nAssistant:".
    public static func plain(_ fluxchat: PromptTemplates = .builtIn) -> PromptTemplates {
        var t = fluxchat
        t.defaultSystem = ""
        t.systemNone = ""
        return t
    }
}

extension ModelBundle {
    /// The prompt templates for this model: `family` when given (--chat-template); else the family
    /// of the language model's own template (a language model alone, or a bundle over a GGUF
    /// model); else, for a language model alone, the plain template; else FluxChat's (`prompts`,
    /// the bundle's prompts/, built in).
    public func templates(family: ChatTemplateFamily? = nil, prompts: String? = nil) throws -> PromptTemplates {
        let base = try PromptTemplates.resolve(override: prompts, modelDirectory: directory)
        guard let family = family ?? chatTemplate.flatMap(ChatTemplateFamily.detect) else {
            return vision == nil && prompts == nil ? ChatTemplateFamily.plain(base) : base
        }
        return family.templates(defaultSystem: chatTemplate.flatMap(ChatTemplateFamily.defaultSystem(in:)) ?? "", fluxchat: base)
    }
}
