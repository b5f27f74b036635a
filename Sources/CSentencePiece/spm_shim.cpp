#include "spm_shim.h"
#include <sentencepiece_processor.h>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

struct spm_processor {
    sentencepiece::SentencePieceProcessor sp;
};

static char *dup_string(const std::string &s) {
    char *out = static_cast<char *>(std::malloc(s.size() + 1));
    if (out) { std::memcpy(out, s.data(), s.size()); out[s.size()] = 0; }
    return out;
}

extern "C" {

spm_processor *spm_load(const char *path, char **error) {
    auto *p = new spm_processor();
    auto status = p->sp.Load(path);
    if (!status.ok()) {
        if (error) *error = dup_string(status.ToString());
        delete p;
        return nullptr;
    }
    return p;
}

spm_processor *spm_load_bytes(const char *bytes, int64_t length, char **error) {
    auto *p = new spm_processor();
    auto status = p->sp.LoadFromSerializedProto(std::string(bytes, static_cast<size_t>(length)));
    if (!status.ok()) {
        if (error) *error = dup_string(status.ToString());
        delete p;
        return nullptr;
    }
    return p;
}

void spm_free(spm_processor *p) { delete p; }
void spm_free_string(char *s) { std::free(s); }

int32_t spm_vocab_size(const spm_processor *p) { return p->sp.GetPieceSize(); }
int32_t spm_bos_id(const spm_processor *p) { return p->sp.bos_id(); }
int32_t spm_eos_id(const spm_processor *p) { return p->sp.eos_id(); }
int32_t spm_unk_id(const spm_processor *p) { return p->sp.unk_id(); }
int32_t spm_pad_id(const spm_processor *p) { return p->sp.pad_id(); }

int32_t spm_encode(const spm_processor *p, const char *text, int64_t length, int32_t *out, int32_t cap) {
    std::vector<int> ids;
    auto status = p->sp.Encode(std::string(text, static_cast<size_t>(length)), &ids);
    if (!status.ok()) return -1;
    int32_t n = static_cast<int32_t>(ids.size());
    if (out) {
        for (int32_t i = 0; i < n && i < cap; ++i) out[i] = ids[i];
    }
    return n;
}

char *spm_decode(const spm_processor *p, const int32_t *ids, int32_t count) {
    std::vector<int> v(ids, ids + count);
    std::string text;
    auto status = p->sp.Decode(v, &text);
    if (!status.ok()) return nullptr;
    return dup_string(text);
}

char *spm_id_to_piece(const spm_processor *p, int32_t id) {
    if (id < 0 || id >= p->sp.GetPieceSize()) return nullptr;
    return dup_string(p->sp.IdToPiece(id));
}

int32_t spm_piece_to_id(const spm_processor *p, const char *piece) { return p->sp.PieceToId(piece); }

float spm_score(const spm_processor *p, int32_t id) {
    return id >= 0 && id < p->sp.GetPieceSize() ? p->sp.GetScore(id) : 0.0f;
}

int32_t spm_type(const spm_processor *p, int32_t id) {
    if (id < 0 || id >= p->sp.GetPieceSize()) return 0;
    if (p->sp.IsUnknown(id)) return 2;
    if (p->sp.IsControl(id)) return 3;
    if (p->sp.IsUnused(id)) return 5;
    if (p->sp.IsByte(id)) return 6;
    return 1;  // normal or user-defined: the processor API cannot tell them apart
}

int spm_is_byte(const spm_processor *p, int32_t id) {
    return id >= 0 && id < p->sp.GetPieceSize() && p->sp.IsByte(id);
}
int spm_is_control(const spm_processor *p, int32_t id) {
    return id >= 0 && id < p->sp.GetPieceSize() && p->sp.IsControl(id);
}
int spm_is_unknown(const spm_processor *p, int32_t id) {
    return id >= 0 && id < p->sp.GetPieceSize() && p->sp.IsUnknown(id);
}

}
