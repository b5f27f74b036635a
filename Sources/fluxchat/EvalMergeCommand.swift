import ArgumentParser
import FluxCore
import FluxEval
import Foundation

struct EvalMergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Join the output folders of shard runs into one (samples or predictions, settings, results).")

    @Option(help: "Folder for the merged output.")
    var out: String

    @Argument(help: "Run folders to merge (their settings.json must agree).")
    var dirs: [String]

    func run() throws {
        let results = try EvalMerge.merge(dirs: dirs, outDir: out)
        if results["tasks"] != nil { print(MVBenchResults.table(results), terminator: "") } else {
            print(try JSONValue(checking: results).stable(pretty: true))
        }
    }
}
