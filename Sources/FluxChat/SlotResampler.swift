import FluxCore
import Foundation

/// A slot_resampler's rows of some lines whose words are chosen together (config `phrases`, slots.phrase_groups):
/// phrase k's logit is the sum of the logits of its words `words[k][j]` in rows `rows[j]`, and
/// each of those rows holds the marginal of the softmax over the phrases instead of its own
/// softmax. Why: a motion is two words ("moves left", "up left"); chosen row by row, one
/// moving object in ten got a pair that is no motion ("up up", "stays left"; session 12).
public struct PhraseGroup: Sendable, Equatable {
    public let lines: [Int], rows: [Int], words: [[Int]]

    public init(lines: [Int], rows: [Int], words: [[Int]]) {
        self.lines = lines; self.rows = rows; self.words = words
    }

    /// Parses config `phrases`: [{"lines": [Int], "rows": [Int], "words": [[Int]]}]; errors are
    /// `model_invalid` naming `field` and the entry.
    public static func list(_ items: [JSONValue], field: String) throws -> [PhraseGroup] {
        func ints(_ v: JSONValue?, _ name: String) throws -> [Int] {
            guard case .array(let a)? = v else { throw FluxError(.modelInvalid, "\(name) is missing or not an array of integers") }
            return try a.enumerated().map { i, x in
                guard case .int(let n) = x else { throw FluxError(.modelInvalid, "\(name)[\(i)] holds \(x.encoded), not an integer") }
                return n
            }
        }
        return try items.enumerated().map { g, item in
            let at = "\(field)[\(g)]"
            guard case .object(let o) = item else { throw FluxError(.modelInvalid, "\(at) holds \(item.encoded), not an object") }
            func value(_ key: String) -> JSONValue? { o.first { $0.0 == key }?.1 }
            guard case .array(let words)? = value("words") else {
                throw FluxError(.modelInvalid, "\(at).words is missing or not an array of word-column arrays")
            }
            return PhraseGroup(lines: try ints(value("lines"), "\(at).lines"), rows: try ints(value("rows"), "\(at).rows"),
                               words: try words.enumerated().map { try ints($1, "\(at).words[\($0)]") })
        }
    }
}

/// The "slot_resampler" projector (scripts/fluxtools/stages/slots.py, `Resampler`): L learned
/// queries attend to all N encoder tokens (one cross-attention layer, h heads), query + attention
/// output go through an MLP to R rows of W word logits each, and each row is softmax(logits) @ words.
/// It writes L x R rows whatever N is: the video becomes a fixed table of word rows.
///
/// Tensors under the projector prefix: `queries` [L, A], `k.weight`/`v.weight` [A, C],
/// `k.bias`/`v.bias` [A], `fc1.weight` [H, A], `fc1.bias` [H], `fc2.weight` [R x W, H],
/// `fc2.bias` [R x W], `words` [W, D]; optional `tags` [L, D], added to every row of its query's
/// line (slots.line_tags: each row then says which object it belongs to); optional `kp.weight` and
/// `vp.weight` [A, 5], together: keys and values also see where each token lies (`positionFeatures`);
/// optional `tok1.weight` [T, C], `tok1.bias` [T], `tok2.weight` [C, T], `tok2.bias` [C], together: each
/// token first becomes x + tok2(GELU(tok1 x)) (attention averages what keys and values read
/// linearly from each token; the MLP lets them read more: moving objects' direction 51% -> 55% in
/// the table, session 10). Optional `mom.weight` [A, 13] and `momz.weight` [R x W, 13], together (need
/// positions): each line's attention output also gets mom.weight times `momentFeatures` of its first
/// head (where that head's tokens lie and how the place moves with time), and its word logits
/// momz.weight times them. Optional `gproj.weight` [P, C], `gproj.bias` [P], `gl1.weight` [G, 9P], `gl1.bias` [G],
/// `gl2.weight` [A, G], `gl2.bias` [A], together (need positions): each line's attention output also gets
/// its glimpse (`glimpse`: the 3 x 3 tokens around where its first head looks, frame by frame).
/// Optional `gpix.weight` [P, V] (needs the glimpse): each glimpse cell also reads its patch's pixels
/// (the encoder's patch vector [V], `FluxViTOutput.keptPatches`), projected to the cell's P features.
/// Optional `gtime.weight` [A, G] (needs the glimpse): each line also reads its glimpse late against early.
/// Optional `pl1.weight` [Q, 9P], `pl1.bias` [Q], `pl2.weight` [A, Q], `ptime.weight` [A, Q], together
/// (need the glimpse): each line also reads what is at its place in every frame (`placeGlimpse`).
/// Config `echo_columns` (optional):
/// the rows of these columns of each line are added to every row of that line, before the tags
/// (slots.line_echo: any row of a line then names its object's shape and motion). Config `phrases`
/// (optional, `PhraseGroup`): rows whose words are chosen together as one phrase. Config `count_row`
/// (optional, `CountRow`): a row that holds the count of other lines whose object moves. Config
/// `kept_word` (optional, `KeptWord`, with tensor `kept_word` [D]): the change row of a line whose
/// object stays says so.
struct SlotResampler: Sendable {
    /// Rows chosen together as phrases (config `phrases`); empty: every row on its own.
    let phrases: [PhraseGroup]
    /// A row written as a count of other lines (config `count_row`); nil: none.
    let countRow: CountRow?
    /// The word written in the change row of a line whose object stays (config `kept_word`) and
    /// kept_word - words[absent] [D]; nil: none.
    let keptWord: (word: KeptWord, delta: [Float])?
    let heads: Int, rowsPerQuery: Int
    /// Columns of a line added to every row of it (slots.line_echo); empty: none.
    let echoColumns: [Int]
    /// C, A, H, W, D, L of the description above.
    let inputDim: Int, width: Int, hiddenDim: Int, words: Int, outputDim: Int, queryCount: Int
    private let queries: Tensor, kW: Tensor, kB: Tensor, vW: Tensor, vB: Tensor
    private let fc1: Tensor, b1: Tensor, fc2: Tensor, b2: Tensor, table: Tensor
    private let tags: Tensor?
    /// Position projections of keys and values, when the resampler reads token positions.
    private let positionWeights: (k: Tensor, v: Tensor)?
    /// The per-token residual MLP, when the resampler has one.
    private let tokenMLP: (w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor)?
    /// The moment features' projections into the attention output [A, 13] and the word logits
    /// [R x W, 13], when the resampler reads them.
    private let momentWeights: (o: Tensor, z: Tensor)?
    /// The glimpse's token projection and MLP, when the resampler has one.
    private typealias GlimpseWeights = (proj: Tensor, projB: Tensor, w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor)
    private let glimpseWeights: GlimpseWeights?
    /// The glimpse's projection of each patch's pixels [P, V], when its cells read pixels.
    private let pixelWeights: Tensor?
    /// [A, G]: the glimpse's hidden features of each frame, weighted by time, into the attention
    /// output, when the resampler reads its glimpse late against early.
    private let timeWeights: Tensor?
    /// The place glimpse's MLP and its two projections into the attention output, when it has one.
    private typealias PlaceWeights = (w1: Tensor, b1: Tensor, w2: Tensor, time: Tensor)
    private let placeWeights: PlaceWeights?

