import FluxCore
import FluxLM
import Foundation
import FuzzSupport

/// Byte-level BPE on outside input. The first byte picks the mode:
/// 0: the rest is text for the fixture tokenizers (one per pre-tokenizer family): ids stay in the
///    vocabulary, decoding gives the text back, streaming gives the same text;
/// 1: the rest is a tokenizer.json: it loads or fails with a FluxError, and a loaded one encodes;
/// 2: the rest is lines, a vocabulary and merges as a GGUF holds them, then text to encode.
let families = ["gpt2", "smollm", "llama3", "qwen2"]
let tokenizers: [BPETokenizer] = families.map { family in
    let path = FuzzInput.repositoryFile("Tests/FluxLMTests/Fixtures/bpe/\(family)/tokenizer.json")
    do { return try BPETokenizer(tokenizerJSONPath: path) } catch { fatalError("fuzz setup: \(error) (run from the repository root)") }
}

func checkEncode(_ tok: any Tokenizer, _ text: String, roundTrip: Bool) {
    guard let ids = try? tok.encode(text, addBOS: true) else { fatalError("encode threw on \(text.utf8.count) bytes") }
    precondition(ids.allSatisfy { $0 >= 0 && Int($0) < tok.vocabSize }, "an id outside the vocabulary")
    let decoded = tok.decode(ids)
    if roundTrip { precondition(decoded == text, "decode(encode(text)) != text") }
    var detok = StreamingDetokenizer(tokenizer: tok)
    var streamed = ""
    for id in ids { streamed += detok.append(id) }
    streamed += detok.flush()
    precondition(streamed == decoded, "streamed text differs from the decoded text")
}

func check(_ bytes: [UInt8]) {
    guard let mode = bytes.first else { return }
    let rest = Array(bytes.dropFirst())
    switch mode % 3 {
    case 0:
        let text = String(decoding: rest, as: UTF8.self)
        let tok = tokenizers[Int(mode / 3) % tokenizers.count]
        checkEncode(tok, text, roundTrip: !text.contains("<|"))
    case 1:
        do {
            let tok = try BPETokenizer(tokenizerJSON: Data(rest), source: "fuzz.json")
            checkEncode(tok, "Hello 123 <|im_start|> wörld 😀\n\n", roundTrip: false)
            checkEncode(tok, String(decoding: rest.prefix(256), as: UTF8.self), roundTrip: false)
        } catch is FluxError {
        } catch {
            fatalError("tokenizer.json threw a non-FluxError: \(error)")
        }
    default:
        let lines = String(decoding: rest, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let half = lines.count / 2
        let pre = PreTokenizer.allCases[Int(mode / 3) % PreTokenizer.allCases.count]
        let types = lines[..<half].map { $0.hasPrefix("<|") ? Int32(3) : 1 }
        do {
            let tok = try BPETokenizer(tokens: Array(lines[..<half]), merges: Array(lines[half...]), types: types,
                                       bosId: 0, eosId: Int32(max(0, half - 1)), pre: pre, origin: "fuzz")
            checkEncode(tok, lines.joined(separator: " "), roundTrip: false)
        } catch is FluxError {
        } catch {
            fatalError("arrays threw a non-FluxError: \(error)")
        }
    }
}

@main enum Main { static func main() { FuzzInput.main(check) } }
