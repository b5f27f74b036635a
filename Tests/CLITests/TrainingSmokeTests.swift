import FluxChat
import Foundation
import XCTest

/// The training recipe still runs end to end: every stage for a few steps on tiny shapes, the export,
/// and the exported bundle answering through the Swift program. Needs PyTorch (the venv of README's
/// Development section: $FLUXCHAT_PYTHON, else `python3`); where it is missing the test is skipped
/// and says so (CI has no PyTorch).
final class TrainingSmokeTests: XCTestCase {
    func testEveryStageRunsAndTheExportedBundleAnswers() throws {
        let python = ProcessInfo.processInfo.environment["FLUXCHAT_PYTHON"] ?? "python3"
        let scripts = CLI.repoRoot.appendingPathComponent("scripts").path
        guard run(python, ["-c", "import torch, transformers, sentencepiece, gguf, accelerate"], cwd: scripts).status == 0 else {
            throw XCTSkip("PyTorch (with transformers, sentencepiece, gguf and accelerate: scripts[train]) is not installed for \(python): "
                + "training smoke test skipped; set FLUXCHAT_PYTHON to the training venv's python to run it")
        }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("fluxchat-smoke-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let stages = run(python, ["-m", "fluxtools.stages.smoke", "--out", out.path], cwd: scripts)
        XCTAssertEqual(stages.status, 0, stages.output)
        for name in ["stage 1 encoder", "stage 2 language", "stage 3 align", "export", "stage 2 language, slot table",
                     "stage 3 resampler", "export, slot table", "stage 3c phrases", "smol tables",
                     "smol adapter, slot table", "smol adapter weights", "export, smol slot table", "transplant"] {
            XCTAssertTrue(stages.output.contains("\(name): ok"), stages.output)
        }
        let bundle = out.appendingPathComponent("bundle").path
        let r = try CLI.run(["ask", "--model", bundle, "--video", "weights/examples/01_purple_star_up.mp4",
                             "--max-tokens", "4", "--json", "What colour is the object that moves?"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let reply = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let stats = try XCTUnwrap(reply["stats"] as? [String: Any])
        // The bundle's own default budget (16 tokens at 4x56) reached the encoder: 16 patches + CLS.
        XCTAssertEqual(stats["budget"] as? Int, 16)
        XCTAssertEqual(stats["visual_tokens"] as? Int, 17)
        XCTAssertLessThanOrEqual(stats["generated_tokens"] as? Int ?? 99, 4)

        // The slot-table bundle: its config carries stage 2's line echo, and its fixed table (10
        // lines of 9 rows) reaches the LM whatever the budget.
        let sconfig = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("sbundle/config.json")))
        let projector = try XCTUnwrap((sconfig as? [String: Any])?["projector"] as? [String: Any])
        XCTAssertEqual(projector["echo_columns"] as? [Int], [1, 2, 3, 4])
        for budget in ["16", "32"] {
            let w = try CLI.run(["ask", "--model", out.appendingPathComponent("sbundle").path, "--video",
                                 "weights/examples/01_purple_star_up.mp4", "--budget", budget, "--max-tokens", "4", "--json",
                                 "How many objects move?"])
            XCTAssertEqual(w.status, 0, w.stderr)
            let wreply = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(w.stdout.utf8)) as? [String: Any])
            let wstats = try XCTUnwrap(wreply["stats"] as? [String: Any])
            XCTAssertEqual(wstats["visual_tokens"] as? Int, 90, "budget \(budget)")
        }

