/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The krb5 profile format: what MIT's and Heimdal's kdc.conf and krb5.conf
 * are.
 *
 *   # a comment: '#' or ';' first on a line (after blanks)
 *   [section]            a section; `[section]*` marks it final
 *   tag = value          a relation; a tag may be repeated
 *   tag = "a\tb"         a quoted value: \n \t \b \\ \" are its escapes
 *   tag = {              a subsection (the '{' may be alone on the next
 *       tag = value      line), closed by '}' (`}*` marks it final)
 *   }
 *   include FILE         another file, read in place (first on its line)
 *   includedir DIR       every file of DIR whose name is made of letters,
 *                        digits, '-' and '_' only, or ends in ".conf", in
 *                        byte order of their names
 *   module NAME:RESIDUAL before the first section: recorded, not followed
 *
 * Lines before the first section are ignored.  A relative include is taken
 * relative to the directory of the file that names it.  Every node keeps
 * the file, line and byte column of its tag and of its value.
 *
 * Ownership: a struct pc_profile owns every node and string in it, released
 * by pc_profile_finish().  Loaders return a pc_load_status
 * (portcullis/diag.h), with every problem in the diags passed in.
 */
#ifndef PORTCULLIS_PROFILE_H
#define PORTCULLIS_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "portcullis/diag.h"
#include "sha256.h"
#include "util.h"

/* The limits: every input is bounded. */
#define PC_PROFILE_MAX_BYTES (1u << 20) /* one file */
#define PC_PROFILE_MAX_TOTAL (4u << 20) /* all files of one profile together */
#define PC_PROFILE_MAX_FILES 64 /* the file and its includes */
#define PC_PROFILE_MAX_INCLUDE_DEPTH 8 /* include inside include */
#define PC_PROFILE_MAX_LINE 4096 /* bytes on one line */
#define PC_PROFILE_MAX_NESTING 16 /* subsections inside subsections */
#define PC_PROFILE_MAX_DIR_ENTRIES 1024 /* names listed in one includedir */
#define PC_PROFILE_MAX_ERRORS 50 /* then reading stops */

struct pc_profile_node {
	const char *name; /* the section's name or the tag */
	const char *value; /* NULL for a section or a subsection */
	const char *file; /* where it was read, as named (never NULL) */
	unsigned line, col; /* of the tag (a section: of its '[') */
	unsigned vline, vcol; /* of the value (a subsection: of its '{') */
	bool final; /* `*` after the section's ']' or the subsection's '}' */
	struct pc_profile_node *parent; /* NULL for a section */
	struct pc_profile_node *first, *last; /* children, in file order */
	struct pc_profile_node *next; /* the next sibling */
};

struct pc_profile {
	struct pc_arena arena; /* every node and string */
	struct pc_profile_node *first, *last; /* the sections, in the order read */
	struct pc_profile_node *modules; /* `module` lines (name "module"), chained by next */
	const char *files[PC_PROFILE_MAX_FILES]; /* the files read, in order */
	size_t nfiles;
	size_t total; /* bytes read */
	struct pc_sha256 digest; /* of every file read, in order: its name, NUL, its text, NUL */
};

void pc_profile_init(struct pc_profile *p);
void pc_profile_finish(struct pc_profile *p);

/*
 * Reads the profile at `path`, named `label` in every location (the path as
 * the user wrote it; NULL: `path`).  Includes are opened relative to `path`
 * and named relative to `label`.  Returns PC_LOAD_OK, PC_LOAD_INVALID (the
 * file or an include has errors) or PC_LOAD_UNREADABLE (`path` itself
 * cannot be read; an include that cannot be read is an error of the line
 * naming it, so PC_LOAD_INVALID).  Nodes read before an error are kept.
 */
int pc_profile_load(
		struct pc_profile *p, const char *path, const char *label, struct pc_diags *diags);

/*
 * The same from memory: `include` and `includedir` lines are errors here
 * (nothing is read from the file system).  PC_LOAD_OK or PC_LOAD_INVALID.
 */
int pc_profile_load_mem(struct pc_profile *p, const char *label, const char *data, size_t len,
		struct pc_diags *diags);

/*
 * The nodes at `path` (a section name, then tags of subsections), in the
 * order read, across every section and subsection of those names (repeated
 * sections and subsections add to each other, as MIT's library merges them).
 * Stores up to `max` in `out` and returns how many there are.
 */
size_t pc_profile_find(const struct pc_profile *p, const char *const *path, size_t depth,
		const struct pc_profile_node **out, size_t max);

#endif
