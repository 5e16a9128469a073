/// How the next token is chosen from the model's logits. The defaults are llama.cpp's
/// (`common_params_sampling`), except the seed, which is fixed so runs repeat.
public struct SamplingParameters: Sendable, Equatable {
    /// Divides the logits before the final draw; 0 means greedy (always the most likely token).
    public var temperature: Float = 0.8
    /// Keep only the `topK` most likely tokens; 0 keeps all.
    public var topK: Int = 40
    /// Keep the most likely tokens until their probabilities sum to at least `topP`; 1 keeps all.
    public var topP: Float = 0.95
    /// Drop tokens less likely than `minP` times the most likely one; 0 keeps all.
    public var minP: Float = 0.05
    /// Divides positive (multiplies negative) logits of tokens seen in the window; 1 is off.
    public var repetitionPenalty: Float = 1
    /// Subtracted from a token's logit once per occurrence in the window; 0 is off.
    public var frequencyPenalty: Float = 0
    /// Subtracted from the logit of every token that occurs in the window; 0 is off.
    public var presencePenalty: Float = 0
    /// How many of the most recent tokens the penalties look at (llama.cpp `penalty_last_n`).
    public var penaltyWindow: Int = 64
    /// The seed of the ``RandomSource`` behind the draw.
    public var seed: UInt64 = 0x5EED

    /// llama.cpp's defaults (temperature 0.8, top-k 40, top-p 0.95, min-p 0.05, no penalties).
    public init() {}

    /// Greedy decoding: the most likely token every time, no penalties.
    public static var greedy: SamplingParameters {
        var parameters = SamplingParameters()
        parameters.temperature = 0
        return parameters
    }

    /// Whether the sampler takes the most likely token without drawing.
    public var isGreedy: Bool { temperature <= 0 }

    /// Whether any of the three penalties changes a logit.
    public var hasPenalties: Bool {
        penaltyWindow > 0 && (repetitionPenalty != 1 || frequencyPenalty != 0 || presencePenalty != 0)
    }

    /// Checks every value is in range.
    /// - Throws: ``SamplingError`` naming the first bad parameter and why.
    public func validate() throws {
        func check(_ ok: Bool, _ name: String, _ value: any CustomStringConvertible, _ rule: String) throws {
            if !ok { throw SamplingError(parameter: name, value: value.description, rule: rule) }
        }
        try check(temperature.isFinite && temperature >= 0, "temperature", temperature, "must be 0 (greedy) or more")
        try check(topK >= 0, "top-k", topK, "must be 0 (off) or more")
        try check(topP > 0 && topP <= 1, "top-p", topP, "must be in (0, 1]")
        try check(minP >= 0 && minP <= 1, "min-p", minP, "must be in [0, 1]")
        try check(repetitionPenalty.isFinite && repetitionPenalty > 0, "repetition penalty", repetitionPenalty,
                  "must be above 0 (1 is off)")
        try check(frequencyPenalty.isFinite, "frequency penalty", frequencyPenalty, "must be a finite number")
        try check(presencePenalty.isFinite, "presence penalty", presencePenalty, "must be a finite number")
        try check(penaltyWindow >= 0, "penalty window", penaltyWindow, "must be 0 (off) or more")
    }
}

/// A sampling parameter out of range.
public struct SamplingError: Error, Equatable, CustomStringConvertible {
    /// The parameter's name as a user writes it ("top-p").
    public let parameter: String
    /// The rejected value.
    public let value: String
    /// The allowed range.
    public let rule: String

    public var description: String { "invalid \(parameter) \(value): \(rule)" }
}
