import FluxChat
import FluxCore
import Foundation
import XCTest

/// A slot_resampler whose glimpse cells also read their patches' pixels (`gpix.weight`, session 16):
/// against PyTorch (`python -m fluxtools.fixtures.resampler --pixels`), its shape checks, and a bundle
/// whose encoder hands the kept patches' pixels to it.
extension SlotResamplerTests {
    static let pixelsFixture = Fixtures.root.appendingPathComponent("resampler_pixels.safetensors").path

    /// Rows with pixels in the glimpse match PyTorch; the pixels change the rows, and a resampler that
    /// reads them refuses to run without them or with pixels of another length.
    func testGlimpsePixelsMatchPyTorch() throws {
        let (p, c) = try glimpseCase(Self.pixelsFixture)
        XCTAssertEqual(p.pixelWidth, 6)
        XCTAssertTrue(p.summary.encoded.contains(#""glimpse":4,"glimpse_pixels":6"#), p.summary.encoded)
        let (tokens, pos, places, pixels) = (c.tokens, c.positions, c.places, c.pixels)
        let dark = try p(tokens, positions: pos, places: places, pixels: Tensor(shape: pixels.shape))
        let change = zip(dark.data, c.expected.data).map { abs($0 - $1) }.max() ?? 0
        XCTAssertGreaterThan(change, 1e-2, "the pixels change the rows")
        for wrong in [nil, Tensor(shape: [pixels.rows, 5]), Tensor(shape: [pixels.rows - 1, 6])] {
            XCTAssertThrowsError(try p(tokens, positions: pos, places: places, pixels: wrong), "\(wrong?.shape ?? [])") {
                XCTAssertEqual(($0 as? FluxError)?.code, .internal)
            }
        }
    }

    /// A glimpse fixture with pixels (13 tokens on a 2 x (4 x 4) grid): its resampler (echo of column
    /// 1) and inputs, once its rows matched PyTorch's for all the tokens and for CLS alone.
    func glimpseCase(_ path: String) throws
        -> (Projector, (tokens: Tensor, positions: Tensor, places: [Int], pixels: Tensor, kept: [Int], expected: Tensor)) {
        let file = try SafeTensorsFile(path: path)
        let kept = try file.tensor("kept").data.map { Int($0) }
        let places = try Projector.tokenPlaces(kept: kept, gridL: 16)
        let pos = try Projector.positionFeatures(kept: kept, gridT: 2, gridL: 16)
        let pixels = try file.tensor("pixels")
        let p = try resampler(path, echo: [1])
        for (suffix, n) in [("", kept.count + 1), ("_1", 1)] {
            let y = try p(file.tensor("tokens" + suffix), positions: Tensor(shape: [n, 5], data: Array(pos.data[0..<(n * 5)])),
                          places: Array(places[0..<(3 * n)]), pixels: Tensor(shape: [n, 6], data: Array(pixels.data[0..<(n * 6)])))
            let want = try file.tensor("expected" + suffix)
            let diff = zip(y.data, want.data).map { abs($0 - $1) }.max() ?? .infinity
            XCTAssertLessThan(diff, 1e-4, "\(path) tokens\(suffix): max abs diff \(diff)")
        }
        return (p, (try file.tensor("tokens"), pos, places, pixels, kept, try file.tensor("expected")))
    }

    /// gpix.weight needs the glimpse and is shaped [glimpse features, patch vector].
    func testMalformedGlimpsePixelsAreModelErrors() throws {
        for (name, change, source, echo) in [
            ("gpix-no-glimpse", ["gpix.weight": zeros([4, 6])], Self.fullFixture, [1]),
            ("gpix-features", ["gpix.weight": zeros([3, 6])], Self.glimpseFixture, [1]),
            ("gpix-empty", ["gpix.weight": zeros([4, 0])], Self.glimpseFixture, [1])] as [(String, [String: TensorBlob?], String, [Int])] {
            XCTAssertThrowsError(try resampler(variant(name, change, from: source), echo: echo), name) {
                XCTAssertEqual(($0 as? FluxError)?.code, .modelInvalid, "\(name): \($0)")
                XCTAssertTrue("\($0)".contains("'projector.gpix.weight'"), "\(name): \($0)")
            }
        }
    }

    /// Through the engine, the encoder's kept patches reach a glimpse that reads pixels at each budget;
    /// a glimpse that reads patch vectors of another length than the encoder cuts is a model error.
    func testBundleWithGlimpsePixelsAnswers() throws {
        let bundle = try ModelBundle(directory: resamplerBundle("resampler-pixels-bundle", positions: true, glimpsePixels: 588))
        XCTAssertTrue(bundle.summary.encoded.contains(#""glimpse_pixels":588"#), bundle.summary.encoded)
        try assertAnswersAtTwoBudgets(bundle)
        XCTAssertThrowsError(try ModelBundle(directory: resamplerBundle("resampler-pixels-wrong", positions: true, glimpsePixels: 100))) {
            XCTAssertEqual(($0 as? FluxError)?.code, .modelInvalid, "\($0)")
            XCTAssertTrue("\($0)".contains("patch vectors of 100 values"), "\($0)")
        }
    }
}
