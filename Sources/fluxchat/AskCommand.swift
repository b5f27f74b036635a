import ArgumentParser
import FluxChat
import FluxCore
import FluxLM
import Foundation

/// `fluxchat ask`: one answer about a video (or a text-only prompt with `--llm` alone).
struct AskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ask",
        abstract: "Answer one question about a video (or one text prompt with the language model alone).",
        discussion: """
        With a model (--model, or --vision/--projector/--llm) the question goes through the chat template, \
        with the video spliced in when --video is given; the answer streams to stdout. --options a,b,c uses the \
        multiple-choice template and prints the chosen letter and option as "(B) b". --json prints one JSON \
        object instead: {"text", "choice", "stop", "stats"}.
        With --llm alone (no --vision/--projector/--model; a Hugging Face folder or a .gguf file) the language \
        model answers text only: without --raw the question goes through the model's chat format (--chat-template, \
        else the family of the model's own template: ChatML, Llama 2, Llama 3; else "User: <prompt>\\nAssistant:") \
        and a newline ends the output; with --raw the input is exactly the prompt's tokens (after BOS when the \
        model uses one) and stdout carries only the continuation.
        """)

    @OptionGroup var model: ModelOptions

    @Option(help: "Video file, gif or frame folder the question is about (default: none, text only).")
    var video: String?

    @OptionGroup var videoOptions: VideoOptions
    @OptionGroup var span: SpanOptions

    @Option(help: "Multiple-choice options, comma-separated (default: none, free answer).")
    var options: String?

    @Flag(help: "Print one JSON object with the text, choice, stop reason and stats.")
    var json = false

    @Flag(help: "Text-only --llm mode: no chat template; the prompt's tokens (after BOS when the model uses one); print only the continuation.")
    var raw = false

    @Flag(help: "With --raw: the prompt is comma-separated token ids and stdout is the generated ids as a JSON array (no tokenizer involved).")
    var tokenIds = false

    @OptionGroup var generation: SamplingFlags

    @Option(help: "Drop tokens below this fraction of the best token's probability; 0 is off (default: \(RequestDefaults.minP)).")
    var minP: Float?

    @Option(help: "Repetition penalty over prompt and output; 1 is off (default: \(RequestDefaults.repetitionPenalty)).")
    var repetitionPenalty: Float?

    @Option(name: .customLong("stop"), help: "Stop string (repeatable; default: none).")
    var stopStrings: [String] = []

    @OptionGroup var threads: ThreadOptions

    @Argument(help: "The question.")
    var prompt: String

    func validate() throws {
        if model.textOnly {
            guard video == nil else {
                throw ValidationError("--video needs a full model (--model, or --vision, --projector and --llm)")
            }
            if raw, options != nil || json { throw ValidationError("--raw takes neither --options nor --json") }
        } else if raw {
            throw ValidationError("--raw applies to --llm alone (text only)")
        }
        if tokenIds, !raw { throw ValidationError("--token-ids needs --raw") }
    }

    /// Everything the flags ask for, as one request's settings.
    var settings: RequestSettings {
        var s = generation.settings.over(videoOptions.settings.over(span.settings))
        s.minP = minP
        s.repetitionPenalty = repetitionPenalty
        s.stop = stopStrings
        return s
    }

    func run() throws {
        try threads.apply()
        if raw, let llm = model.llm { return try runRaw(llm: llm) }
        let engine = try model.makeEngine()
        var choices: [String]?
        if let options {
            choices = options.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        }
        let request = ChatRequest(messages: [ChatMessage(role: .user, content: prompt)], video: video, options: choices,
                                  settings: settings)
        let stdout = FileHandle.standardOutput
        let reply = try engine.respond(request) { piece in
            if !json { stdout.write(Data(piece.utf8)) }
            return true
        }
        if json {
            var fields: [(String, JSONValue)] = [("text", .string(reply.text))]
            if let c = reply.choice { fields.append(("choice", .string(c))) }
            fields += [("stop", .string(reply.stop)), ("stats", reply.stats.json)]
            stdout.write(Data((JSONValue.object(fields).encoded + "\n").utf8))
        } else {
            stdout.write(Data("\n".utf8))
        }
    }

    /// `--raw`: the prompt's tokens straight into the language model, only the continuation out.
    private func runRaw(llm: String) throws {
        if tokenIds { return try runTokenIds(llm: llm) }
        let (lm, tokenizer, _) = try LanguageModelFiles.load(llm: llm)
        let ids = try tokenizer.encode(prompt, addBOS: true)
        let generator = Generator(model: lm, tokenizer: tokenizer)
        _ = try generator.generate([.tokens(ids)], options: try RequestResolver.sampling(settings)) { piece in
            FileHandle.standardOutput.write(Data(piece.utf8))
            return true
        }
    }

    /// --raw --token-ids: the prompt's ids as given (no BOS added); prints the generated ids.
    private func runTokenIds(llm: String) throws {
        let lm = try LanguageModelFiles.model(llm: llm)
        let ids = try prompt.split(separator: ",").map { s -> Int32 in
            guard let i = Int32(s.trimmingCharacters(in: .whitespaces)) else {
                throw FluxError(.badRequest, "--token-ids: '\(s)' is not a token id")
            }
            return i
        }
        guard !ids.isEmpty else { throw FluxError(.badRequest, "--token-ids: the prompt holds no ids") }
        let options = try RequestResolver.sampling(settings)
        let out = try lm.generateIds(prompt: ids, options: options, stopIds: Set(lm.config.eosTokenIds))
        FileHandle.standardOutput.write(Data(("[" + out.map(String.init).joined(separator: ",") + "]\n").utf8))
    }
}
