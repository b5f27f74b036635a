#ifndef SPM_SHIM_H
#define SPM_SHIM_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

// An opaque SentencePiece processor. Strings returned by these functions come from malloc;
// release them with spm_free_string.
typedef struct spm_processor spm_processor;

// Loads a .model file. On failure returns NULL and sets *error to a malloc'ed message.
spm_processor *spm_load(const char *path, char **error);
// Loads a serialized ModelProto held in memory (length bytes). Errors as spm_load.
spm_processor *spm_load_bytes(const char *bytes, int64_t length, char **error);
void spm_free(spm_processor *p);
void spm_free_string(char *s);

int32_t spm_vocab_size(const spm_processor *p);
int32_t spm_bos_id(const spm_processor *p);
int32_t spm_eos_id(const spm_processor *p);
int32_t spm_unk_id(const spm_processor *p);
int32_t spm_pad_id(const spm_processor *p);

// Encodes UTF-8 text (length bytes, need not be NUL-terminated) to ids. Writes at most cap ids
// and returns the full count (call with out = NULL to size the buffer), or -1 on error.
int32_t spm_encode(const spm_processor *p, const char *text, int64_t length, int32_t *out, int32_t cap);
// Decodes ids to UTF-8 text. Returns NULL on error.
char *spm_decode(const spm_processor *p, const int32_t *ids, int32_t count);
char *spm_id_to_piece(const spm_processor *p, int32_t id);
int32_t spm_piece_to_id(const spm_processor *p, const char *piece);
// The piece's score, 0 outside the vocabulary.
float spm_score(const spm_processor *p, int32_t id);
// The piece's type as numbered in sentencepiece_model.proto (1 normal, 2 unknown, 3 control,
// 5 unused, 6 byte; user-defined pieces read as 1); 0 outside the vocabulary.
int32_t spm_type(const spm_processor *p, int32_t id);
// Piece kinds: 1 if the id is a byte-fallback piece (<0xAB>), a control symbol, or unknown.
int spm_is_byte(const spm_processor *p, int32_t id);
int spm_is_control(const spm_processor *p, int32_t id);
int spm_is_unknown(const spm_processor *p, int32_t id);

#ifdef __cplusplus
}
#endif
#endif
