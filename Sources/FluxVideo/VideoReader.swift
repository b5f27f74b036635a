import CFFmpeg
import Dispatch
import Foundation
import FluxCore

/// How `VideoReader` reaches the requested frames.
public enum DecodeStrategy: String, Sendable {
    /// Seek when the demuxer's keyframe index (or, without one, a gap of more than two seconds or
    /// one observed keyframe interval) says it skips decoding; otherwise keep decoding forward.
    case automatic
    /// Decode every frame from the start (the reference path).
    case linear
    /// Seek before every target frame.
    case seek
}

/// What the last `frames` call did, for benchmarks and tests.
public struct DecodeStats: Sendable, Equatable {
    public var framesDecoded = 0
    public var seeks = 0
    /// Seconds spent converting, resizing and cropping the chosen frames (part of the call's time).
    public var convertSeconds = 0.0
}

/// Decodes chosen frames of a video file, gif or frame folder.
///
/// Frame index -> picture, the same on every path:
/// - videos: index `i` is the first frame (in presentation order) whose timestamp is at least
///   `start + (i - 0.5) / fps` with `fps` the stream's average rate, i.e. the frame nearest to
///   `i / fps` on a constant-rate stream. The seek path seeks to the keyframe before `i / fps`,
///   decodes forward with the same rule, and seeks further back when the demuxer lands after the
///   target. Past the last frame (a frame count estimated from the duration) the last frame is used.
/// - gifs: index `i` is the i-th frame (0-based) in file order; gifs are decoded linearly.
/// - frame folders: index `i` (from 1) is the i-th image file in frame order.
///
/// Before each target, non-reference frames older than the target are not decoded (they cannot be
/// chosen and nothing refers to them), on every path alike. One reader serves one thread at a time.
public final class VideoReader {
    public let info: VideoInfo
    public let limits: VideoLimits
    public private(set) var lastStats = DecodeStats()

    private let folderFiles: [String]
    private let converter = FrameConverter()
    private var decoder: MediaDecoder?

    /// Largest total of full-size RGB bytes one `frames(at:)` call may return.
    public static let maxOutputBytes = 4 << 30

