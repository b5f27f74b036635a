import FluxChat
import FluxCore
import Foundation
import XCTest

/// The "slot_resampler" projector against PyTorch's `Resampler` (Fixtures/resampler.safetensors,
/// Fixtures/README.md), its row count, its shape checks, and a bundle that uses it.
final class SlotResamplerTests: XCTestCase {
    static let fixture = Fixtures.root.appendingPathComponent("resampler.safetensors").path
    /// The variant that reads token positions (`python -m fluxtools.fixtures.resampler --positions`).
    static let positionsFixture = Fixtures.root.appendingPathComponent("resampler_positions.safetensors").path
    /// That variant with the per-token MLP and line echo of column 1 (`python -m fluxtools.fixtures.resampler --full`).
    static let fullFixture = Fixtures.root.appendingPathComponent("resampler_full.safetensors").path
    /// That variant with phrase groups (`python -m fluxtools.fixtures.resampler --phrases`).
    static let phrasesFixture = Fixtures.root.appendingPathComponent("resampler_phrases.safetensors").path
    /// That variant with a glimpse (`python -m fluxtools.fixtures.resampler --glimpse`).
    static let glimpseFixture = Fixtures.root.appendingPathComponent("resampler_glimpse.safetensors").path
    static let names = ["queries", "k.weight", "k.bias", "v.weight", "v.bias", "fc1.weight", "fc1.bias",
                        "fc2.weight", "fc2.bias", "words", "tags"]

    func resampler(_ path: String = fixture, pool: String = "none", inputDim: Int? = 16, rowsPerToken: Int? = nil,
                   heads: Int? = 2, rowsPerQuery: Int? = 2, echo: [Int]? = nil, phrases: [PhraseGroup] = [],
                   countRow: CountRow? = nil, keptWord: KeptWord? = nil) throws -> Projector {
        try Projector(weights: SafeTensorsFile(path: path), prefix: "projector.", type: "slot_resampler", pool: pool,
                      inputDim: inputDim, hiddenDim: 12, outputDim: 6, rowsPerToken: rowsPerToken,
                      heads: heads, rowsPerQuery: rowsPerQuery, echoColumns: echo, phrases: phrases, countRow: countRow,
                      keptWord: keptWord)
    }

    /// The phrase groups of the fixture's metadata (the bundle config's JSON).
    func fixturePhrases() throws -> [PhraseGroup] {
        let text = try XCTUnwrap(SafeTensorsFile(path: Self.phrasesFixture).metadata["phrases"])
        guard case .array(let items) = try JSONValue.parse(Data(text.utf8), source: "phrases") else {
            XCTFail("fixture metadata phrases is not a JSON array")
            return []
        }
        return try PhraseGroup.list(items, field: "phrases")
    }

