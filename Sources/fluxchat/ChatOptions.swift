import ArgumentParser
import FluxChat
import FluxCore
import FluxLM
import Foundation

/// Where the model comes from: a bundle folder, or the three parts.
struct ModelOptions: ParsableArguments {
    static let defaultModel = "weights/fluxchat-tiny"

    @Option(help: ArgumentHelp("Model bundle folder (config.json, *.safetensors, tokenizer.model).",
                               discussion: "Default: $FLUXCHAT_MODEL, else \(defaultModel) (the shipped model)."))
    var model: String?

    @Option(help: "Vision part: FluxViT folder (config.json + model.safetensors); needs --projector and --llm.")
    var vision: String?

    @Option(help: "Projector part: safetensors file (fc1.*, fc2.*; metadata type, pool).")
    var projector: String?

    @Option(help: "Language-model part: Hugging Face Llama folder with tokenizer.model.")
    var llm: String?

    @Option(help: "Folder with chat.txt, mvbench.txt, dream.txt (default: the model folder's prompts/, else the built-in copies of prompts/).")
    var prompts: String?

    @Option(help: "Memory for encoded videos kept for follow-up questions, in MiB.")
    var videoCacheMb = 512

    var partsGiven: Bool { vision != nil || projector != nil || llm != nil }

    func validate() throws {
        guard videoCacheMb >= 0, videoCacheMb <= 1 << 20 else { throw ValidationError("--video-cache-mb must be in 0...\(1 << 20)") }
    }

    func loadBundle() throws -> ModelBundle {
        if partsGiven {
            guard let vision, let projector, let llm, model == nil else {
                throw FluxError(.badRequest, "give --model, or all three parts --vision, --projector and --llm")
            }
            return try ModelBundle(vision: vision, projector: projector, llm: llm)
        }
        let dir = model ?? ProcessInfo.processInfo.environment["FLUXCHAT_MODEL"] ?? Self.defaultModel
        return try ModelBundle(directory: dir)
    }

    /// The budget used when neither the command line nor a request names one, and the model's
    /// config has no `default_budget`.
    static let fallbackBudget = 1024

    /// The engine; its default budget is `budget`, else the model's `default_budget`, else 1024.
    func makeEngine(budget: Int?) throws -> ChatEngine {
        let bundle = try loadBundle()
        let templates = try PromptTemplates.resolve(override: prompts, modelDirectory: bundle.directory)
        return ChatEngine(bundle: bundle, templates: templates, videoCacheBytes: videoCacheMb << 20,
                          defaultBudget: budget ?? bundle.vision.config.defaultBudget ?? Self.fallbackBudget)
    }
}

/// How a video is sampled.
struct VideoOptions: ParsableArguments {
    @Option(help: "Frames to sample (default: from the budget plan).")
    var frames: Int?

    @Option(help: "Square crop size, a multiple of the patch size (default: from the budget plan).")
    var resolution: Int?

    @Option(help: "Visual token budget K kept by the selector (default: the model's default_budget, else 1024).")
    var budget: Int?

    @Option(help: "Start of the sampled span in seconds (default: start of the clip).")
    var start: Double?

    @Option(help: "End of the sampled span in seconds (default: end of the clip).")
    var end: Double?

    func spec(_ path: String) -> VideoSpec {
        VideoSpec(path: path, frames: frames, resolution: resolution, budget: budget, start: start, end: end)
    }
}

/// How replies are sampled.
struct SamplingFlags: ParsableArguments {
    @Option(help: "Most tokens to generate.")
    var maxTokens = 256

    @Option(help: "Sampling temperature; 0 is greedy.")
    var temperature: Float = 0

    @Option(help: "Keep the k most likely tokens (0 = off).")
    var topK = 0

    @Option(help: "Nucleus sampling threshold (1 = off).")
    var topP: Float = 1

    @Option(help: "Random seed; the same seed gives the same output.")
    var seed: UInt64 = 0

    var options: SamplingOptions {
        SamplingOptions(temperature: temperature, topK: topK, topP: topP, seed: seed, maxTokens: maxTokens)
    }
}
