import FluxCore
import FluxLM
import FluxViT
import Foundation

/// Everything that answers a question about a video: the FluxViT encoder, the projector, the
/// Llama-family language model and its tokenizer; or the language model alone (`init(llm:)`),
/// which answers text only.
///
/// A bundle folder holds `config.json` with the sections `vision` (FluxViT config fields, with an
/// optional `budgets` table), `projector` (`type`, `input_dim`, `hidden_dim`, `output_dim`, `pool`,
/// and `rows_per_token` for "mlp2x_gelu" or `heads`, `rows_per_query` and optionally `echo_columns`
/// and `phrases`, `count_row` and `kept_word` for "slot_resampler")
/// and `llm` (LlamaConfig fields); one or more `*.safetensors` with tensors named
/// `vision.<FluxViT name>`, `projector.<name>`, `llm.<Hugging Face Llama name>`; and
/// `tokenizer.model`. `python -m fluxtools.random_bundle` writes one. Or the language model is a
/// GGUF file the bundle names instead (`llm`: `gguf` path relative to the folder, `bytes`,
/// `sha256`, `install`: the command that gets it), with its own tokenizer and chat template: a
/// big pretrained LM stays outside the repository while the encoder and projector ship, with an
/// optional low-rank adapter for it (`adapter`: `file` in the folder, `rank`, `alpha`).
public final class ModelBundle: @unchecked Sendable {
    /// The video encoder and projector; nil for a language model alone.
    public let vision: FluxViTModel?
    public let projector: Projector?
    public let llm: LlamaModel
    public let tokenizer: any Tokenizer
    /// Where it came from, for `info` and logs.
    public let origin: String
    /// The bundle folder (nil when loaded from parts); its `prompts/` overrides the built-in templates.
    public let directory: String?
    /// The language model's own Jinja chat template (GGUF or Hugging Face metadata), for `ChatTemplateFamily.detect`.
    public private(set) var chatTemplate: String?

    /// Loads a bundle folder.
    public init(directory: String) throws {
        let dir = directory as NSString
        let configPath = dir.appendingPathComponent("config.json")
        let json = try JSONValue.Fields(contentsOf: configPath)
        guard let v = try json.optionalObject("vision"), let p = try json.optionalObject("projector"),
              let l = try json.optionalObject("llm") else {
            throw FluxError(.modelInvalid, "\(configPath): a bundle config needs the sections 'vision', 'projector' and 'llm'")
        }
        let files = try Self.safetensors(in: directory)
        func file(holding name: String) throws -> SafeTensorsFile {
            guard let f = files.first(where: { $0.tensors[name] != nil }) else {
                throw FluxError(.modelInvalid, "\(directory): no safetensors file holds '\(name)'")
            }
            return f
        }
        let visionConfig = try FluxViTConfig(json: v)
        let vision = try FluxViTModel(config: visionConfig, weights: file(holding: "vision.cls_token"), prefix: "vision.")
        let projector = try Projector(weights: file(holding: "projector.fc1.weight"), prefix: "projector.",
                                  type: p.string("type", default: "mlp2x_gelu"), pool: p.string("pool", default: "none"),
                                  inputDim: p.optionalInt("input_dim"), hiddenDim: p.optionalInt("hidden_dim"),
                                  outputDim: p.optionalInt("output_dim"), rowsPerToken: p.optionalInt("rows_per_token"),
                                  heads: p.optionalInt("heads"), rowsPerQuery: p.optionalInt("rows_per_query"),
                                  echoColumns: try p.optionalArray("echo_columns").map { items in
                                      try items.map { item -> Int in
                                          guard case .int(let c) = item else {
                                              throw FluxError(.modelInvalid, "\(configPath): projector.echo_columns holds \(item.encoded), not an integer")
                                          }
                                          return c
                                      }
                                  },
                                  phrases: try p.optionalArray("phrases").map {
                                      try PhraseGroup.list($0, field: "\(configPath): projector.phrases")
                                  } ?? [],
                                  countRow: try p.optionalObject("count_row").map(CountRow.init),
                                  keptWord: try p.optionalObject("kept_word").map(KeptWord.init))
        if let gguf = try l.optionalString("gguf") {
            let path = try Self.referencedGGUF(gguf, in: directory, llm: l, config: configPath)
            let adapter = try l.optionalObject("adapter").map { a in
                guard let name = try a.optionalString("file") else {
                    throw FluxError(.modelInvalid, "\(configPath): llm.adapter needs 'file' (a safetensors file in the folder)")
                }
                return try LowRankAdapter(path: dir.appendingPathComponent(name), rank: a.int("rank"), alpha: Float(a.double("alpha")))
            }
            (llm, tokenizer, chatTemplate) = try LanguageModelFiles.load(llm: path, adapter: adapter)
        } else {
            llm = try LlamaModel(config: LlamaConfig(json: l), weights: files, prefix: "llm.")
            tokenizer = try SentencePieceTokenizer(path: dir.appendingPathComponent("tokenizer.model"))
        }
        origin = directory
        self.directory = directory
        self.vision = vision
        self.projector = projector
        try checkFit(vision: vision, projector: projector)
    }

