/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The nftables model: the one description of the table portcullis owns,
 * lowered from a resolved policy (src/model/).  It holds the address sets,
 * a port set per rule and protocol, the base chains with their defaults and
 * their rules (typed matches with comments), and the packet path compiled
 * over them: verdict maps, jump chains and source-address maps (below).
 * The printers (portcullis/nft.h, iptables, pf) and the netlink transaction
 * (portcullis/netlink.h) all read it, so that what is reviewed is what is
 * applied.
 *
 * Ownership: a struct pc_nft_table owns its sets and rules and their
 * strings; pc_nft_table_finish() releases them.  It points into the policy
 * it was lowered from (set elements, locations), which must outlive it.
 */
#ifndef PORTCULLIS_MODEL_H
#define PORTCULLIS_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portcullis/policy.h"

#define PC_NFT_NAME_MAX 32 /* table, set and chain names: [A-Za-z][A-Za-z0-9_-]{0,31} */
#define PC_NFT_COMMENT_MAX 128 /* bytes, as the kernel keeps them */

enum pc_nft_set_type {
	PC_NFT_SET_IPV4,
	PC_NFT_SET_IPV6,
	PC_NFT_SET_SERVICE, /* inet_service: ports and port ranges */
};

struct pc_nft_port_range {
	uint16_t lo, hi;
};

struct pc_nft_set {
	char name[PC_NFT_NAME_MAX + 1];
	enum pc_nft_set_type type;
	const struct pc_prefix *prefixes; /* IPv4 / IPv6 sets */
	struct pc_nft_port_range *ports; /* service sets */
	size_t n;
	size_t size; /* declared: the elements it may hold */
	char comment[PC_NFT_COMMENT_MAX + 1];
	/*
	 * One port, range or prefix: written into the rule (`tcp dport 88`,
	 * `ip saddr 198.51.100.0/24`) and never declared.  Every set the
	 * kernel creates costs a walk of the table's sets, so a set per rule
	 * makes loading quadratic.
	 */
	bool literal;
	/*
	 * Whether the kernel gets an interval set (`flags interval`) or a plain
	 * hash set: an address set whose every prefix is one address (/32,
	 * /128) is a hash set, which loads 4-5x faster; any shorter prefix
	 * makes the whole set an interval set (see pc_model_set_interval).
	 * Port sets are interval sets.
	 */
	bool interval;
};

enum pc_nft_rule_kind {
	PC_NFT_POLICY_RULE, /* from a policy rule */
	PC_NFT_ESTABLISHED, /* ct state established,related accept */
	PC_NFT_INVALID, /* ct state invalid drop */
	PC_NFT_LOOPBACK, /* iif/oif "lo" accept */
	PC_NFT_ICMP_ESSENTIAL, /* ICMP errors, ICMPv6 errors and neighbour discovery */
	PC_NFT_ICMP_ECHO, /* echo requests, rate-limited */
	PC_NFT_ICMP_ALL, /* every ICMP and ICMPv6 */
	PC_NFT_ICMP_ND, /* ICMPv6 neighbour discovery, accepted or dropped (verdict) */
};

enum pc_nft_verdict {
	PC_NFT_ACCEPT,
	PC_NFT_DROP,
	PC_NFT_REJECT,
};

/*
 * What a policy rule matches and does but for its ports: everything that
 * decides a packet's fate or what the kernel does with it.  Two rules whose
 * matches are the same (pc_nft_match_same) may share a jump chain; a rule may
 * be a map element's verdict only when its match is a plain one.  Matches are
 * compared and hashed as whole objects, padding included: a new option is one
 * new field here, and is then part of every such decision.  The fields are
 * also members of struct pc_nft_rule itself (r->iifname).
 */
#define PC_NFT_MATCH_FIELDS                                                                        \
	const struct pc_nft_set *saddr, *daddr; /* NULL: any */                                    \
	const struct pc_ifaces *iifname, *oifname; /* NULL: any; the policy rule's */              \
	const char *limit_unit;                                                                    \
	size_t log; /* 0: none; else the policy rule + 1 its prefix names */                       \
	unsigned limit_rate; /* 0: none */                                                         \
	enum pc_proto proto;                                                                       \
	enum pc_nft_verdict verdict;                                                               \
	uint8_t family; /* 0: both, 4: ip, 6: ip6 */                                               \
	bool counter;

struct pc_nft_match {
	PC_NFT_MATCH_FIELDS
};

struct pc_nft_rule {
	enum pc_nft_rule_kind kind;
	union {
		struct pc_nft_match match; /* made by memset: padding is compared too */
		struct {
			PC_NFT_MATCH_FIELDS
		};
	};
	/* policy rules */
	const struct pc_nft_set *dport; /* with proto */
	size_t policy_rule; /* index into the policy's rules */
	char comment[PC_NFT_COMMENT_MAX + 1];
};