    /// Hidden width T of the per-token MLP (0: none).
    var tokenHidden: Int { tokenMLP?.w1.rows ?? 0 }

    /// Whether each line also reads its first head's moment features (`momentFeatures`).
    var readsMoments: Bool { momentWeights != nil }

    /// Features P of each token in a glimpse (0: none).
    var glimpseWidth: Int { glimpseWeights?.proj.rows ?? 0 }

    /// Length V of the patch vectors a glimpse reads (0: it reads no pixels).
    var pixelWidth: Int { pixelWeights?.lastDim ?? 0 }

    /// Whether each line also reads its glimpse late against early (`gtime.weight`).
    var readsGlimpseTime: Bool { timeWeights != nil }

    /// Whether each line also reads what is at its place in every frame (`pl1.weight`, ...).
    var readsPlace: Bool { placeWeights != nil }

    /// Whether `callAsFunction` needs the tokens' positions.
    var readsPositions: Bool { positionWeights != nil }

    /// Features per token that `kp`/`vp` read: (t, y, x, t*x, t*y), each in [-1, 1], zeros for CLS.
    static let positionFeatureCount = 5

    /// [1 + K, 5] position features of the encoder's tokens (slots.position_features): CLS first,
    /// then each kept patch t * gridL + row * g + col of a gridT x (g x g) grid. A direction is how
    /// an object's position changes with time; with t*x among the features, a head that covers one
    /// object's tokens reads the covariance of its time and position.
    static func positionFeatures(kept: [Int], gridT: Int, gridL: Int) throws -> Tensor {
        let g = Int(Double(gridL).squareRoot().rounded())
        guard gridT >= 1, g >= 1, g * g == gridL else {
            throw FluxError(.internal, "slot_resampler: a \(gridT) x \(gridL) patch grid is not frames x square frames")
        }
        let f = positionFeatureCount
        var out = [Float](repeating: 0, count: (1 + kept.count) * f)
        for (i, k) in kept.enumerated() {
            guard k >= 0, k < gridT * gridL else {
                throw FluxError(.internal, "slot_resampler: kept index \(k) outside the \(gridT) x \(gridL) grid")
            }
            let t = k / gridL, p = k % gridL
            let tn = gridT > 1 ? 2 * Double(t) / Double(gridT - 1) - 1 : 0
            let y = 2 * (Double(p / g) + 0.5) / Double(g) - 1, x = 2 * (Double(p % g) + 0.5) / Double(g) - 1
            let row = (1 + i) * f
            out[row] = Float(tn); out[row + 1] = Float(y); out[row + 2] = Float(x)
            out[row + 3] = Float(tn * x); out[row + 4] = Float(tn * y)
        }
        return Tensor(shape: [1 + kept.count, f], data: out)
    }

    static let momentFeatureCount = 13

    /// [(1 + K) x 3] (frame, row, column) of each token (slots.token_places): -1s for CLS, then each
    /// kept patch t * gridL + row * g + col.
    static func tokenPlaces(kept: [Int], gridL: Int) throws -> [Int] {
        let g = Int(Double(gridL).squareRoot().rounded())
        guard g >= 1, g * g == gridL else { throw FluxError(.internal, "slot_resampler: \(gridL) patches a frame is not a square grid") }
        var out = [-1, -1, -1]
        out.reserveCapacity(3 * (1 + kept.count))
        for k in kept {
            guard k >= 0 else { throw FluxError(.internal, "slot_resampler: kept index \(k) is negative") }
            out += [k / gridL, (k % gridL) / g, k % g]
        }
        return out
    }

    static let glimpseSide = 3

