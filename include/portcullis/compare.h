/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Two resolved policies compared by what they do to packets: the regions of
 * (direction, protocol, destination port, family, source, destination,
 * interface) where the evaluator (pc_policy_evaluate()) gives the two
 * different answers, merged into as few regions as it can.
 *
 * Ownership: a struct pc_compare owns its regions and interface classes
 * (released by pc_compare_finish()); they point into both policies (rule
 * indexes, service names, interface names), which must outlive it.
 */
#ifndef PORTCULLIS_COMPARE_H
#define PORTCULLIS_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portcullis/policy.h"

/* What one policy does with the packets of a region beyond the rate of every `limit:`. */
struct pc_compare_beyond {
	enum pc_verdict verdict;
	bool reject;
	enum pc_unusable unusable;
	bool by_rule, by_loopback;
	size_t rule, match;
};

/* What one policy does with the packets of a region. */
struct pc_compare_side {
	enum pc_verdict verdict;
	bool reject; /* dropped by a reject rule, which answers */
	enum pc_unusable unusable; /* as explain's "accept, but unusable" */
	bool by_rule; /* else the default, or loopback when by_loopback */
	bool by_loopback;
	size_t rule; /* index into the policy's rules when by_rule */
	size_t match; /* index into that rule's matches */
	/*
	 * The deciding rule has a `limit:` of limit_rate per limit_unit: what
	 * comes beyond that rate goes on to later rules and the default.  `over`
	 * is what the policy does with a packet beyond the rate of every rule
	 * with a limit (the evaluator with pc_packet.over_limit); without a
	 * limit, the same as the fields above.
	 */
	bool limited;
	unsigned limit_rate;
	const char *limit_unit;
	struct pc_compare_beyond over;
};

/* Addresses as 128-bit numbers: an IPv4 address in the low 32 bits. */
__extension__ typedef unsigned __int128 pc_addr128;

/*
 * A class of interfaces both policies treat alike in one direction: a name
 * they write (`name`), the names a wildcard covers that no longer wildcard
 * or name of theirs does (`name` is the wildcard, `others` true), or every
 * other interface (`name` NULL).  `sample` is an interface of the class.
 */
struct pc_compare_iface {
	enum pc_direction direction;
	const char *name;
	bool others;
	char sample[16];
	/*
	 * With `others`, the names and wildcards written in this direction
	 * that the class leaves out (within the wildcard `name`, or all of
	 * them), sorted.
	 */
	const char **except;
	size_t nexcept;
};

/* Addresses lo..hi of a family, inclusive. */
struct pc_compare_span {
	pc_addr128 lo, hi;
};

struct pc_compare_region {
	enum pc_direction direction;
	enum pc_proto proto;
	uint8_t family; /* 4 or 6; 0: both, every address on both sides */
	uint16_t lo, hi; /* destination ports */
	pc_addr128 src_lo, src_hi, dst_lo, dst_hi; /* inclusive, within the family */
	/*
	 * The sources when they are several spans (src_lo..src_hi then spans
	 * from the first one's start to the last one's end); NULL: one span.
	 */
	struct pc_compare_span *srcs;
	size_t nsrcs;
	struct pc_compare_span *dsts; /* the same for the destinations */
	size_t ndsts;
	size_t *ifaces; /* indexes into pc_compare.ifaces; NULL: every interface */
	size_t nifaces;
	const char *service; /* the name the deciding rule used for these ports, or NULL */
	struct pc_compare_side old, new;
};

struct pc_compare {
	struct pc_compare_region *regions; /* in a canonical order */
	size_t nregions;
	struct pc_compare_iface *ifaces;
	size_t nifaces;
	/* The classes of each direction (PC_DIR_*): nclasses[d] of them from
	 * ifaces[class_first[d]]. */
	size_t class_first[3], nclasses[3];
	size_t cells; /* packets evaluated (each with both policies), for measuring */
};

/*
 * Compares `old` with `new`: every region where the outcome (verdict, a
 * reject, and whether an accepted packet is of use, within the rate of a
 * `limit:` and beyond it) differs.  Returns 0.
 */