/* Whether two matches are the same in every field (and so in every byte). */
bool pc_nft_match_same(const struct pc_nft_match *a, const struct pc_nft_match *b);

/* Folds a match into a hash (FNV-1a over its bytes); start from 2166136261. */
uint32_t pc_nft_match_hash(const struct pc_nft_match *m, uint32_t h);

/*
 * The packet path.  A base chain does not walk its policy rules one by one:
 * after the defaults, one rule per protocol looks the destination port up in
 * a verdict map (`tcp dport vmap @input_tcp`), so the rules a packet walks do
 * not grow with the policy.  The map's keys are the elementary port ranges of
 * the chain's rules (no two overlap); each either carries the verdict of the
 * one rule that covers it, when that rule's match is plain (its protocol and
 * an accept or drop, nothing else), or jumps to a chain holding, in policy
 * order, the rules that cover it, so the first match still decides.  A range
 * decided by one policy rule carries that rule's comment.  Policy rules whose
 * matches are the same (they differ only in their ports) share one jump
 * chain: each chain the kernel creates costs more than a map element.
 */
struct pc_nft_segment {
	uint16_t lo, hi;
	const struct pc_nft_rule *rule; /* the one policy rule deciding here; NULL: several */
	bool direct; /* the element carries rule's verdict */
	size_t sub; /* else the index into t->subs it jumps to */
};

struct pc_nft_map {
	char name[PC_NFT_NAME_MAX + 1]; /* "input_tcp"; empty: none */
	struct pc_nft_segment *segs;
	size_t n, size;
};

/* One element of a source-address verdict map: an address range and the rule deciding it. */
struct pc_nft_addr_elem {
	uint8_t family; /* 4: lo and hi use their first 4 bytes */
	uint8_t lo[16], hi[16]; /* big-endian, inclusive */
	const struct pc_nft_rule *rule;
};

/*
 * A jump chain whose rules (at least PC_NFT_ADDR_MAP_MIN) each match only
 * source networks (or everything), with accept or drop, is looked up instead
 * of walked: a verdict map per family (`ip saddr vmap @input_tcp_88_v4`)
 * whose elements are the address ranges each rule decides first, so an
 * address meets the rule the policy puts first, as in the chain.
 */
#define PC_NFT_ADDR_MAP_MIN 4

struct pc_nft_addr_map {
	char name[PC_NFT_NAME_MAX + 1]; /* "<chain>_v4"; empty: none */
	struct pc_nft_addr_elem *elems; /* sorted by address */
	size_t n, size;
};

struct pc_nft_subchain {
	char name[PC_NFT_NAME_MAX + 1]; /* "r3_tcp", or "input_tcp_88" for several rules */
	int base; /* index into t->chains */
	size_t *rules; /* indices into the base chain's rules */
	size_t n;
	size_t *users; /* the policy rules it serves, ascending */
	size_t nusers, usercap;
	bool shared; /* by policy rules alike but for their ports */
	char comment[PC_NFT_COMMENT_MAX + 1]; /* of its rules, when shared */
	struct pc_nft_addr_map by_saddr[2]; /* IPv4, IPv6: the rules as maps, see above */
	bool mapped; /* by_saddr replaces the rules */
};

/* The hooks of the base chains, in the order the table holds and prints them. */
enum pc_nft_hook {
	PC_NFT_HOOK_INPUT,
	PC_NFT_HOOK_FORWARD,
	PC_NFT_HOOK_OUTPUT,
	PC_NFT_HOOK_COUNT,
};

/* "input", "forward", "output": the name of the hook and of its base chain. */
const char *pc_nft_hook_name(enum pc_nft_hook hook);

/* The hook that filters the packets of a policy direction. */
enum pc_nft_hook pc_nft_hook_of(enum pc_direction dir);

/* An ICMP or ICMPv6 type: its number, and its name in nft and in pf. */
struct pc_nft_icmp_type {
	uint8_t type;
	const char *nft, *pf;
};

#define PC_NFT_ICMP_ESSENTIAL_MAX 8 /* the most types pc_nft_icmp_essential() returns */

/*
 * The types the essential ICMP defaults accept (PC_NFT_ICMP_ESSENTIAL) for
 * family 4 (ICMP errors) or 6 (ICMPv6 errors and neighbour discovery), in
 * the order every output lists them; *n is set to their number.
 */
const struct pc_nft_icmp_type *pc_nft_icmp_essential(int family, size_t *n);

