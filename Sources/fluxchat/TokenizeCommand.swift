import ArgumentParser
import FluxChat
import FluxCore
import FluxLM
import Foundation

/// `fluxchat tokenize`: the ids of a text, as llama.cpp's tokenize tool prints them.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids of a text as JSON (only the tokenizer loads).",
        discussion: """
            The tokenizer is the language model's: a folder's tokenizer.model (SentencePiece) or tokenizer.json \
            (byte-level BPE), or a .gguf file's own vocabulary. Special tokens written in the text \
            (<|im_start|>, </s>) become their ids; BOS leads when the model puts it there. Prints [id, ...]; \
            with --pieces [{"id": id, "piece": "vocabulary string"}, ...].
            """)

    @Option(help: "Language model: a Hugging Face folder or a .gguf file.")
    var llm: String

    @Flag(help: "Print each id with its vocabulary string.")
    var pieces = false

    @Flag(help: "Never put BOS in front, whatever the model does.")
    var noBos = false

    @Argument(help: "The text.")
    var text: String

    func run() throws {
        let tokenizer = try LanguageModelFiles.tokenizer(llm: llm)
        let ids = try tokenizer.encode(text, addBOS: !noBos)
        let out: JSONValue = pieces
            ? .array(ids.map { .object([("id", .int(Int($0))), ("piece", .string(tokenizer.piece($0) ?? ""))]) })
            : .array(ids.map { .int(Int($0)) })
        FileHandle.standardOutput.write(Data((out.encoded + "\n").utf8))
    }
}
