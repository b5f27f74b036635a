import FluxCore
import Foundation

/// An append-only JSON-lines file that a run can resume from after being killed at any point:
/// complete lines are kept, a torn last line is cut off, and every record has a key (by default
/// its `id` field; Dream records use "dataset-idx", as Tarsier's resume does).
public final class JSONLStore {
    public let path: String
    private let key: ([String: Any]) -> String?
    /// Records already in the file, in file order.
    public private(set) var records: [[String: Any]] = []
    /// Their `id` fields.
    public private(set) var ids: Set<String> = []
    private let handle: FileHandle

    /// Opens (creating) `path`, reading what is there; a last line without its newline or that
    /// does not parse is removed, so the next append starts on a clean line.
    public init(path: String, key: @escaping ([String: Any]) -> String? = { $0["id"] as? String }) throws {
        self.path = path
        self.key = key
        let fm = FileManager.default
        if !fm.fileExists(atPath: path) {
            guard fm.createFile(atPath: path, contents: nil) else { throw FluxError(.ioError, "\(path): cannot create") }
        }
        guard let data = fm.contents(atPath: path) else { throw FluxError(.ioError, "\(path): cannot read") }
        var good = 0
        var lineStart = 0
        let bytes = [UInt8](data)
        for (i, b) in bytes.enumerated() where b == UInt8(ascii: "\n") {
            let line = Data(bytes[lineStart..<i])
            lineStart = i + 1
            guard let obj = JSONValue.foundationObject(line), let id = key(obj) else {
                break
            }
            if !ids.contains(id) {
                records.append(obj)
                ids.insert(id)
            }
            good = i + 1
        }
        guard let h = FileHandle(forUpdatingAtPath: path) else { throw FluxError(.ioError, "\(path): cannot open for writing") }
        handle = h
        do {
            try h.truncate(atOffset: UInt64(good))
            try h.seekToEnd()
        } catch {
            throw FluxError(.ioError, "\(path): cannot truncate a torn last line (\(error.localizedDescription))")
        }
    }

    deinit { try? handle.close() }

    /// Appends one record as one line (`line`, its JSON text, without the newline), written in one call.
    public func append(line: String, record: [String: Any]) throws {
        guard let id = key(record) else { throw FluxError(.internal, "\(path): a record without a key") }
        do { try handle.write(contentsOf: Data((line + "\n").utf8)) } catch {
            throw FluxError(.ioError, "\(path): write failed (\(error.localizedDescription))")
        }
        records.append(record)
        ids.insert(id)
    }

    /// Complete records of a JSONL file (torn or unparsable lines skipped), without opening it for writing.
    public static func read(_ path: String) throws -> [[String: Any]] {
        guard let data = FileManager.default.contents(atPath: path) else { throw FluxError(.fileNotFound, "\(path): no such file") }
        return data.split(separator: UInt8(ascii: "\n")).compactMap {
            JSONValue.foundationObject(Data($0))
        }
    }
}
