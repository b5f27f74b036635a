import FluxVideo
import Foundation
import XCTest

/// Resize + centre crop against torchvision's tensor path (fixtures from
/// python -m fluxtools.fixtures.resize, see ResizeReference.swift).
final class ResizeReferenceTests: XCTestCase {
    /// The script's `picture(w, h)`: horizontal red ramp, vertical green ramp, blue 8x8 checkerboard,
    /// a yellow bar.
    private func picture(width w: Int, height h: Int) -> [UInt8] {
        var rgb = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                let o = (y * w + x) * 3
                rgb[o] = UInt8(x * 255 / (w - 1))
                rgb[o + 1] = UInt8(y * 255 / (h - 1))
                rgb[o + 2] = UInt8(((x / 8 + y / 8) % 2) * 200 + 20)
                if y >= h / 3 && y < h / 3 + 8 && x >= w / 2 - 10 && x < w / 2 + 10 {
                    (rgb[o], rgb[o + 1], rgb[o + 2]) = (250, 250, 30)
                }
            }
        }
        return rgb
    }

    /// Measured: 96x64 -> 32 max diff 1, mean 0.03; 50x90 -> 24 max diff 3, mean 0.06 (filter phases
    /// at a non-integer scale differ slightly between libswscale and torch).
    func testMatchesTorchvisionBicubicAntialiased() throws {
        for c in ResizeReference.cases {
            let path = MediaFixtures.directory + "/resize_\(c.width)x\(c.height).png"
            try PNGWriter.write(rgb: picture(width: c.width, height: c.height), width: c.width, height: c.height, to: path)
            let crop = try XCTUnwrap(VideoReader(path: path).croppedFrames(at: [0], resolution: c.size).first)
            let expected = [UInt8](try XCTUnwrap(Data(base64Encoded: c.crop)))
            XCTAssertEqual(crop.pixels.count, expected.count)
            let diffs = zip(crop.pixels, expected).map { abs(Int($0) - Int($1)) }
            let mean = Double(diffs.reduce(0, +)) / Double(diffs.count)
            XCTAssertLessThanOrEqual(diffs.max() ?? 255, 4, "\(c.width)x\(c.height) -> \(c.size)")
            XCTAssertLessThan(mean, 0.1, "\(c.width)x\(c.height) -> \(c.size)")
        }
    }
}
