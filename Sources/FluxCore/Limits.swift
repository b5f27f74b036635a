/// The one set of limits on what a request may ask for, checked before any memory is spent.
/// Video decoding and budget planning both check against these, through these functions.
public enum Limits {
    /// Most frames one request may sample.
    public static let maxFrames = 1024
    /// Largest square crop side.
    public static let maxResolution = 4096
    /// Most patch tokens the encoder accepts before selection (frames x patches per frame).
    public static let maxInputTokens = 65_536
    /// Most tokens entering the encoder blocks, so the largest budget.
    public static let maxBudget = 16_384
    /// Most tokens one reply may generate.
    public static let maxNewTokens = 1 << 20
    /// Largest seed: records (settings.json, a saved transcript) hold it as a JSON integer.
    public static let maxSeed = UInt64(Int.max)
    /// Largest HTTP request body (`serve --http`), inline base64 media included.
    public static let maxRequestBytes = 32 << 20
    /// Most messages one HTTP request may carry.
    public static let maxMessages = 1024
    /// Largest media file sent inline as a base64 `data:` URL, decoded.
    public static let maxInlineMediaBytes = 16 << 20

    /// `n` when it is a frame count in 1...maxFrames; `field` names it in the error.
    @discardableResult
    public static func frames(_ n: Int, field: String = "frames") throws -> Int {
        guard n > 0, n <= maxFrames else {
            throw FluxError(.budgetOutOfRange, "\(field) must be between 1 and \(maxFrames), got \(n)")
        }
        return n
    }

    /// `r` when it is a crop side in 1...maxResolution.
    @discardableResult
    public static func resolution(_ r: Int) throws -> Int {
        guard r > 0, r <= maxResolution else {
            throw FluxError(.budgetOutOfRange, "resolution must be between 1 and \(maxResolution), got \(r)")
        }
        return r
    }

    /// `k` when it is a token budget in 1...maxBudget.
    @discardableResult
    public static func budget(_ k: Int) throws -> Int {
        guard k > 0, k <= maxBudget else {
            throw FluxError(.budgetOutOfRange, "budget must be between 1 and \(maxBudget), got \(k)")
        }
        return k
    }
}
