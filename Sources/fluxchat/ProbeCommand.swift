import ArgumentParser
import Dispatch
import Foundation
import FluxChat
import FluxCore
import FluxVideo

/// `fluxchat probe`: what FluxVideo sees in a file and which frames it would sample.
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Show a video's container, codec, size, fps, duration, frame count, rotation and the frames sampling would pick.",
        discussion: """
            Frame indices follow the segment-midpoint rule (MVBench reference) unless --fps is given.
            Timestamps are index / fps unless --decode decodes the frames and reports their real times.
            """)

    @Argument(help: "Video file, gif or frame folder (00001.jpg, ...).")
    var video: String

    @Option(help: "Frames to sample by the segment-midpoint rule.")
    var frames: Int = RequestDefaults.toolFrames

    @OptionGroup var span: SpanOptions

    @Option(help: "Sample at this many frames per second instead (default: off).")
    var fps: Double?

    @Option(help: "Cap on frames when --fps is used.")
    var maxFrames: Int = 64

    @Flag(help: "Decode and preprocess the chosen frames and report their timestamps and the time taken.")
    var decode = false

    @Option(help: "Crop size used with --decode.")
    var resolution: Int = RequestDefaults.toolResolution

    @Option(help: "How --decode reaches the frames: automatic (seek when it skips decoding), linear, seek.")
    var strategy: DecodeStrategy = .automatic

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func run() throws {
        let reader = try VideoReader(path: video)
        let info = reader.info
        let indices: [Int]
        if let fps {
            indices = try VideoLoader.sampleIndices(info: info, fps: fps, maxFrames: maxFrames, start: span.start, end: span.end)
        } else {
            indices = try VideoLoader.sampleIndices(info: info, frames: frames, start: span.start, end: span.end)
        }
        var timestamps = indices.map { Double($0 - info.firstIndex) / info.fps }
        var decodeMS: Double?
        if decode {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let clip = try VideoLoader.load(reader: reader, indices: indices, resolution: resolution, strategy: strategy)
            decodeMS = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
            timestamps = clip.timestamps
        }
        if json {
            var object: [String: Any] = [
                "path": info.path, "kind": info.kind.rawValue, "container": info.container, "codec": info.codec,
                "width": info.width, "height": info.height, "fps": info.fps, "duration": info.duration,
                "frame_count": info.frameCount, "frame_count_exact": info.frameCountExact, "rotation": info.rotation,
                "indices": indices, "timestamps": timestamps.map { ($0 * 1000).rounded() / 1000 },
            ]
            if let decodeMS {
                object["decode_ms"] = (decodeMS * 10).rounded() / 10
                object["decoded_frames"] = reader.lastStats.framesDecoded
                object["seeks"] = reader.lastStats.seeks
                object["preprocess_ms"] = (reader.lastStats.convertSeconds * 10_000).rounded() / 10
            }
            print(try JSONValue(checking: object).stable())
            return
        }
        print("path:        \(info.path)")
        print("kind:        \(info.kind.rawValue)")
        print("container:   \(info.container)")
        print("codec:       \(info.codec)")
        print("size:        \(info.width)x\(info.height)")
        print("fps:         \(format(info.fps))")
        print("duration:    \(format(info.duration)) s")
        print("frames:      \(info.frameCount)\(info.frameCountExact ? "" : " (estimated from duration x fps)")")
        print("rotation:    \(info.rotation)")
        print("indices:     \(indices.map(String.init).joined(separator: " "))")
        print("timestamps:  \(timestamps.map { format($0) }.joined(separator: " "))\(decode ? "" : " (index / fps)")")
        if let decodeMS {
            print("decoded:     \(reader.lastStats.framesDecoded) frames, \(reader.lastStats.seeks) seeks, \(format(decodeMS)) ms at \(resolution)x\(resolution) (\(format(reader.lastStats.convertSeconds * 1000)) ms of it resizing)")
        }
    }

    private func format(_ x: Double) -> String { String(format: "%.3f", x) }
}

extension DecodeStrategy: ExpressibleByArgument {}
