/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The port registry: ordered layers of service-name <-> port/protocol
 * knowledge, every answer with its provenance.
 *
 * Layers, lowest to highest precedence:
 *   iana      the IANA Service Name and Transport Protocol Port Number
 *             Registry (embedded snapshot, or a CSV given at run time)
 *   practice  names the Internet uses that IANA never registered or
 *             registered differently (embedded, from data/practice.services)
 *   system    a services(5) file, only when asked for
 *   override  definitions from the command line or a policy
 *
 * Ownership: a struct pc_registry owns its layers and everything a lookup
 * returns points into them; results stay valid until the registry is
 * destroyed.  Result vectors (struct pc_records, struct pc_resolution) are
 * owned by the caller and released with their _finish() function.
 *
 * Errors: the loaders return a pc_load_status (portcullis/diag.h): bad data
 * and a file that cannot be read are told apart, each described in the
 * struct pc_diags passed in.  Other functions returning int return 0 on
 * success and -1 on failure, unless they say otherwise.  Out of memory
 * aborts.
 */
#ifndef PORTCULLIS_REGISTRY_H
#define PORTCULLIS_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portcullis/diag.h"

enum pc_proto {
	PC_PROTO_ANY = 0, /* a row that names no protocol; in queries: every protocol */
	PC_PROTO_TCP,
	PC_PROTO_UDP,
	PC_PROTO_SCTP,
	PC_PROTO_DCCP,
};
#define PC_PROTO_COUNT 5

enum pc_state {
	PC_STATE_ASSIGNED,
	PC_STATE_RESERVED,
	PC_STATE_UNASSIGNED,
	PC_STATE_CONTESTED, /* practice: a name people use for different ports */
	PC_STATE_DAEMON, /* practice: a daemon's name; `instead` lists the services it serves */
};

/* The layers, in precedence order: see pc_layer_defs() below. */
enum pc_layer_kind {
	PC_LAYER_IANA,
	PC_LAYER_PRACTICE,
	PC_LAYER_SYSTEM,
	PC_LAYER_KDC, /* the ports a KDC's own configuration sets (kdc.conf) */
	PC_LAYER_OVERRIDE,
};
#define PC_LAYER_COUNT 5

enum {
	PC_ENTRY_F_HISTORIC = 1u << 0, /* IANA: "This entry is an alias to X ... now historic" */
	PC_ENTRY_F_UNAUTH = 1u << 1, /* IANA: Unauthorized Use Reported is filled */
	PC_ENTRY_F_PORT = 1u << 2, /* the row has a port (SRV-only names do not) */
	PC_ENTRY_F_ONLY = 1u << 3, /* practice: the daemon serves the port over the protocols of
				    * the layer's rows for the name only; the layers below
				    * add none */
	PC_ENTRY_F_DISABLED = 1u << 4, /* kdc-conf: the configuration turns the service off on
					* the row's protocol (a port set to ""); no port */
	PC_ENTRY_F_CLAIM = 1u << 5, /* practice: the row's names mean its port, whatever IANA
				     * says of them elsewhere (cifs: 445, IANA's 3020) */
};

#define PC_MAX_ALIASES 16
#define PC_MAX_NAME 64

/* One row of one layer, as a caller sees it.  Strings are never NULL. */
struct pc_record {
	enum pc_layer_kind layer;
	const char *file; /* where the layer came from */
	unsigned line; /* physical line where the row starts */
	const char *name; /* "" for unnamed rows (Reserved, Unassigned) */
	const char *aliases[PC_MAX_ALIASES];
	unsigned naliases;
	uint16_t port_lo, port_hi; /* valid when flags has PC_ENTRY_F_PORT */
	enum pc_proto proto;
	enum pc_state state;
	unsigned flags;
	const char *description;
	const char *assignee, *contact, *registered, *modified, *reference, *service_code;
	const char *unauthorized; /* IANA "Unauthorized Use Reported" */
	uint16_t unauth_port; /* the one port of a range that note names; 0: all */
	const char *notes; /* IANA "Assignment Notes"; practice: its source note */
	const char *alias_of; /* historic alias: the canonical name */
	const char *instead; /* contested: names to use instead, comma-separated */
};

struct pc_records {
	struct pc_record *v;
	size_t n, cap;
};

void pc_records_init(struct pc_records *r);
void pc_records_finish(struct pc_records *r);
/* Appends one zeroed record and returns it. */
struct pc_record *pc_records_push(struct pc_records *r);

struct pc_registry;

