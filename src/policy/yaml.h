/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * YAML in, a located tree out.  The only file that includes libyaml.
 *
 * The event stream is read with limits enforced while streaming (size,
 * depth, scalar length, node count), and everything a policy never needs is
 * refused with a diagnostic at its file:line:col: anchors and aliases (no
 * expansion bombs), tags, merge keys, complex keys, duplicate keys, several
 * documents, NUL bytes, invalid UTF-8, tab indentation.  Every problem found
 * is reported; a document with any error yields no tree.
 *
 * A long list of addresses is the bulk of a large policy, and libyaml's cost
 * is per value: a flow or block sequence of at least `run_min` items, each a
 * token of address characters (struct pc_yrun), is cut out of the text
 * libyaml reads and kept as a run that the caller reads item by item
 * (pc_yrun_next()), with no node or string per item.  libyaml still reads
 * the sequence itself, emptied, so the document's shape is its; a cut it
 * does not confirm as a sequence, or any problem, and the whole document is
 * read again without cuts: the diagnostics are always the ones of that read.
 *
 * Ownership: the text and the strings of the scalars live in the document's
 * arena, the nodes in an arena of their own: pc_ydoc_drop_tree() releases the
 * nodes as soon as the document has been read (the strings stay), and
 * pc_ydoc_finish() releases everything.  Lines and columns are 1-based;
 * columns count bytes.
 */
#ifndef PC_POLICY_YAML_H
#define PC_POLICY_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portcullis/diag.h"
#include "util.h"

/* The limits, documented in docs/policy.md. */
#define PC_YAML_MAX_BYTES (16u << 20)
#define PC_YAML_MAX_DEPTH 64
#define PC_YAML_MAX_SCALAR 4096
#define PC_YAML_MAX_KEY 1024
#define PC_YAML_MAX_NODES 1000000

/* Sequences of at least this many addresses are read as runs. */
#define PC_YAML_RUN_MIN 64
/* An item of a run: at most this many bytes (the longest IPv6 prefix is 43). */
#define PC_YAML_RUN_ITEM 64

/*
 * The items of a sequence cut out of libyaml's text: `text` holds them as
 * written, between the brackets of a flow sequence or on the lines of a
 * block one (dashes, commas, blanks, comments between them).  Each item is
 * a plain or quoted token of the characters 0-9 a-f A-F . : / that starts
 * with a digit or holds a ':' (it reads as an address, never a name).
 */
struct pc_yrun {
	const char *file; /* the document's name, for locations */
	const char *text; /* from the first item to the end of the last one */
	size_t len;
	unsigned line, col; /* of text[0] */
	unsigned end_line; /* of the last item */
	uint32_t n; /* items */
	/* Bytes past characters before text[0] on its line: columns count characters, as libyaml's
	 * do (a UTF-8 sequence is one). */
	unsigned skew;
};

struct pc_yrun_it {
	const struct pc_yrun *run;
	const char *at, *line_start;
	unsigned line;
	/* The bytes between the last two items (at most 16, no comment), and the lines they end. */
	uint64_t sep[2], mask[2];
	size_t sep_len, sep_tail;
	unsigned sep_lines;
};

struct pc_yitem {
	const char *s; /* not NUL-terminated */
	size_t len; /* at most PC_YAML_RUN_ITEM */
	unsigned line, col;
	bool quoted;
	/* Plain, four numbers of at most 255 without leading zeros and no more: they, in v4. */
	bool quad;
	uint8_t v4[4];
};

void pc_yrun_begin(struct pc_yrun_it *it, const struct pc_yrun *run);
/* The next item; false after the last. */
bool pc_yrun_next(struct pc_yrun_it *it, struct pc_yitem *item);

enum pc_ynode_kind {
	PC_Y_SCALAR,
	PC_Y_SEQ,
	PC_Y_MAP,
};

/* Packed (32 bytes): a policy of many addresses holds one node per address while it is read. */
struct pc_ynode {
	unsigned line, col;
	uint32_t n; /* entries: items, or key/value pairs (at most PC_YAML_MAX_NODES) */
	uint16_t len; /* scalar: of str (at most PC_YAML_MAX_SCALAR) */
	uint8_t kind; /* enum pc_ynode_kind */
	bool plain : 1; /* scalar: unquoted: `022`, `yes`, `~` are still just text here */
	bool flow : 1; /* container: written [a, b] or {a: b} */
	bool packed : 1; /* sequence: its items are `run`, not nodes (pc_ydoc_unpack()) */
	const char *str; /* scalar: NUL-terminated; never holds a NUL itself */
	union {
		/* sequence: items[i]; mapping: items[2i] is a key (a scalar), items[2i+1] its value
		 */
		struct pc_ynode **items;
		const struct pc_yrun *run; /* a packed sequence */
	};
};

