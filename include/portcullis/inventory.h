/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the kernel holds around the table portcullis applies, read through
 * netlink dumps (libnftnl + libmnl): the tables of every family, which of
 * them portcullis manages (the comment marker) and what each recorded of its
 * policy, their chains, and for the base chains of other tables whether
 * they can drop a packet (their policy, or a drop, a reject or a verdict
 * map in their rules or in the chains they jump to).  It lists tables and
 * chains; it does not read a table back whole.
 *
 * Ownership: a struct pc_inventory owns every string and array in it;
 * pc_inventory_finish() releases them (and accepts one never read).
 */
#ifndef PORTCULLIS_INVENTORY_H
#define PORTCULLIS_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Why a chain can drop a packet (struct pc_inv_chain.drops). */
enum {
	PC_INV_DROP_POLICY = 1u << 0, /* a base chain whose policy is drop */
	PC_INV_DROP_RULE = 1u << 1, /* a rule whose verdict is drop */
	PC_INV_DROP_REJECT = 1u << 2, /* a rule that rejects */
	PC_INV_DROP_VMAP = 1u << 3, /* a verdict map, which may hold drop */
};

struct pc_inv_table {
	char *name;
	uint32_t family; /* NFPROTO_* */
	bool managed; /* its comment starts with PC_NL_MARKER */
	char *policy; /* the policy its comment names; NULL: none */
	bool stamped; /* it holds what apply records: sha256, time (path maybe) */
	uint8_t sha256[32];
	uint64_t time; /* seconds since 1970 */
	char *path; /* NULL: not recorded */
	bool dormant; /* flags dormant: its base chains are unhooked, it filters nothing */
	/* Managed tables, with PC_INV_F_COUNTS: what they hold. */
	size_t nchains, nrules, nsets, nelems;
};

struct pc_inv_chain {
	char *name;
	size_t table; /* index into the inventory's tables */
	bool base;
	uint32_t hook; /* NF_INET_* (base chains) */
	int32_t prio;
	bool policy_drop;
	char *type; /* "filter", "nat", "route"; NULL for a regular chain */
	/* Base chains of tables portcullis does not manage: PC_INV_DROP_*, its
	 * own rules' and those of every chain it jumps or goes to. */
	unsigned drops;
};

struct pc_inventory {
	struct pc_inv_table *tables; /* in the kernel's order */
	size_t ntables;
	struct pc_inv_chain *chains;
	size_t nchains;
};

/* Also count what managed tables hold (their rules, sets and elements): a dump of each. */
#define PC_INV_F_COUNTS (1u << 0)

/* How many times the inventory is read, at most, while the ruleset keeps changing. */
#define PC_INVENTORY_READS 9

/*
 * Reads the inventory, all of it from one generation of the ruleset.
 * Returns 0, or -1 with errno set (EPERM without CAP_NET_ADMIN; EINTR when
 * the ruleset changed during each of PC_INVENTORY_READS reads) and *what
 * saying what was being read; inv is then partial, and still the caller's
 * to finish.
 */
int pc_inventory_read(struct pc_inventory *inv, unsigned flags, const char **what);
void pc_inventory_finish(struct pc_inventory *inv);

/* "ip", "ip6", "inet", "arp", "bridge", "netdev", or "unknown". */
const char *pc_inventory_family(uint32_t family);
/* "input", "forward", "output", "prerouting", "postrouting", "ingress", "egress". */
const char *pc_inventory_hook(const struct pc_inventory *inv, const struct pc_inv_chain *c);
/*
 * Whether c is a base chain on a hook the inet tables portcullis makes
 * filter: input, forward or output, of family ip, ip6 or inet.  `hook`
 * (NF_INET_*) narrows it to that hook; -1 for any of the three.
 */
bool pc_inventory_on_hook(const struct pc_inventory *inv, const struct pc_inv_chain *c, int hook);

#endif