    /// [L, A] glimpses (slots.glimpse_windows, then gl2(GELU(gl1(GELU(window)))), frames weighted):
    /// per line and frame, the centre is the mean row and column of the frame's tokens weighted by the
    /// squared attention `s` [L, N] of the first head, rounded half to even as torch.round; each
    /// frame's window (`windowFeatures`) through the MLP, weighted by the head's share of attention in
    /// that frame; with `timeWeights`, also gtime(hidden) weighted by that share times the frame's
    /// `time` (slots.frame_times).
    /// Why: shape is in the layout of an object's 2-3 patches, which attention's average loses; a
    /// change (grows, shrinks, appears, turns red) is the order of the windows, which the sum loses.
    private func glimpse(_ gw: GlimpseWeights, attention s: UnsafePointer<Float>, lines l: Int, tokens n: Int,
                         places: [Int], frames: Int, time: [Float], projected: Tensor) -> Tensor {
        var centres = [(Double, Double)](repeating: (0, 0), count: l * frames)
        var weight = [Float](repeating: 0, count: l * frames)
        for line in 0..<l {
            var m2 = [Double](repeating: 0, count: frames), sy = m2, sx = m2, m1 = m2
            for i in 0..<n where places[3 * i] >= 0 {
                let f = places[3 * i], a = Double(s[line * n + i]), w = a * a
                m2[f] += w; sy[f] += w * Double(places[3 * i + 1]); sx[f] += w * Double(places[3 * i + 2]); m1[f] += a
            }
            let total = max(m1.reduce(0, +), 1e-12)
            for f in 0..<frames {
                centres[line * frames + f] = ((sy[f] / max(m2[f], 1e-12)).rounded(.toNearestOrEven),
                                              (sx[f] / max(m2[f], 1e-12)).rounded(.toNearestOrEven))
                weight[line * frames + f] = Float(m1[f] / total)
            }
        }
        let hidden = Self.windowFeatures(projected: projected, centres: centres, lines: l, frames: frames, tokens: n,
                                         places: places, w1: gw.w1, b1: gw.b1).hidden
        var out = Self.weightedSum(BLAS.linear(hidden, weight: gw.w2, bias: gw.b2), weight, lines: l, frames: frames)
        if let timeWeights {
            let timed = (0..<(l * frames)).map { weight[$0] * time[$0 % frames] }
            Self.add(&out, Self.weightedSum(BLAS.linear(hidden, weight: timeWeights), timed, lines: l, frames: frames))
        }
        return out
    }

    /// [L, A] place glimpses (slots.place_windows, then pl1 and GELU per frame): per line one centre
    /// for the whole clip, the mean row and column of all tokens weighted by the squared attention `s`
    /// [L, N] of the first head (rounded half to even); each frame's window (`windowFeatures`, pl1),
    /// frames weighted by their share of the window's kept tokens; pl2 of the weighted sum plus ptime
    /// of the sum weighted also by the frame's `time` less the windows' mean time.
    /// Why: the glimpse follows the line's colour, so it cannot see what replaces it late in the clip
    /// (an object that turns green or disappears); the objects that change stay in place.
    private func placeGlimpse(_ pw: PlaceWeights, attention s: UnsafePointer<Float>, lines l: Int, tokens n: Int,
                              places: [Int], frames: Int, time: [Float], projected: Tensor) -> Tensor {
        var centres = [(Double, Double)](repeating: (0, 0), count: l * frames)
        for line in 0..<l {
            var m2 = 0.0, sy = 0.0, sx = 0.0
            for i in 0..<n where places[3 * i] >= 0 {
                let a = Double(s[line * n + i]), w = a * a
                m2 += w; sy += w * Double(places[3 * i + 1]); sx += w * Double(places[3 * i + 2])
            }
            let centre = ((sy / max(m2, 1e-12)).rounded(.toNearestOrEven), (sx / max(m2, 1e-12)).rounded(.toNearestOrEven))
            for f in 0..<frames { centres[line * frames + f] = centre }
        }
        let (hidden, counts) = Self.windowFeatures(projected: projected, centres: centres, lines: l, frames: frames, tokens: n,
                                                   places: places, w1: pw.w1, b1: pw.b1)
        var weight = counts, timed = counts
        for line in 0..<l {
            let row = line * frames
            let total = max(counts[row..<(row + frames)].reduce(0, +), 1)
            for f in 0..<frames { weight[row + f] = counts[row + f] / total }
            var mean: Float = 0
            for f in 0..<frames { mean += weight[row + f] * time[f] }
            for f in 0..<frames { timed[row + f] = weight[row + f] * (time[f] - mean) }
        }
        // pl2 and ptime are linear: pool the hidden features first ([L, G] products, not [L x T, G]).
        var out = BLAS.linear(Self.weightedSum(hidden, weight, lines: l, frames: frames), weight: pw.w2)
        Self.add(&out, BLAS.linear(Self.weightedSum(hidden, timed, lines: l, frames: frames), weight: pw.time))
        return out
    }

    /// The 3 x 3 windows of the projected tokens [N, P] around each line's centre in each frame
    /// (`centres` [L x T] (row, column)): cell (dy, dx) holds the token at that offset from its
    /// frame's centre, zeros where none was kept; laid out [L x T, 9P] and through GELU, `w1`, `b1`
    /// and GELU (slots.windows_at, then a glimpse's first layer); and how many tokens each holds.
    private static func windowFeatures(projected: Tensor, centres: [(Double, Double)], lines l: Int, frames: Int, tokens n: Int,
                                       places: [Int], w1: Tensor, b1: Tensor) -> (hidden: Tensor, counts: [Float]) {
        let p = projected.lastDim, side = glimpseSide, cells = side * side, h = Double(side / 2)
        var windows = [Float](repeating: 0, count: l * frames * cells * p)
        var counts = [Float](repeating: 0, count: l * frames)
        projected.withUnsafeBufferPointer { xp in
            for line in 0..<l {
                for i in 0..<n where places[3 * i] >= 0 {
                    let f = places[3 * i], (cy, cx) = centres[line * frames + f]
                    let dy = Double(places[3 * i + 1]) - cy, dx = Double(places[3 * i + 2]) - cx
                    guard abs(dy) <= h, abs(dx) <= h else { continue }
                    let base = ((line * frames + f) * cells + Int(dy + h) * side + Int(dx + h)) * p
                    for c in 0..<p { windows[base + c] += xp[i * p + c] }
                    counts[line * frames + f] += 1
                }
            }
        }
        var hidden = Tensor(shape: [l * frames, cells * p], data: windows)
        hidden.withUnsafeMutableBufferPointer { if let q = $0.baseAddress { Ops.geluErf(q, count: $0.count) } }
        hidden = BLAS.linear(hidden, weight: w1, bias: b1)
        hidden.withUnsafeMutableBufferPointer { if let q = $0.baseAddress { Ops.geluErf(q, count: $0.count) } }
        return (hidden, counts)
    }