struct pc_ydoc {
	const char *file; /* as given; used in diagnostics */
	struct pc_arena arena; /* the file's name, the strings */
	struct pc_arena nodes; /* the tree */
	struct pc_ynode *root; /* NULL after an error or pc_ydoc_drop_tree() */
	const char *text; /* the source, for context lines (owned by the document) */
	size_t text_len;
	char *owned; /* the text when it was handed over (pc_yaml_parse_buf()) */
	struct pc_ynode ***lists; /* the items of long containers, on the heap: not copied */
	size_t nlists;
	size_t run_min; /* sequences of this many addresses are runs (SIZE_MAX: none) */
	uint32_t *line_starts; /* made by pc_ydoc_locate() or pc_ydoc_offset() when first asked */
	size_t nlines;
	/* A value starts past column 65 535: the prefixes written in this document are
	 * placed by their offset (pc_prefix.where), not by line and column. */
	bool wide;
	/* Pages of the text inside its runs were given back once read (they read as zeros)
	 * until the file is read again (pol_text_release()): `sha256` is the text's digest,
	 * `real` the file (NULL: a text that cannot be read again, never given back). */
	bool released;
	bool lost; /* read again once, and the file no longer held what was read */
	char sha256[65];
	const char *real;
	struct pc_ygone *gone; /* the ranges given back (pc_ydoc_give_back()), in order */
	size_t ngone;
	/* Where each line pc_ydoc_line() can give begins (UINT32_MAX: a line given back),
	 * made when a line is first asked for and again after the text changes. */
	uint32_t *shown;
	size_t nshown;
};

/* Bytes of a text given back, and the lines they touch (first and last, in part or whole). */
struct pc_ygone {
	size_t from, to;
	unsigned first, last;
};

/* The value for `key` in a mapping node, or NULL. */
const struct pc_ynode *pc_ynode_get(const struct pc_ynode *map, const char *key);

void pc_ydoc_init(struct pc_ydoc *doc);
void pc_ydoc_finish(struct pc_ydoc *doc);

/* Gives a packed sequence nodes for its items, as if it had been read without a cut. */
void pc_ydoc_unpack(struct pc_ydoc *doc, struct pc_ynode *seq);

/*
 * Releases the tree (every node), keeping the text, the strings of the
 * scalars and the runs; the bytes its nodes took.
 */
size_t pc_ydoc_drop_tree(struct pc_ydoc *doc);

/*
 * Gives back the whole pages of the handed-over text in [from, to), bytes
 * of `run` before `at` (which is on line `at_line`): they read as zeros
 * after, and pc_ydoc_line() no longer gives the lines they touch
 * (pc_ydoc_line_gone()), the others still.  Returns where the pages given
 * back end, the next call's `from`, or `from` when none were.
 */
const char *pc_ydoc_give_back(struct pc_ydoc *doc, const struct pc_yrun *run, const char *from,
		const char *to, const char *at, unsigned at_line);
bool pc_ydoc_line_gone(const struct pc_ydoc *doc, unsigned line);
/* The text is whole again (its bytes written back by the caller). */
void pc_ydoc_restored(struct pc_ydoc *doc);

/*
 * Parses `data` (which need not be NUL-terminated) as one YAML document.
 * Returns 0 with doc->root set, or -1 with every problem in `diags`.
 */
int pc_yaml_parse(struct pc_ydoc *doc, const char *file, const char *data, size_t len,
		struct pc_diags *diags);

/* The same for the text of `buf`, which the document takes over (no copy); `buf` is left empty. */
int pc_yaml_parse_buf(
		struct pc_ydoc *doc, const char *file, struct pc_buf *buf, struct pc_diags *diags);

/* The line and column (1-based) of byte `offset` of the text, and back. */
void pc_ydoc_locate(struct pc_ydoc *doc, size_t offset, unsigned *line, unsigned *col);
size_t pc_ydoc_offset(struct pc_ydoc *doc, unsigned line, unsigned col);

/* The source line `line` (1-based) of a document, without its end; NULL if none. */
const char *pc_ydoc_line(struct pc_ydoc *doc, unsigned line, size_t *len);

#endif
