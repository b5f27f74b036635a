import FluxChat
import FluxCore
import FluxViT
import Foundation
import FuzzSupport

/// One JSON-lines request of arbitrary bytes: it must read, resolve against a FluxViT-S config
/// (with a sweep table) and render through the built-in templates, or fail with a typed error,
/// exactly as `serve --stdio` does before any model work.
let vision: FluxViTConfig = {
    do {
        return try FluxViTConfig(embedDim: 384, depth: 12, numHeads: 6, posEmbedFrames: 24, posEmbedGrid: 18,
                                 budgets: [512: (frames: 8, resolution: 168)], defaultBudget: 1024)
    } catch { fatalError("fuzz setup: \(error)") }
}()
let builder = PromptBuilder(templates: .builtIn)

func check(_ bytes: [UInt8]) {
    guard let parsed = try? ProtocolRequest(line: Data(bytes), base: RequestSettings(budget: 256)) else { return }
    switch parsed.op {
    case .generate(let request, _):
        _ = try? RequestResolver.resolve(request.settings, video: request.video, vision: vision)
        _ = try? builder.render(request.messages, video: request.video != nil, options: request.options)
    case .encode(let path, let settings):
        _ = try? RequestResolver.video(path, settings, vision: vision)
    case .info:
        break
    }
}

@main enum Main { static func main() { FuzzInput.main(check) } }
