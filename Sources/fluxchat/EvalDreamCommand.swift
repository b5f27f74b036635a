import ArgumentParser
import FluxChat
import FluxCore
import FluxEval
import Foundation

struct EvalDreamCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dream",
        abstract: "Dream-1k: describe each clip (\"Describe the video in detail.\") and write the prediction into its record.",
        discussion: """
        --data is Tarsier's DREAM-1k.jsonl (messages or flat format) or the HF metadata.json. Clips are \
        <media>/<vid>.mp4 (metadata: the file name of video_file). predictions.jsonl holds the input records \
        unchanged except the prediction (messages: the assistant item's text; flat: text.prediction; metadata: \
        prediction), so Tarsier's evaluator reads it; a clip that fails gets "<error>", as Tarsier writes.
        """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var common: EvalRunOptions

    @Option(help: "DREAM-1k.jsonl (either Tarsier format) or metadata.json.")
    var data: String

    @Option(help: "Folder of the clips.")
    var media: String

    @Option(help: "Most tokens per description (Tarsier2's max_new_tokens).")
    var maxTokens = RequestDefaults.dreamMaxTokens

    @OptionGroup var threads: ThreadOptions

    func run() throws {
        try threads.apply()
        let selection = try common.selection()
        let (answerer, modelSettings) = try model.makeAnswerer()
        let config = DreamConfig(video: common.video.settings, maxTokens: maxTokens,
                                 seed: common.seed, mediaDir: media, selection: selection, outDir: common.output.out,
                                 progress: !common.output.noProgress, extraSettings: modelSettings)
        let summary = try DreamRunner.run(path: data, answerer: answerer, config: config)
        print(try JSONValue(checking: summary.filter { $0.key != "settings" }).stable(pretty: true))
    }
}
