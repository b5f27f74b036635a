import FluxCore

/// Which items of a benchmark one process runs: `offset`, `limit`, then shard `I/N`
/// (round-robin over the selected items, so shards are disjoint and together cover everything).
public struct RunSelection: Sendable, Equatable {
    public var offset: Int
    public var limit: Int?
    /// 0-based shard index.
    public var shard: Int
    public var shards: Int

    public init(offset: Int = 0, limit: Int? = nil, shard: Int = 0, shards: Int = 1) {
        self.offset = offset; self.limit = limit; self.shard = shard; self.shards = shards
    }

    /// Parses "I/N" (0 <= I < N).
    public static func parseShard(_ text: String) throws -> (Int, Int) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, n <= 100_000, i >= 0, i < n else {
            throw FluxError(.badRequest, "shard must be I/N with 0 <= I < N, got '\(text)'")
        }
        return (i, n)
    }

    /// Refuses negative offsets and limits.
    public func validate() throws {
        guard offset >= 0 else { throw FluxError(.badRequest, "offset must be >= 0, got \(offset)") }
        if let limit, limit < 0 { throw FluxError(.badRequest, "limit must be >= 0, got \(limit)") }
        guard shards >= 1, shard >= 0, shard < shards else {
            throw FluxError(.badRequest, "shard index \(shard) is not below the shard count \(shards)")
        }
    }

    /// Positions (into an item list of `count`) this process runs, in order.
    public func positions(count: Int) -> [Int] {
        let start = min(offset, count)
        let end = limit.map { min(count, start + $0) } ?? count
        return (start..<end).filter { ($0 - start) % shards == shard }
    }

    /// Suffix of this process's output files: "" for one shard, ".shard-I-of-N" otherwise.
    public var fileSuffix: String { shards == 1 ? "" : ".shard-\(shard)-of-\(shards)" }
}
