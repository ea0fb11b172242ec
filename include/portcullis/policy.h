/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Policies: YAML files that name services and the networks allowed to reach
 * them (docs/policy.md), read into a located form and resolved against the
 * registry.
 *
 * Ownership: a struct pc_policy owns everything it points to (one arena,
 * released by pc_policy_finish()).  Strings and locations stay valid until
 * then.  Functions returning int return 0, or -1 when `diags` holds errors;
 * they never stop at the first problem.
 */
#ifndef PORTCULLIS_POLICY_H
#define PORTCULLIS_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "portcullis/diag.h"
#include "portcullis/registry.h"

struct pc_loc {
	const char *file;
	unsigned line, col;
};

/*
 * An address prefix; `bytes` holds 4 (IPv4) or 16 (IPv6) bytes, host bits
 * zero.  `loc` points at where the policy writes it (the location of its
 * struct pc_peer, owned by the policy), NULL for a prefix made otherwise:
 * a network of many addresses holds one of these per address.
 */
struct pc_prefix {
	uint8_t family; /* 4 or 6 */
	uint8_t len;
	uint8_t bytes[16];
	/*
	 * Where it is written, in 6 bytes rather than a pointer (a large
	 * network holds one prefix an address): 0 for nowhere; with
	 * PC_WHERE_LINE, a file's index (bits 24-30: a list file's below
	 * PC_WHERE_DOCS, past it a policy file's) and its line (bits 0-23),
	 * and `col`; or, `col` 0, a policy file's index and the byte offset
	 * (bits 0-23) of a value whose column `col` cannot hold (a long list on
	 * one line); else the index + 1 of a location the policy keeps.
	 * pc_policy_prefix_loc() gives it back.
	 */
	uint16_t col;
	uint32_t where;
};

#define PC_WHERE_LINE 0x80000000u
#define PC_WHERE_FILE_SHIFT 24
#define PC_WHERE_LINE_MASK 0x00ffffffu
#define PC_WHERE_DOCS 64u /* the first file index of a policy file */
_Static_assert(sizeof(struct pc_prefix) == 24, "a prefix is held once an address: keep it small");

/* Text of an address: fits the longest IPv6 form (INET6_ADDRSTRLEN). */
#define PC_ADDR_TEXT_MAX 46

/*
 * Writes the prefix's address as text; returns whether the prefix is a whole
 * host (/32, /128), which the renderers and explain write without a length.
 */
bool pc_prefix_addr(char buf[PC_ADDR_TEXT_MAX], const struct pc_prefix *x);

/* The prefix as "ADDR" for a whole host, else "ADDR/LEN". */
void pc_prefix_text(char buf[PC_ADDR_TEXT_MAX + 4], const struct pc_prefix *x);

/* A source or destination: a network name or an address literal. */
struct pc_peer {
	const char *text;
	struct pc_loc loc;
};

/*
 * Peers resolved: prefixes per family, sorted and merged; `any` when they
 * cover everything.  The arrays are read-only and may be shared: a rule that
 * names one network points at the network's own arrays, and rules writing the
 * same list of peers (with a network among them) point at one union.  The
 * policy's arena owns them all.
 */
struct pc_addrset {
	struct pc_prefix *v4, *v6;
	size_t nv4, nv6;
	bool any;
};

/*
 * The first prefix of `set` of the family (4 or 6) that holds `addr` (4 or
 * 16 bytes), or NULL; its location says where the policy, or a list file,
 * writes it.
 */
const struct pc_prefix *pc_addrset_find(
		const struct pc_addrset *set, int family, const uint8_t *addr);

/*
 * Where the policy, or one of its list files, writes `x` (a prefix of one of
 * its resolved sets): false when nowhere (a prefix the program made).
 */
struct pc_policy;
bool pc_policy_prefix_loc(const struct pc_policy *p, const struct pc_prefix *x, struct pc_loc *out);

