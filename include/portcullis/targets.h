/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The targets a policy is rendered to: nft text, nft JSON, iptables-restore
 * and ip6tables-restore input, an OpenBSD pf.conf anchor.  Every one prints
 * the nft model (portcullis/model.h), so every target says the same thing: the
 * same rules, in the same order, with the same comments.  What a target
 * cannot say is reported as a diagnostic, never dropped in silence.
 *
 * The targets are one table, pc_targets[], which `render`, its help, the
 * fuzz harness and the tests iterate: a new target is its printer in a file
 * of its own and one row there.  Rows and their strings are static.
 */
#ifndef PORTCULLIS_TARGETS_H
#define PORTCULLIS_TARGETS_H

#include <stdbool.h>
#include <stdio.h>

#include "portcullis/nft.h"

/* What a target can express (struct pc_target.caps). */
enum {
	PC_TARGET_F_SETS = 1u << 0, /* named sets and maps; without, rules are expanded */
	PC_TARGET_F_FORWARD = 1u << 1, /* a forward hook; without, forward rules are left out */
	PC_TARGET_F_JUMPS = 1u << 2, /* entered by jumps from built-in chains (--no-jump) */
};

/* What the printing of one target depends on, besides the model. */
struct pc_target_options {
	const char *version; /* of portcullis, named in the first header line */
	const char *policy; /* the policy's name */
	bool jumps; /* PC_TARGET_F_JUMPS: insert the jumps from the built-in chains */
};

/* Header lines a target writes about itself, at most. */
#define PC_TARGET_HEADER_MAX 4

struct pc_target {
	const char *name; /* the kind of file, unique: "nft", "iptables", "ip6tables" */
	const char *option; /* the --target value that selects it (rows may share one) */
	const char *suffix; /* the file name after TABLE, with --out-dir */
	int family; /* 4 or 6 when the file holds one family only; else 0 */
	unsigned caps; /* PC_TARGET_F_* */
	/*
	 * Whether `table` can name the table in this target (NULL: any name the
	 * model takes); if not, says why in `why`.
	 */
	bool (*table_ok)(const char *table, char *why, size_t size);
	/*
	 * Reports what the target cannot say about the model (NULL: nothing).
	 * Returns 0, or -1 after an error diagnostic: the target cannot be printed.
	 */
	int (*check)(const struct pc_nft_table *t, const struct pc_policy *p,
			struct pc_diags *diags);
	/*
	 * Stores the target's own header lines (at most PC_TARGET_HEADER_MAX,
	 * allocated, the caller frees them) and returns how many.
	 */
	size_t (*header)(const struct pc_nft_table *t, const struct pc_target_options *o,
			char **lines);
	/* Prints the model, `header` lines first, as comments. */
	void (*print)(const struct pc_nft_table *t, const struct pc_target_options *o,
			const char *const *header, size_t nheader, FILE *out);
};

/* Every target, in the order `render --target all` writes them. */
extern const struct pc_target pc_targets[];
extern const size_t pc_ntargets;

/* iptables chain names hold at most 28 characters: NAME-forward must fit. */
#define PC_IPT_CHAIN_MAX 28

/*
 * Checks that table `t` can be printed for iptables (family 4) or ip6tables
 * (family 6) and reports, as notes, what changes shape on the way: rules
 * expanded because iptables has no sets, rules that belong to the other
 * family's file.  Returns 0, or -1 with an error diagnostic.
 */
int pc_ipt_check(const struct pc_nft_table *t, const struct pc_policy *p, int family,
		struct pc_diags *diags);

/*
 * Prints iptables-restore (family 4) or ip6tables-restore (family 6) input:
 * the filter table's chains NAME-input, NAME-forward and NAME-output, made
 * empty and filled, for `iptables-restore --noflush`, so no foreign rule is
 * touched.  With `jumps`, the built-in chains INPUT, FORWARD and OUTPUT get
 * a jump to them at their head (once: a reload over a running ruleset leaves
 * them out).  Lines are printed as iptables-save prints them.
 */
void pc_ipt_print(const struct pc_nft_table *t, int family, bool jumps, const char *const *header,
		size_t nheader, FILE *out);

/*
 * Reports, as warnings, what pf cannot say: forward rules (pf filters a
 * forwarded packet as it enters and as it leaves an interface; there is no
 * forward hook) and a forward default.  Returns the number of warnings.
 */
size_t pc_pf_check(const struct pc_nft_table *t, const struct pc_policy *p, struct pc_diags *diags);

/*
 * Prints a pf.conf fragment for `pfctl -a NAME -f FILE`: macros for port
 * lists, const tables for networks, then the filter rules, each with
 * `quick` so the first match decides as in the policy, and the defaults
 * last.  Pass rules keep state when the policy accepts established
 * traffic (pf's state table does that work) and say `no state` otherwise.
 * Forward rules are left out with a comment saying so.
 */
void pc_pf_print(
		const struct pc_nft_table *t, const char *const *header, size_t nheader, FILE *out);

#endif
