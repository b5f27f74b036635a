import FluxChat
import FluxCore
import Foundation
import XCTest

/// A slot_resampler that also reads its glimpse late against early (`gtime.weight`, session 18):
/// against PyTorch (`python -m fluxtools.fixtures.resampler --time`) and its shape checks.
extension SlotResamplerTests {
    static let timeFixture = Fixtures.root.appendingPathComponent("resampler_time.safetensors").path

    /// Rows match PyTorch, and the time term is read: the same tokens with their frames swapped (the
    /// same windows in the other order) give other rows, as does the file without `gtime.weight`.
    func testGlimpseTimeMatchesPyTorch() throws {
        let (p, c) = try glimpseCase(Self.timeFixture)
        XCTAssertTrue(p.summary.encoded.contains(#""glimpse_pixels":6,"glimpse_time":true"#), p.summary.encoded)
        let (tokens, pos, places, pixels, kept, want) = (c.tokens, c.positions, c.places, c.pixels, c.kept, c.expected)
        // Frame 0 <-> frame 1 (16 patches a frame): the same windows, late and early exchanged.
        let swapped = kept.map { $0 < 16 ? $0 + 16 : $0 - 16 }
        let y = try p(tokens, positions: Projector.positionFeatures(kept: swapped, gridT: 2, gridL: 16),
                      places: Projector.tokenPlaces(kept: swapped, gridL: 16), pixels: pixels)
        let moved = zip(y.data, want.data).map { abs($0 - $1) }.max() ?? 0
        XCTAssertGreaterThan(moved, 1e-2, "the frames' order changes the rows")
        let timeless = try resampler(variant("no-gtime", ["gtime.weight": nil], from: Self.timeFixture), echo: [1])
        XCTAssertTrue(timeless.summary.encoded.contains(#""glimpse_time":false"#), timeless.summary.encoded)
        let without = try timeless(tokens, positions: pos, places: places, pixels: pixels)
        XCTAssertGreaterThan(zip(without.data, want.data).map { abs($0 - $1) }.max() ?? 0, 1e-2, "gtime changes the rows")
    }

    /// gtime.weight needs the glimpse and is shaped [queries' width, glimpse hidden].
    func testMalformedGlimpseTimeIsModelError() throws {
        for (name, change, source) in [
            ("gtime-no-glimpse", ["gtime.weight": zeros([8, 12])], Self.fullFixture),
            ("gtime-width", ["gtime.weight": zeros([7, 12])], Self.glimpseFixture),
            ("gtime-hidden", ["gtime.weight": zeros([8, 11])], Self.glimpseFixture)] as [(String, [String: TensorBlob?], String)] {
            XCTAssertThrowsError(try resampler(variant(name, change, from: source), echo: [1]), name) {
                XCTAssertEqual(($0 as? FluxError)?.code, .modelInvalid, "\(name): \($0)")
                XCTAssertTrue("\($0)".contains("'projector.gtime.weight'"), "\(name): \($0)")
            }
        }
    }
}