    /// [L, D]: per line, the sum over frames of `weights` [L x T] times the rows [L x T, D].
    private static func weightedSum(_ rows: Tensor, _ weights: [Float], lines l: Int, frames: Int) -> Tensor {
        let d = rows.lastDim
        var out = [Float](repeating: 0, count: l * d)
        rows.withUnsafeBufferPointer { rp in
            for line in 0..<l {
                for f in 0..<frames where weights[line * frames + f] != 0 {
                    let w = weights[line * frames + f], row = (line * frames + f) * d
                    for c in 0..<d { out[line * d + c] += w * rp[row + c] }
                }
            }
        }
        return Tensor(shape: [l, d], data: out)
    }

    /// Frames the tokens' places span (at least 1).
    private static func frameCount(places: [Int], tokens n: Int) -> Int {
        max(1, (0..<n).map { places[3 * $0] }.max().map { $0 + 1 } ?? 1)
    }

    /// Each frame's time in [-1, 1] (slots.frame_times): the mean t of its tokens' position features
    /// [N, 5], 0 for a frame without tokens.
    private static func frameTimes(places: [Int], positions: UnsafePointer<Float>, tokens n: Int, frames: Int) -> [Float] {
        var sum = [Float](repeating: 0, count: frames), count = sum
        for i in 0..<n where places[3 * i] >= 0 {
            sum[places[3 * i]] += positions[i * positionFeatureCount]; count[places[3 * i]] += 1
        }
        return (0..<frames).map { sum[$0] / max(count[$0], 1) }
    }

    /// [L, 13] per line (slots.moment_features): from one head's attention [L, N] and the tokens'
    /// position features [N, 5], the weighted means of t, y, x, their variances, the covariances of
    /// y and x with t, the slopes (covariance / (variance of t + 0.02), clamped to +-4), where the
    /// fit reaches at the last frame (mean + slope x (1 - mean t), clamped to +-3) and the speed (the
    /// slopes' norm). A direction is a ratio of second moments, which the MLP does not learn from
    /// attention's means (session 11).
    static func momentFeatures(attention s: UnsafePointer<Float>, lines l: Int, tokens n: Int,
                               positions: UnsafePointer<Float>) -> [Float] {
        let pf = positionFeatureCount, mf = momentFeatureCount
        var out = [Float](repeating: 0, count: l * mf)
        for line in 0..<l {
            // E[t], E[y], E[x] and E[p_i p_j], in Double: the variances are differences of near-equal moments.
            var m = [Double](repeating: 0, count: 3), sq = [Double](repeating: 0, count: 9)
            for i in 0..<n {
                let w = Double(s[line * n + i])
                if w == 0 { continue }
                for a in 0..<3 {
                    let pa = Double(positions[i * pf + a])
                    m[a] += w * pa
                    for b in 0..<3 { sq[a * 3 + b] += w * pa * Double(positions[i * pf + b]) }
                }
            }
            let (mt, my, mx) = (m[0], m[1], m[2])
            let vt = sq[0] - mt * mt, vy = sq[4] - my * my, vx = sq[8] - mx * mx
            let cy = sq[1] - mt * my, cx = sq[2] - mt * mx
            func clamp(_ v: Double, _ r: Double) -> Double { min(max(v, -r), r) }
            let sy = clamp(cy / (vt + 0.02), 4), sx = clamp(cx / (vt + 0.02), 4)
            let ey = clamp(my + sy * (1 - mt), 3), ex = clamp(mx + sx * (1 - mt), 3)
            let speed = (sy * sy + sx * sx + 1e-12).squareRoot()
            for (c, v) in [mt, my, mx, vt, vy, vx, cy, cx, sy, sx, ey, ex, speed].enumerated() { out[line * mf + c] = Float(v) }
        }
        return out
    }

    /// Rows it writes, whatever the token count.
    var outputRows: Int { queryCount * rowsPerQuery }