/* A named address group, resolved to prefixes split per family. */
struct pc_network {
	const char *name;
	struct pc_loc loc;
	struct pc_peer *members; /* addresses and names of other groups, as written */
	size_t nmembers;
	/* A long list of addresses as the YAML holds it, read when resolved (src/policy/yaml.h):
	 * then the network's members, and `members` is empty. */
	const struct pc_yrun *run;
	struct pc_addrset set; /* resolved */
	int state; /* resolution: 0 new, 1 in progress, 2 done */
	size_t list; /* `file:`: its index in pc_policy_list() + 1; 0: none */
};

/* One port or range of a service definition, on the protocols in `protos`. */
struct pc_service_port {
	uint16_t lo, hi;
	unsigned protos; /* bits 1 << enum pc_proto */
	struct pc_loc loc;
};

/*
 * A service the policy defines itself (registry.services): its ports, or a
 * group of other services (`members`, as written: names, PORT/PROTO, other
 * groups), never both.
 */
struct pc_service_def {
	const char *name;
	struct pc_service_port *ports;
	size_t nports;
	struct pc_rule_service *members; /* a group; NULL for ports */
	size_t nmembers;
	const char *note;
	struct pc_loc loc;
	int state; /* a group's check: 0 new, 1 in progress, 2 good, 3 broken */
	uint32_t mark; /* resolution: the last rule that expanded the group */
};

/* Groups nest at most this deep; a policy's groups expand to this many services at most. */
#define PC_GROUP_MAX_DEPTH 16
#define PC_GROUP_MAX_EXPANSION 1000000
/* Networks naming networks nest at most this deep (a chain is copied into every level). */
#define PC_NETWORK_MAX_DEPTH 16
/*
 * The addresses copied from one network into another that names it, or into
 * the union of a rule that names a network among other peers, the whole
 * policy together: each copy is held (and rendered) again, so n networks each
 * naming one of n addresses hold n * n.  As many as the lines of the longest
 * list file.  A rule naming one network alone shares its arrays and copies
 * none.
 */
#define PC_NETWORK_MAX_COPIED 4000000

/*
 * A finding the policy acknowledges where it is written (`acknowledge:
 * {CODE: REASON}` on a rule or a service definition): the warnings and notes
 * of that code reported inside the rule or definition (lines first..last of
 * loc.file), and for a definition those about the service wherever a rule
 * names it, are acknowledged, not counted.
 */
struct pc_ack {
	const char *code; /* a code of pc_diag_codes */
	const char *reason; /* never empty */
	struct pc_loc loc; /* of the code, as written */
	unsigned first, last; /* the lines of what it is written on */
	const char *service; /* on a definition: its name; else NULL */
	size_t matched; /* findings acknowledged (after pc_policy_resolve) */
};

enum pc_action {
	PC_ACTION_ALLOW,
	PC_ACTION_DENY,
	PC_ACTION_REJECT,
};

enum pc_direction {
	PC_DIR_INPUT,
	PC_DIR_OUTPUT,
	PC_DIR_FORWARD,
};

enum pc_verdict {
	PC_VERDICT_ACCEPT,
	PC_VERDICT_DROP,
};

enum pc_icmp {
	PC_ICMP_ESSENTIAL,
	PC_ICMP_ALL,
	PC_ICMP_NONE,
};

/* One port or range on one protocol, and where it came from. */
struct pc_match {
	enum pc_proto proto;
	uint16_t lo, hi;
	const char *service; /* the name as written, or NULL for a raw port */
	enum pc_layer_kind layer; /* valid when `service` is set */
	const char *src_file; /* the registry row (or the policy line) it came from */
	unsigned src_line;
	struct pc_loc loc; /* where the policy names it */
	const char *iana; /* IANA's other view of the port (struct pc_port) */
	const char *group; /* the group the rule names, when the service is a member; else NULL */
	const char *listen; /* kdc-conf: the addresses the daemon listens on (", "-separated);
			     * NULL or "": every address */
};

/* A service as a rule writes it: a name, PORT/PROTO, or LOW-HIGH/PROTO. */
struct pc_rule_service {
	const char *text;
	struct pc_loc loc;
};