    /// Rows chosen together as phrases against PyTorch: lines 0 and 1 hold the marginals of the
    /// softmax over their phrases; without the groups the rows differ.
    func testPhrasesMatchPyTorch() throws {
        let file = try SafeTensorsFile(path: Self.phrasesFixture)
        let phrases = try fixturePhrases()
        XCTAssertEqual(phrases, [PhraseGroup(lines: [0, 1], rows: [0, 1], words: [[0, 1], [2, 3], [4, 4], [1, 0], [3, 2]])])
        let pos = try file.tensor("positions"), tokens = try file.tensor("tokens"), want = try file.tensor("expected")
        func maxDiff(_ p: Projector, rows: Range<Int> = 0..<6) throws -> Float {
            let y = try p(tokens, positions: pos)
            return rows.flatMap { r in (0..<6).map { abs(y.data[r * 6 + $0] - want.data[r * 6 + $0]) } }.max() ?? .infinity
        }
        let p = try resampler(Self.phrasesFixture, echo: [1], phrases: phrases)
        XCTAssertTrue(p.summary.encoded.contains(#""phrase_groups":1"#), p.summary.encoded)
        let diff = try maxDiff(p)
        XCTAssertLessThan(diff, 1e-4, "max abs diff \(diff)")
        let plain = try resampler(Self.phrasesFixture, echo: [1])
        XCTAssertGreaterThan(try maxDiff(plain, rows: 0..<4), 1e-2, "lines 0-1 without the phrases")
        XCTAssertLessThan(try maxDiff(plain, rows: 4..<6), 1e-4, "line 2 is in no group")
    }

    /// A malformed group is a model error naming it; phrases on an MLP projector too.
    func testMalformedPhrasesAreModelErrors() throws {
        let cases: [(String, PhraseGroup)] = [
            ("lines", PhraseGroup(lines: [3], rows: [0, 1], words: [[0, 1]])),
            ("rows", PhraseGroup(lines: [0], rows: [0, 2], words: [[0, 1]])),
            ("rows", PhraseGroup(lines: [0], rows: [1, 1], words: [[0, 1]])),
            ("words[0]", PhraseGroup(lines: [0], rows: [0, 1], words: [[0]])),
            ("words[1]", PhraseGroup(lines: [0], rows: [0, 1], words: [[0, 1], [0, 5]])),
            ("words is empty", PhraseGroup(lines: [0], rows: [0, 1], words: [])),
        ]
        for (field, group) in cases {
            XCTAssertThrowsError(try resampler(Self.phrasesFixture, echo: [1], phrases: [group]), field) {
                XCTAssertEqual(($0 as? FluxError)?.code, .modelInvalid, "\(field): \($0)")
                XCTAssertTrue("\($0)".contains("phrases[0]") && "\($0)".contains(field), "\(field): \($0)")
            }
        }
        let overlap = [PhraseGroup(lines: [0, 1], rows: [0, 1], words: [[0, 1]]), PhraseGroup(lines: [1], rows: [1], words: [[2]])]
        XCTAssertThrowsError(try resampler(Self.phrasesFixture, echo: [1], phrases: overlap)) {
            XCTAssertTrue("\($0)".contains("phrases[1]") && "\($0)".contains("earlier group"), "\($0)")
        }
        for (name, json) in [("phrases[0] holds", #"[3]"#), ("phrases[0].lines[1] holds", #"[{"lines": [0, "a"], "rows": [0], "words": [[0]]}]"#),
                             ("phrases[0].words", #"[{"lines": [0], "rows": [0]}]"#)] {
            guard case .array(let items) = try JSONValue.parse(Data(json.utf8), source: "test") else { return XCTFail(json) }
            XCTAssertThrowsError(try PhraseGroup.list(items, field: "phrases"), json) {
                XCTAssertEqual(($0 as? FluxError)?.code, .modelInvalid, "\(json): \($0)")
                XCTAssertTrue("\($0)".contains(name), "\(json): \($0)")
            }
        }
        XCTAssertThrowsError(try Projector(weights: SafeTensorsFile(path: Fixtures.bundlePath + "/model.safetensors"), prefix: "projector.",
                                           type: "mlp2x_gelu", pool: "none", inputDim: nil, hiddenDim: nil, outputDim: nil,
                                           phrases: [PhraseGroup(lines: [0], rows: [0], words: [[0]])])) {
            XCTAssertTrue("\($0)".contains("phrases does not apply to mlp2x_gelu"), "\($0)")
        }
    }

    func testMatchesPyTorch() throws {
        let file = try SafeTensorsFile(path: Self.fixture)
        let p = try resampler()
        XCTAssertEqual(p.kind, .slotResampler)
        XCTAssertEqual(p.rows, .fixed(6))
        XCTAssertNil(p.rowsPerToken)
        XCTAssertEqual([p.inputDim, p.hiddenDim, p.outputDim], [16, 12, 6])
        for suffix in ["", "_1"] {
            let y = try p(file.tensor("tokens" + suffix)), want = try file.tensor("expected" + suffix)
            XCTAssertEqual(y.shape, [6, 6])
            let diff = zip(y.data, want.data).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThan(diff, 1e-4, "tokens\(suffix): max abs diff \(diff)")
        }
    }

    /// Without `tags` each row lacks its line's tag, and nothing else changes.
    func testTagsAreAddedToEveryRowOfTheirLine() throws {
        let file = try SafeTensorsFile(path: Self.fixture)
        let tags = try file.tensor("projector.tags")
        let y = try resampler(try variant("untagged", ["tags": nil]))(file.tensor("tokens"))
        let want = try file.tensor("expected")
        for row in 0..<6 {
            for j in 0..<6 {
                XCTAssertEqual(y.data[row * 6 + j] + tags.data[(row / 2) * 6 + j], want.data[row * 6 + j], accuracy: 1e-4)
            }
        }
        XCTAssertThrowsError(try resampler(try variant("badtags", ["tags": zeros([2, 6])]))) {
            XCTAssertEqual(($0 as? FluxError)?.code, .modelInvalid)
            XCTAssertTrue("\($0)".contains("tags"), "\($0)")
        }
    }

    /// L x R rows whatever the tokens: run, not only counted.
    func testRowCountDoesNotFollowTheTokens() throws {
        let p = try resampler()
        var rng = SplitMix64(seed: 3)
        for n in [1, 7, 300] {
            let y = try p(Tensor(shape: [n, 16], data: (0..<(n * 16)).map { _ in rng.nextNormal() }))
            XCTAssertEqual(y.shape, [6, 6], "N = \(n)")
            XCTAssertEqual(p.outputRows(tokens: n), 6)
            XCTAssertTrue(y.data.allSatisfy { $0.isFinite }, "N = \(n)")
        }
        XCTAssertThrowsError(try p(Tensor(shape: [0, 16]))) { XCTAssertEqual(($0 as? FluxError)?.code, .internal) }
    }

    /// Position features of kept patches, then rows computed with them, against PyTorch; without
    /// the positions such a resampler refuses to run, and the plain one does not ask for them.
    func testPositionsMatchPyTorch() throws {
        let file = try SafeTensorsFile(path: Self.positionsFixture)
        let kept = try file.tensor("kept").data.map { Int($0) }
        let pos = try Projector.positionFeatures(kept: kept, gridT: 3, gridL: 4)
        let wantPos = try file.tensor("positions")
        XCTAssertEqual(pos.shape, [7, 5])
        XCTAssertEqual(pos.shape, wantPos.shape)
        for (a, b) in zip(pos.data, wantPos.data) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        let p = try resampler(Self.positionsFixture)
        XCTAssertTrue(p.readsPositions)
        XCTAssertTrue(p.summary.encoded.contains(#""positions":true"#), p.summary.encoded)
        for (suffix, positions) in [("", pos), ("_1", Tensor(shape: [1, 5], data: Array(pos.data[0..<5])))] {
            let y = try p(file.tensor("tokens" + suffix), positions: positions), want = try file.tensor("expected" + suffix)
            let diff = zip(y.data, want.data).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThan(diff, 1e-4, "tokens\(suffix): max abs diff \(diff)")
        }
        XCTAssertThrowsError(try p(file.tensor("tokens"))) { XCTAssertEqual(($0 as? FluxError)?.code, .internal) }
        XCTAssertFalse(try resampler().readsPositions)
        for (kept, t, l) in [([0, 12], 3, 4), ([0], 3, 5), ([-1], 2, 4)] {
            XCTAssertThrowsError(try Projector.positionFeatures(kept: kept, gridT: t, gridL: l), "\(kept) \(t)x\(l)") {
                XCTAssertEqual(($0 as? FluxError)?.code, .internal)
            }
        }
    }

    /// kp and vp come together and are [A, 5].
    func testMalformedPositionWeightsAreModelErrors() throws {
        for (name, change, word) in [("no-vp", ["vp.weight": nil], "'projector.vp.weight'"),
                                     ("no-kp", ["kp.weight": nil], "'projector.kp.weight'"),
                                     ("kp-shape", ["kp.weight": zeros([8, 4])], "'projector.kp.weight'")] as [(String, [String: TensorBlob?], String)] {
            XCTAssertThrowsError(try resampler(variant(name, change, from: Self.positionsFixture)), name) {
                XCTAssertEqual(($0 as? FluxError)?.code, .modelInvalid, "\(name): \($0)")
                XCTAssertTrue("\($0)".contains(word), "\(name): \($0)")
            }
        }
    }

    /// The per-token MLP (x + tok2(GELU(tok1 x)) before keys and values), the moment features and
    /// line echo against PyTorch, all in the summary; without any of them the rows differ (none is
    /// a no-op here).
    func testTokenMLPAndEchoMatchPyTorch() throws {
        let file = try SafeTensorsFile(path: Self.fullFixture)
        XCTAssertEqual(file.metadata["echo_columns"], "1")
        let pos = try file.tensor("positions"), tokens = try file.tensor("tokens"), want = try file.tensor("expected")
        func maxDiff(_ p: Projector) throws -> Float {
            let y = try p(tokens, positions: pos)
            return zip(y.data, want.data).map { abs($0 - $1) }.max() ?? .infinity
        }
        let p = try resampler(Self.fullFixture, echo: [1])
        for field in [#""token_hidden":10"#, #""moments":true"#, #""echo_columns":[1]"#] {
            XCTAssertTrue(p.summary.encoded.contains(field), p.summary.encoded)
        }
        XCTAssertTrue(try resampler().summary.encoded.contains(#""token_hidden":0,"moments":false,"glimpse":0,"glimpse_pixels":0,"glimpse_time":false,"glimpse_place":false,"echo_columns":[]"#))
        let diff = try maxDiff(p)
        XCTAssertLessThan(diff, 1e-4, "max abs diff \(diff)")
        XCTAssertGreaterThan(try maxDiff(resampler(Self.fullFixture)), 1e-2, "without echo")
        let noMLP = try variant("no-mlp", ["tok1.weight": nil, "tok1.bias": nil, "tok2.weight": nil, "tok2.bias": nil],
                                from: Self.fullFixture)
        XCTAssertGreaterThan(try maxDiff(resampler(noMLP, echo: [1])), 1e-2, "without the token MLP")
        let noMoments = try variant("no-moments", ["mom.weight": nil, "momz.weight": nil], from: Self.fullFixture)
        XCTAssertGreaterThan(try maxDiff(resampler(noMoments, echo: [1])), 1e-2, "without the moments")
    }

    /// The moments of a line whose head covers two tokens: an object at x = -0.5 at t = -1 and at
    /// x = 0.5 at t = 1 moves right with slope (and speed) 0.5 / (1 + 0.02) and reaches x = 0.5 at the end.
    func testMomentFeaturesOfAMovingObject() throws {
        // positions (t, y, x, t*x, t*y): CLS, the object early, the object late.
        let pos: [Float] = [0, 0, 0, 0, 0, -1, 0.2, -0.5, 0.5, -0.2, 1, 0.2, 0.5, 0.5, 0.2]
        let att: [Float] = [0, 0.5, 0.5]
        let f = try Projector.momentFeatures(attention: att, lines: 1, tokens: 3, positions: pos)
        let slope = Float(0.5 / 1.02)
        let want: [Float] = [0, 0.2, 0, 1, 0, 0.25, 0, 0.5, 0, slope, 0.2, slope, slope]
        XCTAssertEqual(f.count, 13)
        for (i, (g, w)) in zip(f, want).enumerated() { XCTAssertEqual(g, w, accuracy: 1e-5, "feature \(i)") }
    }

    /// mom.weight [A, 13] and momz.weight [R x W, 13] come together and need positions.
    /// Places of kept patches, then rows with a glimpse (the 3 x 3 tokens around each line's object),
    /// against PyTorch; the glimpse changes the rows, and without places such a resampler refuses to run.
    func testGlimpseMatchesPyTorch() throws {
        let file = try SafeTensorsFile(path: Self.glimpseFixture)
        let kept = try file.tensor("kept").data.map { Int($0) }
        let places = try Projector.tokenPlaces(kept: kept, gridL: 16)
        XCTAssertEqual(places, try file.tensor("places").data.map { Int($0) })
        let pos = try Projector.positionFeatures(kept: kept, gridT: 2, gridL: 16)
        let p = try resampler(Self.glimpseFixture, echo: [1])
        XCTAssertTrue(p.readsPlaces)
        XCTAssertTrue(p.summary.encoded.contains(#""glimpse":4"#), p.summary.encoded)
        for (suffix, n) in [("", kept.count + 1), ("_1", 1)] {
            let y = try p(file.tensor("tokens" + suffix), positions: Tensor(shape: [n, 5], data: Array(pos.data[0..<(n * 5)])),
                          places: Array(places[0..<(3 * n)]))
            let want = try file.tensor("expected" + suffix)
            let diff = zip(y.data, want.data).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThan(diff, 1e-4, "tokens\(suffix): max abs diff \(diff)")
        }
        let without = try resampler(variant("no-glimpse", ["gproj.weight": nil, "gproj.bias": nil, "gl1.weight": nil, "gl1.bias": nil,
                                                           "gl2.weight": nil, "gl2.bias": nil], from: Self.glimpseFixture), echo: [1])
        XCTAssertFalse(without.readsPlaces)
        let y = try without(file.tensor("tokens"), positions: pos)
        let change = zip(y.data, try file.tensor("expected").data).map { abs($0 - $1) }.max() ?? 0
        XCTAssertGreaterThan(change, 1e-2, "the glimpse changes the rows")
        XCTAssertThrowsError(try p(file.tensor("tokens"), positions: pos)) { XCTAssertEqual(($0 as? FluxError)?.code, .internal) }
        for bad in [[0, -1, 0], [1 << 40, 0, 0], [-1, 0, 0]] {
            var wrong = places
            wrong.replaceSubrange(3..<6, with: bad)
            XCTAssertThrowsError(try p(file.tensor("tokens"), positions: pos, places: wrong), "\(bad)") {
                XCTAssertEqual(($0 as? FluxError)?.code, .internal)
            }
        }
        XCTAssertThrowsError(try Projector.tokenPlaces(kept: [0], gridL: 15)) { XCTAssertEqual(($0 as? FluxError)?.code, .internal) }
    }

    /// The six glimpse tensors come together, shaped to the input, the queries' width and the 9 cells.
    func testMalformedGlimpseIsModelError() throws {
        for (name, change, source, word) in [
            ("no-gl2b", ["gl2.bias": nil], Self.glimpseFixture, "'projector.gl2.bias'"),
            ("gproj-in", ["gproj.weight": zeros([4, 15])], Self.glimpseFixture, "'projector.gproj.weight'"),
            ("gl1-cells", ["gl1.weight": zeros([12, 32])], Self.glimpseFixture, "'projector.gl1.weight'"),
            ("gl2-width", ["gl2.weight": zeros([7, 12])], Self.glimpseFixture, "'projector.gl2.weight'"),
            ("glimpse-no-positions", ["gproj.weight": zeros([4, 16]), "gproj.bias": zeros([4]), "gl1.weight": zeros([12, 36]),
                                      "gl1.bias": zeros([12]), "gl2.weight": zeros([8, 12]), "gl2.bias": zeros([8])], Self.fixture,
             "'projector.gproj.weight'")] as [(String, [String: TensorBlob?], String, String)] {
            XCTAssertThrowsError(try resampler(variant(name, change, from: source), echo: source == Self.fixture ? nil : [1]), name) {
                XCTAssertEqual(($0 as? FluxError)?.code, .modelInvalid, "\(name): \($0)")
                XCTAssertTrue("\($0)".contains(word), "\(name): \($0)")
            }
        }
    }

    func testMalformedMomentsAreModelErrors() throws {
        for (name, change, source, word) in [
            ("mom-shape", ["mom.weight": zeros([8, 12])], Self.fullFixture, "'projector.mom.weight'"),
            ("momz-shape", ["momz.weight": zeros([9, 13])], Self.fullFixture, "'projector.momz.weight'"),
            ("no-momz", ["momz.weight": nil], Self.fullFixture, "'projector.momz.weight'"),
            ("mom-no-positions", ["mom.weight": zeros([8, 13]), "momz.weight": zeros([10, 13])], Self.fixture,
             "'projector.mom.weight'")] as [(String, [String: TensorBlob?], String, String)] {
            XCTAssertThrowsError(try resampler(variant(name, change, from: source)), name) {
                XCTAssertEqual(($0 as? FluxError)?.code, .modelInvalid, "\(name): \($0)")
                XCTAssertTrue("\($0)".contains(word), "\(name): \($0)")
            }
        }
    }

    /// echo_columns are distinct columns of a line, and only a slot_resampler has lines.
    func testBadEchoColumnsAreModelErrors() throws {
        for echo in [[2], [-1], [1, 1]] {
            XCTAssertThrowsError(try resampler(Self.fullFixture, echo: echo), "\(echo)") {
                XCTAssertEqual(($0 as? FluxError)?.code, .modelInvalid)
                XCTAssertTrue("\($0)".contains("echo_columns"), "\($0)")
            }
        }
        XCTAssertThrowsError(try Projector(weights: SafeTensorsFile(path: Fixtures.bundlePath + "/model.safetensors"),
                                           prefix: "projector.", type: "mlp2x_gelu", pool: "none", inputDim: nil,
                                           hiddenDim: nil, outputDim: nil, echoColumns: [0])) {
            XCTAssertEqual(($0 as? FluxError)?.code, .modelInvalid)
            XCTAssertTrue("\($0)".contains("echo_columns"), "\($0)")
        }
    }

    /// tok1 and tok2 come together, weights and biases, shaped [T, C], [T], [C, T], [C].
    func testMalformedTokenMLPIsModelError() throws {
        for (name, change, word) in [("no-tok2", ["tok2.weight": nil, "tok2.bias": nil], "'projector.tok2.weight'"),
                                     ("no-bias", ["tok1.bias": nil], "'projector.tok1.bias'"),
                                     ("tok1-shape", ["tok1.weight": zeros([10, 15])], "'projector.tok1.weight'"),
                                     ("tok2-shape", ["tok2.weight": zeros([16, 9])], "'projector.tok2.weight'"),
                                     ("bias-shape", ["tok2.bias": zeros([10])], "'projector.tok2.bias'")] as [(String, [String: TensorBlob?], String)] {
            XCTAssertThrowsError(try resampler(variant(name, change, from: Self.fullFixture)), name) {
                XCTAssertEqual(($0 as? FluxError)?.code, .modelInvalid, "\(name): \($0)")
                XCTAssertTrue("\($0)".contains(word), "\(name): \($0)")
            }
        }
    }

    /// The fixture's tensors with some replaced or added (nil: removed), written to a new file.
    func variant(_ name: String, _ changes: [String: TensorBlob?], from source: String = fixture) throws -> String {
        let file = try SafeTensorsFile(path: source)
        var blobs: [(String, TensorBlob)] = changes.compactMap { short, blob in
            guard let blob, !file.names.contains("projector." + short) else { return nil }
            return ("projector." + short, blob)
        }
        for n in file.names where n.hasPrefix("projector.") {
            let short = String(n.dropFirst("projector.".count))
            if let change = changes[short] {
                if let blob = change { blobs.append((n, blob)) }
            } else {
                blobs.append((n, TensorBlob(try file.tensor(n))))
            }
        }
        let path = Fixtures.tempDir("resampler") + "/\(name).safetensors"
        try SafeTensorsWriter.write(blobs, to: path)
        return path
    }

    func zeros(_ shape: [Int]) -> TensorBlob { TensorBlob(f32: [Float](repeating: 0, count: shape.reduce(1, *)), shape: shape) }

    func testMalformedTensorsAndConfigAreModelErrors() throws {
        let cases: [(String, () throws -> Projector, [String])] = [
            ("missing words", { try self.resampler(self.variant("no-words", ["words": nil])) }, ["'projector.words'"]),
            ("missing k.bias", { try self.resampler(self.variant("no-kbias", ["k.bias": nil])) }, ["'projector.k.bias'"]),
            ("heads do not divide A", { try self.resampler(heads: 3) }, ["heads 3", "'projector.queries'"]),
            ("no heads", { try self.resampler(heads: nil) }, ["heads is missing"]),
            ("no rows_per_query", { try self.resampler(rowsPerQuery: nil) }, ["rows_per_query is missing"]),
            ("R does not divide fc2", { try self.resampler(rowsPerQuery: 3) }, ["rows_per_query 3", "'projector.fc2.weight'"]),
            ("words W mismatch", { try self.resampler(self.variant("words-w", ["words": self.zeros([4, 6])])) },
             ["'projector.words' has 4 words", "'projector.fc2.weight'"]),
            ("v input", { try self.resampler(self.variant("v-in", ["v.weight": self.zeros([8, 15])])) }, ["'projector.v.weight'", "[8, 16]"]),
            ("fc1 input", { try self.resampler(self.variant("fc1-in", ["fc1.weight": self.zeros([12, 7])])) }, ["'projector.fc1.weight'"]),
            ("fc2 hidden", { try self.resampler(self.variant("fc2-h", ["fc2.weight": self.zeros([10, 11])])) }, ["'projector.fc2.weight'"]),
            ("fc2 bias", { try self.resampler(self.variant("fc2-b", ["fc2.bias": self.zeros([9])])) }, ["'projector.fc2.bias'"]),
            ("queries rank", { try self.resampler(self.variant("q-rank", ["queries": self.zeros([24])])) }, ["'projector.queries'"]),
            ("empty queries", { try self.resampler(self.variant("q-empty", ["queries": self.zeros([0, 8])])) }, ["'projector.queries'"]),
            ("config input_dim", { try self.resampler(inputDim: 32) }, ["input_dim is 32"]),
            ("pool", { try self.resampler(pool: "avg2") }, ["pool 'avg2'"]),
            ("rows_per_token", { try self.resampler(rowsPerToken: 2) }, ["rows_per_token 2"]),
        ]
        for (name, load, words) in cases {
            XCTAssertThrowsError(try load(), name) { error in
                let e = error as? FluxError
                XCTAssertEqual(e?.code, .modelInvalid, "\(name): \(error)")
                for w in words + [".safetensors"] {
                    XCTAssertTrue(e?.message.contains(w) ?? false, "\(name): '\(w)' not in \(error)")
                }
            }
        }
    }

    /// The tiny bundle with a random slot_resampler (64 -> 64, 3 queries x 2 rows) in place of its
    /// MLP; with `positions`, one that reads token positions.
    /// `glimpsePixels`: a glimpse of 4 features a cell whose cells also read patch vectors of this length.
    func resamplerBundle(_ name: String, positions: Bool = false, echo: Any? = nil, phrases: Any? = nil,
                         glimpsePixels: Int? = nil, countRow: Any? = nil, keptWord: Any? = nil) throws -> String {
        let dir = Fixtures.tempDir(name)
        let src = try SafeTensorsFile(path: Fixtures.bundlePath + "/model.safetensors")
        var rng = SplitMix64(seed: 5)
        func random(_ shape: [Int], _ scale: Float) -> TensorBlob {
            TensorBlob(f32: (0..<shape.reduce(1, *)).map { _ in rng.nextNormal() * scale }, shape: shape)
        }
        var blobs = try src.names.filter { !$0.hasPrefix("projector.") }.map { ($0, TensorBlob(try src.tensor($0))) }
        let shapes: [(String, [Int])] = [("queries", [3, 8]), ("k.weight", [8, 64]), ("k.bias", [8]), ("v.weight", [8, 64]),
                                         ("v.bias", [8]), ("fc1.weight", [12, 8]), ("fc1.bias", [12]),
                                         ("fc2.weight", [10, 12]), ("fc2.bias", [10]), ("words", [5, 64])]
        let glimpse: [(String, [Int])] = glimpsePixels.map {
            [("gproj.weight", [4, 64]), ("gproj.bias", [4]), ("gl1.weight", [12, 36]), ("gl1.bias", [12]), ("gl2.weight", [8, 12]),
             ("gl2.bias", [8]), ("gpix.weight", [4, $0])]
        } ?? []
        let keptVector: [(String, [Int])] = keptWord == nil ? [] : [("kept_word", [64])]
        blobs += (shapes + (positions ? [("kp.weight", [8, 5]), ("vp.weight", [8, 5])] : []) + glimpse + keptVector).map { ("projector.\($0.0)", random($0.1, 0.3)) }
        try SafeTensorsWriter.write(blobs, to: dir + "/model.safetensors")
        var config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Fixtures.bundlePath + "/config.json"))) as? [String: Any])
        var projector: [String: Any] = ["type": "slot_resampler", "input_dim": 64, "hidden_dim": 12, "output_dim": 64,
                                        "pool": "none", "heads": 2, "rows_per_query": 2]
        projector["echo_columns"] = echo
        projector["phrases"] = phrases
        projector["count_row"] = countRow
        projector["kept_word"] = keptWord
        config["projector"] = projector
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: dir + "/config.json"))
        try? FileManager.default.removeItem(atPath: dir + "/tokenizer.model")
        try FileManager.default.copyItem(atPath: Fixtures.bundlePath + "/tokenizer.model", toPath: dir + "/tokenizer.model")
        return dir
    }

    /// A bundle whose projector is a slot_resampler: its info says so, and the prompt, the price
    /// and the stats count its 6 rows at every budget while the encoder's tokens follow the budget.
    func testBundleCountsFixedRowsAtEveryBudget() throws {
        let bundle = try ModelBundle(directory: resamplerBundle("resampler-bundle"))
        let info = bundle.summary.encoded
        for field in [#""type":"slot_resampler""#, #""heads":2"#, #""rows_per_query":2"#, #""rows":6"#] {
            XCTAssertTrue(info.contains(field), "\(field) not in \(info)")
        }
        let engine = ChatEngine(bundle: bundle, templates: .builtIn, videoCacheBytes: 16 << 20)
        for budget in [16, 64] {
            let request = ChatRequest(messages: [ChatMessage(role: .user, content: "What happens?")],
                                      video: Fixtures.video(budget: budget), sampling: RequestSettings(maxTokens: 2))
            let price = try engine.price(request)
            XCTAssertEqual(price.visualTokens, 6, "budget \(budget)")
            XCTAssertEqual(price.encoderTokens, 1 + (price.video?.plan.keptTokens ?? -1))
            let reply = try engine.respond(request) { _ in true }
            XCTAssertEqual(reply.stats.visualTokens, 6, "budget \(budget)")
            XCTAssertEqual(reply.stats.encoderTokens, price.encoderTokens)
            XCTAssertEqual(reply.stats.promptTokens, price.promptTokens)
        }
    }

    /// A bundle whose resampler reads positions answers through the engine: the encoder's kept
    /// patches become its position features at each budget.
    func testBundleWithPositionsAnswers() throws {
        let bundle = try ModelBundle(directory: resamplerBundle("resampler-positions-bundle", positions: true))
        XCTAssertTrue(bundle.summary.encoded.contains(#""positions":true"#))
        try assertAnswersAtTwoBudgets(bundle)
    }

    /// The engine answers about the fixture video at budgets 16 and 64 with the resampler's 6 rows.
    func assertAnswersAtTwoBudgets(_ bundle: ModelBundle, file: StaticString = #filePath, line: UInt = #line) throws {
        let engine = ChatEngine(bundle: bundle, templates: .builtIn, videoCacheBytes: 16 << 20)
        for budget in [16, 64] {
            let request = ChatRequest(messages: [ChatMessage(role: .user, content: "What happens?")],
                                      video: Fixtures.video(budget: budget), sampling: RequestSettings(maxTokens: 2))
            let reply = try engine.respond(request) { _ in true }
            XCTAssertEqual(reply.stats.visualTokens, 6, "budget \(budget)", file: file, line: line)
        }
    }

    /// A bundle's config names the echo columns; a wrong entry is a model error naming the field.
    func testBundleReadsEchoColumns() throws {
        let bundle = try ModelBundle(directory: resamplerBundle("resampler-echo-bundle", echo: [0, 1]))
        XCTAssertTrue(bundle.summary.encoded.contains(#""echo_columns":[0,1]"#), bundle.summary.encoded)
        for (name, echo) in [("resampler-echo-text", ["shape"]), ("resampler-echo-range", [3])] as [(String, Any)] {
            XCTAssertThrowsError(try ModelBundle(directory: resamplerBundle(name, echo: echo)), name) {
                XCTAssertEqual(($0 as? FluxError)?.code, .modelInvalid, "\(name): \($0)")
                XCTAssertTrue("\($0)".contains("echo_columns"), "\(name): \($0)")
            }
        }
    }

    /// A bundle's config holds phrase groups; a malformed entry is a model error naming config.json's field.
    func testBundleReadsPhrases() throws {
        let group: [String: Any] = ["lines": [0, 2], "rows": [0, 1], "words": [[0, 1], [4, 3]]]
        let bundle = try ModelBundle(directory: resamplerBundle("resampler-phrases-bundle", phrases: [group]))
        XCTAssertTrue(bundle.summary.encoded.contains(#""phrase_groups":1"#), bundle.summary.encoded)
        for (name, phrases) in [("resampler-phrases-text", ["motion"]), ("resampler-phrases-range", [["lines": [0], "rows": [0], "words": [[7]]]])] as [(String, Any)] {
            XCTAssertThrowsError(try ModelBundle(directory: resamplerBundle(name, phrases: phrases)), name) {
                XCTAssertEqual(($0 as? FluxError)?.code, .modelInvalid, "\(name): \($0)")
                XCTAssertTrue("\($0)".contains("phrases[0]"), "\(name): \($0)")
            }
        }
    }

    /// The mlp2x_gelu projector describes itself as before (`op: info`, `/params`).
    func testMLPDescriptionIsUnchanged() throws {
        let p = try XCTUnwrap(Fixtures.bundle.projector)
        XCTAssertEqual(p.summary.encoded, #"{"type":"mlp2x_gelu","input_dim":64,"hidden_dim":64,"output_dim":64,"pool":"none","rows_per_token":1}"#)
        XCTAssertEqual(p.rows, .perToken(1))
        XCTAssertEqual(p.outputRows(tokens: 65), 65)
    }

    /// The split layout: a projector file with the type and sizes in its metadata.
    func testPartsLoadAResamplerFile() throws {
        let dir = Fixtures.tempDir("resampler-parts")
        let whole = try resamplerBundle("resampler-parts-bundle", echo: [1])
        let file = try SafeTensorsFile(path: whole + "/model.safetensors")
        let config = try JSONValue.Fields(contentsOf: whole + "/config.json")
        func part(_ prefix: String, strip: Bool) throws -> [(String, TensorBlob)] {
            try file.names.filter { $0.hasPrefix(prefix) }.map { (strip ? String($0.dropFirst(prefix.count)) : $0, TensorBlob(try file.tensor($0))) }
        }
        for sub in ["vision", "llm"] {
            try FileManager.default.createDirectory(atPath: "\(dir)/\(sub)", withIntermediateDirectories: true)
            try SafeTensorsWriter.write(part(sub + ".", strip: true), to: "\(dir)/\(sub)/model.safetensors")
            try Data(XCTUnwrap(config[sub]).stable().utf8).write(to: URL(fileURLWithPath: "\(dir)/\(sub)/config.json"))
        }
        try? FileManager.default.removeItem(atPath: "\(dir)/llm/tokenizer.model")
        try FileManager.default.copyItem(atPath: Fixtures.bundlePath + "/tokenizer.model", toPath: "\(dir)/llm/tokenizer.model")
        let meta = ["type": "slot_resampler", "pool": "none", "heads": "2", "rows_per_query": "2", "echo_columns": "1"]
        try SafeTensorsWriter.write(part("projector.", strip: true), metadata: meta, to: "\(dir)/projector.safetensors")
        let parts = try ModelBundle(vision: "\(dir)/vision", projector: "\(dir)/projector.safetensors", llm: "\(dir)/llm")
        let x = Tensor(shape: [5, 64], data: (0..<320).map { Float($0 % 11) / 11 - 0.5 })
        XCTAssertEqual(try XCTUnwrap(parts.projector)(x), try XCTUnwrap(ModelBundle(directory: whole).projector)(x))
        XCTAssertEqual(parts.projector?.rows, .fixed(6))

        var bad = meta
        bad["heads"] = "two"
        try SafeTensorsWriter.write(part("projector.", strip: true), metadata: bad, to: "\(dir)/projector.safetensors")
        XCTAssertThrowsError(try ModelBundle(vision: "\(dir)/vision", projector: "\(dir)/projector.safetensors", llm: "\(dir)/llm")) {
            XCTAssertEqual(($0 as? FluxError)?.code, .modelInvalid)
            XCTAssertTrue("\($0)".contains("heads 'two'"), "\($0)")
        }
        bad = meta
        bad["echo_columns"] = "1;2"
        try SafeTensorsWriter.write(part("projector.", strip: true), metadata: bad, to: "\(dir)/projector.safetensors")
        XCTAssertThrowsError(try ModelBundle(vision: "\(dir)/vision", projector: "\(dir)/projector.safetensors", llm: "\(dir)/llm")) {
            XCTAssertEqual(($0 as? FluxError)?.code, .modelInvalid)
            XCTAssertTrue("\($0)".contains("echo_columns '1;2'"), "\($0)")
        }
    }
}
