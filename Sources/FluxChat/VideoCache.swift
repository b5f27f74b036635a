import FluxCore
import FluxVideo
import Foundation

/// Identifies an encoded video: the file (resolved path, device, inode, size, modification time,
/// so an edited file is not served stale) and every setting that changes the encoding.
public struct VideoKey: Hashable, Sendable {
    public let file: String
    public let frames: Int
    public let resolution: Int
    public let budget: Int
    public let start: Double?
    public let end: Double?

    /// Reads the file's identity; a missing path is `video_not_found`.
    public init(path: String, frames: Int, resolution: Int, budget: Int, start: Double?, end: Double?) throws {
        let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: resolved) else {
            throw FluxError(.videoNotFound, "\(path): no such file or folder")
        }
        let dev = (attrs[.systemNumber] as? NSNumber)?.int64Value ?? 0
        let ino = (attrs[.systemFileNumber] as? NSNumber)?.int64Value ?? 0
        let size = (attrs[.size] as? NSNumber)?.int64Value ?? 0
        let mtime = (attrs[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        file = "\(resolved)|\(dev)|\(ino)|\(size)|\(mtime)"
        self.frames = frames; self.resolution = resolution; self.budget = budget
        self.start = start; self.end = end
    }
}

/// A video decoded, encoded and projected: what a question about it needs, plus what the
/// selection picture needs.
public struct EncodedVideo: Sendable {
    /// Unique per encoding (a re-encoded video gets a new one), so KV-cache positions holding
    /// these embeddings can be matched.
    public let serial: Int
    public let key: VideoKey
    /// Projected visual tokens [V, D_llm].
    public let embeddings: Tensor
    /// Cropped RGB frames as sampled.
    public let frames: [RGBFrame]
    public let timestamps: [Double]
    /// Kept patch indices t*L + p into the gridT x gridL grid.
    public let kept: [Int]
    public let gridT: Int
    public let gridL: Int
    public let decodeMs: Double
    public let encodeMs: Double

    public var byteCount: Int { embeddings.count * 4 + frames.reduce(0) { $0 + $1.pixels.count } + kept.count * 8 }
}

/// Least-recently-used store of encoded videos under a byte cap. Thread-safe, so the engines of
/// `serve --http --parallel N` share one: a video encoded by one slot is reused by the others.
public final class VideoCache: @unchecked Sendable {
    public let capacityBytes: Int
    private let lock = NSLock()
    private var entries: [VideoKey: EncodedVideo] = [:]
    private var order: [VideoKey] = []
    private var bytesHeld = 0
    private var lastSerial = 0

    public init(capacityBytes: Int) { self.capacityBytes = capacityBytes }

    public var count: Int { lock.withLock { entries.count } }
    public var bytes: Int { lock.withLock { bytesHeld } }

    /// A serial no other encoding from this cache has, so engines sharing it never mistake one
    /// video's KV-cache positions for another's.
    public func newSerial() -> Int {
        lock.withLock {
            lastSerial += 1
            return lastSerial
        }
    }

    /// Whether `key` is held, without touching its recency.
    public func contains(_ key: VideoKey) -> Bool { lock.withLock { entries[key] != nil } }

    /// The entry for `key`, now the most recently used.
    public func get(_ key: VideoKey) -> EncodedVideo? {
        lock.withLock {
            guard let v = entries[key] else { return nil }
            order.removeAll { $0 == key }
            order.append(key)
            return v
        }
    }

    /// Stores `video`, evicting the least recently used entries until it fits (an entry larger
    /// than the cap is not kept).
    public func insert(_ video: EncodedVideo) {
        lock.withLock {
            if let old = entries.removeValue(forKey: video.key) {
                bytesHeld -= old.byteCount
                order.removeAll { $0 == video.key }
            }
            guard video.byteCount <= capacityBytes else { return }
            while bytesHeld + video.byteCount > capacityBytes, let oldest = order.first {
                order.removeFirst()
                if let e = entries.removeValue(forKey: oldest) { bytesHeld -= e.byteCount }
            }
            entries[video.key] = video
            order.append(video.key)
            bytesHeld += video.byteCount
        }
    }
}
