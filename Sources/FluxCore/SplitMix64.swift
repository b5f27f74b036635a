import Foundation

/// SplitMix64: small, fast, seedable; the same seed gives the same stream on every platform
/// (sampling, random test weights, benchmark inputs).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 24 bits.
    public mutating func nextUnit() -> Float { Float(next() >> 40) * (1 / 16_777_216) }

    /// Uniform in [-1, 1).
    public mutating func nextSymmetric() -> Float { 2 * nextUnit() - 1 }

    /// Standard normal (Box-Muller).
    public mutating func nextNormal() -> Float {
        let u1 = max(nextUnit(), 1e-7), u2 = nextUnit()
        return (-2 * logf(u1)).squareRoot() * cosf(2 * .pi * u2)
    }
}
