/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The review targets that are not nftables: iptables-restore input and an
 * OpenBSD pf.conf anchor.  Both print the nft model (portcullis/nft.h), so
 * every target says the same thing: the same rules, in the same order, with
 * the same comments.  What a target cannot say is reported as a diagnostic,
 * never dropped in silence.
 */
#ifndef PORTCULLIS_TARGETS_H
#define PORTCULLIS_TARGETS_H

#include <stdbool.h>
#include <stdio.h>

#include "portcullis/nft.h"

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
void pc_ipt_print(const struct pc_nft_table *t, int family, bool jumps,
		const char *const *header, size_t nheader, FILE *out);

/*
 * Reports, as warnings, what pf cannot say: forward rules (pf filters a
 * forwarded packet as it enters and as it leaves an interface; there is no
 * forward hook) and a forward default.  Returns the number of warnings.
 */
size_t pc_pf_check(const struct pc_nft_table *t, const struct pc_policy *p,
		struct pc_diags *diags);

/*
 * Prints a pf.conf fragment for `pfctl -a NAME -f FILE`: macros for port
 * lists, const tables for networks, then the filter rules, each with
 * `quick` so the first match decides as in the policy, and the defaults
 * last.  Pass rules keep state when the policy accepts established
 * traffic (pf's state table does that work) and say `no state` otherwise.
 * Forward rules are left out with a comment saying so.
 */
void pc_pf_print(const struct pc_nft_table *t, const char *const *header, size_t nheader,
		FILE *out);

#endif
