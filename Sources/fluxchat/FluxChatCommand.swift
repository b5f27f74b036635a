import ArgumentParser
import FluxCore

@main
struct FluxChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fluxchat",
        abstract: "Answer questions about videos on the CPU: FluxViT encoder + projector + Llama-family LM.",
        discussion: "Each subcommand has its own --help. Errors print as 'Error: <code>: <message>' with exit code 1.",
        version: FluxVersion.string,
        subcommands: [ChatCommand.self, AskCommand.self, ServeCommand.self, TokenizeCommand.self, TokensCommand.self, EncodeCommand.self,
                      ProbeCommand.self, BenchCommand.self, EvalCommand.self],
        defaultSubcommand: ChatCommand.self
    )
}

/// Options every compute-heavy command takes.
struct ThreadOptions: ParsableArguments {
    @Option(help: "Threads for BLAS and the kernels (default: all cores).")
    var threads: Int?

    func apply() throws {
        if let threads {
            guard (1...256).contains(threads) else {
                throw FluxError(.badRequest, "--threads must be between 1 and 256, got \(threads)")
            }
            Threads.set(threads)
        }
    }
}