/*
 * The interfaces a rule applies on: none listed, every one; else the names
 * (a name ending in '*' stands for every name that begins with what comes
 * before it, as in nft), or with `negate` every interface but those.
 */
struct pc_ifaces {
	const char *const *names; /* in policy order, none twice */
	size_t n; /* 0: any interface */
	bool negate;
	struct pc_loc loc;
};

/* Whether the interface `name` is one of `s` (every name when s->n is 0). */
bool pc_ifaces_match(const struct pc_ifaces *s, const char *name);

/*
 * Whether every interface of `b` is one of `a`.  When the answer cannot be
 * told from the names (a negated `b` under a list `a`), false.
 */
bool pc_ifaces_cover(const struct pc_ifaces *a, const struct pc_ifaces *b);

/* Whether the name is a wildcard ("eth*"). */
bool pc_ifname_wild(const char *name);

/*
 * The interfaces as a reader writes them: "eth0", "eth*", "{eth0, eth1}",
 * "not eth0", "not {eth0, eth1}"; "" for any.  Names hold only letters,
 * digits, '.', '_', '-' and a final '*', so the text needs no escaping.
 */
#define PC_IFACES_MAX 64 /* names in one rule's list */
#define PC_IFACES_TEXT_MAX (PC_IFACES_MAX * 17 + 16)
void pc_ifaces_text(char buf[PC_IFACES_TEXT_MAX], const struct pc_ifaces *s);

/* Writes `before` and that text to `out`, or nothing for every interface. */
void pc_ifaces_print(FILE *out, const char *before, const struct pc_ifaces *s);

enum {
	PC_RULE_F_LOG = 1u << 0,
	PC_RULE_F_COUNTER = 1u << 1,
	PC_RULE_F_LIMIT = 1u << 2,
};

struct pc_rule {
	struct pc_loc loc;
	enum pc_action action;
	enum pc_direction direction;
	struct pc_rule_service *services;
	size_t nservices;
	unsigned protos; /* narrowing; 0: every protocol the services list */
	struct pc_loc protos_loc;
	struct pc_peer *from, *to; /* sources, destinations; none: anywhere */
	size_t nfrom, nto;
	struct pc_ifaces interface;
	unsigned flags;
	unsigned limit_rate; /* packets per limit_unit */
	const char *limit_unit; /* "second", "minute", "hour", "day": pc_limit_seconds() */
	const char *comment;
	/* resolved */
	struct pc_match *matches;
	size_t nmatches;
	struct pc_addrset src, dst;
};

struct pc_defaults {
	enum pc_verdict input, forward, output;
	bool established; /* accept established,related */
	bool loopback; /* accept traffic on lo */
	enum pc_icmp icmp;
	/*
	 * ICMPv6 neighbour discovery in input and output: accepted (true, the
	 * default; `icmp: none` keeps it) or dropped (`neighbour-discovery:
	 * drop`), whatever `icmp` says.
	 */
	bool neighbour_discovery;
	struct pc_loc neighbour_discovery_loc; /* where it is set; line 0: not written */
};

struct pc_policy_state;

struct pc_policy {
	struct pc_policy_state *state; /* the files read, the arena */
	const char *name;
	const char *description;
	struct pc_loc loc;
	unsigned layers; /* bits 1 << enum pc_layer_kind asked for */
	bool layers_given;
	/* registry.kdc-conf or heimdal-conf, and realm (kdc.path NULL: none); the
	 * caller loads it into the registry (pc_registry_load_kdc) before resolving */
	struct pc_kdc_source kdc;
	struct pc_loc kdc_loc;
	struct pc_service_def *services;
	size_t nservices;
	struct pc_network *networks;
	size_t nnetworks;
	struct pc_defaults defaults;
	struct pc_rule *rules;
	size_t nrules;
	struct pc_ack *acks; /* in policy order */
	size_t nacks;
	/*
	 * Set by the caller before pc_policy_resolve(): the pages of the policy
	 * files' texts that hold long lists of addresses are given back as the
	 * addresses are read (a large network's text and its addresses are never
	 * held whole together), the files' digests taken first.  A source line
	 * asked for afterwards reads the file again, and is shown only when the
	 * file still holds what was read (its digest).
	 */
	bool release_texts;
};