        // Stage 3c's bundle: the slot table's motion and end rows chosen as phrases, and it answers.
        let pconfig = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("pbundle/config.json")))
        let pprojector = try XCTUnwrap((pconfig as? [String: Any])?["projector"] as? [String: Any])
        XCTAssertEqual((pprojector["phrases"] as? [Any])?.count, 2)
        let p = try CLI.run(["ask", "--model", out.appendingPathComponent("pbundle").path, "--video",
                             "weights/examples/01_purple_star_up.mp4", "--max-tokens", "4", "Which way does it move?"])
        XCTAssertEqual(p.status, 0, p.stderr)

        // fluxchat-smol's slot table on the GGUF fixture's language model: the table's 90 rows
        // reach the ChatML prompt, the adapter beside the bundle is merged, and its scene's moving
        // count is the count of the lines that move (config count_row, slots.count_row); the lines
        // of objects that stay say so (config kept_word with its tensor, slots.with_kept).
        let mconfig = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("mbundle/config.json")))
        let mprojector = try XCTUnwrap((mconfig as? [String: Any])?["projector"] as? [String: Any])
        XCTAssertEqual((mprojector["count_row"] as? [String: Any])?["lines"] as? [Int], Array(0..<8))
        XCTAssertEqual((mprojector["kept_word"] as? [String: Any])?["lines"] as? [Int], Array(0..<8))
        let m = try CLI.run(["ask", "--model", out.appendingPathComponent("mbundle").path, "--video",
                             "weights/examples/01_purple_star_up.mp4", "--max-tokens", "4", "--json", "How many objects move?"])
        XCTAssertEqual(m.status, 0, m.stderr)
        let mreply = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(m.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((mreply["stats"] as? [String: Any])?["visual_tokens"] as? Int, 90)

        // The smol bundle's table read by the slot-table bundle's language model: the reader's line
        // echo and the table's count_row come along, the smol reader's kept_word does not.
        let tconfig = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("tbundle/config.json")))
        let tprojector = try XCTUnwrap((tconfig as? [String: Any])?["projector"] as? [String: Any])
        XCTAssertEqual(tprojector["echo_columns"] as? [Int], [1, 2, 3, 4])
        XCTAssertEqual((tprojector["count_row"] as? [String: Any])?["lines"] as? [Int], Array(0..<8))
        XCTAssertNil(tprojector["kept_word"])
        // rtbundle: the same after stage 3b trained the reader's LM, grown and widened from 32 to 64, on
        // that table (fluxchat-tiny's recipe), its matrices stored in Q8_0 (I8 values and F16 scales).
        let rtconfig = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("rtbundle/config.json")))
        let rtllm = try XCTUnwrap((rtconfig as? [String: Any])?["llm"] as? [String: Any])
        XCTAssertEqual(rtllm["hidden_size"] as? Int, 64)
        XCTAssertEqual(rtllm["num_hidden_layers"] as? Int, 2)
        let rtweights = try SafeTensorsFile(path: out.appendingPathComponent("rtbundle/model.safetensors").path)
        XCTAssertEqual(rtweights.tensors["llm.model.layers.1.mlp.down_proj.weight"]?.dtype, .i8)
        XCTAssertEqual(rtweights.tensors["llm.model.layers.1.mlp.down_proj.weight_scale"]?.shape, [64, 4])
        for name in ["tbundle", "rtbundle"] {
            let t = try CLI.run(["ask", "--model", out.appendingPathComponent(name).path, "--video",
                                 "weights/examples/01_purple_star_up.mp4", "--max-tokens", "4", "--json", "How many objects move?"])
            XCTAssertEqual(t.status, 0, name + ": " + t.stderr)
            let treply = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(t.stdout.utf8)) as? [String: Any])
            XCTAssertEqual((treply["stats"] as? [String: Any])?["visual_tokens"] as? Int, 90, name)
        }
    }

    /// Runs a program found on PATH; stdout and stderr together.
    private func run(_ program: String, _ args: [String], cwd: String) -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [program] + args
        p.currentDirectoryURL = URL(fileURLWithPath: cwd)
        var env = ProcessInfo.processInfo.environment
        env["PYTHONPATH"] = cwd + (env["PYTHONPATH"].map { ":" + $0 } ?? "")
        p.environment = env
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        do { try p.run() } catch { return (127, "\(program): \(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
