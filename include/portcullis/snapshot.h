/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A table saved as the kernel holds it (read back through netlink, not a
 * file that may be stale), kept as libnftnl objects so that it can be sent
 * again as one transaction: the table, its sets and their elements, its
 * chains, and each chain's rules in order, with what the kernel assigns on
 * creation (handles, use counts, owner) left out.
 *
 * Ownership: a struct pc_snap owns its objects; pc_snap_finish() releases
 * them.
 */
#ifndef PORTCULLIS_SNAPSHOT_H
#define PORTCULLIS_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portcullis/netlink.h"

struct nftnl_table;
struct nftnl_set;
struct nftnl_chain;
struct nftnl_rule;

struct pc_snap {
	char *name; /* the table's */
	bool exists; /* false: there was no table of that name */
	struct nftnl_table *table;
	struct nftnl_set **sets; /* each set, as declared */
	size_t nsets;
	struct nftnl_set **elems; /* elements, one object per dumped message */
	size_t nelems;
	struct nftnl_chain **chains;
	size_t nchains;
	struct nftnl_rule **rules; /* in the order of the dump: each chain's, in order */
	size_t nrules;
	uint32_t genid; /* the generation the dump was consistent with */
};

/*
 * Saves table inet `name` from the kernel; a dump a concurrent change
 * interrupts is taken again, at most `retries` times.  Returns 0 (s->exists
 * false when there is no such table), or -1 with *err the errno and *what
 * what was being done.
 */
int pc_snap_read(
		const char *name, unsigned retries, struct pc_snap *s, int *err, const char **what);

/*
 * Builds the transaction that puts the saved table back: the table of that
 * name as it is now deleted (declared first, so that there is one to
 * delete), then, when there was a table, every saved object created again.
 * Only that table is named.  Suits pc_nl_apply_options.build.
 */
void pc_snap_build(void *snap, const struct pc_nl_options *o, struct pc_nl_batch *b);

void pc_snap_finish(struct pc_snap *s);

#endif