int pc_compare_policies(
		const struct pc_policy *old, const struct pc_policy *new, struct pc_compare *out);

/*
 * The order the sweep cuts packets in, per direction, protocol and family:
 * runs of ports, then in each the spans of sources of the rules there; or
 * spans of sources (or of destinations), then in each the runs of ports of
 * the rules there.  AUTO (the default) counts what each would cost and takes
 * an address first only where that is far cheaper (rules on overlapping
 * ranges of ports, each from or to its own hosts, with every packet open to
 * change: a default changed, or a changed rule that takes every address).
 * The others are for tests: every order finds the same packets changed.
 */
enum pc_compare_order {
	PC_COMPARE_ORDER_PORTS,
	PC_COMPARE_ORDER_SOURCES,
	PC_COMPARE_ORDER_DESTINATIONS,
	PC_COMPARE_ORDER_AUTO,
};

/* pc_compare_policies() with the sweep in `order` (pc_compare_policies(): AUTO). */
int pc_compare_policies_in(const struct pc_policy *old, const struct pc_policy *new,
		enum pc_compare_order order, struct pc_compare *out);
void pc_compare_finish(struct pc_compare *c);

/*
 * The class of interface `name` in direction `dir`: an index into c->ifaces,
 * or SIZE_MAX when c has none for it.
 */
size_t pc_compare_iface_class(const struct pc_compare *c, enum pc_direction dir, const char *name);

/*
 * Whether the side accepts packets that are of use (what "opens" means):
 * within the rate of its limit, or with `beyond`, beyond it.
 */
bool pc_compare_side_open(const struct pc_compare_side *s, bool beyond);

/*
 * Whether two sides give the same outcome (the deciding rules aside):
 * within the rate and beyond it, and the same rate where those differ.
 */
bool pc_compare_side_same(const struct pc_compare_side *a, const struct pc_compare_side *b);

/* What policy p does with `pkt` (an address given on both sides) as a side. */
void pc_compare_packet(const struct pc_policy *p, const struct pc_packet *pkt,
		struct pc_compare_side *out);

/* The greatest address of a family: 2^32-1 or 2^128-1. */
pc_addr128 pc_addr128_max(int family);
/* An address's bytes (4 or 16, network order) as a number, and back. */
pc_addr128 pc_addr128_from(int family, const uint8_t *bytes);
void pc_addr128_bytes(int family, pc_addr128 a, uint8_t *bytes);

/*
 * The fewest prefixes that cover [lo, hi] exactly, into `out` (room for
 * 256); returns how many.
 */
size_t pc_addr128_prefixes(int family, pc_addr128 lo, pc_addr128 hi, struct pc_prefix *out);

/*
 * What changed in the text of the policy and moved no verdict: rules
 * added, removed, changed (one in place of another, between the same rules
 * that kept their place), moved, and whose comment changed (compared by what they
 * resolve to, their comments aside), networks added, removed, renamed (the
 * same addresses under another name), changed and rewritten, defaults
 * changed.  Addresses are compared by what they cover, however written.
 */
struct pc_compare_text {
	size_t *added; /* indexes into new's rules */
	size_t nadded;
	size_t *removed; /* into old's rules */
	size_t nremoved;
	size_t (*changed)[2]; /* old's rule, new's rule */
	size_t nchanged;
	size_t *moved; /* into new's rules */
	size_t nmoved;
	size_t *comments; /* into new's rules */
	size_t ncomments;
	size_t *net_added, *net_removed, *net_changed; /* into new, old, new's networks */
	size_t nnet_added, nnet_removed, nnet_changed;
	/* into new's networks: written otherwise, the same addresses (a /24 as two /25) */
	size_t *net_rewritten;
	size_t nnet_rewritten;
	size_t (*net_renamed)[2]; /* old's network, new's network */
	size_t nnet_renamed;
	bool defaults; /* a default (or established, loopback, icmp, nd) changed */
};

void pc_compare_text(const struct pc_policy *old, const struct pc_policy *new,
		struct pc_compare_text *out);
void pc_compare_text_finish(struct pc_compare_text *t);

#endif
