import FluxChat
import Foundation
import XCTest

/// `--help` states each default from the one table, and out-of-range values are refused with the
/// request field's name, the same for flags and JSON.
final class HelpDefaultsTests: XCTestCase {
    func testHelpQuotesTheDefaultsTable() throws {
        let d = RequestDefaults.self
        for command in ["ask", "chat"] {
            let r = try CLI.run([command, "--help"])
            XCTAssertEqual(r.status, 0, r.stderr)
            let help = r.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            for phrase in ["(default: \(d.budgetHelp))", "(default: \(d.maxTokens))", "(default: \(d.temperature))",
                           "(default: \(d.topK))", "(default: \(d.topP))", "(default: \(d.seed))"] {
                XCTAssertTrue(help.contains(phrase), "\(command) --help lacks \(phrase):\n\(r.stdout)")
            }
        }
        // The tools without a budget plan quote the same table.
        for (command, phrases) in [("probe", ["(default: \(d.toolFrames))", "(default: \(d.toolResolution))"]),
                                   ("bench", ["(default: \(d.toolFrames))", "(default: \(d.toolResolution))"]),
                                   ("encode", ["or \(d.encodeFrames) without --budget", "or \(d.toolResolution) without --budget"])] {
            let r = try CLI.run([command, "--help"])
            let help = r.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            for phrase in phrases { XCTAssertTrue(help.contains(phrase), "\(command) --help lacks \(phrase):\n\(r.stdout)") }
        }
        let mv = try CLI.run(["eval", "mvbench", "--help"])
        XCTAssertTrue(mv.stdout.contains("(default: \(d.mvbenchMaxTokens))"), mv.stdout)
        XCTAssertTrue(mv.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ").contains("(default: \(d.budgetHelp))"), mv.stdout)
    }

    func testOutOfRangeFlagNamesTheField() throws {
        let r = try CLI.run(["ask", "--model", "Tests/FluxChatTests/Fixtures/tiny_bundle", "--max-tokens=-1", "hi"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("bad_request") && r.stderr.contains("max_tokens"), r.stderr)
        let f = try CLI.run(["ask", "--model", "Tests/FluxChatTests/Fixtures/tiny_bundle", "--video",
                             "Tests/FluxChatTests/Fixtures/clip.mp4", "--frames", "5000", "hi"])
        XCTAssertEqual(f.status, 1)
        XCTAssertTrue(f.stderr.contains("budget_out_of_range") && f.stderr.contains("frames must be between 1 and"), f.stderr)
        XCTAssertFalse(f.stderr.contains("--frames"), "library messages name the field, not the flag: \(f.stderr)")
    }
}