    /// Opens `path` and reads its `info`. Throws `.videoNotFound` for a missing path,
    /// `.videoUnreadable` for anything that is not a decodable video, gif or frame folder,
    /// `.videoTooLarge` when the frame size exceeds `limits`.
    public init(path: String, limits: VideoLimits = .standard) throws {
        self.limits = limits
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FluxError(.videoNotFound, "\(path): no such file or folder")
        }
        if isDirectory.boolValue {
            folderFiles = try FrameFolder.files(in: path)
            let first = try MediaDecoder(path: folderFiles[0], limits: limits, threads: 1)
            let params = first.stream.pointee.codecpar!.pointee
            info = VideoInfo(path: path, kind: .frameFolder, container: "frames", codec: FFmpeg.codecName(params.codec_id),
                             width: Int(params.width), height: Int(params.height), fps: 3,
                             duration: Double(folderFiles.count) / 3, frameCount: folderFiles.count,
                             rotation: 0, frameCountExact: true)
            return
        }
        folderFiles = []
        let decoder = try MediaDecoder(path: path, limits: limits)
        info = try Self.readInfo(decoder, path: path, limits: limits)
        self.decoder = decoder
    }

    /// Full-size RGB frames at `indices` (any order, repeats allowed), display rotation applied.
    public func frames(at indices: [Int]) throws -> [RGBFrame] {
        try frames(at: indices, strategy: .automatic)
    }

    /// Full-size RGB frames at `indices` reached with `strategy`.
    public func frames(at indices: [Int], strategy: DecodeStrategy) throws -> [RGBFrame] {
        let bytes = info.width * info.height * 3
        guard indices.count <= Self.maxOutputBytes / max(bytes, 1) else {
            throw FluxError(.videoTooLarge,
                            "\(info.path): \(indices.count) full-size \(info.width)x\(info.height) frames exceed \(Self.maxOutputBytes >> 30) GiB")
        }
        return try decode(indices, strategy: strategy) { frame, index, time in
            let rgb = try converter.rgb(frame, rotation: info.rotation, limits: limits, path: info.path)
            return RGBFrame(width: rgb.width, height: rgb.height, pixels: rgb.pixels, index: index, timestamp: time)
        }
    }

    /// R x R frames at `indices`: display rotation, short side resized to R (bicubic), centre crop.
    public func croppedFrames(at indices: [Int], resolution: Int, strategy: DecodeStrategy = .automatic) throws -> [RGBFrame] {
        try Limits.resolution(resolution)
        return try decode(indices, strategy: strategy) { frame, index, time in
            let rgb = try converter.croppedRGB(frame, rotation: info.rotation, resolution: resolution,
                                               limits: limits, path: info.path)
            return RGBFrame(width: resolution, height: resolution, pixels: rgb, index: index, timestamp: time)
        }
    }

    // MARK: - Decoding

    private typealias Convert = (UnsafeMutablePointer<AVFrame>, Int, Double) throws -> RGBFrame

    private func decode(_ indices: [Int], strategy: DecodeStrategy, convert: Convert) throws -> [RGBFrame] {
        if !indices.isEmpty { try Limits.frames(indices.count) }
        for i in indices where i < info.firstIndex || i > info.lastIndex {
            throw FluxError(.badRequest, "\(info.path): frame index \(i) outside \(info.firstIndex)...\(info.lastIndex)")
        }
        lastStats = DecodeStats()
        let convert: Convert = { frame, index, time in
            let t0 = DispatchTime.now().uptimeNanoseconds
            defer { self.lastStats.convertSeconds += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9 }
            return try convert(frame, index, time)
        }
        let targets = Array(Set(indices)).sorted()
        var decoded: [Int: RGBFrame] = [:]
        switch info.kind {
        case .frameFolder: decoded = try decodeFolder(targets, convert: convert)
        case .gif: decoded = try decodeOrdinal(targets, convert: convert)
        case .video: decoded = try decodeTimed(targets, strategy: strategy, convert: convert)
        }
        return try indices.map { i in
            guard let frame = decoded[i] else {
                throw FluxError(.internal, "\(info.path): frame \(i) was not decoded")
            }
            return frame
        }
    }

    private func decodeFolder(_ targets: [Int], convert: Convert) throws -> [Int: RGBFrame] {
        var out: [Int: RGBFrame] = [:]
        for index in targets {
            let file = folderFiles[index - 1]
            let image = try MediaDecoder(path: file, limits: limits, threads: 1)
            guard let frame = try image.nextFrame() else {
                throw FluxError(.videoUnreadable, "\(file): image has no decodable picture")
            }
            lastStats.framesDecoded += 1
            out[index] = try convert(frame, index, Double(index - 1) / info.fps)
        }
        return out
    }

    /// Gifs: the i-th decoded frame, counting from 0.
    private func decodeOrdinal(_ targets: [Int], convert: Convert) throws -> [Int: RGBFrame] {
        let dec = try freshDecoder()
        let tb = FFmpeg.seconds(dec.timeBase)
        var out: [Int: RGBFrame] = [:]
        var ordinal = 0
        var k = 0
        var last: (frame: UnsafeMutablePointer<AVFrame>, time: Double)?
        let held = av_frame_alloc()
        defer { var h = held; av_frame_free(&h) }
        while k < targets.count, let frame = try dec.nextFrame() {
            let time = Double(dec.presentationTime(of: frame, frameTicks: 1) - dec.startPTS) * tb
            while k < targets.count && targets[k] == ordinal {
                out[targets[k]] = try convert(frame, targets[k], time)
                k += 1
            }
            if let held { av_frame_unref(held); av_frame_ref(held, frame); last = (held, time) }
            ordinal += 1
        }
        lastStats.framesDecoded = ordinal
        decoder = nil
        guard k == targets.count || last != nil else {
            throw FluxError(.videoUnreadable, "\(info.path): no decodable frames")
        }
        while k < targets.count, let last {
            out[targets[k]] = try convert(last.frame, targets[k], last.time)
            k += 1
        }
        return out
    }

    /// Videos: time-based index rule, linear or seeking.
    private func decodeTimed(_ targets: [Int], strategy: DecodeStrategy, convert: Convert) throws -> [Int: RGBFrame] {
        var dec = try freshDecoder()
        defer { decoder = nil }
        let tb = FFmpeg.seconds(dec.timeBase)
        let ticksPerFrame = 1 / (info.fps * tb)
        func center(_ i: Int) -> Int64 { dec.startPTS + Int64((Double(i) * ticksPerFrame).rounded()) }
        func threshold(_ i: Int) -> Int64 { dec.startPTS + Int64(((Double(i) - 0.5) * ticksPerFrame).rounded()) }
        let frameTicks = Int64(max(1, ticksPerFrame.rounded()))

        guard let held = av_frame_alloc() else { throw FluxError(.internal, "out of memory allocating a frame") }
        var heldRef: UnsafeMutablePointer<AVFrame>? = held
        defer { av_frame_free(&heldRef) }
        var heldPTS: Int64?          // timestamp of the frame in `held`, nil when empty
        var position: Int64 = dec.startPTS - 1   // timestamp of the last frame decoded
        var keyframeGap: Int64 = 0   // largest distance seen between keyframes
        var lastKeyframe: Int64?
        var out: [Int: RGBFrame] = [:]

        func hold(_ frame: UnsafeMutablePointer<AVFrame>) -> Int64 {
            let pts = dec.presentationTime(of: frame, frameTicks: frameTicks)
            av_frame_unref(held)
            av_frame_ref(held, frame)
            heldPTS = pts
            position = pts
            if frame.pointee.key_frame != 0 {
                if let lastKeyframe, pts > lastKeyframe { keyframeGap = max(keyframeGap, pts - lastKeyframe) }
                lastKeyframe = pts
            }
            return pts
        }
        func seconds(_ pts: Int64) -> Double { Double(pts - dec.startPTS) * tb }
        func reopen() throws {
            dec = try MediaDecoder(path: info.path, limits: limits)
            heldPTS = nil
            position = dec.startPTS - 1
            lastKeyframe = nil
        }
        func worthSeeking(_ i: Int) -> Bool {
            switch strategy {
            case .linear: return false
            case .seek: return true
            case .automatic:
                let target = center(i)
                if let key = dec.indexedKeyframe(atOrBefore: target) { return key > position + frameTicks }
                let minimumGap = max(keyframeGap, Int64((2 / tb).rounded()))
                return target - position > minimumGap
            }
        }
        /// Seeks so that the next frames start at a keyframe at or before `i`'s time; the first
        /// frame after the seek is left in `held`. Falls back to a reopened decoder at the start.
        func seek(to i: Int) throws {
            let limitTicks = threshold(i + 1)
            var back = 0.0
            while true {
                let ticks = center(i) - Int64((back / tb).rounded())
                lastStats.seeks += 1
                if ticks <= dec.startPTS || !dec.seek(toTicks: ticks) {
                    try reopen()
                    return
                }
                heldPTS = nil
                if let frame = try dec.nextFrame() {
                    lastStats.framesDecoded += 1
                    if hold(frame) < limitTicks { return }
                }
                back = back == 0 ? 1 : back * 4
            }
        }

        var decodedAny = false
        var heldIsLast = false       // decoding ran into the end: `held` is the last frame there is
        for i in targets {
            let thr = threshold(i)
            if let pts = heldPTS, pts >= thr || heldIsLast {
                out[i] = try convert(held, i, seconds(pts))
                continue
            }
            dec.skipNonReferenceBefore = thr
            if worthSeeking(i) {
                try seek(to: i)
                dec.skipNonReferenceBefore = thr
                if let pts = heldPTS, pts >= thr {
                    decodedAny = true
                    out[i] = try convert(held, i, seconds(pts))
                    continue
                }
            }
            var found = false
            while let frame = try dec.nextFrame() {
                lastStats.framesDecoded += 1
                decodedAny = true
                let pts = hold(frame)
                if pts >= thr {
                    found = true
                    break
                }
            }
            if found || heldPTS != nil {
                // At the end of the stream the last frame stands in for the later indices.
                heldIsLast = !found
                out[i] = try convert(held, i, seconds(heldPTS ?? dec.startPTS))
            } else if decodedAny {
                // A seek past the real end (estimated frame count): take the last frame from the start.
                try reopen()
                dec.skipNonReferenceBefore = thr
                var lastPTS: Int64?
                while let frame = try dec.nextFrame() {
                    lastStats.framesDecoded += 1
                    lastPTS = hold(frame)
                }
                guard let lastPTS else { throw FluxError(.videoUnreadable, "\(info.path): no decodable frames") }
                heldIsLast = true
                out[i] = try convert(held, i, seconds(lastPTS))
            } else {
                throw FluxError(.videoUnreadable, "\(info.path): no decodable frames")
            }
        }
        return out
    }

    /// The decoder left by `init` on first use, then a new one per call (the old one has moved on).
    private func freshDecoder() throws -> MediaDecoder {
        if let decoder {
            self.decoder = nil
            return decoder
        }
        return try MediaDecoder(path: info.path, limits: limits)
    }

    // MARK: - Info

    private static func readInfo(_ dec: MediaDecoder, path: String, limits: VideoLimits) throws -> VideoInfo {
        let fmt = dec.formatContext.pointee
        let stream = dec.stream.pointee
        let params = stream.codecpar!.pointee
        let container = fmt.iformat.map { String(cString: $0.pointee.name) } ?? "unknown"
        let isGif = container == "gif"
        let rotation = displayRotation(dec.stream)
        let tb = FFmpeg.seconds(stream.time_base)

        var fps = FFmpeg.seconds(stream.avg_frame_rate)
        if !(fps > 0 && fps < 10_000) { fps = FFmpeg.seconds(stream.r_frame_rate) }
        if !(fps > 0 && fps < 10_000) { fps = 25 }
        if isGif { fps = 25 }

        var duration = stream.duration > 0 ? Double(stream.duration) * tb : 0
        if duration <= 0 && fmt.duration > 0 { duration = Double(fmt.duration) / Double(shim_av_time_base()) }

        var count = Int(stream.nb_frames)
        var exact = count > 0
        if isGif || count <= 0 {
            let estimate = Int((duration * fps).rounded())
            if !isGif && estimate > 0 {
                count = estimate
                exact = false
            } else {
                // Gifs store no count, and a stream with no duration gives no estimate: count packets.
                let counter = try MediaDecoder(path: path, limits: limits, threads: 1)
                let counted = try counter.countPackets(limit: 10_000_000)
                count = counted.count
                exact = true
                if isGif || duration <= 0 { duration = Double(counted.durationTicks) * tb }
            }
        }
        guard count > 0 else { throw FluxError(.videoUnreadable, "\(path): video stream has no frames") }

        let turned = rotation == 90 || rotation == 270
        return VideoInfo(path: path, kind: isGif ? .gif : .video, container: container,
                         codec: FFmpeg.codecName(params.codec_id),
                         width: Int(turned ? params.height : params.width), height: Int(turned ? params.width : params.height),
                         fps: fps, duration: duration, frameCount: count, rotation: rotation, frameCountExact: exact)
    }

    /// Counter-clockwise display rotation from the stream's display matrix (0 without one).
    private static func displayRotation(_ stream: UnsafeMutablePointer<AVStream>) -> Int {
        var size: Int = 0
        guard let data = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, &size), size >= 36 else { return 0 }
        let angle = data.withMemoryRebound(to: Int32.self, capacity: 9) { av_display_rotation_get($0) }
        return Rotation.quarterTurns(degrees: angle)
    }
}