void pc_policy_init(struct pc_policy *p);
void pc_policy_finish(struct pc_policy *p);

/*
 * Reads `path` (and its includes) and checks it against the schema.  Returns
 * a pc_load_status (portcullis/diag.h): PC_LOAD_UNREADABLE when the policy
 * file itself cannot be read (see pc_policy_io_error()), PC_LOAD_INVALID when
 * it was read but `diags` holds errors (an include that cannot be read is
 * one, at the line that names it).
 */
int pc_policy_load(struct pc_policy *p, const char *path, struct pc_diags *diags);
/*
 * Reads a file of a policy for pc_policy_load_with(): `path` as the policy
 * names it (an include joined to its including file's name).  Returns 0
 * with the text in `out` (initialised by the caller, owned by the loader)
 * and in `real` (PATH_MAX bytes) the name that tells one file from
 * another (for cycles and repeats), or -1 with errno set.
 */
struct pc_buf;
typedef int pc_policy_reader(void *arg, const char *path, char *real, struct pc_buf *out);

/*
 * The same as pc_policy_load(), every file (the policy and its includes)
 * read through `reader` instead of the file system: a policy as a revision
 * of a repository holds it.  PC_LOAD_UNREADABLE when the reader cannot
 * give the policy itself.
 */
int pc_policy_load_with(struct pc_policy *p, const char *path, pc_policy_reader *reader, void *arg,
		struct pc_diags *diags);

/*
 * The same from memory (never PC_LOAD_UNREADABLE); includes are read
 * relative to `label`'s directory.
 */
int pc_policy_load_mem(struct pc_policy *p, const char *label, const char *data, size_t len,
		struct pc_diags *diags);

/*
 * Resolves services against `reg` (the policy's own services become its
 * override layer, and its `registry.layers` are honoured by the caller) and
 * networks to prefixes.  Every finding of the registry is reported at the
 * rule that names the service.
 */
int pc_policy_resolve(struct pc_policy *p, struct pc_registry *reg, struct pc_diags *diags);

/*
 * Applies the policy's acknowledgements to `diags` (pc_policy_resolve() does
 * it last): each finding they cover is marked with pc_diags_acknowledge().
 * An acknowledgement that covers nothing is a warning (acknowledge-stale),
 * one that covers only errors an error (acknowledge-error).  `about[i]`
 * (`n` entries, the first `n` records; may be NULL) says which service
 * record i is about, for the acknowledgements on definitions.
 */
struct pc_about {
	const char *service; /* the name resolved; NULL: no service */
	const char *group; /* the group the rule named it through; else NULL */
};
void pc_policy_acknowledge(struct pc_policy *p, struct pc_diags *diags,
		const struct pc_about *about, size_t n);

/* The seconds in a rule's limit unit ("second", "minute", "hour" or "day"). */
unsigned pc_limit_seconds(const char *unit);

/* A packet to ask the resolved policy about. */
struct pc_packet {
	enum pc_direction direction;
	enum pc_proto proto;
	uint8_t family; /* 4 or 6; 0 when no address was given */
	bool has_src, has_dst; /* which addresses were given */
	uint8_t src[16], dst[16];
	uint16_t port; /* destination port; 0 while `service` is unresolved */
	char iface[16]; /* the interface it comes in on (input, forward) or
			   leaves by (output); "" when unknown */
	char service[64]; /* the service named instead of a port, or "" */
	unsigned service_col; /* its column in the text */
	bool over_limit; /* it comes beyond the rate of every rule with a `limit:`: those rules
			    pass it over, and later rules and the default decide */
};

/* Why a packet's text was refused: the message and its column (from 1). */
struct pc_packet_error {
	unsigned col;
	char msg[320];
};

