import FluxChat
import FluxCore
import Foundation
import XCTest

/// A slot_resampler that also reads what is at each line's place in every frame (`pl1`, `pl2`,
/// `ptime`, session 19): against PyTorch (`python -m fluxtools.fixtures.resampler --place`) and its
/// shape checks.
extension SlotResamplerTests {
    static let placeFixture = Fixtures.root.appendingPathComponent("resampler_place.safetensors").path

    /// Rows match PyTorch (all tokens and CLS alone), and the place term is read: without its tensors,
    /// or with the frames exchanged (the time term's sign flips), the rows differ.
    func testGlimpsePlaceMatchesPyTorch() throws {
        let (p, c) = try glimpseCase(Self.placeFixture)
        XCTAssertTrue(p.summary.encoded.contains(#""glimpse_time":true,"glimpse_place":true"#), p.summary.encoded)
        let placeless = try resampler(variant("no-place", ["pl1.weight": nil, "pl1.bias": nil, "pl2.weight": nil, "ptime.weight": nil],
                                              from: Self.placeFixture), echo: [1])
        XCTAssertTrue(placeless.summary.encoded.contains(#""glimpse_place":false"#), placeless.summary.encoded)
        let without = try placeless(c.tokens, positions: c.positions, places: c.places, pixels: c.pixels)
        XCTAssertGreaterThan(zip(without.data, c.expected.data).map { abs($0 - $1) }.max() ?? 0, 1e-2, "the place glimpse changes the rows")
        let timeless = try resampler(variant("no-ptime", ["ptime.weight": zeros([8, 12])], from: Self.placeFixture), echo: [1])
        let still = try timeless(c.tokens, positions: c.positions, places: c.places, pixels: c.pixels)
        XCTAssertGreaterThan(zip(still.data, c.expected.data).map { abs($0 - $1) }.max() ?? 0, 1e-2, "ptime changes the rows")
    }

    /// The place glimpse needs all four tensors and the glimpse, shaped [Q, 9 x glimpse features], [Q],
    /// [queries' width, Q] twice.
    func testMalformedGlimpsePlaceIsModelError() throws {
        let place: [String: TensorBlob?] = ["pl1.weight": zeros([12, 36]), "pl1.bias": zeros([12]),
                                            "pl2.weight": zeros([8, 12]), "ptime.weight": zeros([8, 12])]
        for (name, change, source, tensor) in [
            ("place-no-glimpse", place, Self.fullFixture, "pl1.weight"),
            ("place-no-ptime", ["ptime.weight": nil], Self.placeFixture, "ptime.weight"),
            ("place-cells", ["pl1.weight": zeros([12, 35])], Self.placeFixture, "pl1.weight"),
            ("place-width", ["pl2.weight": zeros([7, 12])], Self.placeFixture, "pl2.weight"),
            ("place-hidden", ["ptime.weight": zeros([8, 11])], Self.placeFixture, "ptime.weight")] as [(String, [String: TensorBlob?], String, String)] {
            XCTAssertThrowsError(try resampler(variant(name, change, from: source), echo: [1]), name) {
                XCTAssertEqual(($0 as? FluxError)?.code, .modelInvalid, "\(name): \($0)")
                XCTAssertTrue("\($0)".contains("'projector.\(tensor)'"), "\(name): \($0)")
            }
        }
    }
}
