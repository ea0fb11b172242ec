/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the policy files: the loader's state and the value readers. */
#ifndef PC_POLICY_INTERNAL_H
#define PC_POLICY_INTERNAL_H

#include <stdbool.h>
#include <sys/types.h>

#include "policy/yaml.h"
#include "portcullis/policy.h"
#include "util.h"

struct pc_policy_state {
	struct pc_arena arena;
	struct pc_ydoc **docs;	/* every file read, for source lines */
	size_t ndocs;
	char **open;		/* real paths of the files being read: include cycles */
	size_t nopen;
	char **seen;		/* real paths of every file read: each is read once */
	size_t nseen;
	size_t bytes;		/* read so far, the policy and its includes together */
	bool io_error;		/* the policy itself could not be read */
};

struct loader {
	struct pc_policy *p;
	struct pc_ydoc *doc;
	struct pc_diags *diags;
	unsigned depth;
	uid_t owner;		/* of the file read: its includes are read on that user's word */
};

struct pc_diag *pol_diag(struct loader *l, enum pc_severity sev, const char *code,
		const struct pc_ynode *n, const char *fmt, ...) PC_PRINTF(5, 6);
int pol_port_range(struct loader *l, const struct pc_ynode *n, uint16_t *lo, uint16_t *hi);
unsigned pol_protocols(struct loader *l, const struct pc_ynode *n, const char *what);
int pol_limit(struct loader *l, const struct pc_ynode *n, unsigned *rate, const char **unit);

#endif
