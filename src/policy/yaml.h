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
	const char *str; /* scalar: NUL-terminated; never holds a NUL itself */
	/* sequence: items[i]; mapping: items[2i] is a key (a scalar), items[2i+1] its value */
	struct pc_ynode **items;
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
};

/* The value for `key` in a mapping node, or NULL. */
const struct pc_ynode *pc_ynode_get(const struct pc_ynode *map, const char *key);

void pc_ydoc_init(struct pc_ydoc *doc);
void pc_ydoc_finish(struct pc_ydoc *doc);

/* Releases the tree (every node), keeping the text and the strings of the scalars. */
void pc_ydoc_drop_tree(struct pc_ydoc *doc);

/*
 * Parses `data` (which need not be NUL-terminated) as one YAML document.
 * Returns 0 with doc->root set, or -1 with every problem in `diags`.
 */
int pc_yaml_parse(struct pc_ydoc *doc, const char *file, const char *data, size_t len,
		struct pc_diags *diags);

/* The same for the text of `buf`, which the document takes over (no copy); `buf` is left empty. */
int pc_yaml_parse_buf(
		struct pc_ydoc *doc, const char *file, struct pc_buf *buf, struct pc_diags *diags);

/* The source line `line` (1-based) of a document, without its end; NULL if none. */
const char *pc_ydoc_line(const struct pc_ydoc *doc, unsigned line, size_t *len);

#endif
