import FluxCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A chat-completions client for an OpenAI-compatible endpoint (`POST <base>/chat/completions`).
public final class JudgeClient {
    public let url: URL
    public let model: String
    public let apiKey: String?
    public let timeout: TimeInterval
    public let retries: Int
    /// Requests sent so far (retries included).
    public private(set) var requests = 0

    /// `endpoint` is the API base (".../v1") or the full ".../chat/completions" URL.
    public init(endpoint: String, model: String, apiKey: String? = nil, timeout: TimeInterval = 60, retries: Int = 3) throws {
        let full = endpoint.hasSuffix("/chat/completions") ? endpoint
            : (endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint) + "/chat/completions"
        guard let u = URL(string: full), let scheme = u.scheme, ["http", "https"].contains(scheme), u.host != nil else {
            throw FluxError(.badRequest, "endpoint must be an http(s) URL, got '\(endpoint)'")
        }
        url = u; self.model = model; self.apiKey = apiKey; self.timeout = timeout; self.retries = max(0, retries)
    }

    /// The assistant text for one user message (temperature 0), retried on transport errors,
    /// non-2xx statuses and malformed bodies.
    public func complete(_ prompt: String) throws -> String {
        let body: [String: Any] = ["model": model, "temperature": 0,
                                   "messages": [["role": "user", "content": prompt]]]
        var lastError = FluxError(.ioError, "\(url): no attempt made")
        for _ in 0...retries {
            requests += 1
            do { return try once(body) } catch let e as FluxError { lastError = e }
        }
        throw lastError
    }

    private func once(_ body: [String: Any]) throws -> String {
        var req = URLRequest(url: url, timeoutInterval: timeout)
        req.httpMethod = "POST"
        req.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let apiKey { req.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization") }
        req.httpBody = Data(try JSONValue(checking: body).stable(escapingSlashes: true).utf8)
        final class Box: @unchecked Sendable { var data: Data?; var status = 0; var error: String? }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        let task = URLSession.shared.dataTask(with: req) { data, response, error in
            box.data = data
            box.status = (response as? HTTPURLResponse)?.statusCode ?? 0
            box.error = error.map { "\($0.localizedDescription)" }
            done.signal()
        }
        task.resume()
        if done.wait(timeout: .now() + timeout + 5) == .timedOut {
            task.cancel()
            throw FluxError(.ioError, "\(url): no answer within \(Int(timeout)) s")
        }
        if let e = box.error { throw FluxError(.ioError, "\(url): \(e)") }
        guard (200..<300).contains(box.status), let data = box.data else {
            throw FluxError(.ioError, "\(url): HTTP status \(box.status)")
        }
        guard let obj = JSONValue.foundationObject(data),
              let choices = obj["choices"] as? [[String: Any]], let message = choices.first?["message"] as? [String: Any],
              let content = message["content"] as? String else {
            throw FluxError(.badJSON, "\(url): the reply has no choices[0].message.content")
        }
        return content
    }
}