    /// Loads the parts: a FluxViT folder (`config.json` + `model.safetensors`), a projector
    /// safetensors file (`fc1.*`, `fc2.*` and for a slot_resampler its other tensors, optionally
    /// under `projector.`; metadata `type`, `pool`, and for a slot_resampler `heads`,
    /// `rows_per_query` and optionally `echo_columns`) and a Hugging Face Llama folder with `tokenizer.model`.
    public init(vision visionDir: String, projector projectorFile: String, llm llmDir: String) throws {
        let vision = try FluxViTModel(directory: visionDir)
        let pf = try SafeTensorsFile(path: projectorFile)
        let type = pf.metadata["type"] ?? "mlp2x_gelu"
        // Safetensors metadata values are strings; only a slot_resampler reads these (an mlp2x_gelu file stays as it was read).
        func integer(_ key: String) throws -> Int? {
            guard type == Projector.Kind.slotResampler.rawValue, let text = pf.metadata[key] else { return nil }
            guard let v = Int(text) else { throw FluxError(.modelInvalid, "\(projectorFile): metadata \(key) '\(text)' is not an integer") }
            return v
        }
        let projector = try Projector(weights: pf, prefix: pf.tensors["projector.fc1.weight"] != nil ? "projector." : "",
                                  type: type, pool: pf.metadata["pool"] ?? "none",
                                  inputDim: nil, hiddenDim: nil, outputDim: nil,
                                  heads: integer("heads"), rowsPerQuery: integer("rows_per_query"),
                                  echoColumns: try pf.metadata["echo_columns"].map { text in
                                      // "1,2,3,4", as stages write it
                                      try text.split(separator: ",").map { part in
                                          guard let c = Int(part.trimmingCharacters(in: .whitespaces)) else {
                                              throw FluxError(.modelInvalid, "\(projectorFile): metadata echo_columns '\(text)' is not a comma-separated list of integers")
                                          }
                                          return c
                                      }
                                  })
        llm = try LlamaModel(directory: llmDir)
        tokenizer = try LanguageModelFiles.tokenizer(directory: llmDir)
        origin = "vision \(visionDir), projector \(projectorFile), llm \(llmDir)"
        directory = nil
        self.vision = vision
        self.projector = projector
        try checkFit(vision: vision, projector: projector)
    }

    /// The language model alone (a Hugging Face folder or a .gguf file): text only.
    public init(llm path: String) throws {
        (llm, tokenizer, chatTemplate) = try LanguageModelFiles.load(llm: path)
        vision = nil
        projector = nil
        origin = path
        directory = nil
    }

    /// The encoder and projector; `bad_request` for a language model alone.
    public func videoParts() throws -> (vision: FluxViTModel, projector: Projector) {
        guard let vision, let projector else {
            throw FluxError(.badRequest, "video: \(origin) is a language model alone (text only); load a FluxChat model for videos")
        }
        return (vision, projector)
    }