/* A registry holding the embedded iana and practice layers. */
struct pc_registry *pc_registry_create(void);
void pc_registry_destroy(struct pc_registry *reg);

/* The loaders below return a pc_load_status (portcullis/diag.h). */

/*
 * Replaces the iana layer with an IANA CSV read from `path` (at most
 * PC_IANA_MAX_BYTES).  Returns a pc_load_status: PC_LOAD_OK, or
 * PC_LOAD_INVALID or PC_LOAD_UNREADABLE with the registry unchanged and
 * every problem found in `diags` with file:line:col.
 */
#define PC_IANA_MAX_BYTES (64u << 20)
int pc_registry_load_iana(struct pc_registry *reg, const char *path, struct pc_diags *diags);
/* The same from memory (PC_LOAD_OK or PC_LOAD_INVALID); `label` names it in provenance. */
int pc_registry_load_iana_mem(struct pc_registry *reg, const char *label, const char *data,
		size_t len, struct pc_diags *diags);

/*
 * Adds (or replaces) the system layer from a services(5) file.  Lines that
 * cannot be used are skipped with a warning, as the C library does.  Returns
 * a pc_load_status: PC_LOAD_UNREADABLE when the file cannot be read or is
 * larger than PC_SERVICES_MAX_BYTES (the _mem form never returns it).
 */
#define PC_SERVICES_MAX_BYTES (16u << 20)
int pc_registry_load_services(struct pc_registry *reg, const char *path, struct pc_diags *diags);
int pc_registry_load_services_mem(struct pc_registry *reg, const char *label, const char *data,
		size_t len, struct pc_diags *diags);

/*
 * Adds one definition to the override layer: "NAME=PORT[-PORT]/PROTO[,PROTO...]".
 * `origin` names where it came from (e.g. "command line"), `index` is its
 * position there (used as the line in provenance).
 */
int pc_registry_add_override(struct pc_registry *reg, const char *spec, const char *origin,
		unsigned index, struct pc_diags *diags);
/*
 * Adds n definitions in one go (a policy's): specs[i] from origins[i] at
 * index[i], as pc_registry_add_override() would one after the other, the
 * layer built once.  A definition refused says why in diags[i] (one for each
 * definition) and is left
 * out; the others are taken.  Returns how many were refused.
 */
size_t pc_registry_add_overrides(struct pc_registry *reg, size_t n, const char *const *specs,
		const char *const *origins, const unsigned *index, struct pc_diags *diags);

/* What a layer is (struct pc_layer_def.flags). */
enum {
	PC_LAYER_F_EMBEDDED = 1u << 0, /* compiled in: in every new registry; a policy's
					* registry.layers may leave it out */
	PC_LAYER_F_SNAPSHOT = 1u << 1, /* a dated snapshot of an assignment registry: its
					* rows carry assignee, contact, dates, reference,
					* service code and unauthorized use */
	PC_LAYER_F_DEFINED = 1u << 2, /* definitions of the policy or the command line,
				       * not a file's rows */
	PC_LAYER_F_CONFIG = 1u << 3, /* a daemon's own configuration: the final word for its
				      * names, as a definition is (several ports allowed,
				      * the layers below add no protocols); its rows name
				      * their own file (an include) */
};

struct pc_buf;
struct pc_layer;

/*
 * One row per layer: what it is called, its place (a higher kind decides
 * over a lower one), and how it is loaded.  A new layer is a parser in a file
 * of its own, a kind above, and one row in registry.c.
 */
struct pc_layer_def {
	enum pc_layer_kind kind;
	const char *name; /* in provenance, messages and registry.layers */
	const char *cited; /* its name where a ruleset comment cites a row */
	const char *what; /* its file in messages: "the services file" */
	const char *default_path; /* read when a policy asks for the layer; else NULL */
	const char *description; /* what its rows' description is called */
	const char *notes; /* and their notes */
	unsigned flags; /* PC_LAYER_F_* */
	size_t max_bytes; /* the largest file the loader reads */
	/*
	 * The loader (NULL: the layer is not read from a file): parses `text`, a
	 * NUL byte then the input, in place; 0, or -1 with diagnostics.
	 */
	int (*parse)(const char *label, struct pc_buf *text, struct pc_layer **out,
			struct pc_diags *diags);
	const struct pc_layer *embedded; /* PC_LAYER_F_EMBEDDED: the compiled-in layer */
};

/* The row of layer `kind`, or NULL when there is none. */
const struct pc_layer_def *pc_layer_def(enum pc_layer_kind kind);