    /// Reads and checks the tensors; every mismatch is `model_invalid` naming `src` and the tensor or field.
    init(weights: SafeTensorsFile, prefix: String, source src: String, heads: Int?, rowsPerQuery: Int?,
         echoColumns: [Int] = [], phrases: [PhraseGroup] = [], countRow: CountRow? = nil, keptWord: KeptWord? = nil) throws {
        func bad(_ message: String) -> FluxError { FluxError(.modelInvalid, "\(src): \(message)") }
        // Checked before any tensor is read: a malformed file fails on its header alone.
        func shape(_ name: String, rank: Int) throws -> [Int] {
            guard let i = weights.tensors[prefix + name] else { throw bad("no tensor named '\(prefix + name)'") }
            guard i.shape.count == rank, i.shape.allSatisfy({ $0 >= 1 }) else {
                throw bad("tensor '\(prefix + name)' has shape \(i.shape), expected \(rank) non-empty dimensions")
            }
            return i.shape
        }
        func expect(_ name: String, _ want: [Int], _ meaning: String) throws {
            let got = try shape(name, rank: want.count)
            guard got == want else { throw bad("tensor '\(prefix + name)' has shape \(got), expected \(want) (\(meaning))") }
        }
        guard let heads else { throw bad("config heads is missing (slot_resampler needs heads and rows_per_query)") }
        guard let rowsPerQuery else { throw bad("config rows_per_query is missing (slot_resampler needs heads and rows_per_query)") }
        let q = try shape("queries", rank: 2), l = q[0], a = q[1]
        guard heads >= 1, a % heads == 0 else {
            throw bad("config heads \(heads) must be at least 1 and divide the width \(a) of tensor '\(prefix)queries' \(q)")
        }
        let c = try shape("k.weight", rank: 2)[1]
        try expect("k.weight", [a, c], "queries' width x input")
        try expect("k.bias", [a], "queries' width")
        try expect("v.weight", [a, c], "as k.weight")
        try expect("v.bias", [a], "queries' width")
        let h = try shape("fc1.weight", rank: 2)[0]
        try expect("fc1.weight", [h, a], "hidden x queries' width")
        try expect("fc1.bias", [h], "hidden")
        let w = try shape("words", rank: 2), f2 = try shape("fc2.weight", rank: 2)
        guard rowsPerQuery >= 1, rowsPerQuery <= 64, f2[0] % rowsPerQuery == 0 else {
            throw bad("config rows_per_query \(rowsPerQuery) must be in 1...64 and divide the \(f2[0]) rows of tensor '\(prefix)fc2.weight'")
        }
        guard f2[0] / rowsPerQuery == w[0] else {
            throw bad("tensor '\(prefix)words' has \(w[0]) words but tensor '\(prefix)fc2.weight' scores \(f2[0]) / rows_per_query \(rowsPerQuery) = \(f2[0] / rowsPerQuery)")
        }
        try expect("fc2.weight", [f2[0], h], "rows_per_query x words, hidden")
        try expect("fc2.bias", [f2[0]], "rows_per_query x words")
        let hasTags = weights.tensors[prefix + "tags"] != nil
        if hasTags { try expect("tags", [l, w[1]], "queries x words' width") }
        let hasKP = weights.tensors[prefix + "kp.weight"] != nil, hasVP = weights.tensors[prefix + "vp.weight"] != nil
        guard hasKP == hasVP else {
            throw bad("tensor '\(prefix)\(hasKP ? "kp" : "vp").weight' needs '\(prefix)\(hasKP ? "vp" : "kp").weight' beside it (positions feed keys and values)")
        }
        if hasKP {
            try expect("kp.weight", [a, Self.positionFeatureCount], "queries' width x position features")
            try expect("vp.weight", [a, Self.positionFeatureCount], "queries' width x position features")
        }
        let tokNames = ["tok1.weight", "tok1.bias", "tok2.weight", "tok2.bias"]
        let tokPresent = tokNames.filter { weights.tensors[prefix + $0] != nil }
        if !tokPresent.isEmpty {
            guard tokPresent.count == tokNames.count else {
                let missing = tokNames.filter { !tokPresent.contains($0) }.map { "'\(prefix)\($0)'" }.joined(separator: ", ")
                throw bad("the per-token MLP needs \(missing) beside '\(prefix)\(tokPresent[0])' (tok1 and tok2, weights and biases)")
            }
            let t = try shape("tok1.weight", rank: 2)[0]
            try expect("tok1.weight", [t, c], "token hidden x input")
            try expect("tok1.bias", [t], "token hidden")
            try expect("tok2.weight", [c, t], "input x token hidden")
            try expect("tok2.bias", [c], "input")
        }
        let hasMom = weights.tensors[prefix + "mom.weight"] != nil, hasMomZ = weights.tensors[prefix + "momz.weight"] != nil
        guard hasMom == hasMomZ else {
            throw bad("tensor '\(prefix)\(hasMom ? "mom" : "momz").weight' needs '\(prefix)\(hasMom ? "momz" : "mom").weight' beside it (the moments feed the attention output and the word logits)")
        }
        if hasMom {
            guard hasKP else { throw bad("tensor '\(prefix)mom.weight' needs token positions ('\(prefix)kp.weight', '\(prefix)vp.weight')") }
            try expect("mom.weight", [a, Self.momentFeatureCount], "queries' width x moment features")
            try expect("momz.weight", [f2[0], Self.momentFeatureCount], "rows_per_query x words, moment features")
        }
        let glimpseNames = ["gproj.weight", "gproj.bias", "gl1.weight", "gl1.bias", "gl2.weight", "gl2.bias"]
        let glimpsePresent = glimpseNames.filter { weights.tensors[prefix + $0] != nil }
        if !glimpsePresent.isEmpty {
            guard glimpsePresent.count == glimpseNames.count else {
                let missing = glimpseNames.filter { !glimpsePresent.contains($0) }.map { "'\(prefix)\($0)'" }.joined(separator: ", ")
                throw bad("the glimpse needs \(missing) beside '\(prefix)\(glimpsePresent[0])' (gproj, gl1 and gl2, weights and biases)")
            }
            guard hasKP else { throw bad("tensor '\(prefix)gproj.weight' needs token positions ('\(prefix)kp.weight', '\(prefix)vp.weight')") }
            let gp = try shape("gproj.weight", rank: 2)[0], g1 = try shape("gl1.weight", rank: 2)[0]
            let cells = Self.glimpseSide * Self.glimpseSide
            try expect("gproj.weight", [gp, c], "glimpse features x input")
            try expect("gproj.bias", [gp], "glimpse features")
            try expect("gl1.weight", [g1, cells * gp], "glimpse hidden x 9 cells of glimpse features")
            try expect("gl1.bias", [g1], "glimpse hidden")
            try expect("gl2.weight", [a, g1], "queries' width x glimpse hidden")
            try expect("gl2.bias", [a], "queries' width")
        }
        let hasPix = weights.tensors[prefix + "gpix.weight"] != nil
        if hasPix {
            guard !glimpsePresent.isEmpty else { throw bad("tensor '\(prefix)gpix.weight' needs the glimpse ('\(prefix)gproj.weight', gl1, gl2)") }
            let v = try shape("gpix.weight", rank: 2)[1]
            guard v > 0 else { throw bad("tensor '\(prefix)gpix.weight' reads patch vectors of \(v) values") }
            try expect("gpix.weight", [try shape("gproj.weight", rank: 2)[0], v], "glimpse features x patch vector")
        }
        let hasTime = weights.tensors[prefix + "gtime.weight"] != nil
        if hasTime {
            guard !glimpsePresent.isEmpty else { throw bad("tensor '\(prefix)gtime.weight' needs the glimpse ('\(prefix)gproj.weight', gl1, gl2)") }
            try expect("gtime.weight", [a, try shape("gl1.weight", rank: 2)[0]], "queries' width x glimpse hidden")
        }
        let placeNames = ["pl1.weight", "pl1.bias", "pl2.weight", "ptime.weight"]
        let placePresent = placeNames.filter { weights.tensors[prefix + $0] != nil }
        if !placePresent.isEmpty {
            guard placePresent.count == placeNames.count else {
                let missing = placeNames.filter { !placePresent.contains($0) }.map { "'\(prefix)\($0)'" }.joined(separator: ", ")
                throw bad("the place glimpse needs \(missing) beside '\(prefix)\(placePresent[0])' (pl1, pl2 and ptime)")
            }
            guard !glimpsePresent.isEmpty else { throw bad("tensor '\(prefix)pl1.weight' needs the glimpse ('\(prefix)gproj.weight', gl1, gl2)") }
            let q = try shape("pl1.weight", rank: 2)[0], gp = try shape("gproj.weight", rank: 2)[0]
            try expect("pl1.weight", [q, Self.glimpseSide * Self.glimpseSide * gp], "place hidden x 9 cells of glimpse features")
            try expect("pl1.bias", [q], "place hidden")
            try expect("pl2.weight", [a, q], "queries' width x place hidden")
            try expect("ptime.weight", [a, q], "queries' width x place hidden")
        }
        guard echoColumns.allSatisfy({ (0..<rowsPerQuery).contains($0) }), Set(echoColumns).count == echoColumns.count else {
            throw bad("config echo_columns \(echoColumns) must be distinct columns in 0..<rows_per_query \(rowsPerQuery)")
        }
        var claimed = Set<Int>()  // line x R + row: no row in two groups
        for (g, group) in phrases.enumerated() {
            let at = "config phrases[\(g)]"
            guard !group.lines.isEmpty, group.lines.allSatisfy({ (0..<l).contains($0) }), Set(group.lines).count == group.lines.count else {
                throw bad("\(at).lines \(group.lines) must be distinct lines in 0..<\(l) (the queries)")
            }
            guard !group.rows.isEmpty, group.rows.allSatisfy({ (0..<rowsPerQuery).contains($0) }), Set(group.rows).count == group.rows.count else {
                throw bad("\(at).rows \(group.rows) must be distinct rows in 0..<rows_per_query \(rowsPerQuery)")
            }
            guard !group.words.isEmpty else { throw bad("\(at).words is empty (a group needs at least one phrase)") }
            for (k, phrase) in group.words.enumerated() where phrase.count != group.rows.count || !phrase.allSatisfy({ (0..<w[0]).contains($0) }) {
                throw bad("\(at).words[\(k)] \(phrase) must be \(group.rows.count) word columns in 0..<\(w[0]), one per row")
            }
            for line in group.lines {
                for row in group.rows where !claimed.insert(line * rowsPerQuery + row).inserted {
                    throw bad("\(at): row \(row) of line \(line) is already in an earlier group")
                }
            }
        }
        if let countRow {
            if let problem = countRow.problem(lines: l, rows: rowsPerQuery, words: w[0]) { throw bad("config \(problem)") }
            let written = countRow.line * rowsPerQuery + countRow.row
            guard !claimed.contains(written) else { throw bad("config count_row writes row \(countRow.row) of line \(countRow.line), which a phrase group holds") }
        }
        if let keptWord, let problem = keptWord.problem(lines: l, rows: rowsPerQuery, words: w[0]) { throw bad("config \(problem)") }
        if keptWord != nil { try expect("kept_word", [w[1]], "the LM's embedding of the kept word (config kept_word)") }
        self.phrases = phrases
        self.countRow = countRow
        self.heads = heads; self.rowsPerQuery = rowsPerQuery; self.echoColumns = echoColumns
        inputDim = c; width = a; hiddenDim = h; words = w[0]; outputDim = w[1]; queryCount = l
        queries = try weights.tensor(prefix + "queries")
        kW = try weights.tensor(prefix + "k.weight"); kB = try weights.tensor(prefix + "k.bias")
        vW = try weights.tensor(prefix + "v.weight"); vB = try weights.tensor(prefix + "v.bias")
        fc1 = try weights.tensor(prefix + "fc1.weight"); b1 = try weights.tensor(prefix + "fc1.bias")
        fc2 = try weights.tensor(prefix + "fc2.weight"); b2 = try weights.tensor(prefix + "fc2.bias")
        let wordTable = try weights.tensor(prefix + "words")
        table = wordTable
        if let keptWord {
            let v = try weights.tensor(prefix + "kept_word").data, d = v.count
            self.keptWord = (keptWord, (0..<d).map { v[$0] - wordTable.data[keptWord.absent * d + $0] })
        } else {
            self.keptWord = nil
        }
        tags = hasTags ? try weights.tensor(prefix + "tags") : nil
        positionWeights = hasKP ? (try weights.tensor(prefix + "kp.weight"), try weights.tensor(prefix + "vp.weight")) : nil
        tokenMLP = tokPresent.isEmpty ? nil : (try weights.tensor(prefix + "tok1.weight"), try weights.tensor(prefix + "tok1.bias"),
                                               try weights.tensor(prefix + "tok2.weight"), try weights.tensor(prefix + "tok2.bias"))
        momentWeights = hasMom ? (try weights.tensor(prefix + "mom.weight"), try weights.tensor(prefix + "momz.weight")) : nil
        glimpseWeights = glimpsePresent.isEmpty ? nil
            : (try weights.tensor(prefix + "gproj.weight"), try weights.tensor(prefix + "gproj.bias"),
               try weights.tensor(prefix + "gl1.weight"), try weights.tensor(prefix + "gl1.bias"),
               try weights.tensor(prefix + "gl2.weight"), try weights.tensor(prefix + "gl2.bias"))
        pixelWeights = hasPix ? try weights.tensor(prefix + "gpix.weight") : nil
        timeWeights = hasTime ? try weights.tensor(prefix + "gtime.weight") : nil
        placeWeights = placePresent.isEmpty ? nil
            : (try weights.tensor(prefix + "pl1.weight"), try weights.tensor(prefix + "pl1.bias"),
               try weights.tensor(prefix + "pl2.weight"), try weights.tensor(prefix + "ptime.weight"))
    }

