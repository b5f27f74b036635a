import ArgumentParser
import FluxChat
import FluxCore
import FluxEval
import Foundation

struct EvalSweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Token Optimization search: MVBench accuracy of each (frames, resolution) plan at each budget.",
        discussion: """
        Runs every plan of the grid on the selected questions (use --limit/--offset to pick a validation split), each \
        plan in <out>/b<budget>_f<frames>_r<resolution>/ (resumable), and writes <out>/sweep.json (all plans, the best per \
        budget) and <out>/sweep.svg (accuracy against budget). --write stores the best plan per budget in the model's \
        config.json (vision.budgets), which later runs use when --frames/--resolution are not given.
        """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var data: MVBenchDataOptions
    @OptionGroup var output: EvalOutputOptions
    @OptionGroup var answers: MVBenchAnswerOptions

    @Option(help: "Budgets to sweep, comma-separated.")
    var budgets = "256,512,1024,2048"

    @Option(help: "Frame counts to try, comma-separated.")
    var frames = "4,8,16"

    @Option(help: "Resolutions to try, comma-separated (multiples of the patch size).")
    var resolutions = "112,168,224"

    @Flag(help: "Write the best plan per budget into the model's config.json (vision.budgets).")
    var write = false

    @OptionGroup var threads: ThreadOptions

    func run() throws {
        try threads.apply()
        let rule = try answers.rule()
        let b = try parseIntList(budgets, option: "--budgets"), f = try parseIntList(frames, option: "--frames")
        let r = try parseIntList(resolutions, option: "--resolutions")
        let selection = RunSelection(offset: output.offset, limit: output.limit)
        try selection.validate()
        let items = try data.load()
        let (answerer, modelSettings) = try model.makeAnswerer()
        if write, answerer.engine.bundle.directory == nil { throw FluxError(.badRequest, "--write needs --model (a bundle folder)") }
        let base = MVBenchConfig(match: rule, scoring: try answers.scoringMode(), maxTokens: answers.maxTokens,
                                 selection: selection, outDir: output.out, progress: !output.noProgress, extraSettings: modelSettings)
        let (points, best) = try BudgetSweep.run(items: items, answerer: answerer, budgets: b, frames: f, resolutions: r, base: base)
        print("budget  frames  resolution  accuracy %")
        for p in points {
            let mark = best[p.budget] == p ? "  *" : ""
            print(String(format: "%6d  %6d  %10d  %10.2f", p.budget, p.frames, p.resolution, p.accuracy) + mark)
        }
        if write, let dir = answerer.engine.bundle.directory {
            let path = (dir as NSString).appendingPathComponent("config.json")
            try BudgetSweep.writeBudgets(best, configPath: path)
            FileHandle.standardError.write(Data("sweep: wrote the best plans into \(path)\n".utf8))
        }
    }
}