/*
 * Replaces the layer `kind` with one read from `path` (at most its
 * max_bytes), or from memory.  Returns a pc_load_status as the loaders below
 * do; PC_LOAD_INVALID, with a diagnostic, for a layer that has no loader.
 */
int pc_registry_load(struct pc_registry *reg, enum pc_layer_kind kind, const char *path,
		struct pc_diags *diags);
int pc_registry_load_mem(struct pc_registry *reg, enum pc_layer_kind kind, const char *label,
		const char *data, size_t len, struct pc_diags *diags);

/*
 * The kdc-conf layer, from a KDC's configuration: MIT's kdc.conf (the
 * relations of [kdcdefaults] and [realms]) or Heimdal's ([kdc] ports and
 * addresses).  `kerberos`, `kpasswd`, `kerberos-adm` and `iprop` get the
 * ports it sets, per protocol, each row with the file and line of the
 * relation (or "MIT default"/"Heimdal default" and line 0), its listen
 * addresses in the row's notes (", "-separated; "" for every address).  With
 * several realms and none named, the ports of all are taken, with a note.
 * Returns a pc_load_status: PC_LOAD_UNREADABLE when `path` cannot be read,
 * PC_LOAD_INVALID with the profile's errors or bad values (the registry is
 * then unchanged).
 */
enum pc_kdc_flavor {
	PC_KDC_MIT,
	PC_KDC_HEIMDAL,
};
struct pc_kdc_source {
	const char *path; /* to open */
	const char *label; /* in provenance: the path as the user wrote it */
	const char *realm; /* NULL: every realm */
	enum pc_kdc_flavor flavor;
};
int pc_registry_load_kdc(
		struct pc_registry *reg, const struct pc_kdc_source *src, struct pc_diags *diags);
/* The same from memory (src->path unused; include lines are errors there). */
int pc_registry_load_kdc_mem(struct pc_registry *reg, const struct pc_kdc_source *src,
		const char *data, size_t len, struct pc_diags *diags);

bool pc_registry_has_layer(const struct pc_registry *reg, enum pc_layer_kind kind);
/* Takes a layer out (a policy may ask for fewer layers). */
void pc_registry_remove_layer(struct pc_registry *reg, enum pc_layer_kind kind);
const char *pc_layer_name(enum pc_layer_kind kind);
const char *pc_proto_name(enum pc_proto proto);
const char *pc_state_name(enum pc_state state);
/* Parses "tcp", "udp", "sctp", "dccp" (ASCII case-insensitive); -1 if none. */
int pc_proto_parse(const char *s);
/* The date of the newest registration or modification in the iana layer. */
const char *pc_registry_iana_date(const struct pc_registry *reg);
const char *pc_registry_iana_file(const struct pc_registry *reg);
/* The date of a PC_LAYER_F_SNAPSHOT layer ("" for the others or when absent). */
const char *pc_registry_layer_date(const struct pc_registry *reg, enum pc_layer_kind kind);
/* Where a layer came from ("" when absent), and for the embedded layers the
 * SHA-256 of their source file (NULL for layers read at run time, but for the
 * kdc-conf layer: of its files, each name, NUL, text, NUL, in the order read). */
const char *pc_registry_layer_file(const struct pc_registry *reg, enum pc_layer_kind kind);
const char *pc_registry_layer_sha256(const struct pc_registry *reg, enum pc_layer_kind kind);

/*
 * Appends to `out` every row, of every layer, whose name or alias equals
 * `name` (ASCII case-insensitive), in layer order then file order.
 */
size_t pc_registry_find_name(
		const struct pc_registry *reg, const char *name, struct pc_records *out);

/*
 * Appends every row whose port range contains `port`, for `proto` (rows with
 * no protocol match every protocol; PC_PROTO_ANY matches every row).
 */
size_t pc_registry_find_port(const struct pc_registry *reg, uint16_t port, enum pc_proto proto,
		struct pc_records *out);

/*
 * Up to `max` names from every layer within a small edit distance of `name`,
 * closest first, then alphabetical.  Returns how many were stored.
 */
size_t pc_registry_suggest(
		const struct pc_registry *reg, const char *name, const char **out, size_t max);

/* The answer to "what does this service name mean?". */
enum pc_resolve_status {
	PC_RESOLVE_OK,
	PC_RESOLVE_UNKNOWN, /* no layer knows the name */
	PC_RESOLVE_NO_PORT, /* known, but only as SRV-only rows */
	PC_RESOLVE_CONTESTED, /* practice marks it contested; pick another name */
	PC_RESOLVE_AMBIGUOUS, /* the deciding layer lists it on several ports */
};