    /// Tokens [N, C] (N >= 1) and, when `readsPositions`, their position features [N, 5] (and, with a
    /// glimpse, their places [N x 3], `tokenPlaces`; when `pixelWidth` > 0, their patch vectors [N, V],
    /// zeros for CLS) -> rows [L x R, D].
    func callAsFunction(_ tokens: Tensor, positions: Tensor?, places: [Int]? = nil, pixels: Tensor? = nil) throws -> Tensor {
        guard tokens.rank == 2, tokens.lastDim == inputDim, tokens.rows >= 1 else {
            throw FluxError(.internal, "slot_resampler: expected tokens [N >= 1, \(inputDim)], got \(tokens.shape)")
        }
        if glimpseWeights != nil {
            guard let places, places.count == 3 * tokens.rows else {
                throw FluxError(.internal, "slot_resampler: a glimpse needs places [\(tokens.rows) x 3], got \(places?.count ?? 0) values")
            }
            // (-1, -1, -1) for CLS, else a frame a request may sample (the windows are allocated per frame) and a row and column.
            for i in 0..<tokens.rows where !(places[3 * i] == -1 && places[3 * i + 1] == -1 && places[3 * i + 2] == -1) {
                guard (0..<Limits.maxFrames).contains(places[3 * i]), places[3 * i + 1] >= 0, places[3 * i + 2] >= 0 else {
                    throw FluxError(.internal, "slot_resampler: token \(i)'s place \(places[(3 * i)..<(3 * i + 3)]) is not a frame, row and column")
                }
            }
        }
        if let pixelWeights, pixels?.shape != [tokens.rows, pixelWeights.lastDim] {
            throw FluxError(.internal, "slot_resampler: the glimpse's pixels must be [\(tokens.rows), \(pixelWeights.lastDim)], got \(pixels?.shape ?? [])")
        }
        var x = tokens
        if let (w1, b1, w2, b2) = tokenMLP {
            var h = BLAS.linear(tokens, weight: w1, bias: b1)
            h.withUnsafeMutableBufferPointer { if let p = $0.baseAddress { Ops.geluErf(p, count: $0.count) } }
            Self.add(&x, BLAS.linear(h, weight: w2, bias: b2))
        }
        let n = x.rows, l = queryCount, a = width, d = a / heads
        var k = BLAS.linear(x, weight: kW, bias: kB), v = BLAS.linear(x, weight: vW, bias: vB)
        if let (kp, vp) = positionWeights {
            guard let positions, positions.shape == [n, Self.positionFeatureCount] else {
                throw FluxError(.internal, "slot_resampler: expected positions [\(n), \(Self.positionFeatureCount)], got \(positions?.shape ?? [])")
            }
            Self.add(&k, BLAS.linear(positions, weight: kp))
            Self.add(&v, BLAS.linear(positions, weight: vp))
        }
        // Per head j (columns j*d ..< (j+1)*d, as PyTorch's view(..., h, A/h)): softmax(Q_j K_j^T / sqrt(d)) V_j.
        var o = Tensor(shape: [l, a])
        var s = [Float](repeating: 0, count: l * n)
        var moments: [Float] = []
        var glimpses: Tensor?
        queries.withUnsafeBufferPointer { qp in
            k.withUnsafeBufferPointer { kp in
                v.withUnsafeBufferPointer { vp in
                    o.withUnsafeMutableBufferPointer { op in
                        s.withUnsafeMutableBufferPointer { sp in
                            for j in 0..<heads {
                                BLAS.gemm(transB: true, m: l, n: n, k: d, alpha: 1 / Float(d).squareRoot(),
                                          a: qp.baseAddress! + j * d, lda: a, b: kp.baseAddress! + j * d, ldb: a,
                                          c: sp.baseAddress!, ldc: n)
                                Ops.softmaxRows(sp.baseAddress!, rows: l, dim: n)
                                if j == 0, momentWeights != nil, let positions {
                                    moments = positions.withUnsafeBufferPointer {
                                        Self.momentFeatures(attention: sp.baseAddress!, lines: l, tokens: n, positions: $0.baseAddress!)
                                    }
                                }
                                if j == 0, let gw = glimpseWeights, let places, let positions {
                                    var cells = BLAS.linear(tokens, weight: gw.proj, bias: gw.projB)
                                    if let pixelWeights, let pixels { Self.add(&cells, BLAS.linear(pixels, weight: pixelWeights)) }
                                    let frames = Self.frameCount(places: places, tokens: n)
                                    let time = positions.withUnsafeBufferPointer {
                                        Self.frameTimes(places: places, positions: $0.baseAddress!, tokens: n, frames: frames)
                                    }
                                    var out = glimpse(gw, attention: sp.baseAddress!, lines: l, tokens: n, places: places,
                                                      frames: frames, time: time, projected: cells)
                                    if let pw = placeWeights {
                                        Self.add(&out, placeGlimpse(pw, attention: sp.baseAddress!, lines: l, tokens: n, places: places,
                                                                    frames: frames, time: time, projected: cells))
                                    }
                                    glimpses = out
                                }
                                BLAS.gemm(m: l, n: d, k: n, a: sp.baseAddress!, lda: n, b: vp.baseAddress! + j * d, ldb: a,
                                          c: op.baseAddress! + j * d, ldc: a)
                            }
                            Ops.add(op.baseAddress!, qp.baseAddress!, count: l * a)
                        }
                    }
                }
            }
        }
        // Positions were checked above: a resampler with moments reads positions.
        let momentRows = momentWeights == nil ? nil : Tensor(shape: [l, Self.momentFeatureCount], data: moments)
        if let (mo, _) = momentWeights, let momentRows { Self.add(&o, BLAS.linear(momentRows, weight: mo)) }
        if let glimpses { Self.add(&o, glimpses) }
        var hidden = BLAS.linear(o, weight: fc1, bias: b1)
        hidden.withUnsafeMutableBufferPointer { if let p = $0.baseAddress { Ops.geluErf(p, count: $0.count) } }
        // [L, R x W] is [L x R, W] row-major: line l's row r is columns r*W ..< (r+1)*W.
        var lineLogits = BLAS.linear(hidden, weight: fc2, bias: b2)
        if let (_, mz) = momentWeights, let momentRows { Self.add(&lineLogits, BLAS.linear(momentRows, weight: mz)) }
        var logits = lineLogits.reshaped([l * rowsPerQuery, words])
        let raw = phrases.isEmpty ? nil : logits  // the phrases' logits are sums of these, before the softmax
        var out = Tensor(shape: [l * rowsPerQuery, outputDim])
        logits.withUnsafeMutableBufferPointer { zp in
            Ops.softmaxRows(zp.baseAddress!, rows: l * rowsPerQuery, dim: words)
            if let raw { raw.withUnsafeBufferPointer { Self.choosePhrases(phrases, logits: $0, into: zp, rowsPerQuery: rowsPerQuery, words: words) } }
            countRow?.apply(to: zp, rowsPerQuery: rowsPerQuery, words: words)
            table.withUnsafeBufferPointer { tp in
                out.withUnsafeMutableBufferPointer { yp in
                    BLAS.gemm(m: l * rowsPerQuery, n: outputDim, k: words, a: zp.baseAddress!, lda: words,
                              b: tp.baseAddress!, ldb: outputDim, c: yp.baseAddress!, ldc: outputDim)
                    if let (kept, delta) = keptWord {
                        kept.apply(probabilities: UnsafeBufferPointer(zp), words: words, delta: delta, to: yp, rowsPerQuery: rowsPerQuery)
                    }
                }
            }
        }
        if !echoColumns.isEmpty {
            let r = rowsPerQuery, dd = outputDim
            var echo = [Float](repeating: 0, count: dd)
            out.withUnsafeMutableBufferPointer { yp in
                for line in 0..<l {
                    let base = yp.baseAddress! + line * r * dd
                    for i in 0..<dd { echo[i] = 0 }
                    for c in echoColumns { Ops.add(&echo, base + c * dd, count: dd) }
                    for row in 0..<r { Ops.add(base + row * dd, echo, count: dd) }
                }
            }
        }
        if let tags {
            let r = rowsPerQuery, dd = outputDim
            out.withUnsafeMutableBufferPointer { yp in
                tags.withUnsafeBufferPointer { gp in
                    for line in 0..<l {
                        for row in 0..<r {
                            Ops.add(yp.baseAddress! + (line * r + row) * dd, gp.baseAddress! + line * dd, count: dd)
                        }
                    }
                }
            }
        }
        return out
    }

