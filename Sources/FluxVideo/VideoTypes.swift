import FluxCore

/// What kind of source a path names; decides the frame-index base and the nominal fps of the
/// sampling rule (FrameSampler).
public enum VideoKind: String, Sendable {
    case video, gif, frameFolder
}

/// What `VideoLoader.probe` learns without decoding pixels.
public struct VideoInfo: Sendable, Equatable {
    public let path: String
    public let kind: VideoKind
    /// Demuxer name ("mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "gif", ...; "frames" for folders).
    public let container: String
    /// Decoder name ("h264", "hevc", "vp9", "png", ...).
    public let codec: String
    /// Display size: rotation already applied (a 90 or 270 degree clip has width and height swapped).
    public let width: Int
    public let height: Int
    /// The fps the index rule uses: the stream's average fps for videos, 25 for gifs, 3 for frame
    /// folders (as VideoChat2 reads them), so `round(seconds * fps)` is a frame index.
    public let fps: Double
    /// Seconds. For videos the container's duration; for gifs the sum of frame delays;
    /// for frame folders `frameCount / 3`.
    public let duration: Double
    /// Frames in the stream. Exact when `frameCountExact`; otherwise `round(duration * fps)`
    /// because the container (Matroska/WebM, some AVI) does not store it.
    public let frameCount: Int
    /// Counter-clockwise degrees (0, 90, 180, 270) the decoded picture is turned for display, as
    /// `av_display_rotation_get` and ffprobe report it.
    public let rotation: Int
    /// Whether `frameCount` was read from the stream (or counted) rather than estimated.
    public let frameCountExact: Bool

    public init(path: String, kind: VideoKind, container: String, codec: String, width: Int, height: Int,
                fps: Double, duration: Double, frameCount: Int, rotation: Int, frameCountExact: Bool) {
        self.path = path
        self.kind = kind
        self.container = container
        self.codec = codec
        self.width = width
        self.height = height
        self.fps = fps
        self.duration = duration
        self.frameCount = frameCount
        self.rotation = rotation
        self.frameCountExact = frameCountExact
    }

    /// First valid frame index: 1 for frame folders (files are `00001.jpg`...), else 0.
    public var firstIndex: Int { kind == .frameFolder ? 1 : 0 }
    /// Last valid frame index: `frameCount` for frame folders, else `frameCount - 1`.
    public var lastIndex: Int { kind == .frameFolder ? frameCount : frameCount - 1 }
}

/// Per-channel normalisation applied after scaling pixels to [0, 1]: `(x - mean) / std`.
public struct Normalization: Sendable, Equatable {
    public var mean: [Float]
    public var std: [Float]

    public init(mean: [Float], std: [Float]) {
        self.mean = mean
        self.std = std
    }

    /// ImageNet statistics (FluxViT's preprocessing).
    public static let imagenet = Normalization(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
    /// OpenAI CLIP statistics (VideoChat2's MVBench preprocessing).
    public static let clip = Normalization(mean: [0.48145466, 0.4578275, 0.40821073],
                                           std: [0.26862954, 0.26130258, 0.27577711])

    /// Throws unless there are exactly three means and three positive, finite stds.
    public func validate() throws {
        guard mean.count == 3, std.count == 3 else {
            throw FluxError(.badRequest, "normalization needs 3 means and 3 stds, got \(mean.count) and \(std.count)")
        }
        guard mean.allSatisfy({ $0.isFinite }), std.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw FluxError(.badRequest, "normalization mean must be finite and std positive, got mean \(mean) std \(std)")
        }
    }
}

/// One decoded picture as RGB24, row-major, `width * height * 3` bytes.
public struct RGBFrame: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public var pixels: [UInt8]
    /// The frame index it was decoded for (index base of `VideoInfo.firstIndex`).
    public let index: Int
    /// Presentation time in seconds from the start of the stream.
    public let timestamp: Double

    public init(width: Int, height: Int, pixels: [UInt8], index: Int, timestamp: Double) {
        self.width = width
        self.height = height
        self.pixels = pixels
        self.index = index
        self.timestamp = timestamp
    }

    /// The RGB triple at (x, y); callers pass in-range coordinates.
    public func rgb(x: Int, y: Int) -> (UInt8, UInt8, UInt8) {
        let o = (y * width + x) * 3
        return (pixels[o], pixels[o + 1], pixels[o + 2])
    }
}

/// Sampled, preprocessed frames ready for the encoder.
public struct VideoClip: Sendable {
    /// `[3, T, R, R]`, normalised, channel-major like PyTorch's (C, T, H, W).
    public let pixels: Tensor
    /// The R x R RGB crops the tensor was made from (for pictures).
    public let frames: [RGBFrame]
    public let indices: [Int]
    public let timestamps: [Double]
    public let info: VideoInfo

    public init(pixels: Tensor, frames: [RGBFrame], indices: [Int], timestamps: [Double], info: VideoInfo) {
        self.pixels = pixels
        self.frames = frames
        self.indices = indices
        self.timestamps = timestamps
        self.info = info
    }
}

/// Size limits checked before any frame memory is spent.
public struct VideoLimits: Sendable, Equatable {
    /// Largest `width * height` accepted.
    public var maxPixels: Int
    /// Largest width or height accepted.
    public var maxSide: Int

    public init(maxPixels: Int, maxSide: Int) {
        self.maxPixels = maxPixels
        self.maxSide = maxSide
    }

    /// 8192 x 8192 pixels, 16384 on either side.
    public static let standard = VideoLimits(maxPixels: 8192 * 8192, maxSide: 16384)

    func check(width: Int, height: Int, path: String) throws {
        guard width > 0, height > 0 else {
            throw FluxError(.videoUnreadable, "\(path): video stream has no valid size (\(width)x\(height))")
        }
        guard width <= maxSide, height <= maxSide, width * height <= maxPixels else {
            throw FluxError(.videoTooLarge,
                            "\(path): frame size \(width)x\(height) exceeds the limit (\(maxPixels) pixels, \(maxSide) per side)")
        }
    }
}
