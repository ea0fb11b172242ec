/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * How one registry layer is stored.  Every string is an offset into the
 * layer's string table, so the same layout is a const table compiled into
 * the binary (no relocations, nothing parsed at run time) and a heap copy
 * built from a file at run time.  Offset 0 is always the empty string.
 */
#ifndef PC_REGISTRY_LAYER_H
#define PC_REGISTRY_LAYER_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "portcullis/diag.h"
#include "portcullis/registry.h"
#include "util.h"

/*
 * Every layer refuses a service on port 0 (the IANA snapshot's own port 0
 * rows are unnamed, kept for lookup): one message for all of them, as the
 * policy's own ports get.
 */
#define PC_PORT_ZERO_MSG "port 0 is reserved and cannot be matched"

enum {
	COL_NAME,
	COL_PORT,
	COL_PROTO,
	COL_DESC,
	COL_ASSIGNEE,
	COL_CONTACT,
	COL_REGISTERED,
	COL_MODIFIED,
	COL_REFERENCE,
	COL_SERVICE_CODE,
	COL_UNAUTH,
	COL_NOTES,
	COL_COUNT,
};

/*
 * One row.  `row` is the offset of its COL_COUNT column strings, stored one
 * after the other, each NUL-terminated (the first is the name), so a row
 * costs 24 bytes whatever its text.
 */
struct pc_entry {
	uint32_t row;
	uint32_t extra; /* alias_of (historic alias) or instead (contested) */
	uint32_t aliases; /* first alias; the others follow, NUL-separated */
	uint32_t line;
	uint16_t port_lo, port_hi;
	uint8_t proto, state, naliases, flags;
	uint16_t unauth_port; /* the port an in-range unauthorized-use note names */
	uint16_t pad;
};

struct pc_nameref {
	uint32_t name; /* offset of the name or alias */
	uint32_t entry;
	uint32_t next; /* 1 + index of the next ref with this name; 0: last */
	uint32_t hash; /* pc_name_hash(name): compared before the names */
};

struct pc_layer {
	uint8_t kind;
	bool owned; /* heap memory released by pc_layer_destroy() */
	const char *file;
	const char *date; /* iana: newest registration/modification date */
	const char *sha256; /* embedded layers: of the source file; else NULL */
	const char *strtab;
	uint32_t strtab_len;
	uint32_t nentries, nnames, nports, nranges, nslots;
	const struct pc_entry *entries;
	const struct pc_nameref *names; /* in file order, chained by folded name */
	const uint32_t *slots; /* hash of the folded name -> 1 + first ref; 0: empty */
	const uint32_t *ports; /* entries with one port, sorted by port, then entry */
	const uint32_t *ranges; /* entries with a port range, by first port */
	/*
	 * What a port lookup searches, apart from the rows: the port of each of
	 * `ports`, the first port of each of `ranges`, and per range the highest
	 * last port among the ranges up to it (a lookup walks back from the
	 * ranges that start at or before its port only while one may still
	 * reach it).  A search touches these small arrays and the rows it finds,
	 * not the pages of every row it passes.
	 */
	const uint16_t *port_keys, *range_keys, *reach;
	/*
	 * Per name ref, what the did-you-mean search filters on before it reads
	 * a name: its characters as a set of bits (pc_name_char_set()) and its
	 * length (PC_NAME_LEN_LONG: that or more; PC_NAME_LEN_DAEMON: a daemon's
	 * name, never suggested).  The search reads these and the few names
	 * they let through, not every name and row of the layer.
	 */
	const uint64_t *name_sets;
	const uint8_t *name_lens;
	/*
	 * The names again, one after the other (`name_text` + `name_offs[ref]`),
	 * so that the search reads the names it measures from a few pages,
	 * rather than from wherever their rows put them.
	 */
	const char *name_text;
	const uint32_t *name_offs;
	uint32_t name_text_len;
};

#define PC_NAME_LEN_LONG 254
#define PC_NAME_LEN_DAEMON 255

/*
 * The characters of a name as a set of bits (case folded; letters and digits
 * each their own bit), and its length.  Every edit changes at most two bits
 * of the set, so half the bits two names do not share is a lower bound of
 * their distance.
 */
static inline uint64_t pc_name_char_set(const char *s, size_t *len)
{
	uint64_t set = 0;
	size_t n = 0;

	for (; s[n]; n++)
		set |= UINT64_C(1) << ((unsigned char)pc_fold(s[n]) % 64);
	*len = n;
	return set;
}

static inline const char *pc_layer_str(const struct pc_layer *l, uint32_t off)
{
	return l->strtab + off;
}

/* Column `col` of a row: walks the row's strings. */
static inline const char *pc_row_col(const char *strtab, const struct pc_entry *e, int col)
{
	const char *p = strtab + e->row;

	while (col-- > 0)
		p += strlen(p) + 1;
	return p;
}

