/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The registry seen by the people who keep it: where its layers disagree
 * (an audit of the practice and system layers against IANA and each other),
 * and what changes between two IANA registries.
 *
 * Ownership: the entries point into the registries they were made from
 * (struct pc_record); they stay valid while those registries live.  The
 * caller owns the vectors and releases them with their _finish() function.
 * Out of memory aborts.  Entries are sorted, so the same registries give
 * the same entries in the same order on any host.
 */
#ifndef PORTCULLIS_AUDIT_H
#define PORTCULLIS_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "portcullis/registry.h"

/* What kind of disagreement, in the order a report lists them. */
enum pc_audit_kind {
	PC_AUDIT_PORT_TAKEN, /* a name on a port IANA assigns to another service */
	PC_AUDIT_OTHER_PORT, /* a name IANA registers on other ports only */
	PC_AUDIT_UNREGISTERED, /* a name (and its aliases) IANA does not register at all */
	PC_AUDIT_PROTOCOL_EXTRA, /* a protocol IANA does not list for the name on the port */
	PC_AUDIT_RESERVED, /* a port IANA marks Reserved */
	PC_AUDIT_UNASSIGNED, /* a port IANA lists as Unassigned, or lists nothing on */
	PC_AUDIT_ALIAS, /* IANA's name for the port is an alias of the row */
	PC_AUDIT_HISTORIC, /* a name IANA marks a historic alias of another */
	PC_AUDIT_CONTESTED, /* the services file gives a port to a name practice marks contested */
	PC_AUDIT_PRACTICE_PORT, /* the services file and practice put a name on different ports */
	PC_AUDIT_PROTOCOL_ABSENT, /* IANA lists a protocol for the name that the layer leaves out */
};
#define PC_AUDIT_KIND_COUNT 11

/* The code of a kind ("port-taken") and what it means, for reports. */
const char *pc_audit_code(enum pc_audit_kind kind);
const char *pc_audit_what(enum pc_audit_kind kind);

struct pc_audit_entry {
	enum pc_audit_kind kind;
	uint16_t port_lo, port_hi; /* where they disagree */
	enum pc_proto proto;
	struct pc_record row; /* the row of the practice or system layer */
	/* the row it disagrees with (IANA's, or practice's); has_other false: none */
	struct pc_record other;
	bool has_other;
};

struct pc_audit {
	struct pc_audit_entry *v;
	size_t n, cap;
	size_t count[PC_AUDIT_KIND_COUNT];
};

void pc_audit_init(struct pc_audit *a);
void pc_audit_finish(struct pc_audit *a);

/*
 * Compares every named row with a port of the practice and system layers
 * of `reg` with the iana layer (and the system layer's with practice), and
 * appends each disagreement, sorted by kind, port, protocol, layer and line,
 * each once.
 */
void pc_registry_audit(const struct pc_registry *reg, struct pc_audit *out);

/* What changed between two IANA registries, in the order a report lists them. */
enum pc_change_kind {
	PC_CHANGE_ADDED, /* a name only the new registry has */
	PC_CHANGE_REMOVED, /* a name only the old one has */
	PC_CHANGE_MOVED, /* a name that lost ports and gained others */
	PC_CHANGE_PORTS_ADDED, /* a name that kept its ports and gained some */
	PC_CHANGE_PORTS_REMOVED, /* a name that lost some of its ports and kept others */
	PC_CHANGE_STATE, /* ports whose state changed (assigned, reserved, unassigned) */
};
#define PC_CHANGE_KIND_COUNT 6

const char *pc_change_code(enum pc_change_kind kind);
const char *pc_change_what(enum pc_change_kind kind);

/* A port's state for PC_CHANGE_STATE: pc_state values, or this when IANA lists nothing. */
#define PC_STATE_UNLISTED 255

struct pc_change {
	enum pc_change_kind kind;
	const char *name; /* names: as the first row that has it writes it; state: "" */
	char *old_ports, *new_ports; /* "464/tcp, 464/udp" ("" none); state: the ports */
	struct pc_record old_row, new_row; /* the first row of each side; line 0: none */
	/*
	 * The lines of old_row.file that gave the ports lost, and of
	 * new_row.file those gained (every row of a name added or removed), in
	 * order, each once; none for a side that neither lost nor gained.
	 */
	uint32_t *lost_lines, *gained_lines;
	size_t nlost_lines, ngained_lines;
	uint16_t lo, hi; /* state: the ports */
	enum pc_proto proto;
	unsigned old_state, new_state; /* state: pc_state or PC_STATE_UNLISTED */
};

struct pc_changes {
	struct pc_change *v;
	size_t n, cap;
	size_t count[PC_CHANGE_KIND_COUNT];
};

void pc_changes_init(struct pc_changes *c);
void pc_changes_finish(struct pc_changes *c);

/* The name of a port state ("assigned", ..., "unlisted"). */
const char *pc_port_state_name(unsigned state);

/*
 * Appends what changed from the iana layer of `old` to that of `new`: names
 * by their ports (ASCII case folded), then the state of every port and
 * protocol, runs of ports that changed alike joined.  Descriptions, dates
 * and the other columns are not compared.
 */
void pc_registry_compare(const struct pc_registry *old, const struct pc_registry *new,
		struct pc_changes *out);

#endif
