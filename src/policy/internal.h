/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the policy files: the loader's state and the value readers. */
#ifndef PC_POLICY_INTERNAL_H
#define PC_POLICY_INTERNAL_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "policy/yaml.h"
#include "portcullis/listfile.h"
#include "portcullis/policy.h"
#include "util.h"

/*
 * Who vouches for what a file includes: whoever can write it.  That is its
 * owner, unless group or other users may write it (groups are not counted:
 * then every user) or it has no owner (a policy on standard input).
 */
enum author_kind {
	AUTHOR_OWNER,
	AUTHOR_WRITERS,
	AUTHOR_STDIN,
	AUTHOR_CALLER
};

struct author {
	enum author_kind kind;
	uid_t uid; /* the owner (AUTHOR_OWNER) */
	mode_t mode; /* the file's permissions (AUTHOR_WRITERS) */
};

/* An include as written, in the file that lists it, and what became of it. */
struct include_memo {
	uint32_t hash;
	char *path; /* joined to the including file's directory */
	struct author author;
	char *real; /* accepted: the file it names */
	const char *code; /* refused: the diagnostic, said again at each listing */
	char *msg, *hint;
};

/* A list file a network reads (`file:`): opened when the policy is loaded, read when resolved. */
struct list_src {
	const char *path; /* joined to the naming file's directory (arena): its label */
	struct pc_loc loc; /* of the `file:` value */
	int fd; /* opened and checked as an include is; -1: read through the reader, or failed */
	struct stat st; /* as opened */
	struct pc_buf text; /* read through the policy's reader (pc_policy_load_with) */
	bool through, failed, read, hashed;
	char sha256[65];
	size_t addresses;
	struct pc_listfile_line *kept; /* the lines its diagnostics are on */
	size_t nkept;
};

#define PC_LIST_MAX_FILES 64 /* list files a policy reads */

struct pc_policy_state {
	struct pc_arena arena;
	struct pc_ydoc **docs; /* every file read, for source lines */
	size_t ndocs;
	char **open; /* real paths of the files being read: include cycles */
	size_t nopen;
	char **seen; /* real paths of every file read: each is read once */
	size_t nseen;
	size_t bytes; /* read so far, the policy and its includes together */
	struct include_memo *memo; /* every include resolved, by how it was written */
	size_t nmemo;
	size_t listings; /* include listings met, the whole policy together */
	unsigned steps; /* path components walked for includes, together */
	bool io_error; /* the policy itself could not be read */
	pc_policy_reader *reader; /* pc_policy_load_with(): files read through it */
	void *reader_arg;
	struct list_src *lists; /* every list file named, in policy order */
	size_t nlists;
	void **blocks; /* large arrays kept on the heap rather than copied into the arena */
	size_t nblocks;
	const struct pc_loc **wheres; /* prefixes' locations in the policy: pc_prefix.where - 1 */
	size_t nwheres;
};

/* Arrays of at least this many bytes stay in blocks of their own (pc_policy_state.blocks). */
#define PC_POLICY_BLOCK_MIN (16u << 10)

struct loader {
	struct pc_policy *p;
	struct pc_ydoc *doc;
	struct pc_diags *diags;
	unsigned depth;
	struct author author; /* of the file read: its includes are read on that word */
};

/*
 * Gives back the whole pages of doc's text in [from, to), items of `run`
 * already read, before `at` on line `at_line` (pc_policy.release_texts;
 * pc_ydoc_give_back()): the first time, the text's digest is taken and a
 * wide document's lines indexed.  Returns the next call's `from`: `from`
 * when no page was given back, or when the text cannot be read again (not a
 * file of the policy read by its name).
 */
const char *pol_text_release(struct pc_ydoc *doc, const struct pc_yrun *run, const char *from,
		const char *to, const char *at, unsigned at_line);

struct pc_diag *pol_diag(struct loader *l, enum pc_severity sev, const char *code,
		const struct pc_ynode *n, const char *fmt, ...) PC_PRINTF(5, 6);
int pol_port_range(struct loader *l, const struct pc_ynode *n, uint16_t *lo, uint16_t *hi);
unsigned pol_protocols(struct loader *l, const struct pc_ynode *n, const char *what);
int pol_limit(struct loader *l, const struct pc_ynode *n, unsigned *rate, const char **unit);

/*
 * The findings about resolved rules (lint.c); the checks that need every
 * address resolved wait for `resolved`, so that an error is not said twice.
 */
/*
 * Reads list file `i` of the policy (once), each address to `add`, its
 * problems to `diags`.  Returns 0; -1 when it could not be read whole
 * (said).
 */
int pol_list_read(struct pc_policy *p, size_t i, pc_listfile_add *add, void *arg,
		struct pc_diags *diags);

/* The size in bytes of list file `i` as it was opened (0 when it was not). */
size_t pol_list_size(const struct pc_policy *p, size_t i);

void pol_lint(struct pc_policy *p, struct pc_diags *diags, bool resolved);

#endif
