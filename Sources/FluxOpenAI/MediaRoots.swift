import FluxChat
import FluxCore
import Foundation

/// The folders a request's media may come from (`--media-root`, default: the current folder).
/// A path is checked twice: as written (`..` cannot climb out) and with every symlink resolved
/// (a link cannot point out). Frame folders are checked entry by entry. Inline `data:` media is
/// written to a private scratch folder and removed when the request ends.
public struct MediaRoots: Sendable {
    /// Absolute folders, symlinks resolved.
    public let roots: [String]
    /// Where inline media is written (created on first use, outside the roots' control).
    public let scratch: String

    public init(_ folders: [String], scratch: String) throws {
        var roots: [String] = []
        for f in folders {
            let real = Self.realPath(Self.absolute(f, base: FileManager.default.currentDirectoryPath))
            var isDir: ObjCBool = false
            guard let real, FileManager.default.fileExists(atPath: real, isDirectory: &isDir), isDir.boolValue else {
                throw FluxError(.fileNotFound, "--media-root \(f): no such folder")
            }
            roots.append(real)
        }
        self.roots = roots
        self.scratch = scratch
    }

    /// A local file for `part`: its resolved path, and whether it is a scratch copy to remove.
    public func resolve(_ part: MediaPart) throws -> (path: String, temporary: Bool) {
        switch part.source {
        case .path(let p): return (try confine(p, param: part.param), false)
        case .inline(let mime, let bytes): return (try write(bytes, mime: mime, param: part.param), true)
        }
    }

    /// `path` (relative paths against the first root) when it lies under a root, symlinks resolved.
    public func confine(_ path: String, param: String) throws -> String {
        guard let first = roots.first else { throw APIError.bad("\(param): this server takes no media paths", param: param) }
        let lexical = Self.absolute(path, base: first)
        guard inside(lexical) else { throw outside(path, param: param) }
        guard let real = Self.realPath(lexical) else {
            throw APIError(FluxError(.videoNotFound, "\(path): no such file or folder under --media-root"), param: param)
        }
        guard inside(real) else { throw outside(path, param: param) }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: real, isDirectory: &isDir), isDir.boolValue {
            // A frame folder: each frame must stay inside too.
            for name in (try? FileManager.default.contentsOfDirectory(atPath: real)) ?? [] {
                guard let entry = Self.realPath(real + "/" + name), inside(entry) else { throw outside(path + "/" + name, param: param) }
            }
        }
        return real
    }

    private func outside(_ path: String, param: String) -> APIError {
        APIError.bad("\(param): \(path) is outside the media roots (--media-root)", param: param)
    }

    private func inside(_ p: String) -> Bool {
        roots.contains { root in p == root || p.hasPrefix(root.hasSuffix("/") ? root : root + "/") }
    }

    private func write(_ bytes: Data, mime: String, param: String) throws -> String {
        do {
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            let path = scratch + "/" + UUID().uuidString + "." + Self.fileExtension(mime)
            try bytes.write(to: URL(fileURLWithPath: path))
            return path
        } catch {
            throw APIError.internal("cannot write inline media to \(scratch): \(error.localizedDescription)")
        }
    }

    /// A file name extension FFmpeg's probing recognises for `mime`.
    static func fileExtension(_ mime: String) -> String {
        switch mime {
        case "image/png": return "png"
        case "image/jpeg", "image/jpg": return "jpg"
        case "image/gif": return "gif"
        case "image/webp": return "webp"
        case "image/bmp": return "bmp"
        case "video/webm": return "webm"
        case "video/quicktime": return "mov"
        case "video/x-matroska": return "mkv"
        case "video/x-msvideo": return "avi"
        default: return mime.hasPrefix("image/") ? "img" : "mp4"
        }
    }

    /// `p` made absolute against `base`, with `.` and `..` folded lexically (no file access).
    static func absolute(_ p: String, base: String) -> String {
        let joined = p.hasPrefix("/") ? p : base + "/" + p
        var parts: [Substring] = []
        for c in joined.split(separator: "/", omittingEmptySubsequences: true) {
            if c == "." { continue }
            if c == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(c)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The path with every symlink resolved, or nil when it does not exist.
    static func realPath(_ p: String) -> String? {
        guard let r = realpath(p, nil) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }
}
