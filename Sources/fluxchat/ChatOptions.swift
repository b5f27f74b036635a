import ArgumentParser
import FluxChat
import FluxCore
import Foundation

/// Where the model comes from: a bundle folder, or the three parts.
struct ModelOptions: ParsableArguments {
    static let defaultModel = "weights/fluxchat-tiny"

    @Option(help: ArgumentHelp("Model bundle folder (config.json, *.safetensors, tokenizer.model or a GGUF language model its config names).",
                               discussion: "Default: $FLUXCHAT_MODEL, else \(defaultModel) (the shipped model)."))
    var model: String?

    @Option(help: "Vision part: FluxViT folder (config.json + model.safetensors); needs --projector and --llm.")
    var vision: String?

    @Option(help: "Projector part: safetensors file (fc1.*, fc2.*; metadata type, pool).")
    var projector: String?

    @Option(help: ArgumentHelp("Language model: a Hugging Face Llama folder (tokenizer.model or tokenizer.json) or a .gguf file.",
                               discussion: "Alone (without --vision, --projector, --model) it is a text-only chat model."))
    var llm: String?

    @Option(help: ArgumentHelp("Chat format: chatml, llama2, llama3 or fluxchat.",
                               discussion: "Default: FluxChat's templates for FluxChat models; for --llm alone the family of the model's own chat template (GGUF tokenizer.chat_template or tokenizer_config.json), else plain \"User: ...\\nAssistant:\"."))
    var chatTemplate: ChatTemplateFamily?

    @Option(help: "Folder with chat.txt, mvbench.txt, dream.txt (default: the model folder's prompts/, else the built-in copies of prompts/).")
    var prompts: String?

    @Option(help: "Memory for encoded videos kept for follow-up questions, in MiB.")
    var videoCacheMb = 512

    var partsGiven: Bool { vision != nil || projector != nil || llm != nil }

    /// --llm without the other parts or a bundle: the language model alone, text only.
    var textOnly: Bool { llm != nil && vision == nil && projector == nil && model == nil }

    func validate() throws {
        guard videoCacheMb >= 0, videoCacheMb <= 1 << 20 else { throw ValidationError("--video-cache-mb must be in 0...\(1 << 20)") }
    }

    func loadBundle() throws -> ModelBundle {
        if textOnly, let llm { return try ModelBundle(llm: llm) }
        if partsGiven {
            guard let vision, let projector, let llm, model == nil else {
                throw FluxError(.badRequest, "give --model, or all three parts --vision, --projector and --llm")
            }
            return try ModelBundle(vision: vision, projector: projector, llm: llm)
        }
        let dir = model ?? ProcessInfo.processInfo.environment["FLUXCHAT_MODEL"] ?? Self.defaultModel
        return try ModelBundle(directory: dir)
    }

    /// The engine over the loaded model and its prompt templates.
    func makeEngine() throws -> ChatEngine {
        let bundle = try loadBundle()
        return ChatEngine(bundle: bundle, templates: try bundle.templates(family: chatTemplate, prompts: prompts), videoCacheBytes: videoCacheMb << 20)
    }
}

/// How a video is sampled: the request's plan settings as flags (nil: the plan decides).
struct VideoOptions: ParsableArguments {
    @Option(help: "Frames to sample (default: from the budget plan).")
    var frames: Int?

    @Option(help: "Square crop size, a multiple of the patch size (default: from the budget plan).")
    var resolution: Int?

    @Option(help: "Visual token budget K kept by the selector (default: \(RequestDefaults.budgetHelp)).")
    var budget: Int?

    var settings: RequestSettings { RequestSettings(frames: frames, resolution: resolution, budget: budget) }
}

/// Which part of the video is sampled.
struct SpanOptions: ParsableArguments {
    @Option(help: "Start of the sampled span in seconds (default: start of the clip).")
    var start: Double?

    @Option(help: "End of the sampled span in seconds (default: end of the clip).")
    var end: Double?

    var settings: RequestSettings { RequestSettings(start: start, end: end) }
}

/// How replies are sampled: the request's sampling settings as flags.
struct SamplingFlags: ParsableArguments {
    @Option(help: "Most tokens to generate (default: \(RequestDefaults.maxTokens)).")
    var maxTokens: Int?

    @Option(help: "Sampling temperature; 0 is greedy (default: \(RequestDefaults.temperature)).")
    var temperature: Float?

    @Option(help: "Keep the k most likely tokens; 0 is off (default: \(RequestDefaults.topK)).")
    var topK: Int?

    @Option(help: "Nucleus sampling threshold; 1 is off (default: \(RequestDefaults.topP)).")
    var topP: Float?

    @Option(help: "Random seed; the same seed gives the same output (default: \(RequestDefaults.seed)).")
    var seed: UInt64?

    var settings: RequestSettings {
        RequestSettings(maxTokens: maxTokens, temperature: temperature, topK: topK, topP: topP, seed: seed)
    }
}

extension ChatTemplateFamily: ExpressibleByArgument {}
