/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Delta apply: what the last apply installed, kept in a compact form (a
 * file of the state directory), and the transaction that takes the live
 * table from it to a new policy's table without replacing it.  Both are
 * read off the transaction that would replace the table (pc_nl_build()),
 * its sets' elements off the model by the walk that batch writes them from
 * (pc_nl_set_elems()), never built into messages and read back, so every
 * object is compared as the kernel would be sent it, and whatever kind of
 * set the batch makes, a delta makes the same.  What a full replace
 * installed is read off the batch it sent, elements too (pc_dl_from_batch():
 * the model's prefixes were given back as that batch was written), which
 * gives the same state.
 *
 * The delta, one generation-guarded transaction:
 *   - chains that are new are created (NLM_F_EXCL), base chains whose
 *     policy changed are updated in place;
 *   - a chain whose rules changed (or that looks up a set that must be made
 *     again) has its rules flushed and created again; every other chain
 *     keeps its rules, and so their counters and limits;
 *   - sets that are gone, or whose declaration changed, are deleted; new
 *     ones are created with their elements (NLM_F_EXCL);
 *   - in the sets kept, the elements that went are deleted (the kernel
 *     refuses, ENOENT, to delete one it does not hold) and those that came
 *     are added with NLM_F_EXCL (refused, EEXIST or an overlap, when it
 *     holds them already): a table that drifted makes the kernel refuse;
 *   - chains that are gone are deleted last.
 * The table's comment and what apply records in it cannot be changed in
 * place (Linux keeps a table's user data from its creation): the state
 * file names the stamp the live table carries and the policy applied since.
 *
 * Ownership: a struct pc_dl_state owns its arrays and bytes
 * (pc_dl_state_finish()); one made from a batch points into it (message
 * offsets), which must outlive any delta built from it.  A struct
 * pc_dl_plan points into both states.
 */
#ifndef PORTCULLIS_DELTA_H
#define PORTCULLIS_DELTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portcullis/model.h"
#include "portcullis/netlink.h"

/*
 * The version of what the batch writes, as the state file records it: a
 * state file of another model version is not used.  Raise it whenever
 * batch.c writes an object differently.
 */
#define PC_DL_MODEL_VERSION 1
/* The largest state file read (bytes). */
#define PC_DL_FILE_MAX (1u << 30)

struct pc_dl_span {
	uint32_t off, len; /* into the state's bytes */
};

struct pc_dl_set {
	char name[PC_NFT_NAME_MAX + 1];
	struct pc_dl_span decl; /* its NEWSET attributes but its id */
	struct pc_dl_span *elems; /* each element's attributes (inside NFTA_LIST_ELEM) */
	size_t n, cap;
	/*
	 * While every element is a key alone or an interval's end (an address
	 * set), elems is NULL and each is a record here instead: START (1) or
	 * END (2), then the key in klen bytes, as the state file writes it.
	 */
	uint8_t *recs;
	/*
	 * Or, in a state made from the model, a set of keys alone: each key read
	 * where the model keeps it (klen bytes at keys + i * kstride), every
	 * element a START record that is never made (the model outlives the
	 * state); recs is then NULL, and cap is n (one more element makes them
	 * records).
	 */
	const uint8_t *keys;
	size_t kstride;
	uint32_t klen;
	bool mapped; /* recs point into the state's mapping of its file (read-only), not owned */
	size_t msg_off; /* from a batch: the message that declares it */
};

struct pc_dl_chain {
	char name[PC_NFT_NAME_MAX + 1];
	struct pc_dl_span decl; /* its NEWCHAIN attributes */
	uint8_t rules[32]; /* SHA-256 of its rules (and their anonymous sets), ids left out */
	uint32_t nrules;
	int32_t policy; /* of a base chain (NF_ACCEPT, NF_DROP); -1: none */
	struct pc_dl_span refs; /* the named sets its rules look up, each NUL-terminated */
	uint64_t *handles; /* the kernel's handles of its rules, in order (pc_dl_read_handles) */
	size_t nhandles;
	size_t *msgs; /* from a batch: offsets of the messages making its rules */
	size_t nmsgs, msgcap;
};

struct pc_dl_state {
	char table[PC_NFT_NAME_MAX + 1];
	char comment[PC_NFT_COMMENT_MAX + 1]; /* the table's: kept from its creation */
	uint8_t table_sha256[32]; /* the stamp the live table carries (its last replace) */
	uint64_t table_time;
	uint8_t policy_sha256[32]; /* the policy installed since (by a replace or deltas) */
	char *policy_path; /* its absolute path; NULL: none (standard input); owned */
	uint64_t policy_time; /* when it was applied */
	uint32_t genid; /* the generation after the last apply */
	struct pc_dl_set *sets;
	size_t nsets, setcap;
	struct pc_dl_chain *chains;
	size_t nchains, chaincap;
	uint8_t *bytes;
	size_t len, cap;
	const struct pc_nl_batch *batch; /* made from it; NULL when read from a file */
	void *map; /* read from a file: the file mapped, where sets' records are (mapped) */
	size_t maplen;
};

void pc_dl_state_init(struct pc_dl_state *s);
void pc_dl_state_finish(struct pc_dl_state *s);

/*
 * Reads the objects of the transaction that replaces table `table` with
 * model t: the declarations, chains and rules off b (pc_nl_build() of t,
 * with or without sets_empty), the elements of named sets off the model by
 * the walk the batch writes them from (pc_nl_set_elems()), never from b.
 */
void pc_dl_from_model(const struct pc_nft_table *t, const struct pc_nl_batch *b, const char *table,
		struct pc_dl_state *s);
/*
 * The same state read off a batch that holds the elements (pc_nl_build()
 * without sets_empty), its named sets' elements too: for a model whose
 * prefixes were given back as the batch was built
 * (pc_nl_options.release_prefixes).
 */
void pc_dl_from_batch(const struct pc_nl_batch *b, const char *table, struct pc_dl_state *s);
/*
 * pc_dl_from_batch() of a batch read for the last time (apply, after the
 * commit): the pages of its named sets' element messages are given back
 * as they are read, so the batch and the records made of it are not both
 * held whole.  After it, b's messages are for their counts and pc_nl_msg
 * entries only (the elements' bytes read as zeros), and s->batch is NULL.
 */
void pc_dl_from_sent_batch(struct pc_nl_batch *b, const char *table, struct pc_dl_state *s);

/*
 * Writes s to `path` whole (a new file of mode 0600, synced, renamed over
 * it): a header (format, model version, program version, table), the
 * objects, a checksum.  Returns 0, or -1 with errno set.
 */
int pc_dl_write(const struct pc_dl_state *s, const char *path, const char *version);

/*
 * Reads a state file written by pc_dl_write() for `table` by program
 * `version`.  A file that is a symbolic link, not a regular file, owned by
 * another user than the effective one, readable or writable by others,
 * truncated, of another format, model version, program version or table,
 * or whose checksum does not match is refused.  Returns 0, 1 when there is
 * none, -1 with a reason in why.  A large file is mapped (it is only ever
 * replaced by a rename, never written in place), and the records of a set
 * that holds nothing else are used where they lie in it.
 */
int pc_dl_read(const char *path, const char *table, const char *version, struct pc_dl_state *s,
		char *why, size_t size);

/* What a delta sends. */
struct pc_dl_plan {
	const struct pc_dl_state *old, *new;
	uint8_t *set_new; /* per new set: 0 kept, 1 created, 2 made again */
	uint8_t *set_old; /* per old set: 0 kept, 1 deleted */
	size_t *set_match; /* per new set kept: the old set's index */
	uint8_t *chain_new; /* per new chain: 0 kept, 1 created, 2 rules rebuilt, bit 4: policy */
	uint8_t *chain_old; /* per old chain: 0 kept, 1 deleted */
	size_t *chain_match; /* per new chain: the old one's index, or (size_t)-1 */
	size_t *adds, *dels; /* element indices per kept set, see add_at, del_at */
	size_t *add_at, *del_at; /* per new set: its first in adds, its old set's in dels; +1 end */
	/* counts */
	size_t elems_added, elems_deleted, sets_created, sets_deleted, chains_created,
			chains_deleted, chains_rebuilt, policies_changed, rules_sent;
};

/*
 * Compares the state installed (old, read from the file) with the new
 * one (from the batch): fills p.  Returns the number of objects the delta
 * changes (0: nothing to send but the end of the transaction).
 */
size_t pc_dl_plan(
		const struct pc_dl_state *old, const struct pc_dl_state *new, struct pc_dl_plan *p);
/* The number of objects a plan changes (elements, sets, chains, policies). */
size_t pc_dl_plan_size(const struct pc_dl_plan *p);
void pc_dl_plan_finish(struct pc_dl_plan *p);

/* Builds the delta of a plan; suits pc_nl_apply_options.build (arg: the plan). */
void pc_dl_build(void *plan, const struct pc_nl_options *o, struct pc_nl_batch *b);

/*
 * Reads the handles the kernel gave the rules of table s->table into s,
 * once committed as generation `genid`: 0, or -1 when the ruleset is no
 * longer at that generation (another program changed it since) or cannot be
 * read (errno).  A record without them is not written: a rule deleted and
 * added again by hand has the same place and a new handle.
 */
int pc_dl_read_handles(struct pc_dl_state *s, uint32_t genid);

/*
 * Whether the live table inet s->table is the one s describes, without
 * reading its elements: it exists, its stamp is s's, and, unless the
 * generation is still s->genid (nothing changed anywhere since), its
 * chains (names, policies, the handles of their rules in order), its set names and each set's
 * elements (key and interval end) are s's: a table changed by hand is
 * replaced whole.  What this does not see (an element's verdict or comment
 * changed, a rule replaced by another) the kernel refuses where the delta
 * touches it: it deletes only elements that must be there and adds with
 * NLM_F_EXCL.  *genid_now gets the generation read.  Returns 1 yes, 0 no
 * (why says what differs), 2 when there is no such table, -1 when it
 * cannot be read (errno; why says what).
 */
int pc_dl_live_matches(const struct pc_dl_state *s, uint32_t *genid_now, char *why, size_t size);

#endif