    private func checkFit(vision: FluxViTModel, projector: Projector) throws {
        tokenizer.apply(config: llm.config)
        guard projector.inputDim == vision.config.embedDim else {
            throw FluxError(.modelInvalid, "\(origin): projector input_dim \(projector.inputDim) != vision embed_dim \(vision.config.embedDim)")
        }
        guard projector.pixelWidth == 0 || projector.pixelWidth == vision.config.patchVectorSize else {
            throw FluxError(.modelInvalid, "\(origin): the projector's glimpse reads patch vectors of \(projector.pixelWidth) values, the vision patches are \(vision.config.patchVectorSize)")
        }
        guard projector.outputDim == llm.config.hiddenSize else {
            throw FluxError(.modelInvalid, "\(origin): projector output_dim \(projector.outputDim) != llm hidden_size \(llm.config.hiddenSize)")
        }
        // A fixed table that alone fills the context could never be answered about, whatever the budget.
        if case .fixed(let rows) = projector.rows, rows >= llm.config.maxPositionEmbeddings {
            throw FluxError(.modelInvalid, "\(origin): the projector writes \(rows) rows but the llm holds \(llm.config.maxPositionEmbeddings) positions")
        }
        guard tokenizer.vocabSize <= llm.config.vocabSize else {
            throw FluxError(.modelInvalid, "\(origin): the tokenizer has \(tokenizer.vocabSize) tokens but vocab_size is \(llm.config.vocabSize)")
        }
    }

    /// The GGUF file a bundle's `llm.gguf` names, checked to exist and to have the size the bundle
    /// was trained with (`bytes`; the sha256 is for `scripts/get-smollm2` and people: hashing
    /// 100 MB on every load would cost more than the load itself).
    private static func referencedGGUF(_ name: String, in directory: String, llm: JSONValue.Fields, config: String) throws -> String {
        let path = name.hasPrefix("/") ? name : (directory as NSString).appendingPathComponent(name)
        let install = try llm.optionalString("install").map { "; run \($0) to get it" } ?? ""
        // Through links: scripts/get-smollm2 links the file from its venv (attributesOfItem would
        // give the link's own size).
        let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: target),
              let size = (attrs[.size] as? NSNumber)?.intValue else {
            throw FluxError(.modelInvalid, "\(config): llm.gguf: the language model \(path) is missing\(install)")
        }
        if let bytes = try llm.optionalInt("bytes"), bytes != size {
            throw FluxError(.modelInvalid, "\(config): llm.gguf: \(path) has \(size) bytes but the bundle was trained on a \(bytes)-byte file (another quantization?)\(install)")
        }
        return path
    }

    private static func safetensors(in directory: String) throws -> [SafeTensorsFile] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw FluxError(.fileNotFound, "\(directory): no such model folder")
        }
        let files = names.filter { $0.hasSuffix(".safetensors") }.sorted()
        guard !files.isEmpty else { throw FluxError(.modelInvalid, "\(directory): no *.safetensors file") }
        return try files.map { try SafeTensorsFile(path: (directory as NSString).appendingPathComponent($0)) }
    }

    /// A short description for `op: info` and `/params`.
    public var summary: JSONValue {
        let l = llm.config
        let lm: (String, JSONValue) = ("llm", .object([("hidden_size", .int(l.hiddenSize)), ("num_hidden_layers", .int(l.numLayers)),
                                                      ("vocab_size", .int(l.vocabSize)), ("max_position_embeddings", .int(l.maxPositionEmbeddings))]))
        guard let vision, let projector else { return .object([("origin", .string(origin)), lm]) }
        let v = vision.config
        let budgets = v.budgets.keys.sorted().compactMap { k -> (String, JSONValue)? in
            guard let e = v.budgets[k] else { return nil }
            return (String(k), .object([("frames", .int(e.frames)), ("resolution", .int(e.resolution))]))
        }
        return .object([
            ("origin", .string(origin)),
            ("vision", .object([("embed_dim", .int(v.embedDim)), ("depth", .int(v.depth)), ("num_heads", .int(v.numHeads)),
                                ("patch_size", .int(v.patchSize)), ("tubelet_size", .int(v.tubeletSize)),
                                ("budgets", .object(budgets))]
                                + (v.defaultBudget.map { [("default_budget", JSONValue.int($0))] } ?? []))),
            ("projector", projector.summary),
            lm,
        ])
    }
}