    /// Overwrites the word probabilities `p` [L x R, W] of each group's rows with the marginals of
    /// the softmax over its phrases, whose logits are sums of the word logits `z` (PhraseGroup).
    static func choosePhrases(_ groups: [PhraseGroup], logits z: UnsafeBufferPointer<Float>, into p: UnsafeMutableBufferPointer<Float>,
                              rowsPerQuery r: Int, words w: Int) {
        for g in groups {
            var score = [Float](repeating: 0, count: g.words.count)
            for line in g.lines {
                for (k, phrase) in g.words.enumerated() {
                    var s: Float = 0
                    for (j, row) in g.rows.enumerated() { s += z[(line * r + row) * w + phrase[j]] }
                    score[k] = s
                }
                score.withUnsafeMutableBufferPointer { Ops.softmaxRows($0.baseAddress!, rows: 1, dim: $0.count) }
                for row in g.rows {
                    for c in 0..<w { p[(line * r + row) * w + c] = 0 }
                }
                for (k, phrase) in g.words.enumerated() {
                    for (j, row) in g.rows.enumerated() { p[(line * r + row) * w + phrase[j]] += score[k] }
                }
            }
        }
    }

    private static func add(_ a: inout Tensor, _ b: Tensor) {
        a.withUnsafeMutableBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in Ops.add(ap.baseAddress!, bp.baseAddress!, count: ap.count) }
        }
    }
}
