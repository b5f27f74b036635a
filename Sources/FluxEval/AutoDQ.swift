import FluxCore
import Foundation

/// Tarsier's AutoDQ metric for Dream-1k: events are extracted from the
/// prediction by a judge model; recall is the share of reference events the prediction entails,
/// precision the share of predicted events the reference description entails (only
/// "entailment" counts); per-source means, overall = mean of the sources (macro), F1 from the
/// averaged R and P. The prompts are this project's wording of the published instructions.
public enum AutoDQ {
    /// The event-extraction instruction; `{caption}` is replaced.
    public static let extractionPrompt = """
    Below is a description of a video. List the key events it describes, at most 10.
    Rules:
    1. Every event must involve an action, motion or movement; leave out static information and do not repeat events.
    2. Write each event as one atomic sentence of at most 10 words: a subject, a predicate and, if needed, an object.
    3. Scene cuts and camera movements are not events.
    4. Replace pronouns with the nouns they stand for.
    Answer with only a JSON object of the form {"events": ["event 1", "event 2"]}.

    Video description:
    {caption}
    """

    /// The entailment instruction; `{description}` and `{events}` are replaced.
    public static let entailmentPrompt = """
    Below are a description of a video and a list of events. For each event, decide how the description relates to it:
    - "entailment": the description states or clearly implies the event;
    - "contradiction": the description conflicts with the event;
    - "neutral": the description neither supports nor contradicts the event.
    Answer with only a JSON object of the form {"events": [{"event": "...", "relationship": "entailment", "reason": "..."}]}, one entry per event, in the given order.

    Video description:
    {description}

    Events:
    {events}
    """

    /// One sample's judgement.
    public struct Sample {
        public var recall: Double
        public var precision: Double
        public var predictedEvents: [String]
        public var recallJudgements: [String]
        public var precisionJudgements: [String]
    }

    /// Judges one prediction against its reference description and events (events extracted
    /// from the reference when nil). As in Tarsier, both texts are lowercased, and double quotes
    /// become single quotes for extraction. An empty event list scores 1.0 (Tarsier still makes
    /// the call, with the other text as the one event, but ignores its answer; this skips it).
    public static func judge(prediction: String, reference: String, referenceEvents: [String]?, client: JudgeClient) throws -> Sample {
        let pred = prediction.lowercased(), ref = reference.lowercased()
        let refEvents = try referenceEvents ?? extract(ref.replacingOccurrences(of: "\"", with: "'"), client: client)
        let predEvents = try extract(pred.replacingOccurrences(of: "\"", with: "'"), client: client)
        let (recall, rj) = try entailed(refEvents, by: pred, client: client)
        let (precision, pj) = try entailed(predEvents, by: ref, client: client)
        return Sample(recall: recall, precision: precision, predictedEvents: predEvents, recallJudgements: rj, precisionJudgements: pj)
    }

    static func extract(_ caption: String, client: JudgeClient) throws -> [String] {
        let reply = try client.complete(extractionPrompt.replacingOccurrences(of: "{caption}", with: caption))
        guard let obj = repairedObject(reply), let events = obj["events"] as? [Any] else {
            throw FluxError(.badJSON, "judge: the event list does not parse: \(reply.prefix(200))")
        }
        return events.compactMap { $0 as? String }
    }

    /// Share of `events` that `description` entails, and each event's relationship.
    static func entailed(_ events: [String], by description: String, client: JudgeClient) throws -> (Double, [String]) {
        guard !events.isEmpty else { return (1, []) }
        let list = events.map { "- " + $0 }.joined(separator: "\n")
        let prompt = entailmentPrompt.replacingOccurrences(of: "{description}", with: description)
            .replacingOccurrences(of: "{events}", with: list)
        let reply = try client.complete(prompt)
        guard let obj = repairedObject(reply), let items = obj["events"] as? [Any] else {
            throw FluxError(.badJSON, "judge: the relationships do not parse: \(reply.prefix(200))")
        }
        let rel = items.map { (($0 as? [String: Any])?["relationship"] as? String ?? "").trimmingCharacters(in: .whitespaces).lowercased() }
        let hits = rel.prefix(events.count).filter { $0 == "entailment" }.count
        return (Double(hits) / Double(events.count), rel)
    }

    /// The JSON object in a judge reply, after the usual repairs: code fences dropped, text
    /// outside the outermost braces dropped, trailing commas removed.
    public static func repairedObject(_ reply: String) -> [String: Any]? {
        var s = reply.replacingOccurrences(of: "```json", with: "").replacingOccurrences(of: "```", with: "")
        if let a = s.firstIndex(of: "{") {
            s = String(s[a...])
            if let b = s.lastIndex(of: "}") { s = String(s[...b]) } else { s += "}" }
        }
        s = s.replacingOccurrences(of: #",\s*([\]}])"#, with: "$1", options: .regularExpression)
        return JSONValue.foundationObject(Data(s.utf8))
    }

    /// Per-source and overall recall, precision and F1 from judged records
    /// (`dataset`, `recall`, `precision`; records with `failed` are left out and counted).
    public static func aggregate(_ records: [[String: Any]]) -> [String: Any] {
        var bySource: [String: (r: Double, p: Double, n: Int)] = [:]
        var failed = 0
        for rec in records {
            guard rec["failed"] == nil, let r = rec["recall"] as? Double, let p = rec["precision"] as? Double else {
                failed += 1
                continue
            }
            let src = rec["dataset"] as? String ?? ""
            let e = bySource[src] ?? (0, 0, 0)
            bySource[src] = (e.r + r, e.p + p, e.n + 1)
        }
        func f1(_ r: Double, _ p: Double) -> Double { r + p > 0 ? 2 * r * p / (r + p) : 0 }
        func r4(_ v: Double) -> Double { (v * 10_000).rounded() / 10_000 }
        var sources: [String: Any] = [:]
        var sumR = 0.0, sumP = 0.0
        for (src, e) in bySource {
            let r = e.r / Double(e.n), p = e.p / Double(e.n)
            sumR += r; sumP += p
            sources[src] = ["recall": r4(r), "precision": r4(p), "f1": r4(f1(r, p)), "samples": e.n]
        }
        let n = Double(max(1, bySource.count))
        let r = sumR / n, p = sumP / n
        return ["sources": sources, "overall": ["recall": r4(r), "precision": r4(p), "f1": r4(f1(r, p)),
                                                "samples": bySource.values.reduce(0) { $0 + $1.n }],
                "failed": failed]
    }
}
