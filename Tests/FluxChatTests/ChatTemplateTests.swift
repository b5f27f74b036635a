import FluxChat
import FluxCore
import FluxLM
import Foundation
import XCTest

/// Chat formats recognised from a model's Jinja template and rendered as Hugging Face's
/// `apply_chat_template` renders them (the expected strings are that function's output).
final class ChatTemplateTests: XCTestCase {
    /// SmolLM2-135M-Instruct's `tokenizer.chat_template` (from its GGUF file).
    static let smolLM2 = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"

    static let conversation = [ChatMessage(role: .user, content: "Hi"), ChatMessage(role: .assistant, content: "Hello!"),
                               ChatMessage(role: .user, content: "Bye")]

    func render(_ t: PromptTemplates, _ messages: [ChatMessage]) throws -> String {
        try PromptBuilder(templates: t).render(messages, video: false, options: nil).map {
            if case .text(let s) = $0 { return s }
            return "<VIDEO>"
        }.joined()
    }

    func testFamiliesAreRecognisedByTheirMarkers() {
        XCTAssertEqual(ChatTemplateFamily.detect(Self.smolLM2), .chatml)
        XCTAssertEqual(ChatTemplateFamily.detect("{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' }}"), .llama3)
        XCTAssertEqual(ChatTemplateFamily.detect("{{ bos_token + '[INST] ' + content + ' [/INST]' }}"), .llama2)
        XCTAssertNil(ChatTemplateFamily.detect("{{ message['content'] }}"))
        XCTAssertEqual(ChatTemplateFamily.defaultSystem(in: Self.smolLM2), "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        // Qwen 2.5 writes the newline escaped inside the Jinja string.
        XCTAssertEqual(ChatTemplateFamily.defaultSystem(in: #"{{- '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' }}"#),
                       "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.")
        XCTAssertNil(ChatTemplateFamily.defaultSystem(in: "{{ '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>' }}"))
    }

    func testChatMLRendersAsSmolLM2sTemplate() throws {
        let t = ChatTemplateFamily.chatml.templates(defaultSystem: ChatTemplateFamily.defaultSystem(in: Self.smolLM2) ?? "")
        XCTAssertEqual(try render(t, Self.conversation),
                       "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n")
        XCTAssertEqual(try render(t, [ChatMessage(role: .system, content: "Be brief."), ChatMessage(role: .user, content: "Hi")]),
                       "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
    }

    func testLlama2AndLlama3Render() throws {
        let l2 = ChatTemplateFamily.llama2.templates()
        XCTAssertEqual(try render(l2, Self.conversation), "[INST] Hi [/INST] Hello! </s><s>[INST] Bye [/INST]")
        XCTAssertEqual(try render(l2, [ChatMessage(role: .system, content: "S"), ChatMessage(role: .user, content: "Hi")]),
                       "[INST] <<SYS>>\nS\n<</SYS>>\n\nHi [/INST]")
        let l3 = ChatTemplateFamily.llama3.templates()
        XCTAssertEqual(try render(l3, [ChatMessage(role: .user, content: "Hi")]),
                       "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")
        XCTAssertEqual(try render(l3, [ChatMessage(role: .system, content: "S"), ChatMessage(role: .user, content: "Hi")]),
                       "<|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")
        // FluxChat bundles keep their own templates.
        XCTAssertEqual(ChatTemplateFamily.fluxchat.templates(), .builtIn)
    }

    /// The model's template: tokenizer_config.json's `chat_template` (a string or a list of named
    /// ones), else chat_template.jinja; a .gguf file's folder is searched the same way.
    func testTheModelsTemplateIsFoundInItsFolder() throws {
        let dir = try TextOnlyModel.make(chatTemplate: nil)
        XCTAssertNil(LanguageModelFiles.chatTemplate(llm: dir))
        try Data("{{ '[INST] ' }}".utf8).write(to: URL(fileURLWithPath: dir + "/chat_template.jinja"))
        XCTAssertEqual(LanguageModelFiles.chatTemplate(llm: dir), "{{ '[INST] ' }}")
        FileManager.default.createFile(atPath: dir + "/model.gguf", contents: Data())
        XCTAssertEqual(LanguageModelFiles.chatTemplate(llm: dir + "/model.gguf"), "{{ '[INST] ' }}")
        let named = #"{"chat_template": [{"name": "tool_use", "template": "x"}, {"name": "default", "template": "<|im_start|>"}]}"#
        try Data(named.utf8).write(to: URL(fileURLWithPath: dir + "/tokenizer_config.json"))
        XCTAssertEqual(LanguageModelFiles.chatTemplate(llm: dir), "<|im_start|>")
        try? FileManager.default.removeItem(atPath: dir + "/chat_template.jinja")
    }

    /// A language model alone (a Hugging Face folder with a byte-level BPE tokenizer.json and a
    /// ChatML template) answers text requests and refuses videos.
    func testTextOnlyEngine() throws {
        let dir = try TextOnlyModel.make(chatTemplate: Self.smolLM2)
        let bundle = try ModelBundle(llm: dir)
        XCTAssertNil(bundle.vision)
        XCTAssertEqual(bundle.chatTemplate, Self.smolLM2)
        let templates = ChatTemplateFamily.chatml.templates(defaultSystem: "Be brief.")
        let engine = ChatEngine(bundle: bundle, templates: templates)
        let request = ChatRequest(messages: [ChatMessage(role: .user, content: "Hi")], video: nil,
                                  settings: RequestSettings(maxTokens: 4, temperature: 0))
        var streamed = ""
        let reply = try engine.respond(request) { streamed += $0; return true }
        // The prompt is the rendered ChatML with its tags as single special tokens.
        let rendered = "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        let ids = try bundle.tokenizer.encode(rendered, addBOS: true)
        XCTAssertEqual(ids.first, 1)
        XCTAssertEqual(reply.stats.promptTokens, ids.count)
        XCTAssertGreaterThan(reply.stats.generatedTokens, 0)
        XCTAssertEqual(streamed.trimmingCharacters(in: .whitespaces), reply.text)
        XCTAssertThrowsError(try engine.respond(ChatRequest(messages: request.messages, video: Fixtures.clipPath, settings: request.settings)) { _ in true }) {
            XCTAssertEqual(($0 as? FluxError)?.code, .badRequest)
        }
        XCTAssertThrowsError(try ModelBundle(llm: dir + "/missing")) { XCTAssertEqual(($0 as? FluxError)?.code, .fileNotFound) }
    }
}

/// A text-only Hugging Face folder: the LM fixture's weights with a byte-level BPE tokenizer
/// (both from Tests/FluxLMTests/Fixtures) and an optional chat template.
enum TextOnlyModel {
    static func make(chatTemplate: String?) throws -> String {
        let lm = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("FluxLMTests/Fixtures")
        let dir = Fixtures.tempDir("text-only-\(chatTemplate == nil ? "plain" : "chatml")")
        let fm = FileManager.default
        for (from, to) in [("llama_f16/config.json", "config.json"), ("llama_f16/model.safetensors", "model.safetensors"),
                           ("bpe/smollm/tokenizer.json", "tokenizer.json")] {
            try? fm.removeItem(atPath: "\(dir)/\(to)")
            try fm.copyItem(atPath: lm.appendingPathComponent(from).path, toPath: "\(dir)/\(to)")
        }
        var config: [String: Any] = ["bos_token": "<|im_start|>", "eos_token": "<|im_end|>"]
        if let chatTemplate { config["chat_template"] = chatTemplate }
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: "\(dir)/tokenizer_config.json"))
        return dir
    }
}