struct pc_decision {
	bool by_rule; /* else the chain's default policy decided */
	size_t rule; /* index into p->rules when by_rule */
	size_t match; /* index into that rule's matches */
	enum pc_action action; /* when by_rule */
	enum pc_verdict verdict; /* accept or drop (reject drops, with an answer) */
	size_t skipped_interface; /* rules passed over: they depend on an interface */
	size_t skipped_destination; /* the same for a destination address */
	bool by_loopback; /* accepted by `loopback: accept` (the packet is on lo) */
};

/*
 * Parses a packet (docs/cli.md, "explain --packet"):
 *   [forward] PROTO SRC -> [DST] PORT [in IFACE]   arriving (input, forward)
 *   PROTO -> DST PORT [out IFACE]                  sent by this host (output)
 * PORT is a number, or a service name left in pkt->service for
 * pc_packet_resolve().  Returns 0, or -1 with the message and its column in
 * `e`.
 */
int pc_packet_parse(const char *s, struct pc_packet *pkt, struct pc_packet_error *e);

/*
 * Gives a packet that names a service its port, through `reg` (the
 * registry the policy was resolved against, its own definitions included):
 * the name must resolve to exactly one port on the packet's protocol.
 * Returns 0 (also when the packet names no service), or -1 with `e` set.
 */
int pc_packet_resolve(
		const struct pc_registry *reg, struct pc_packet *pkt, struct pc_packet_error *e);

/*
 * What the resolved policy does with a packet: the first rule (in order, of
 * the packet's direction) whose services, protocol and peers match decides;
 * otherwise the default policy of the direction.  With pkt->iface set, a
 * rule that names an interface matches only that one, and on "lo" (input,
 * output) `loopback: accept` accepts first, as its rule comes before the
 * policy's; with no interface, rules that name one are passed over and
 * counted.  A rule with destinations is passed over and counted the same
 * way when the packet gives no destination address.  With pkt->over_limit,
 * the rules with a `limit:` are passed over (the packet exceeds their rate).
 */
void pc_policy_evaluate(
		const struct pc_policy *p, const struct pc_packet *pkt, struct pc_decision *out);

/*
 * Many packets against one policy: the rules are indexed by their sources
 * (each distinct set of sources once, its prefixes by family, length and
 * address), so a packet with a source meets only the rules whose sources
 * hold it and those from anywhere, in order.  pc_eval_index_evaluate()
 * decides exactly as pc_policy_evaluate() does, the skipped_* counts
 * included (a packet without a source is evaluated by it).  The index
 * keeps `p`, which must outlive it, and the room each packet's walk needs,
 * reused from packet to packet (one index, one thread); destroy accepts
 * NULL.  Allocation failure ends the process (xmalloc).
 */
struct pc_eval_index;
struct pc_eval_index *pc_eval_index_create(const struct pc_policy *p);
void pc_eval_index_evaluate(
		struct pc_eval_index *x, const struct pc_packet *pkt, struct pc_decision *out);
void pc_eval_index_destroy(struct pc_eval_index *x);

/*
 * Many packets alike but for their source, asked at the cost of a lookup
 * each: the rules that match `pkt` whatever its source are found once, and
 * their source prefixes (of pkt->family) indexed by length and address.
 * pc_source_index_evaluate() then decides as pc_policy_evaluate() does for
 * `pkt` from `src` (4 or 16 bytes): the same rule, match, action, verdict
 * and loopback, but the skipped_* counts left 0.  `p` and `pkt` are read
 * at create (the index keeps `p`, which must outlive it); destroy accepts
 * NULL.  Allocation failure ends the process (xmalloc).
 */
struct pc_source_index;
struct pc_source_index *pc_source_index_create(
		const struct pc_policy *p, const struct pc_packet *pkt);
void pc_source_index_evaluate(
		const struct pc_source_index *x, const uint8_t *src, struct pc_decision *out);
void pc_source_index_destroy(struct pc_source_index *x);