struct pc_port {
	uint16_t lo, hi;
	enum pc_proto proto; /* PC_PROTO_ANY only when the deciding row names none */
	struct pc_record src; /* the deciding row */
	/*
	 * When the deciding row is not IANA's and IANA says otherwise about the
	 * port: the name IANA assigns it, "Reserved" or "Unassigned"; else NULL.
	 */
	const char *iana;
};

struct pc_resolution {
	enum pc_resolve_status status;
	enum pc_layer_kind layer; /* the deciding layer */
	const char *canonical; /* the deciding row's primary name */
	struct pc_port *ports; /* sorted by proto, then port */
	size_t nports, cap;
	uint64_t *known; /* once there are many ports: a hash of theirs (port_key() + 1) */
	size_t nknown;
	struct pc_records rows; /* every row of every layer with this name */
	struct pc_diags findings; /* disagreements, each with a stable code */
};

void pc_resolution_init(struct pc_resolution *res);
void pc_resolution_finish(struct pc_resolution *res);

/*
 * Resolves `name`: the highest layer that gives it a port decides (the
 * practice layer's "contested" mark can only be overridden by the override
 * layer); lower layers add protocols on the decided ports, except under a
 * definition (PC_LAYER_F_DEFINED), which is the final word for its name.
 * Every disagreement between layers is reported in res->findings with
 * these codes:
 *   registry-conflict  the port is assigned by IANA to another service
 *   name-conflict      another layer puts the same name on other ports
 *   definition-replaces  (note) a definition drops what a lower layer says
 *                      on its ports
 *   definition-alias   (note) a definition gives exactly the ports of the one
 *                      service IANA assigns there: no registry-conflict
 *   practice-only      (note) the practice layer says the daemon serves the
 *                      port over its protocols only (an `only` row): the
 *                      protocols the layers below it add there are left out
 *   port-reserved      the port is Reserved in IANA
 *   port-unassigned    the port is Unassigned in IANA
 *   historic-alias     the name is a historic alias; use the canonical one
 *   unauthorized-use   IANA reports unauthorized use of the port
 *   contested          see PC_RESOLVE_CONTESTED
 *   multi-port         see PC_RESOLVE_AMBIGUOUS
 * Findings carry the deciding row's file and line.  Returns res->status.
 */
enum pc_resolve_status pc_registry_resolve(
		const struct pc_registry *reg, const char *name, struct pc_resolution *res);

/*
 * Reports, for one port and protocol (PC_PROTO_ANY: tcp and udp and the
 * others each in turn), where the layers disagree about its meaning
 * (code port-conflict), and IANA's unauthorized-use note for it
 * (unauthorized-use).  Appends to `findings`.
 */
void pc_registry_port_findings(const struct pc_registry *reg, uint16_t port, enum pc_proto proto,
		struct pc_diags *findings);

/*
 * Whether `s` can be a service name: 1 to 63 printable ASCII characters
 * without space, quotes or any of ,;#\$`{}, at least one of them a letter.
 */
bool pc_service_name_ok(const char *s);

/*
 * Parses a decimal port or range "LOW-HIGH": digits only, no sign, no
 * leading zero, at most 65535, LOW <= HIGH.  Returns 0 or -1.
 */
int pc_parse_port_range_public(const char *s, uint16_t *lo, uint16_t *hi);

/*
 * Parses a port query "754", "754/tcp" or "6000-6063/tcp".  A query needs
 * decimal digits only (no sign, no leading zero) and ports 0..65535.
 * Returns 0; -1 when `s` is not a port query (then it is a name); -2 when it
 * is one, but malformed: a port above 65535, a leading zero, LOW > HIGH, an
 * unknown protocol.
 */
int pc_port_query_parse(const char *s, uint16_t *lo, uint16_t *hi, enum pc_proto *proto);

/*
 * Appends every row of layer `kind` (none when it is absent), in file
 * order.  Returns how many.
 */
size_t pc_registry_layer_rows(
		const struct pc_registry *reg, enum pc_layer_kind kind, struct pc_records *out);

/* Whether `name` is the row's name, one of its aliases or its canonical name (ASCII case folded).
 */
bool pc_record_has_name(const struct pc_record *r, const char *name);
/* Whether two rows name the same service: their names, aliases or canonical names meet. */
bool pc_record_same_service(const struct pc_record *a, const struct pc_record *b);

#endif