/*
 * The types a rule of `kind` (PC_NFT_ICMP_ESSENTIAL or PC_NFT_ICMP_ND)
 * matches in `family`: for PC_NFT_ICMP_ND the neighbour discovery of RFC 4861
 * (router and neighbour solicitations and advertisements) in IPv6, none
 * (*n = 0) in IPv4, where ARP is not filtered by an inet table.
 */
const struct pc_nft_icmp_type *pc_nft_icmp_types(enum pc_nft_rule_kind kind, int family, size_t *n);

/*
 * The echo request of family 4 or 6: what PC_NFT_ICMP_ECHO accepts, at most
 * PC_NFT_ICMP_ECHO_PER_SECOND packets a second per chain and family.
 */
const struct pc_nft_icmp_type *pc_nft_icmp_echo(int family);
#define PC_NFT_ICMP_ECHO_PER_SECOND 5

struct pc_nft_chain {
	enum pc_nft_hook hook; /* named by pc_nft_hook_name() */
	enum pc_verdict policy;
	struct pc_nft_rule *rules; /* the defaults, then the policy rules in order */
	size_t n, cap;
	struct pc_nft_map maps[PC_PROTO_COUNT];
	/*
	 * The protocols whose map would cost more than its budget (the rules
	 * covering each port segment, summed, past PC_NFT_MAP_BUDGET): no map;
	 * their policy rules are written in this chain in policy order, one
	 * rule per port range with the port match in it
	 * (`tcp dport 1-30000 ip saddr 10.0.0.1 accept`), so what is written
	 * stays linear in the policy whatever the ranges' overlaps.
	 */
	bool inline_rules[PC_PROTO_COUNT];
};

/*
 * The budget of one verdict map: the rules the jump chains of its segments
 * hold, summed, may be at most PC_NFT_MAP_BUDGET_PER_RULE times the map's
 * rules plus PC_NFT_MAP_BUDGET_BASE.
 */
#define PC_NFT_MAP_BUDGET_PER_RULE 8
#define PC_NFT_MAP_BUDGET_BASE 256

/*
 * The rules of chain c written in place of protocol p's map (inline_rules[p]),
 * one per port range, in policy order: from *i = *q = 0, each call gives the
 * next rule and range; false after the last (or when p has its map).
 */
bool pc_nft_inline_next(const struct pc_nft_chain *c, enum pc_proto p, size_t *i, size_t *q,
		const struct pc_nft_rule **r, const struct pc_nft_port_range **port);

struct pc_nft_table {
	char name[PC_NFT_NAME_MAX + 1];
	char comment[PC_NFT_COMMENT_MAX + 1];
	struct pc_nft_set *sets;
	size_t nsets, setcap;
	uint32_t *set_index; /* open addressing on set names: index + 1, 0 empty */
	size_t set_index_cap; /* a power of two, at least twice nsets */
	struct pc_nft_chain chains[PC_NFT_HOOK_COUNT];
	struct pc_nft_subchain *subs;
	size_t nsubs, subcap;
};

/* Whether `name` can name a table, set or chain: [A-Za-z][A-Za-z0-9_-]{0,31}. */
bool pc_nft_name_ok(const char *name);

/*
 * Lowers a resolved policy into the model of table `name` (inet family).
 * Returns 0, or -1 with a diagnostic when something cannot be expressed.
 */
int pc_nft_lower(const struct pc_policy *p, const char *name, struct pc_nft_table *t,
		struct pc_diags *diags);
void pc_nft_table_finish(struct pc_nft_table *t);

/*
 * Writes a comment string safe in nft text and netlink alike: no quote, no
 * backslash, no control character (each becomes a space or a slash), valid
 * UTF-8 only, at most PC_NFT_COMMENT_MAX bytes, cut on a character boundary
 * with "..." when longer.
 */
void pc_nft_comment(char out[PC_NFT_COMMENT_MAX + 1], const char *in);

/*
 * Whether a set of these n prefixes needs an interval set: true when one
 * of them is shorter than its family's full length (or n is 0), false
 * when all are single addresses, which a hash set holds.
 */
bool pc_model_set_interval(const struct pc_prefix *v, size_t n);

/* Whether an element's range is one prefix (then *x is it), or needs "LO-HI". */
bool pc_nft_addr_elem_prefix(const struct pc_nft_addr_elem *e, struct pc_prefix *x);

/* The last address of a prefix (host bits set), in the prefix's first 4 or 16 bytes. */
void pc_nft_prefix_last(const struct pc_prefix *x, uint8_t last[16]);

/* The first and last address of an element's range as text. */
void pc_nft_addr_elem_ends(const struct pc_nft_addr_elem *e, char lo[PC_ADDR_TEXT_MAX],
		char hi[PC_ADDR_TEXT_MAX]);

#endif