/* The first ref named `name` (ASCII case-insensitive), or NULL. */
const struct pc_nameref *pc_layer_find(const struct pc_layer *l, const char *name);

/* Building a layer: rows are added, then the indexes are built once. */
struct pc_layer_builder {
	uint8_t kind;
	char *file;
	struct pc_buf strs;
	struct pc_entry *entries;
	uint32_t n, cap;
	uint32_t *name_hash; /* NULL, or pc_name_hash() of each row's name, set by the parser */
	uint32_t hash_cap;
};

void pc_builder_init(struct pc_layer_builder *b, enum pc_layer_kind kind, const char *file);
void pc_builder_finish(struct pc_layer_builder *b);
/*
 * Takes `text` as the string table (it must hold a NUL at offset 0); the
 * parsers then cut their input into strings in place.  `text` is emptied.
 */
void pc_builder_adopt(struct pc_layer_builder *b, struct pc_buf *text);
struct pc_entry *pc_builder_grow(struct pc_layer_builder *b);

void pc_builder_grow_hash(struct pc_layer_builder *b, uint32_t i);

/* Records the hash of row `i`'s name, computed while the parser checked it. */
static inline void pc_builder_set_hash(struct pc_layer_builder *b, uint32_t i, uint32_t hash)
{
	if (i >= b->hash_cap)
		pc_builder_grow_hash(b, i);
	b->name_hash[i] = hash;
}

/* Appends one zeroed row and returns it. */
static inline struct pc_entry *pc_builder_add(struct pc_layer_builder *b)
{
	if (b->n == b->cap)
		return pc_builder_grow(b);
	struct pc_entry *e = &b->entries[b->n++];
	memset(e, 0, sizeof(*e));
	return e;
}
/* Reserves room for `n` rows (untouched room costs no memory). */
void pc_builder_expect(struct pc_layer_builder *b, uint32_t n);
uint32_t pc_builder_str(struct pc_layer_builder *b, const char *s, size_t n);
/*
 * Appends a row's column strings: col[k] is an offset into the string table
 * (0: empty).  Returns the row offset for pc_entry.row.
 */
uint32_t pc_builder_row(struct pc_layer_builder *b, const uint32_t col[COL_COUNT]);
/* Turns the builder into a heap-owned layer (the builder is emptied). */
struct pc_layer *pc_builder_build(struct pc_layer_builder *b, struct pc_diags *diags);
void pc_layer_destroy(struct pc_layer *l);

/*
 * Parsers (iana_csv.c, services.c).  They return 0 or -1 with diagnostics.
 * The _text forms take `text`: a NUL byte then the input (see
 * pc_builder_adopt), and parse it in place.
 */
int pc_iana_parse(const char *label, const char *data, size_t len, struct pc_layer **out,
		struct pc_diags *diags);
int pc_iana_parse_text(const char *label, struct pc_buf *text, struct pc_layer **out,
		struct pc_diags *diags);
enum pc_services_mode {
	PC_SERVICES_SYSTEM, /* services(5): bad lines are skipped with a warning */
	PC_SERVICES_PRACTICE, /* our data file: a source note is required, bad lines are errors */
};
int pc_services_parse(const char *label, const char *data, size_t len, enum pc_services_mode mode,
		struct pc_layer **out, struct pc_diags *diags);
int pc_services_parse_text(const char *label, struct pc_buf *text, enum pc_services_mode mode,
		struct pc_layer **out, struct pc_diags *diags);
/* Reads a file into a text buffer for the _text parsers; 0, or -1 with errno. */
int pc_read_text(const char *path, size_t max, struct pc_buf *text);

/*
 * Characters a registry name may hold: printable ASCII without space and
 * without quotes, separators or shell/nft metacharacters.
 */
static inline bool pc_name_char_ok(unsigned char ch)
{
	/* Bit c set: byte c may appear in a name (0x21-0x7e but "#$',;\\`{}). */
	static const uint64_t ok[4] = {0xf7ffef6200000000ull, 0x57fffffeefffffffull, 0, 0};

	return (ok[ch >> 6] >> (ch & 63)) & 1;
}

/* Parses a decimal port or range; no sign, no leading zeros.  0 or -1. */
int pc_parse_port_range(const char *s, size_t n, uint16_t *lo, uint16_t *hi);

/* The embedded layers (generated at build time). */
extern const struct pc_layer pc_embedded_iana;
extern const struct pc_layer pc_embedded_practice;

/* Replaces the layer `kind` of `reg` with `l` (taken). */
void pc_registry_put_layer(struct pc_registry *reg, enum pc_layer_kind kind, struct pc_layer *l);

/* Fills a public record from a layer row. */
void pc_layer_record(const struct pc_layer *l, const struct pc_entry *e, struct pc_record *r);

#endif
