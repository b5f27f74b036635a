import FluxChat
import FluxCore
import FluxOpenAI
import FluxViT
import Foundation
import FuzzSupport

/// One `POST /v1/chat/completions` body of arbitrary bytes: it must read (messages, content parts,
/// media URLs, base64 data: URLs, OpenAI and FluxChat fields), resolve against a FluxViT-S config
/// and render through the built-in templates, or fail with a typed error, exactly as
/// `serve --http` does before any file is opened or any model work.
let vision: FluxViTConfig = {
    do {
        return try FluxViTConfig(embedDim: 384, depth: 12, numHeads: 6, posEmbedFrames: 24, posEmbedGrid: 18,
                                 budgets: [512: (frames: 8, resolution: 168)], defaultBudget: 1024)
    } catch { fatalError("fuzz setup: \(error)") }
}()
let builder = PromptBuilder(templates: .builtIn)

func check(_ bytes: [UInt8]) {
    let parsed: CompletionRequest
    do { parsed = try CompletionRequest(body: Data(bytes)) } catch let e as APIError {
        // Every refusal is typed and its body encodes.
        _ = e.json.encoded
        return
    } catch {
        fatalError("an untyped error: \(error)")
    }
    let video: String? = parsed.media.map { part in
        switch part.source {
        case .path(let p): return p
        case .inline: return "inline.mp4"
        }
    }
    let request = parsed.chatRequest(video: video)
    _ = try? RequestResolver.resolve(request.settings, video: request.video, vision: vision)
    _ = try? builder.render(request.messages, video: request.video != nil, options: request.options)
}

@main enum Main { static func main() { FuzzInput.main(check) } }
