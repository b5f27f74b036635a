import FluxCore
import Foundation

/// The Dream-1k annotation layouts: Tarsier's DREAM-1k.jsonl (messages or flat) and the Hugging Face metadata.json.
public enum DreamFormat: String, Sendable {
    /// Tarsier2 / main: the prediction goes into the assistant turn's text item (`text`).
    case messages
    /// Tarsier v1: the prediction goes into `text.prediction` (added after `response`).
    case flat
    /// The HF `metadata.json` records: the prediction goes into a top-level `prediction`.
    case metadata
}

/// One Dream-1k record, with its original JSON text kept so it can be written back unchanged
/// except for the prediction.
public struct DreamRecord: Sendable {
    public let format: DreamFormat
    /// The record's JSON text exactly as read.
    public let text: String
    /// "dataset-idx" (Tarsier's resume and dedup key).
    public let key: String
    public let idx: Int
    public let dataset: String
    /// The clip's file name under the media folder (`<vid>.mp4`, or metadata's `video_file`).
    public let videoName: String
    /// The human description.
    public let reference: String
    /// The reference events (`extra_info.events`, or metadata `events`), when present.
    public let events: [String]?
}

/// Reads and writes Dream-1k records in all three layouts.
public enum DreamRecords {
    /// Records of a Tarsier jsonl (either format; blank lines skipped) or an HF metadata.json
    /// (a JSON array, or JSON lines, of flat records), in file order.
    public static func load(path: String) throws -> [DreamRecord] {
        guard let data = FileManager.default.contents(atPath: path) else { throw FluxError(.fileNotFound, "\(path): no such file") }
        let bytes = [UInt8](data)
        var i = 0
        while i < bytes.count, " \t\r\n".utf8.contains(bytes[i]) { i += 1 }
        var spans: [Range<Int>] = []
        if i < bytes.count, bytes[i] == UInt8(ascii: "[") {
            do { spans = try JSONText.elements(bytes, i) } catch { throw FluxError(.badJSON, "\(path): \((error as? FluxError)?.message ?? "")") }
        } else {
            var start = 0
            for (j, b) in bytes.enumerated() where b == UInt8(ascii: "\n") {
                spans.append(start..<j)
                start = j + 1
            }
            if start < bytes.count { spans.append(start..<bytes.count) }
            spans = spans.filter { r in bytes[r].contains { !" \t\r".utf8.contains($0) } }
        }
        return try spans.enumerated().map { n, r in
            let text = String(decoding: bytes[r], as: UTF8.self)
            guard let obj = JSONValue.foundationObject(Data(bytes[r])) else {
                throw FluxError(.badJSON, "\(path): record \(n + 1) is not a JSON object")
            }
            return try record(obj, text: text, source: "\(path): record \(n + 1)")
        }
    }

    /// The record's key: "dataset-idx" (Tarsier) or "source-idx" (metadata).
    public static func key(_ obj: [String: Any]) -> String? {
        guard let idx = scalar(obj["idx"]) else { return nil }
        let dataset = obj["dataset"] as? String ?? obj["source"] as? String ?? ""
        return "\(dataset)-\(idx)"
    }

    /// The prediction a written-back record carries, if any.
    public static func prediction(_ obj: [String: Any]) -> String? {
        if let messages = obj["messages"] as? [[String: Any]] {
            let assistant = messages.last { $0["role"] as? String == "assistant" }
            let item = (assistant?["content"] as? [[String: Any]])?.first { $0["type"] as? String == "text" }
            return item?["text"] as? String
        }
        if let t = obj["text"] as? [String: Any] { return t["prediction"] as? String }
        return obj["prediction"] as? String
    }

