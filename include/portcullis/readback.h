/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A table read back: what the kernel holds for one inet table (libnftnl +
 * libmnl), or what a transaction (portcullis/netlink.h) would make of it,
 * as one list of objects in a canonical text.  Both come from the same
 * libnftnl objects and the same printer, so what is loaded is compared with
 * what would be applied object by object: `show` prints the list, `diff`
 * compares two.
 *
 * The text of an object leaves out what changes from load to load or by
 * itself: handles, set ids, counter values, the names the kernel gives
 * anonymous sets (their elements are written into the rule that looks them
 * up).  Set elements are sorted; the elements of an interval set are
 * written as ranges "LO-HI".  A rule is its expressions as libnftnl prints
 * them, in order (and, to be read, in nft syntax: `nft`).
 *
 * Ownership: a struct pc_rb_table owns its objects and their strings, and
 * the elements it keeps packed; pc_rb_finish() releases them.
 */
#ifndef PORTCULLIS_READBACK_H
#define PORTCULLIS_READBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portcullis/netlink.h"

enum pc_rb_kind {
	PC_RB_TABLE,
	PC_RB_SET, /* a named set or map */
	PC_RB_ELEM, /* an element of the set `owner` */
	PC_RB_CHAIN,
	PC_RB_RULE, /* a rule of the chain `owner` */
};

struct pc_rb_obj {
	enum pc_rb_kind kind;
	char *owner; /* the table's, set's or chain's name; a rule's chain, an element's set
		      * (an element's is its set's string, not a copy of it) */
	char *text; /* canonical: compared and printed */
	char *comment; /* the comment its user data carries; NULL: none */
	char *sets; /* a rule: the named sets it looks up, each followed by a space */
	/*
	 * A rule in nft syntax (`tcp dport 3306 accept`), for people to read;
	 * NULL when it holds an expression this printer has no words for.
	 * Rules are compared by `text`: two rules may read alike here.
	 */
	char *nft;
};

/* The elements of named sets kept packed, not as objects (pc_rb_from_model_packed()). */
struct pc_rb_elems;

struct pc_rb_table {
	bool exists;
	struct pc_rb_obj *objs; /* table, then each set and its elements, then each chain and
				 * its rules, in the chain's order */
	size_t n, cap;
	uint32_t genid; /* read: the generation the dump was consistent with */
	unsigned attempts; /* read: dumps taken (more than one after a concurrent change) */
	struct pc_rb_elems *elems; /* NULL: every element is an object */
};

/*
 * Given each object in turn, in the order of the list, when the objects are
 * not kept (pc_rb_options.each): o and its strings are the caller's, to be
 * read during the call only.
 */
typedef void pc_rb_each_fn(void *arg, const struct pc_rb_obj *o);

struct pc_rb_options {
	unsigned retries; /* dumps taken again after a concurrent change, at most */
	/*
	 * NULL: the objects are kept in the table.  Else each is given to
	 * each(arg, ...) as it is made, after a consistent dump, and the table
	 * holds none (t->n is 0): a large set is printed without a copy of it.
	 */
	pc_rb_each_fn *each;
	void *arg;
	/*
	 * NULL, or a table that keeps its elements packed
	 * (pc_rb_from_model_packed()) to be compared with this one: the
	 * elements both tables have alike (same set, same text) become objects
	 * of neither, the others objects of each (those of `against` after its
	 * other objects), and `against` keeps none packed after the call.  A
	 * set of 200 000 addresses is compared without an object per address;
	 * a hash set's elements are looked up in its records as they are read,
	 * and only those not found there are kept of the kernel's.
	 */
	struct pc_rb_table *against;
};

/*
 * Reads table inet `name` from the kernel.  A dump that a concurrent change
 * interrupts (NLM_F_DUMP_INTR, a generation that moved, or a set that was
 * there a moment before gone) is taken again, at most o->retries times.  Returns 0 (t->exists false
 * when there is no such table), or -1 with *err the errno and *what what was being done.
 */
int pc_rb_read(const char *name, const struct pc_rb_options *o, struct pc_rb_table *t, int *err,
		const char **what);

/* What the transaction b would leave in the kernel for its table. */
void pc_rb_from_batch(const struct pc_nl_batch *b, struct pc_rb_table *t);
/*
 * The same for the transaction of model m (b: pc_nl_build() of m, with or
 * without sets_empty), the elements of its named sets taken from the
 * model's walk (pc_nl_set_elems()), not from b, and kept packed in t->elems.
 */
void pc_rb_from_model_packed(
		const struct pc_nft_table *m, const struct pc_nl_batch *b, struct pc_rb_table *t);
/* The elements t keeps packed made objects of t (after its others); none kept after. */
void pc_rb_unpack(struct pc_rb_table *t);

void pc_rb_finish(struct pc_rb_table *t);

/* "table", "set", "element", "chain", "rule". */
const char *pc_rb_kind_name(enum pc_rb_kind k);

#endif
