import ArgumentParser
import FluxChat
import FluxCore
import Foundation

/// `fluxchat tokens`: where the token budget went, as a picture.
struct TokensCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens",
        abstract: "Write a picture of the sampled frames with the patches the selector dropped dimmed.",
        discussion: "Frames are laid out left to right, top to bottom; kept patches keep their colours, dropped ones are shown at a quarter of their brightness.")

    @OptionGroup var model: ModelOptions

    @Option(help: "Video file, gif or frame folder.")
    var video: String

    @OptionGroup var videoOptions: VideoOptions
    @OptionGroup var span: SpanOptions

    @Option(help: "Output PNG file.")
    var out = "tokens.png"

    @OptionGroup var threads: ThreadOptions

    func run() throws {
        try threads.apply()
        let engine = try model.makeEngine()
        let (v, _) = try engine.encode(engine.plan(videoOptions.settings.over(span.settings), video: video))
        let cfg = try engine.bundle.videoParts().vision.config
        try SelectionPicture.write(v, patchSize: cfg.patchSize, tubeletSize: cfg.tubeletSize, to: out)
        print("wrote \(out): \(v.frames.count) frames at \(v.key.resolution) px, \(v.kept.count) of \(v.gridT * v.gridL) patches kept (budget \(v.key.budget))")
    }
}