    /// `record`'s original text with `prediction` written in (every other byte unchanged).
    public static func withPrediction(_ record: DreamRecord, _ prediction: String) throws -> String {
        var b = [UInt8](record.text.utf8)
        func setField(objectAt start: Int, key: String) throws {
            try JSONText.set(key, to: .string(prediction), inObjectAt: start, of: &b)
        }
        do {
            switch record.format {
            case .messages:
                let (top, _) = try JSONText.members(b, 0)
                guard let msgs = top.first(where: { $0.key == "messages" }) else { throw FluxError(.badJSON, "no messages") }
                var target: Range<Int>?
                for m in try JSONText.elements(b, msgs.value.lowerBound) {
                    let (fields, _) = try JSONText.members(b, m.lowerBound)
                    guard let role = fields.first(where: { $0.key == "role" }),
                          String(decoding: b[role.value], as: UTF8.self) == "\"assistant\"",
                          let content = fields.first(where: { $0.key == "content" }) else { continue }
                    for item in try JSONText.elements(b, content.value.lowerBound) {
                        let (itemFields, _) = try JSONText.members(b, item.lowerBound)
                        if let type = itemFields.first(where: { $0.key == "type" }),
                           String(decoding: b[type.value], as: UTF8.self) == "\"text\"" {
                            target = item
                            break
                        }
                    }
                }
                guard let target else { throw FluxError(.badJSON, "no assistant text item") }
                try setField(objectAt: target.lowerBound, key: "text")
            case .flat:
                let (top, _) = try JSONText.members(b, 0)
                guard let t = top.first(where: { $0.key == "text" }) else { throw FluxError(.badJSON, "no text object") }
                try setField(objectAt: t.value.lowerBound, key: "prediction")
            case .metadata:
                try setField(objectAt: 0, key: "prediction")
            }
        } catch let e as FluxError {
            throw FluxError(.badJSON, "record \(record.key): \(e.message)")
        }
        return String(decoding: b, as: UTF8.self)
    }

    static func record(_ obj: [String: Any], text: String, source: String) throws -> DreamRecord {
        guard let key = key(obj), let idxText = scalar(obj["idx"]), let idx = Int(idxText) else {
            throw FluxError(.badRequest, "\(source): needs an integer 'idx'")
        }
        let extra = obj["extra_info"] as? [String: Any]
        if let messages = obj["messages"] as? [[String: Any]] {
            let assistant = messages.last { $0["role"] as? String == "assistant" }
            guard let item = (assistant?["content"] as? [[String: Any]])?.first(where: { $0["type"] as? String == "text" }) else {
                throw FluxError(.badRequest, "\(source): 'messages' has no assistant text item")
            }
            let vid = scalar(obj["vid"]) ?? idxText
            return DreamRecord(format: .messages, text: text, key: key, idx: idx, dataset: obj["dataset"] as? String ?? "",
                               videoName: "\(vid).mp4", reference: item["reference"] as? String ?? "",
                               events: extra?["events"] as? [String])
        }
        if let t = obj["text"] as? [String: Any] {
            let vid = scalar(obj["vid"]) ?? idxText
            return DreamRecord(format: .flat, text: text, key: key, idx: idx, dataset: obj["dataset"] as? String ?? "",
                               videoName: "\(vid).mp4", reference: t["response"] as? String ?? "",
                               events: extra?["events"] as? [String])
        }
        guard let file = obj["video_file"] as? String, let description = obj["description"] as? String else {
            throw FluxError(.badRequest, "\(source): neither Tarsier format (messages / text) nor metadata (video_file, description)")
        }
        var name = (file as NSString).lastPathComponent
        if (name as NSString).pathExtension.isEmpty { name += ".mp4" }
        var events = obj["events"] as? [String]
        if events == nil, let s = obj["events"] as? String, let d = s.data(using: .utf8) {
            events = (try? JSONValue.parse(d, source: "events"))?.foundationValue as? [String]
        }
        return DreamRecord(format: .metadata, text: text, key: key, idx: idx, dataset: obj["source"] as? String ?? "",
                           videoName: name, reference: description, events: events)
    }

    /// A number or string field as text.
    static func scalar(_ v: Any?) -> String? {
        if let s = v as? String { return s }
        if let n = v as? NSNumber { return n.stringValue }
        return nil
    }
}
