import FluxCore

extension LlamaModel {
    /// Generates token ids after `prompt` with no tokenizer involved (parity checks against other
    /// engines, models whose tokenizer is not loaded): stops at `maxTokens`, at an id in `stopIds`
    /// (not included) or when the context is full.
    public func generateIds(prompt: [Int32], options: SamplingOptions, stopIds: Set<Int32>) throws -> [Int32] {
        try options.validate()
        let cache = makeCache(capacity: min(config.maxPositionEmbeddings, prompt.count + max(1, options.maxTokens)))
        var sampler = Sampler(options: options)
        var history = prompt, out: [Int32] = []
        var logits = try prefill([.tokens(prompt)], cache: cache)
        while out.count < options.maxTokens {
            let id = sampler.next(logits: logits, history: history)
            if stopIds.contains(id) { break }
            out.append(id)
            history.append(id)
            guard out.count < options.maxTokens, cache.count < cache.capacity else { break }
            logits = try decodeStep(token: id, cache: cache)
        }
        return out
    }
}