/* What keeps a packet the policy accepts from being of use, if anything. */
enum pc_unusable {
	PC_USABLE,
	PC_UNUSABLE_REPLIES, /* its replies meet a dropping default, `established: none` */
	PC_UNUSABLE_ND, /* it is IPv6, and `neighbour-discovery: drop` */
	PC_UNUSABLE_RESET, /* a reject's TCP reset meets output's default drop */
	PC_UNUSABLE_ICMP_ERROR, /* a reject's ICMP error too, under `icmp: none` */
};

/*
 * The reply path of what is accepted in `dir`: input's replies leave through
 * output, output's come in through input, forward's go back through forward.
 * `family` is 4 or 6, or 0 for both; `iface` the interface ("" unknown): on
 * lo, `loopback: accept` passes everything.  Sets *reply to the direction of
 * the replies; returns what makes the packet of no use, or PC_USABLE.
 */
enum pc_unusable pc_policy_reply_path(const struct pc_policy *p, enum pc_direction dir, int family,
		const char *iface, enum pc_direction *reply);

/*
 * The same for a packet a rule of `dir` rejects: its answer (a TCP reset for
 * tcp, an ICMP error for the others) leaves through output, whatever `dir`
 * (on output it goes to a local socket: PC_USABLE).
 */
enum pc_unusable pc_policy_reject_path(const struct pc_policy *p, enum pc_direction dir,
		enum pc_proto proto, int family, const char *iface);

/*
 * What keeps the packet a decision answered from being of use: for a
 * reject, whether its answer gets out (*reply is output); for an accept,
 * whether its replies come back (pc_policy_reply_path()); PC_USABLE for a
 * drop.  `pkt` gives the direction, protocol, family and interface.
 */
enum pc_unusable pc_decision_unusable(const struct pc_policy *p, const struct pc_packet *pkt,
		const struct pc_decision *dec, enum pc_direction *reply);

/* The diagnostic code that says `why` ("replies-dropped", "nd-dropped"); NULL for PC_USABLE. */
const char *pc_unusable_code(enum pc_unusable why);

/*
 * `why` as a clause ("its replies leave through output, whose default policy
 * is drop, and `established: none` does not pass them"), into `buf` of `n`
 * bytes.
 */
void pc_unusable_text(const struct pc_policy *p, enum pc_unusable why, enum pc_direction reply,
		char *buf, size_t n);

/*
 * A warning (replies-dropped) at every allow rule whose replies the
 * defaults drop; run by pc_policy_resolve().
 */
void pc_policy_check_replies(const struct pc_policy *p, struct pc_diags *diags);

/*
 * The files read for the policy (itself first, then its includes), with
 * their text (a text given back in part, pc_policy.release_texts, is read
 * again; "" when the file no longer holds it), and the SHA-256 of each as
 * it was read.
 */
size_t pc_policy_file_count(const struct pc_policy *p);
const char *pc_policy_file(const struct pc_policy *p, size_t i, const char **text, size_t *len);
void pc_policy_file_sha256(const struct pc_policy *p, size_t i, char hex[65]);

/*
 * The list files the policy's networks read (`file:`), in policy order:
 * the name as the policy's diagnostics give it, and in `hex` its SHA-256
 * (the bytes read when it was resolved; before, read for it), or "" when it
 * cannot be read.
 */
size_t pc_policy_list_count(const struct pc_policy *p);
const char *pc_policy_list(const struct pc_policy *p, size_t i, char hex[65]);

/* Whether the policy file itself could not be read (an environment error). */
bool pc_policy_io_error(const struct pc_policy *p);

/* The source line of a location, for context under a diagnostic; NULL if none. */
const char *pc_policy_source_line(
		const struct pc_policy *p, const char *file, unsigned line, size_t *len);

/*
 * Prints diagnostics as `file:line:col: severity: message [code]`, then the
 * source line and a caret under the column, then the hint.
 */
void pc_policy_print_diags(const struct pc_policy *p, const struct pc_diags *d, FILE *out);

#endif
