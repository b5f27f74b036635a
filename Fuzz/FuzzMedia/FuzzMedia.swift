import FluxCore
import FluxVideo
import Foundation
import FuzzSupport

/// Arbitrary bytes as a media path: the first byte chooses the kind (even: one file, a container
/// or gif; odd: the only image of a frame folder), the rest is its content. Probing and decoding two small frames must
/// succeed or fail with a FluxError; the limits keep each run small.
func check(_ bytes: [UInt8]) {
    let path: String
    if (bytes.first ?? 0) & 1 == 0 {
        path = FuzzInput.file("input.media", Array(bytes.dropFirst()))
    } else {
        let dir = FuzzInput.scratch + "/frames"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        path = dir
        _ = FuzzInput.file("frames/00001.jpg", Array(bytes.dropFirst()))
    }
    guard (try? VideoLoader.probe(path: path)) != nil else { return }
    _ = try? VideoLoader.load(path: path, frames: 2, resolution: 28)
}

@main enum Main { static func main() { FuzzInput.main(check) } }
