/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Policy files: the schema check of the YAML tree, includes, and the
 * printing of diagnostics with their source line.  Resolution against the
 * registry is in resolve.c.
 */
#include "portcullis/policy.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pathwalk.h"
#include "sha256.h"
#include "policy/internal.h"
#include "util.h"

void pc_policy_init(struct pc_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->state = xcalloc(1, sizeof(*p->state));
	pc_arena_init(&p->state->arena);
	p->defaults = (struct pc_defaults){PC_VERDICT_DROP, PC_VERDICT_DROP, PC_VERDICT_ACCEPT,
			true, true, PC_ICMP_ESSENTIAL, true, {0}};
}

void pc_policy_finish(struct pc_policy *p)
{
	if (!p->state)
		return;
	for (size_t i = 0; i < p->state->ndocs; i++) {
		pc_ydoc_finish(p->state->docs[i]);
		free(p->state->docs[i]);
	}
	free(p->state->docs);
	for (size_t i = 0; i < p->state->nopen; i++)
		free(p->state->open[i]);
	free(p->state->open);
	for (size_t i = 0; i < p->state->nseen; i++)
		free(p->state->seen[i]);
	free(p->state->seen);
	for (size_t i = 0; i < p->state->nmemo; i++) {
		free(p->state->memo[i].path);
		free(p->state->memo[i].real);
		free(p->state->memo[i].msg);
		free(p->state->memo[i].hint);
	}
	free(p->state->memo);
	for (size_t i = 0; i < p->state->nlists; i++) {
		struct list_src *ls = &p->state->lists[i];
		if (ls->fd >= 0)
			close(ls->fd);
		pc_buf_finish(&ls->text);
		for (size_t k = 0; k < ls->nkept; k++)
			free(ls->kept[k].text);
		free(ls->kept);
	}
	free(p->state->lists);
	for (size_t i = 0; i < p->state->nblocks; i++)
		free(p->state->blocks[i]);
	free(p->state->blocks);
	free(p->state->wheres);
	pc_arena_finish(&p->state->arena);
	free(p->state);
	free(p->rules);
	free(p->acks);
	free(p->networks);
	for (size_t i = 0; i < p->nservices; i++)
		free(p->services[i].ports);
	free(p->services);
	memset(p, 0, sizeof(*p));
}

/* ---- diagnostics at nodes --------------------------------------------- */

struct pc_diag *pol_diag(struct loader *l, enum pc_severity sev, const char *code,
		const struct pc_ynode *n, const char *fmt, ...)
{
	va_list ap;
	struct pc_diag *d;

	va_start(ap, fmt);
	d = pc_diag_addv(l->diags, sev, code, l->doc->file, n ? n->line : 0, n ? n->col : 0, fmt,
			ap);
	va_end(ap);
	return d;
}

static struct pc_loc loc_of(const struct loader *l, const struct pc_ynode *n)
{
	return (struct pc_loc){l->doc->file, n->line, n->col};
}

static const char *kind_name(const struct pc_ynode *n)
{
	switch (n->kind) {
	case PC_Y_SCALAR:
		return "a single value";
	case PC_Y_SEQ:
		return "a list";
	case PC_Y_MAP:
		return "a mapping";
	}
	return "?";
}

static bool want(struct loader *l, const struct pc_ynode *n, enum pc_ynode_kind kind,
		const char *what)
{
	static const char *const names[] = {"a single value", "a list", "a mapping"};

	if (n->kind == kind)
		return true;
	pol_diag(l, PC_SEV_ERROR, "schema-type", n, "%s must be %s, not %s", what, names[kind],
			kind_name(n));
	return false;
}

/* A scalar that is not empty, null or `~`. */
static const char *want_text(struct loader *l, const struct pc_ynode *n, const char *what)
{
	if (!want(l, n, PC_Y_SCALAR, what))
		return NULL;
	if (n->len == 0 || (n->plain && (!strcmp(n->str, "~") || !strcmp(n->str, "null")))) {
		pol_diag(l, PC_SEV_ERROR, "schema-missing", n, "%s has no value", what);
		return NULL;
	}
	return n->str;
}

static int want_bool(struct loader *l, const struct pc_ynode *n, const char *what)
{
	const char *s = want_text(l, n, what);

	if (!s)
		return -1;
	if (n->plain && !strcmp(s, "true"))
		return 1;
	if (n->plain && !strcmp(s, "false"))
		return 0;
	struct pc_diag *d = pol_diag(l, PC_SEV_ERROR, "schema-value", n,
			"%s must be true or false, not '%s'", what, s);
	pc_diag_hint(d, "YAML 1.1 words such as yes, no, on and off are not booleans here");
	return -1;
}

/* One of `choices` (NULL-terminated); returns its index or -1. */
static int want_choice(struct loader *l, const struct pc_ynode *n, const char *what,
		const char *const *choices)
{
	const char *s = want_text(l, n, what);
	struct pc_buf b;

	if (!s)
		return -1;
	for (int i = 0; choices[i]; i++)
		if (!strcmp(s, choices[i]))
			return i;
	pc_buf_init(&b);
	for (int i = 0; choices[i]; i++)
		pc_buf_printf(&b, "%s%s", i ? ", " : "", choices[i]);
	struct pc_diag *d = pol_diag(l, PC_SEV_ERROR, "schema-value", n,
			"%s must be one of %s, not '%s'", what, b.data, s);
	const char *best = NULL;
	unsigned bestd = 3;
	for (int i = 0; choices[i]; i++) {
		unsigned dist = pc_edit_distance(s, choices[i], 2);
		if (dist < bestd) {
			bestd = dist;
			best = choices[i];
		}
	}
	if (best)
		pc_diag_hint(d, "did you mean '%s'?", best);
	pc_buf_finish(&b);
	return -1;
}

/* A single value or a list of them: the items, or NULL after a diagnostic. */
static const struct pc_ynode *const *want_items(
		struct loader *l, const struct pc_ynode *n, const char *what, size_t *count)
{
	if (n->kind == PC_Y_SCALAR) {
		if (!want_text(l, n, what))
			return NULL;
		const struct pc_ynode **one = pc_arena_alloc(&l->p->state->arena, sizeof(*one));
		*one = n;
		*count = 1;
		return one;
	}
	if (!want(l, n, PC_Y_SEQ, what))
		return NULL;
	if (n->packed)
		pc_ydoc_unpack(l->doc, (struct pc_ynode *)n);
	if (n->n == 0) {
		pol_diag(l, PC_SEV_ERROR, "schema-empty", n, "%s is an empty list", what);
		return NULL;
	}
	for (size_t i = 0; i < n->n; i++)
		if (!want_text(l, n->items[i], what))
			return NULL;
	*count = n->n;
	return (const struct pc_ynode *const *)n->items;
}

/* Checks a mapping's keys against `keys` (NULL-terminated); reports unknown ones. */
static void check_keys(struct loader *l, const struct pc_ynode *map, const char *const *keys,
		const char *where)
{
	for (size_t i = 0; i < map->n; i++) {
		const struct pc_ynode *k = map->items[2 * i];
		int j;
		for (j = 0; keys[j]; j++)
			if (!strcmp(k->str, keys[j]))
				break;
		if (keys[j])
			continue;
		struct pc_diag *d = pol_diag(l, PC_SEV_ERROR, "schema-unknown-key", k,
				"unknown key '%s' in %s", k->str, where);
		const char *best = NULL;
		unsigned bestd = 3;
		for (j = 0; keys[j]; j++) {
			unsigned dist = pc_edit_distance(k->str, keys[j], 2);
			if (dist < bestd || (dist == bestd && best && strcmp(keys[j], best) < 0)) {
				bestd = dist;
				best = keys[j];
			}
		}
		if (best)
			pc_diag_hint(d, "did you mean '%s'?", best);
		else {
			struct pc_buf b;
			pc_buf_init(&b);
			for (j = 0; keys[j]; j++)
				pc_buf_printf(&b, "%s%s", j ? ", " : "", keys[j]);
			pc_diag_hint(d, "the keys of %s: %s", where, b.data);
			pc_buf_finish(&b);
		}
	}
}

static char *adup(struct loader *l, const char *s)
{
	return pc_arena_strndup(&l->p->state->arena, s, strlen(s));
}

static void *aalloc(struct loader *l, size_t n)
{
	return pc_arena_alloc(&l->p->state->arena, n ? n : 1);
}

/* A port: decimal digits only (never octal), 1-65535; or a range LOW-HIGH. */
int pol_port_range(struct loader *l, const struct pc_ynode *n, uint16_t *lo, uint16_t *hi)
{
	const char *s = want_text(l, n, "port");

	if (!s)
		return -1;
	if (pc_parse_port_range_public(s, lo, hi) < 0) {
		struct pc_diag *d = pol_diag(l, PC_SEV_ERROR, "port-syntax", n,
				"'%s' is not a port: a decimal number from 1 to 65535, or a range "
				"LOW-HIGH",
				s);
		if (s[0] == '0' && s[1])
			pc_diag_hint(d, "no leading zeros: ports are decimal, never octal");
		return -1;
	}
	if (*lo == 0) {
		pol_diag(l, PC_SEV_ERROR, "port-zero", n,
				"port 0 is reserved and cannot be matched");
		return -1;
	}
	return 0;
}

/* protocol: tcp | [tcp, udp]; returns a mask of 1 << enum pc_proto, 0 after an error. */
unsigned pol_protocols(struct loader *l, const struct pc_ynode *n, const char *what)
{
	static const char *const names[] = {"tcp", "udp", "sctp", "dccp", NULL};
	size_t k;
	unsigned mask = 0;
	const struct pc_ynode *const *items = want_items(l, n, what, &k);

	for (size_t i = 0; items && i < k; i++) {
		int c = want_choice(l, items[i], what, names);
		if (c < 0)
			return 0;
		if (mask & (1u << (c + 1)))
			pol_diag(l, PC_SEV_WARNING, "duplicate-protocol", items[i],
					"protocol %s is listed twice", names[c]);
		mask |= 1u << (c + 1);
	}
	return mask;
}

unsigned pc_limit_seconds(const char *unit)
{
	return !strcmp(unit, "second")	 ? 1
	       : !strcmp(unit, "minute") ? 60
	       : !strcmp(unit, "hour")	 ? 3600
					 : 86400;
}

/* limit: N/second|minute|hour|day, N from 1 to 1000000. */
int pol_limit(struct loader *l, const struct pc_ynode *n, unsigned *rate, const char **unit)
{
	static const char *const units[] = {"second", "minute", "hour", "day", NULL};
	const char *s = want_text(l, n, "limit");
	const char *slash = s ? strchr(s, '/') : NULL;
	unsigned long v = 0;
	size_t digits = slash ? (size_t)(slash - s) : 0;

	if (!s)
		return -1;
	for (size_t i = 0; i < digits && v <= 1000000; i++)
		v = s[i] >= '0' && s[i] <= '9' ? v * 10 + (unsigned long)(s[i] - '0') : 1000001;
	for (int i = 0; slash && digits && digits <= 7 && s[0] != '0' && v >= 1 && v <= 1000000 &&
			units[i];
			i++) {
		if (!strcmp(slash + 1, units[i])) {
			*rate = (unsigned)v;
			*unit = units[i];
			return 0;
		}
	}
	struct pc_diag *d = pol_diag(l, PC_SEV_ERROR, "rule-limit", n,
			"'%s' is not a rate: write N/second, N/minute, N/hour or N/day with N from 1 "
			"to 1000000",
			s);
	pc_diag_hint(d, "e.g. limit: 10/minute");
	return -1;
}

/* Identifiers: policy, network and interface names end up in rulesets. */
static bool identifier_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || !((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z'))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];
		if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z') && !(c >= '0' && c <= '9') &&
				c != '-' && c != '_')
			return false;
	}
	return true;
}

/* The last line a node's text reaches (its deepest, last item). */
static unsigned last_line(const struct pc_ynode *n)
{
	unsigned last = n->line;

	if (n->packed)
		return n->run->end_line;
	for (size_t i = 0; i < n->n; i++) {
		unsigned l = last_line(n->items[i]);
		last = l > last ? l : last;
	}
	return last;
}

/*
 * acknowledge: {CODE: REASON, ...} on `on` (a rule, or a definition's key and
 * value): each a known code and a reason that is not empty.
 */
static void read_acks(struct loader *l, const struct pc_ynode *n, const struct pc_ynode *on,
		const struct pc_ynode *value, const char *service)
{
	if (!want(l, n, PC_Y_MAP, "acknowledge"))
		return;
	if (n->n == 0) {
		struct pc_diag *d = pol_diag(l, PC_SEV_ERROR, "schema-empty", n,
				"acknowledge is an empty mapping");
		pc_diag_hint(d, "e.g. acknowledge: {registry-conflict: \"kpropd listens on 754; "
				"IANA's tell is unused here\"}");
		return;
	}
	for (size_t i = 0; i < n->n; i++) {
		const struct pc_ynode *k = n->items[2 * i], *v = n->items[2 * i + 1];
		const char *nearest;
		unsigned last = last_line(value);
		if (!pc_diag_code_known(k->str, &nearest)) {
			struct pc_diag *d = pol_diag(l, PC_SEV_ERROR, "acknowledge-code", k,
					"'%s' is not a diagnostic code", k->str);
			if (nearest)
				pc_diag_hint(d, "did you mean '%s'?", nearest);
			else
				pc_diag_hint(d, "the code is the word in brackets after a "
						"finding, e.g. [registry-conflict]");
			continue;
		}
		if (v->kind != PC_Y_SCALAR || v->len == 0 || !v->str[strspn(v->str, " \t\r\n")] ||
				(v->plain && (!strcmp(v->str, "~") || !strcmp(v->str, "null")))) {
			struct pc_diag *d = pol_diag(l, PC_SEV_ERROR, "acknowledge-reason", v,
					"acknowledging '%s' needs a reason", k->str);
			pc_diag_hint(d, "say why the finding is expected here: %s: \"WHY\"",
					k->str);
			continue;
		}
		struct pc_ack a = {k->str, v->str, loc_of(l, k), on->line, last, service, 0};
		l->p->acks = pc_grow(l->p->acks, l->p->nacks, sizeof(*l->p->acks));
		l->p->acks[l->p->nacks++] = a;
	}
}

/* ---- sections --------------------------------------------------------- */

/* A port of a definition that meets one listed before it, on a protocol of both. */
static void port_duplicate(struct loader *l, const struct pc_service_def *def,
		const struct pc_ynode *n, const struct pc_service_port *o)
{
	char had[16];

	if (o->lo == o->hi)
		snprintf(had, sizeof(had), "%u", o->lo);
	else
		snprintf(had, sizeof(had), "%u-%u", o->lo, o->hi);
	if (!strcmp(had, n->str)) {
		pol_diag(l, PC_SEV_ERROR, "service-port-duplicate", n,
				"'%s' lists %s twice for one protocol", def->name, n->str);
		return;
	}
	pol_diag(l, PC_SEV_ERROR, "service-port-duplicate", n,
			"'%s' lists %s, which overlaps %s (at %u:%u), for one protocol", def->name,
			n->str, had, o->loc.line, o->loc.col);
}

/* Ports a list may have before read_def_ports() stops comparing each with those before it. */
#define DEF_PORTS_COMPARED 32

/*
 * The first of def's ports that pt overlaps on a protocol of pt's, or NULL.
 * With `owner` (a list of many ports): only the ports of the list being
 * read can (the lists read before it are on other protocols), and owner[p]
 * holds the index + 1 in def->ports of the one that has port p.
 */
static struct pc_service_port *def_overlap(
		struct pc_service_def *def, const struct pc_service_port *pt, const uint32_t *owner)
{
	if (!owner) {
		for (size_t j = 0; j < def->nports; j++) {
			struct pc_service_port *o = &def->ports[j];
			if (o->lo <= pt->hi && pt->lo <= o->hi && (o->protos & pt->protos))
				return o;
		}
		return NULL;
	}
	uint32_t first = 0;
	for (uint32_t p = pt->lo; p <= pt->hi; p++)
		if (owner[p] && (!first || owner[p] < first))
			first = owner[p];
	return first ? &def->ports[first - 1] : NULL;
}

/* A port, a range, or a list of them, each on the protocols `protos`; false after an error. */
static bool read_def_ports(struct loader *l, const struct pc_ynode *n, unsigned protos,
		struct pc_service_def *def)
{
	size_t k, size = 65536 * sizeof(uint32_t);
	const struct pc_ynode *const *items = want_items(l, n, "port", &k);
	/* Many ports: each is looked up by its numbers, not compared with every other. */
	uint32_t *owner = items && k > DEF_PORTS_COMPARED ? pc_zpages(size) : NULL;
	bool ok = items != NULL;

	for (size_t i = 0; ok && i < k; i++) {
		struct pc_service_port pt = {.protos = protos, .loc = loc_of(l, items[i])};
		if (pol_port_range(l, items[i], &pt.lo, &pt.hi) < 0) {
			ok = false;
			break;
		}
		const struct pc_service_port *o = def_overlap(def, &pt, owner);
		if (o) {
			port_duplicate(l, def, items[i], o);
			ok = false;
			break;
		}
		def->ports = pc_grow(def->ports, def->nports, sizeof(*def->ports));
		def->ports[def->nports++] = pt;
		for (uint32_t p = pt.lo; owner && p <= pt.hi; p++)
			owner[p] = (uint32_t)def->nports;
	}
	pc_zpages_free(owner, size);
	return ok;
}

/* {port: P | [P, ...], protocol: ...} or {tcp: P | [P, ...], udp: ...}; false after an error. */
static bool read_def_port_map(struct loader *l, const struct pc_ynode *k, const struct pc_ynode *v,
		struct pc_service_def *def)
{
	static const char *const protos[] = {"tcp", "udp", "sctp", "dccp", NULL};
	const struct pc_ynode *port = pc_ynode_get(v, "port");
	const struct pc_ynode *proto = pc_ynode_get(v, "protocol");
	bool per_proto = false, ok = true;

	for (int i = 0; protos[i]; i++) {
		const struct pc_ynode *pv = pc_ynode_get(v, protos[i]);
		if (!pv)
			continue;
		if (port || proto) {
			struct pc_diag *d = pol_diag(l, PC_SEV_ERROR, "schema-value", pv,
					"service '%s' lists its ports either with `port:` and "
					"`protocol:` or per protocol, not both",
					k->str);
			pc_diag_hint(d, "e.g. {tcp: 88, udp: [88, 750]}");
			return false;
		}
		per_proto = true;
		ok &= read_def_ports(l, pv, 1u << (i + 1), def);
	}
	if (per_proto)
		return ok;
	if (!port) {
		struct pc_diag *d = pol_diag(l, PC_SEV_ERROR, "schema-missing", k,
				"service '%s' needs a port", k->str);
		pc_diag_hint(d, "write {port: 88, protocol: tcp}, {port: [88, 750], protocol: "
				"[tcp, udp]} or {tcp: 88, udp: [88, 750]}; a group is a list of "
				"services");
		return false;
	}
	if (!proto) {
		pol_diag(l, PC_SEV_ERROR, "schema-missing", k,
				"service '%s' needs a protocol (tcp, udp, sctp or dccp)", k->str);
		return false;
	}
	unsigned mask = pol_protocols(l, proto, "protocol");
	return mask && read_def_ports(l, port, mask, def);
}

/* A group: the services it names (names, PORT/PROTO), as written. */
static bool read_def_group(struct loader *l, const struct pc_ynode *n, struct pc_service_def *def)
{
	size_t k;
	const struct pc_ynode *const *items = want_items(l, n, "a service group", &k);

	if (!items)
		return false;
	def->members = aalloc(l, k * sizeof(*def->members));
	for (size_t i = 0; i < k; i++)
		def->members[i] = (struct pc_rule_service){items[i]->str, loc_of(l, items[i])};
	def->nmembers = k;
	return true;
}

static void read_services(struct loader *l, const struct pc_ynode *map)
{
	static const char *const keys[] = {"acknowledge", "dccp", "note", "port", "protocol",
			"sctp", "tcp", "udp", NULL};
	static const char *const group_keys[] = {"acknowledge", "group", "note", NULL};

	if (!want(l, map, PC_Y_MAP, "registry.services"))
		return;
	for (size_t i = 0; i < map->n; i++) {
		const struct pc_ynode *k = map->items[2 * i], *v = map->items[2 * i + 1];
		struct pc_service_def def = {.name = k->str, .loc = loc_of(l, k)};
		bool ok = true;

		ok = pc_service_name_ok(k->str);
		if (!ok) {
			pol_diag(l, PC_SEV_ERROR, "service-name", k,
					"'%s' is not a service name (a letter, then letters, digits, "
					"'-' or '_'; at most %d characters)",
					k->str, PC_MAX_NAME - 1);
			continue;
		}
		if (v->kind == PC_Y_SEQ) {
			if (!read_def_group(l, v, &def))
				continue;
			goto keep;
		}
		if (!want(l, v, PC_Y_MAP, "a service definition"))
			continue;
		const struct pc_ynode *group = pc_ynode_get(v, "group");
		check_keys(l, v, group ? group_keys : keys,
				group ? "a service group" : "a service definition");
		if (group ? !read_def_group(l, group, &def) : !read_def_port_map(l, k, v, &def)) {
			free(def.ports);
			continue;
		}
		const struct pc_ynode *note = pc_ynode_get(v, "note");
		if (note) {
			if (!want(l, note, PC_Y_SCALAR, "note")) {
				free(def.ports);
				continue;
			}
			def.note = note->str;
		}
		const struct pc_ynode *ack = pc_ynode_get(v, "acknowledge");
		if (ack)
			read_acks(l, ack, k, v, k->str);
	keep:
		l->p->services = pc_grow(l->p->services, l->p->nservices, sizeof(*l->p->services));
		l->p->services[l->p->nservices++] = def;
	}
}

static char *dir_join(const char *base_file, const char *rel);

/*
 * registry.kdc-conf (MIT) or registry.heimdal-conf: the KDC's configuration,
 * a relative path taken relative to the policy file; registry.realm: the
 * realm whose ports count.
 */
static void read_kdc_conf(struct loader *l, const struct pc_ynode *map, bool included)
{
	const struct pc_ynode *mit = pc_ynode_get(map, "kdc-conf");
	const struct pc_ynode *heimdal = pc_ynode_get(map, "heimdal-conf");
	const struct pc_ynode *realm = pc_ynode_get(map, "realm");
	const struct pc_ynode *conf = mit ? mit : heimdal;

	if (included && (conf || realm)) {
		pol_diag(l, PC_SEV_ERROR, "include-scope", conf ? conf : realm,
				"the KDC configuration belongs in the policy itself, not in an "
				"included file");
		return;
	}
	if (mit && heimdal) {
		struct pc_diag *d = pol_diag(l, PC_SEV_ERROR, "schema-value", heimdal,
				"registry has kdc-conf already: one KDC configuration per policy");
		pc_diag_hint(d, "kdc-conf is MIT's kdc.conf, heimdal-conf Heimdal's: keep one");
		return;
	}
	if (realm && !conf) {
		struct pc_diag *d = pol_diag(l, PC_SEV_ERROR, "schema-missing", realm,
				"registry.realm names a realm of the KDC configuration, and there is "
				"none");
		pc_diag_hint(d, "add registry.kdc-conf: /etc/krb5kdc/kdc.conf");
		return;
	}
	if (!conf)
		return;
	const char *path = want_text(l, conf, conf == mit ? "kdc-conf" : "heimdal-conf");
	const char *r = realm ? want_text(l, realm, "realm") : NULL;
	if (!path || (realm && !r))
		return;
	char *joined = dir_join(l->doc->file, path);
	l->p->kdc.path = adup(l, joined);
	free(joined);
	l->p->kdc.label = path;
	l->p->kdc.realm = r;
	l->p->kdc.flavor = conf == mit ? PC_KDC_MIT : PC_KDC_HEIMDAL;
	l->p->kdc_loc = loc_of(l, conf);
}

static void read_registry(struct loader *l, const struct pc_ynode *map, bool included)
{
	static const char *const keys[] = {
			"heimdal-conf", "kdc-conf", "layers", "realm", "services", NULL};
	/* The layers a policy may choose: every one but its own definitions. */
	const char *layer_names[PC_LAYER_COUNT + 1] = {NULL};
	enum pc_layer_kind layer_kinds[PC_LAYER_COUNT];
	size_t nlayers = 0;

	for (int k = 0; k < PC_LAYER_COUNT; k++) {
		const struct pc_layer_def *def = pc_layer_def((enum pc_layer_kind)k);
		if (!(def->flags & (PC_LAYER_F_DEFINED | PC_LAYER_F_CONFIG))) {
			layer_kinds[nlayers] = (enum pc_layer_kind)k;
			layer_names[nlayers++] = def->name;
		}
	}

	if (!want(l, map, PC_Y_MAP, "registry"))
		return;
	check_keys(l, map, keys, "registry");
	const struct pc_ynode *layers = pc_ynode_get(map, "layers");
	if (layers && included) {
		pol_diag(l, PC_SEV_ERROR, "include-scope", layers,
				"registry.layers belongs in the policy itself, not in an included file");
	} else if (layers) {
		size_t n;
		const struct pc_ynode *const *items = want_items(l, layers, "registry.layers", &n);
		l->p->layers_given = true;
		for (size_t i = 0; items && i < n; i++) {
			int k = want_choice(l, items[i], "a registry layer", layer_names);
			if (k >= 0)
				l->p->layers |= 1u << layer_kinds[k];
		}
	}
	const struct pc_ynode *services = pc_ynode_get(map, "services");
	if (services)
		read_services(l, services);
	read_kdc_conf(l, map, included);
}

/*
 * NAME: {members: [...], file: PATH, acknowledge: {...}}: the members (NULL
 * when there are none, or after an error), and in `*file` the list file's
 * node (NULL: none).
 */
static const struct pc_ynode *network_members(struct loader *l, const struct pc_ynode *k,
		const struct pc_ynode *v, const struct pc_ynode **file)
{
	static const char *const keys[] = {"acknowledge", "file", "members", NULL};
	const struct pc_ynode *members = pc_ynode_get(v, "members");
	const struct pc_ynode *ack = pc_ynode_get(v, "acknowledge");

	*file = pc_ynode_get(v, "file");
	check_keys(l, v, keys, "a network");
	if (ack)
		read_acks(l, ack, k, v, NULL);
	if (!members && !*file) {
		struct pc_diag *d = pol_diag(l, PC_SEV_ERROR, "schema-missing", k,
				"network '%s' needs its members or a list file", k->str);
		pc_diag_hint(d,
				"write %s: {members: [192.0.2.0/24]}, %s: [192.0.2.0/24], or %s: "
				"{file: lists/%s.txt}",
				k->str, k->str, k->str, k->str);
	}
	return members;
}

static int open_named(struct pc_policy_state *st, const char *path, char *real, struct stat *fst,
		struct include_memo *m, struct pc_diags *diags, const struct pc_ynode *from,
		const char *from_file, const struct author *from_author);
static const char *unreadable_why(int err);
static const char *special_dir(const char *path);
static void check_owner(const struct stat *st, const char *path, struct pc_diags *diags,
		const struct pc_ynode *from, const char *from_file);

/*
 * A network's `file:`: the list file is opened now, checked as an include
 * is (owner, permissions, links, special files), and read when the policy
 * is resolved.  Returns its index + 1 (one that failed too: said, and then
 * read as empty), or 0 when the value is not a path.
 */
static size_t open_list(struct loader *l, const struct pc_ynode *n)
{
	struct pc_policy_state *st = l->p->state;
	const char *text = want_text(l, n, "file");
	char real[PATH_MAX];
	const char *sp;

	if (!text)
		return 0;
	if (st->nlists >= PC_LIST_MAX_FILES) {
		struct pc_diag *d = pol_diag(l, PC_SEV_ERROR, "list-limit", n,
				"more than %d list files: a policy reads at most %d",
				PC_LIST_MAX_FILES, PC_LIST_MAX_FILES);
		pc_diag_hint(d, "join lists into fewer files");
		return 0;
	}
	st->lists = pc_grow(st->lists, st->nlists, sizeof(*st->lists));
	struct list_src *ls = &st->lists[st->nlists++];
	char *path = dir_join(l->doc->file, text);
	memset(ls, 0, sizeof(*ls));
	ls->path = adup(l, path);
	ls->loc = loc_of(l, n);
	ls->fd = -1;
	pc_buf_init(&ls->text);
	free(path);
	if (st->reader) {
		ls->through = true;
		if (st->reader(st->reader_arg, ls->path, real, &ls->text) < 0) {
			pol_diag(l, PC_SEV_ERROR, "include-read", n, "cannot read '%s': %s",
					ls->path, strerror(errno));
			ls->failed = true;
		} else if (ls->text.len > PC_LIST_MAX_BYTES) {
			pol_diag(l, PC_SEV_ERROR, "list-limit", n,
					"'%s' is larger than %u MiB: a list file holds at most that",
					ls->path, PC_LIST_MAX_BYTES >> 20);
			ls->failed = true;
		}
	} else if ((sp = special_dir(ls->path))) {
		struct pc_diag *d = pol_diag(l, PC_SEV_ERROR, "include-refused", n,
				"'%s' is not read: it is under %s: list files are read from "
				"ordinary files only",
				ls->path, sp);
		pc_diag_hint(d, "copy the list into a file of its own");
		ls->failed = true;
	} else {
		ls->fd = open_named(st, ls->path, real, &ls->st, NULL, l->diags, n, l->doc->file,
				&l->author);
		if (ls->fd < 0) {
			ls->failed = true;
		} else if ((uintmax_t)ls->st.st_size > PC_LIST_MAX_BYTES) {
			pol_diag(l, PC_SEV_ERROR, "list-limit", n,
					"'%s' is larger than %u MiB: a list file holds at most that",
					ls->path, PC_LIST_MAX_BYTES >> 20);
			ls->failed = true;
		} else {
			check_owner(&ls->st, ls->path, l->diags, n, l->doc->file);
		}
	}
	if (ls->failed) {
		if (ls->fd >= 0)
			close(ls->fd);
		ls->fd = -1;
		pc_buf_finish(&ls->text);
	}
	return st->nlists;
}

static void read_networks(struct loader *l, const struct pc_ynode *map)
{
	/* One mapping has no duplicate keys (the YAML reader refuses them): compare
	 * with the networks of the files read before this one only. */
	size_t before = l->p->nnetworks;

	if (!want(l, map, PC_Y_MAP, "networks"))
		return;
	for (size_t i = 0; i < map->n; i++) {
		const struct pc_ynode *k = map->items[2 * i], *v = map->items[2 * i + 1];
		size_t n;

		if (!identifier_ok(k->str, 63)) {
			pol_diag(l, PC_SEV_ERROR, "network-name", k,
					"'%s' is not a network name (a letter, then letters, digits, "
					"'-' or '_'; at most 63 characters)",
					k->str);
			continue;
		}
		for (size_t j = 0; j < before; j++) {
			if (strcmp(l->p->networks[j].name, k->str))
				continue;
			pol_diag(l, PC_SEV_ERROR, "network-duplicate", k,
					"network '%s' is already defined (%s:%u:%u)", k->str,
					l->p->networks[j].loc.file, l->p->networks[j].loc.line,
					l->p->networks[j].loc.col);
			goto next;
		}
		const struct pc_ynode *file = NULL;
		const struct pc_ynode *list =
				v->kind == PC_Y_MAP ? network_members(l, k, v, &file) : v;
		/* A run stays as the text holds it: no node or string per address. */
		const struct pc_yrun *run = list && list->packed ? list->run : NULL;
		const struct pc_ynode *const *items =
				list && !run ? want_items(l, list, "a network", &n) : NULL;
		if (!run && !items && (list || !file))
			continue;
		if (!items)
			n = 0;
		size_t li = file ? open_list(l, file) : 0;
		if (file && !li)
			continue;
		struct pc_network net = {.name = adup(l, k->str),
				.loc = loc_of(l, k),
				.list = li,
				.run = run};
		net.members = aalloc(l, n * sizeof(*net.members));
		for (size_t j = 0; j < n; j++)
			net.members[j] = (struct pc_peer){items[j]->str, loc_of(l, items[j])};
		net.nmembers = n;
		l->p->networks = pc_grow(l->p->networks, l->p->nnetworks, sizeof(*l->p->networks));
		l->p->networks[l->p->nnetworks++] = net;
	next:;
	}
}

/*
 * `neighbour-discovery: drop`: IPv6 then reaches no neighbour, whatever the
 * rules allow, so it is said at the key (RFC 4861; RFC 4890 lists it among
 * what a host must not drop).
 */
static void read_neighbour_discovery(struct loader *l, const struct pc_ynode *map)
{
	static const char *const choices[] = {"accept", "drop", NULL};
	const struct pc_ynode *v = pc_ynode_get(map, "neighbour-discovery");
	int k;

	if (!v || (k = want_choice(l, v, "defaults.neighbour-discovery", choices)) < 0)
		return;
	l->p->defaults.neighbour_discovery = k == 0;
	l->p->defaults.neighbour_discovery_loc = loc_of(l, v);
	if (k == 0)
		return;
	struct pc_diag *d = pol_diag(l, PC_SEV_WARNING, "nd-dropped", v,
			"neighbour discovery is dropped (ICMPv6 router and neighbour solicitations "
			"and advertisements, in input and output): this host finds no IPv6 "
			"neighbour, so no IPv6 traffic reaches it, leaves it or crosses it but on "
			"lo, whatever the rules allow");
	pc_diag_hint(d, "remove `neighbour-discovery: drop` to keep IPv6 working; neighbour "
			"discovery never leaves the link");
}

static void read_defaults(struct loader *l, const struct pc_ynode *map)
{
	static const char *const keys[] = {"established", "forward", "icmp", "input", "loopback",
			"neighbour-discovery", "output", NULL};
	static const char *const verdicts[] = {"accept", "drop", NULL};
	static const char *const onoff[] = {"accept", "none", NULL};
	static const char *const icmp[] = {"essential", "all", "none", NULL};
	const struct pc_ynode *v;
	int k;

	if (!want(l, map, PC_Y_MAP, "defaults"))
		return;
	check_keys(l, map, keys, "defaults");
	if ((v = pc_ynode_get(map, "input")) &&
			(k = want_choice(l, v, "defaults.input", verdicts)) >= 0)
		l->p->defaults.input = (enum pc_verdict)k;
	if ((v = pc_ynode_get(map, "forward")) &&
			(k = want_choice(l, v, "defaults.forward", verdicts)) >= 0)
		l->p->defaults.forward = (enum pc_verdict)k;
	if ((v = pc_ynode_get(map, "output")) &&
			(k = want_choice(l, v, "defaults.output", verdicts)) >= 0)
		l->p->defaults.output = (enum pc_verdict)k;
	if ((v = pc_ynode_get(map, "established")) &&
			(k = want_choice(l, v, "defaults.established", onoff)) >= 0)
		l->p->defaults.established = k == 0;
	if ((v = pc_ynode_get(map, "loopback")) &&
			(k = want_choice(l, v, "defaults.loopback", onoff)) >= 0)
		l->p->defaults.loopback = k == 0;
	if ((v = pc_ynode_get(map, "icmp")) && (k = want_choice(l, v, "defaults.icmp", icmp)) >= 0)
		l->p->defaults.icmp = (enum pc_icmp)k;
	read_neighbour_discovery(l, map);
}

static struct pc_peer *read_peers(
		struct loader *l, const struct pc_ynode *n, const char *what, size_t *count)
{
	size_t k;
	const struct pc_ynode *const *items = want_items(l, n, what, &k);

	if (!items)
		return NULL;
	struct pc_peer *peers = aalloc(l, k * sizeof(*peers));
	for (size_t i = 0; i < k; i++)
		peers[i] = (struct pc_peer){items[i]->str, loc_of(l, items[i])};
	*count = k;
	return peers;
}

/* One interface name, or a wildcard ("eth*"). */
static bool interface_name_ok(struct loader *l, const struct pc_ynode *n)
{
	const char *s = n->str;
	size_t len = strlen(s), stem = len && s[len - 1] == '*' ? len - 1 : len;
	struct pc_diag *d;

	if (stem == 0 && len) {
		d = pol_diag(l, PC_SEV_ERROR, "rule-interface", n,
				"'*' alone is every interface, which a rule without `interface:` "
				"already means");
		pc_diag_hint(d, "leave `interface:` out, or write a stem: eth*");
		return false;
	}
	if (s[0] == '!') {
		d = pol_diag(l, PC_SEV_ERROR, "rule-interface", n,
				"'%s' is not an interface name; every interface but some is written "
				"with `not:`",
				s);
		pc_diag_hint(d, "interface: {not: %s}", s + 1);
		return false;
	}
	if (len > 15 || strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "0123456789._-") != stem) {
		pol_diag(l, PC_SEV_ERROR, "rule-interface", n,
				"'%s' is not an interface name (at most 15 letters, digits, "
				"'.', '_' or '-', and a final '*' for every name that begins so)",
				s);
		return false;
	}
	if (!strcmp(s, ".") || !strcmp(s, "..")) {
		pol_diag(l, PC_SEV_ERROR, "rule-interface", n,
				"'%s' is not an interface name: the kernel refuses '.' and '..', so "
				"the rule would match nothing",
				s);
		return false;
	}
	return true;
}

/* Whether name i of a list is one an earlier name or wildcard of it already matches, or the
 * reverse. */
static bool interface_repeated(struct loader *l, const struct pc_ynode *const *items, size_t i)
{
	const struct pc_ifaces b = {&items[i]->str, 1, false, {0}};

	for (size_t k = 0; k < i; k++) {
		const struct pc_ifaces a = {&items[k]->str, 1, false, {0}};
		if (!strcmp(items[k]->str, items[i]->str))
			pol_diag(l, PC_SEV_ERROR, "rule-interface", items[i],
					"interface '%s' is listed twice (first at %u:%u)",
					items[i]->str, items[k]->line, items[k]->col);
		else if (pc_ifaces_cover(&a, &b) || pc_ifaces_cover(&b, &a))
			pol_diag(l, PC_SEV_ERROR, "rule-interface", items[i],
					"'%s' and '%s' (at %u:%u) both match some interfaces: a list "
					"names each once",
					items[i]->str, items[k]->str, items[k]->line,
					items[k]->col);
		else
			continue;
		return true;
	}
	return false;
}

/*
 * `interface:` is a name, a wildcard ("eth*"), a list of names, or
 * `{not: ...}` (one of these) for every interface but those.
 */
static void read_interface(struct loader *l, const struct pc_ynode *v, struct pc_ifaces *out)
{
	static const char *const keys[] = {"not", NULL};
	struct pc_ifaces s = {.loc = loc_of(l, v)};
	size_t n;

	if (v->kind == PC_Y_MAP) {
		const struct pc_ynode *map = v;
		check_keys(l, map, keys, "interface");
		if (!(v = pc_ynode_get(map, "not"))) {
			struct pc_diag *d = pol_diag(l, PC_SEV_ERROR, "schema-missing", map,
					"interface: a mapping names the interfaces a rule is not on, "
					"under `not:`");
			pc_diag_hint(d, "interface: {not: [eth0, eth1]}");
			return;
		}
		s.negate = true;
	}
	const struct pc_ynode *const *items = want_items(l, v, "interface", &n);
	if (!items)
		return;
	if (n > PC_IFACES_MAX) {
		pol_diag(l, PC_SEV_ERROR, "rule-interface", v,
				"a rule names at most %d interfaces, not %zu", PC_IFACES_MAX, n);
		return;
	}
	const char **names = aalloc(l, n * sizeof(*names));
	for (size_t i = 0; i < n; i++) {
		if (!interface_name_ok(l, items[i]) || interface_repeated(l, items, i))
			return;
		names[s.n++] = items[i]->str;
	}
	s.names = names;
	*out = s;
}

static void read_rule(struct loader *l, const struct pc_ynode *map)
{
	static const char *const keys[] = {"acknowledge", "allow", "comment", "counter", "deny",
			"direction", "from", "interface", "limit", "log", "protocol", "reject",
			"to", NULL};
	static const char *const actions[] = {"allow", "deny", "reject"};
	static const char *const dirs[] = {"input", "output", "forward", NULL};
	struct pc_rule r = {.loc = loc_of(l, map)};
	const struct pc_ynode *svc = NULL, *v;
	int nact = 0;

	if (!want(l, map, PC_Y_MAP, "a rule"))
		return;
	check_keys(l, map, keys, "a rule");
	for (int a = 0; a < 3; a++) {
		if ((v = pc_ynode_get(map, actions[a]))) {
			if (nact++ == 0) {
				svc = v;
				r.action = (enum pc_action)a;
			} else {
				pol_diag(l, PC_SEV_ERROR, "rule-action", v,
						"a rule has one action; this one also says '%s'",
						actions[a]);
			}
		}
	}
	if (!svc) {
		struct pc_diag *d = pol_diag(l, PC_SEV_ERROR, "rule-action", map,
				"a rule needs an action: allow, deny or reject");
		pc_diag_hint(d, "e.g. `- allow: kerberos` with `from: clients`");
		return;
	}
	size_t n;
	const struct pc_ynode *const *items = want_items(l, svc, "the services of a rule", &n);
	if (items) {
		r.services = aalloc(l, n * sizeof(*r.services));
		for (size_t i = 0; i < n; i++)
			r.services[i] = (struct pc_rule_service){
					items[i]->str, loc_of(l, items[i])};
		r.nservices = n;
	}
	if ((v = pc_ynode_get(map, "protocol"))) {
		r.protos = pol_protocols(l, v, "protocol");
		r.protos_loc = loc_of(l, v);
	}
	if ((v = pc_ynode_get(map, "direction"))) {
		int k = want_choice(l, v, "direction", dirs);
		if (k >= 0)
			r.direction = (enum pc_direction)k;
	}
	if ((v = pc_ynode_get(map, "from"))) {
		if (r.direction == PC_DIR_OUTPUT)
			pol_diag(l, PC_SEV_ERROR, "rule-peer", v,
					"an output rule names destinations with `to:`, not `from:`");
		else
			r.from = read_peers(l, v, "from", &r.nfrom);
	}
	if ((v = pc_ynode_get(map, "to")))
		r.to = read_peers(l, v, "to", &r.nto);
	if ((v = pc_ynode_get(map, "interface")))
		read_interface(l, v, &r.interface);
	if ((v = pc_ynode_get(map, "limit"))) {
		if (pol_limit(l, v, &r.limit_rate, &r.limit_unit) == 0)
			r.flags |= PC_RULE_F_LIMIT;
	}
	if ((v = pc_ynode_get(map, "log")) && want_bool(l, v, "log") == 1)
		r.flags |= PC_RULE_F_LOG;
	if ((v = pc_ynode_get(map, "counter")) && want_bool(l, v, "counter") == 1)
		r.flags |= PC_RULE_F_COUNTER;
	if ((v = pc_ynode_get(map, "comment"))) {
		if (want(l, v, PC_Y_SCALAR, "comment"))
			r.comment = v->str;
	}
	if ((v = pc_ynode_get(map, "acknowledge")))
		read_acks(l, v, map, map, NULL);
	if (!r.nservices)
		return;
	l->p->rules = pc_grow(l->p->rules, l->p->nrules, sizeof(*l->p->rules));
	l->p->rules[l->p->nrules++] = r;
}

static void read_rules(struct loader *l, const struct pc_ynode *list)
{
	if (!want(l, list, PC_Y_SEQ, "rules"))
		return;
	if (list->n == 0) {
		struct pc_diag *d = pol_diag(
				l, PC_SEV_ERROR, "schema-empty", list, "rules is an empty list");
		pc_diag_hint(d, "a policy without rules only applies its defaults; say so with a "
				"rule, or remove the policy");
		return;
	}
	if (list->packed)
		pc_ydoc_unpack(l->doc, (struct pc_ynode *)list);
	for (size_t i = 0; i < list->n; i++)
		read_rule(l, list->items[i]);
}

/* ---- files and includes ----------------------------------------------- */

#define MAX_INCLUDE_DEPTH 8
#define MAX_FILES 128 /* the policy and its includes */
#define MAX_TOTAL_BYTES PC_YAML_MAX_BYTES /* the same, together */
#define MAX_INCLUDE_LISTINGS 1024 /* include listings, the whole policy together */
#define MAX_INCLUDE_STEPS 65536 /* path components walked for them, the same */

static int load_file(struct pc_policy *p, const char *path, const char *data, size_t len,
		bool included, unsigned depth, struct pc_diags *diags, const struct pc_ynode *from,
		const char *from_file, const struct author *from_author);

static char *dir_join(const char *base_file, const char *rel)
{
	if (rel[0] == '/')
		return xstrdup(rel);
	const char *slash = strrchr(base_file, '/');
	if (!slash)
		return xstrdup(rel);
	return xasprintf("%.*s/%s", (int)(slash - base_file), base_file, rel);
}

static void read_includes(struct loader *l, const struct pc_ynode *n)
{
	size_t k;
	const struct pc_ynode *const *items = want_items(l, n, "include", &k);

	for (size_t i = 0; items && i < k; i++) {
		struct pc_policy_state *st = l->p->state;
		if (++st->listings > MAX_INCLUDE_LISTINGS) {
			/* Said once: the listings past the bound are not looked at. */
			if (st->listings == MAX_INCLUDE_LISTINGS + 1) {
				struct pc_diag *d = pol_diag(l, PC_SEV_ERROR, "include-limit",
						items[i],
						"more than %d includes are listed in this policy "
						"and its includes together: this one and those "
						"after it are not read",
						MAX_INCLUDE_LISTINGS);
				pc_diag_hint(d, "list each file once");
			}
			return;
		}
		char *path = dir_join(l->doc->file, items[i]->str);
		load_file(l->p, path, NULL, 0, true, l->depth + 1, l->diags, items[i], l->doc->file,
				&l->author);
		free(path);
	}
}

static void read_document(struct loader *l, const struct pc_ynode *root, bool included)
{
	static const char *const keys[] = {"defaults", "description", "include", "networks",
			"policy", "registry", "rules", "version", NULL};
	static const char *const include_keys[] = {
			"description", "include", "networks", "registry", "version", NULL};
	const struct pc_ynode *v;

	if (!want(l, root, PC_Y_MAP, "a policy"))
		return;
	check_keys(l, root, included ? include_keys : keys,
			included ? "an included file" : "a policy");
	if ((v = pc_ynode_get(root, "version"))) {
		const char *s = want_text(l, v, "version");
		if (s && strcmp(s, "1")) {
			struct pc_diag *d = pol_diag(l, PC_SEV_ERROR, "schema-version", v,
					"unknown policy version '%s'", s);
			pc_diag_hint(d, "this portcullis reads version 1");
		}
	} else if (!included) {
		struct pc_diag *d = pol_diag(l, PC_SEV_ERROR, "schema-missing", root,
				"a policy needs `version: 1`");
		pc_diag_hint(d, "start the file with `version: 1`");
	}
	if (!included) {
		if ((v = pc_ynode_get(root, "policy"))) {
			const char *s = want_text(l, v, "policy");
			if (s && !identifier_ok(s, 63))
				pol_diag(l, PC_SEV_ERROR, "policy-name", v,
						"'%s' is not a policy name (a letter, then letters, "
						"digits, '-' or '_'; at most 63 characters)",
						s);
			else if (s) {
				l->p->name = s;
				l->p->loc = loc_of(l, v);
			}
		} else {
			pol_diag(l, PC_SEV_ERROR, "schema-missing", root,
					"a policy needs a name: `policy: NAME`");
		}
		if ((v = pc_ynode_get(root, "description")) &&
				want(l, v, PC_Y_SCALAR, "description"))
			l->p->description = v->str;
	}
	if ((v = pc_ynode_get(root, "include")))
		read_includes(l, v);
	if ((v = pc_ynode_get(root, "registry")))
		read_registry(l, v, included);
	if ((v = pc_ynode_get(root, "networks")))
		read_networks(l, v);
	if (included)
		return;
	if ((v = pc_ynode_get(root, "defaults")))
		read_defaults(l, v);
	if ((v = pc_ynode_get(root, "rules")))
		read_rules(l, v);
	else
		pol_diag(l, PC_SEV_ERROR, "schema-missing", root, "a policy needs `rules:`");
}

/*
 * Whoever can write the policy can change the firewall: a file every user
 * may write, or one that belongs to neither the caller nor root, is said
 * (a warning; an error under --strict).
 */
static void check_owner(const struct stat *st, const char *path, struct pc_diags *diags,
		const struct pc_ynode *from, const char *from_file)
{
	struct pc_diag *d = NULL;
	const char *file = from ? from_file : path;
	unsigned line = from ? from->line : 0, col = from ? from->col : 0;

	if (st->st_mode & S_IWOTH) {
		d = pc_diag_add(diags, PC_SEV_WARNING, "policy-permissions", file, line, col,
				"'%s' can be changed by every user of this host (mode %04o), and with "
				"it the firewall",
				path, (unsigned)(st->st_mode & 07777));
		pc_diag_hint(d, "chmod o-w '%s'", path);
	} else if (st->st_uid != 0 && st->st_uid != geteuid()) {
		d = pc_diag_add(diags, PC_SEV_WARNING, "policy-owner", file, line, col,
				"'%s' belongs to uid %u, neither you nor root: that user can change "
				"the firewall",
				path, (unsigned)st->st_uid);
		pc_diag_hint(d, "keep policies owned by root, or by whoever applies them");
	}
}

/* The author of a file with `st`: see struct author. */
static struct author author_of(const struct stat *st)
{
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return (struct author){AUTHOR_WRITERS, st->st_uid, st->st_mode};
	return (struct author){AUTHOR_OWNER, st->st_uid, st->st_mode};
}

/* Whether `path` lies in (or is) the directory `top`. */
static bool under(const char *path, const char *top)
{
	size_t n = strlen(top);

	return !strncmp(path, top, n) && (path[n] == '\0' || path[n] == '/');
}

static bool others_may_write(const struct stat *dir)
{
	return dir->st_mode & (S_ISVTX | S_IWGRP | S_IWOTH);
}

/*
 * A reader an include must be readable by: a user, or every user (EVERYONE).
 * Groups are not counted: a user reads through the owner bits of what they
 * own, through the other bits of the rest.
 */
#define EVERYONE ((uid_t)-1)

static bool exempt(uid_t uid)
{
	return uid != EVERYONE && (uid == 0 || uid == geteuid());
}

static bool can_read(uid_t uid, const struct stat *st)
{
	if (exempt(uid))
		return true;
	return (uid != EVERYONE && st->st_uid == uid) ? st->st_mode & S_IRUSR
						      : st->st_mode & S_IROTH;
}

/* The first directory on the way that `uid` may not search, or NULL. */
static const struct pc_walk_dir *unreachable(uid_t uid, const struct pc_walk *w)
{
	if (exempt(uid))
		return NULL;
	for (size_t i = 0; i < w->ndirs; i++) {
		const struct pc_walk_dir *d = &w->dirs[i];
		bool x = (uid != EVERYONE && d->uid == uid) ? d->mode & S_IXUSR : d->mode & S_IXOTH;
		if (!x)
			return d;
	}
	return NULL;
}

/* The directory of /proc, /sys and /dev that `path` lies in, or NULL. */
static const char *special_dir(const char *path)
{
	static const char *const special[] = {"/proc", "/sys", "/dev"};

	for (size_t i = 0; i < PC_ARRAY_SIZE(special); i++)
		if (under(path, special[i]))
			return special[i];
	return NULL;
}

static uint32_t hash_of(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static bool same_author(const struct author *a, const struct author *b)
{
	return a->kind == b->kind && (a->kind != AUTHOR_OWNER || a->uid == b->uid);
}

static struct include_memo *memo_find(
		struct pc_policy_state *st, const char *path, const struct author *author)
{
	uint32_t h = hash_of(path);

	for (size_t i = 0; i < st->nmemo; i++) {
		struct include_memo *m = &st->memo[i];
		if (m->hash == h && same_author(&m->author, author) && !strcmp(m->path, path))
			return m;
	}
	return NULL;
}

static struct include_memo *memo_add(
		struct pc_policy_state *st, const char *path, const struct author *author)
{
	st->memo = pc_grow(st->memo, st->nmemo, sizeof(*st->memo));
	struct include_memo *m = &st->memo[st->nmemo++];
	*m = (struct include_memo){hash_of(path), xstrdup(path), *author, NULL, NULL, NULL, NULL};
	return m;
}

/* An error at an include, kept in `m` (when given) for the next listing of it. */
static void include_error(struct include_memo *m, struct pc_diags *diags, const char *code,
		const struct pc_ynode *from, const char *from_file, char *msg, const char *hint)
{
	struct pc_diag *d = pc_diag_add(
			diags, PC_SEV_ERROR, code, from_file, from->line, from->col, "%s", msg);

	if (hint)
		pc_diag_hint(d, "%s", hint);
	if (m) {
		m->code = code;
		m->msg = msg;
		m->hint = hint ? xstrdup(hint) : NULL;
	} else {
		free(msg);
	}
}

/* What a link met on the way to an include tells. */
struct include_links {
	uid_t owners[PC_WALK_MAX_LINKS + 1];
	size_t n;
};

/*
 * A link in a sticky, group- or world-writable directory must belong to the
 * caller or to the directory's owner (another user may have planted it).
 * The owner of a link followed must be able to read the file too.
 */
static bool include_link_ok(const struct stat *link, const struct stat *dir, void *arg)
{
	struct include_links *links = arg;

	if (pc_walk_link_planted(link, dir))
		return false;
	if (links->n < PC_ARRAY_SIZE(links->owners))
		links->owners[links->n++] = link->st_uid;
	return true;
}

/*
 * Whether an include may be read, and if not why (allocated).  What an
 * include holds reaches the diagnostics (a source line under an error, a key
 * or an address quoted in a message), so nothing is read on the word of
 * someone who could not read it: the author of the including file (see
 * struct author), the owner of each symbolic link on the way and of the
 * directory that holds the file must be able to read it and to search every
 * directory on the way (or be the caller, or root); a file with other hard
 * links in a directory others can write may have been linked there by
 * anyone.  `st` is the file as opened, so what is checked is what is read.
 */
static char *include_refused(const struct stat *st, const struct pc_walk *w,
		const struct include_links *links, const struct author *author)
{
	uid_t readers[PC_WALK_MAX_LINKS + 3];
	const char *whose[PC_WALK_MAX_LINKS + 3];
	size_t n = 0;
	const char *dir = w->real.len ? w->real.data : "/";

	if (st->st_nlink > 1 && others_may_write(&w->dir))
		return xasprintf("it has %u hard links and lies in '%s', a directory other users "
				 "can write (mode %04o): anyone there could have linked it",
				(unsigned)st->st_nlink, dir, (unsigned)(w->dir.st_mode & 07777));
	if (author->kind != AUTHOR_CALLER) {
		readers[n] = author->kind == AUTHOR_OWNER ? author->uid : EVERYONE;
		whose[n++] = "owns the including file";
	}
	for (size_t i = 0; i < links->n; i++) {
		readers[n] = links->owners[i];
		whose[n++] = "owns a symbolic link to it";
	}
	readers[n] = w->dir.st_uid;
	whose[n++] = "owns the directory that holds it";
	for (size_t i = 0; i < n; i++) {
		const struct pc_walk_dir *d = NULL;
		bool readable = can_read(readers[i], st);
		if (readable && !(d = unreachable(readers[i], w)))
			continue;
		bool all = readers[i] == EVERYONE;
		char *what = readable ? xasprintf("%s: a directory on the way is not searchable for %s "
						  "(owner uid %u, mode %04o)",
							all ? "not every user can reach it"
							    : "cannot reach it",
							all ? "every user" : "them",
							(unsigned)d->uid,
							(unsigned)(d->mode & 07777))
				      : xasprintf("%s (owner uid %u, mode %04o)",
							all ? "not every user can read it"
							    : "cannot read it",
							(unsigned)st->st_uid,
							(unsigned)(st->st_mode & 07777));
		char *why;
		if (!all)
			why = xasprintf("uid %u, who %s, %s", (unsigned)readers[i], whose[i], what);
		else if (author->kind == AUTHOR_STDIN)
			why = xasprintf("a policy on standard input may come from any user, so "
					"its includes are read only if every user can read "
					"them; %s",
					what);
		else
			why = xasprintf("the including file can be written by users other than "
					"its owner (mode %04o), so its includes are read only if "
					"every user can read them; %s",
					(unsigned)(author->mode & 07777), what);
		free(what);
		return why;
	}
	return NULL;
}

/*

 * Whether the include `real` was met before: -2 when it is being read (a
 * cycle, said), 1 when it was read (a diamond: nothing to do again), -1 past
 * the number of files (said); 0 to read it.
 */
static int read_before(struct pc_policy_state *st, const char *path, const char *real,
		struct pc_diags *diags, const struct pc_ynode *from, const char *from_file)
{
	/* A file already on the way here includes itself, through however many others. */
	for (size_t i = 0; i < st->nopen; i++) {
		if (strcmp(st->open[i], real))
			continue;
		pc_diag_add(diags, PC_SEV_ERROR, "include-cycle", from_file, from->line, from->col,
				"'%s' is already being read: includes must not form a cycle", path);
		return -2;
	}
	/* Read already: its networks and services are in (a diamond). */
	for (size_t i = 0; i < st->nseen; i++)
		if (!strcmp(st->seen[i], real))
			return 1;
	if (st->nseen >= MAX_FILES) {
		struct pc_diag *d = pc_diag_add(diags, PC_SEV_ERROR, "include-limit", from_file,
				from->line, from->col,
				"'%s' would be file %d of this policy: a policy and its includes "
				"are at most %d files",
				path, MAX_FILES + 1, MAX_FILES);
		pc_diag_hint(d, "merge small includes into fewer files");
		return -1;
	}
	return 0;
}

/*
 * Reads the policy or an include through the caller's reader (a revision
 * in git): no file system, so no owners, modes or links to judge; cycles,
 * repeats and the limits as for files.  Returns as read_include().
 */
static int read_through(struct pc_policy_state *st, const char *path, char *real,
		struct pc_buf *buf, struct pc_diags *diags, const struct pc_ynode *from,
		const char *from_file)
{
	int r;

	pc_buf_init(buf);
	if (st->reader(st->reader_arg, path, real, buf) < 0) {
		int err = errno;
		pc_buf_finish(buf);
		if (!from) {
			pc_diag_add(diags, PC_SEV_ERROR, "io", path, 0, 0,
					"cannot read the policy: %s", strerror(err));
			st->io_error = true;
		} else {
			include_error(NULL, diags, "include-read", from, from_file,
					xasprintf("cannot read '%s': %s", path, strerror(err)),
					NULL);
		}
		return -1;
	}
	if (from && (r = read_before(st, path, real, diags, from, from_file)) != 0) {
		pc_buf_finish(buf);
		return r > 0 ? 1 : -1;
	}
	if (buf->len > MAX_TOTAL_BYTES - st->bytes) {
		pc_diag_add(diags, PC_SEV_ERROR, "include-limit", from ? from_file : path,
				from ? from->line : 0, from ? from->col : 0,
				"'%s' (%zu bytes) would bring the policy and its includes past "
				"%u MiB together",
				path, buf->len, MAX_TOTAL_BYTES >> 20);
		pc_buf_finish(buf);
		return -1;
	}
	st->seen = pc_grow(st->seen, st->nseen, sizeof(*st->seen));
	st->seen[st->nseen++] = xstrdup(real);
	return 0;
}

/* Why a file could not be read, as the diagnostics say it. */
static const char *unreadable_why(int err)
{
	return err == EFBIG    ? "larger than 16 MiB"
	       : err == EINVAL ? "not a regular file"
	       : err == EAGAIN ? "it changed while it was opened"
			       : strerror(err);
}

/*
 * Opens a file a policy names (an include, a list file) for reading, as
 * read_include() says: returns the descriptor, with the file as opened in
 * `fst` and its real path in `real`, or -1 after a diagnostic (kept in `m`
 * when given).
 */
static int open_named(struct pc_policy_state *st, const char *path, char *real, struct stat *fst,
		struct include_memo *m, struct pc_diags *diags, const struct pc_ynode *from,
		const char *from_file, const struct author *from_author)
{
	static const char *const not_mine = "include a file of your own, readable by the author "
					    "of the including file";
	static const char *const special = "copy what the policy needs into a file of its own";
	struct include_links links = {.n = 0};
	struct pc_walk w;
	struct stat lst;
	const char *sp;
	int err = 0, fd = -1, r;
	char *refusal = NULL;

	memset(&w, 0, sizeof(w));
	w.dirfd = -1;
	unsigned budget = st->steps < MAX_INCLUDE_STEPS ? MAX_INCLUDE_STEPS - st->steps : 0;
	for (r = pc_walk_start(&w, path, true,
			     budget < PC_WALK_MAX_STEPS ? budget : PC_WALK_MAX_STEPS,
			     include_link_ok, &links);
			r == PC_WALK_OK; r = pc_walk_follow(&w, &lst, include_link_ok, &links)) {
		if (!*w.name || !strcmp(w.name, ".") || !strcmp(w.name, "..")) {
			errno = EISDIR;
			r = PC_WALK_ERRNO;
			break;
		}
		if ((r = pc_walk_lstat(&w, &lst)) || !S_ISLNK(lst.st_mode))
			break;
	}
	st->steps += w.steps;
	if (r == PC_WALK_LINK) {
		const char *dir = w.shown.len ? w.shown.data : ".";
		refusal = xasprintf("%s is a symbolic link owned by uid %u in '%s', a directory "
				    "other users can write (mode %04o): anyone there could have "
				    "made it point anywhere",
				strcmp(w.link_shown, path) ? w.link_shown : "it",
				(unsigned)w.link.st_uid, dir, (unsigned)(w.dir.st_mode & 07777));
		goto refused;
	}
	if (r == PC_WALK_STEPS) {
		bool total = w.max_steps < PC_WALK_MAX_STEPS;
		include_error(m, diags, "include-limit", from, from_file,
				total ? xasprintf("'%s' is not read: the includes of this policy "
						  "would walk more than %d path components "
						  "together",
							path, MAX_INCLUDE_STEPS)
				      : xasprintf("'%s' is not read: resolving it walks more "
						  "than %d path components (those of the "
						  "symbolic links followed counted)",
							path, PC_WALK_MAX_STEPS),
				"name the file by a plainer path");
		pc_walk_finish(&w);
		return -1;
	}
	if (r != PC_WALK_OK) {
		err = errno;
		goto unreadable;
	}
	snprintf(real, PATH_MAX, "%s%s%s", w.real.data,
			w.real.len && w.real.data[w.real.len - 1] == '/' ? "" : "/", w.name);
	if ((sp = special_dir(real))) {
		refusal = xasprintf(
				"it is under %s: includes are read from ordinary files only", sp);
		pc_walk_finish(&w);
		include_error(m, diags, "include-refused", from, from_file,
				xasprintf("'%s' is not read: %s", path, refusal), special);
		free(refusal);
		return -1;
	}
	if (!S_ISREG(lst.st_mode)) {
		err = S_ISDIR(lst.st_mode) ? EISDIR : EINVAL;
		goto unreadable;
	}
	fd = openat(w.dirfd, w.name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0 || fstat(fd, fst) < 0) {
		err = errno;
		goto unreadable;
	}
	if (!S_ISREG(fst->st_mode) || fst->st_dev != lst.st_dev || fst->st_ino != lst.st_ino) {
		err = EAGAIN;
		goto unreadable;
	}
	if ((refusal = include_refused(fst, &w, &links, from_author)))
		goto refused;
	pc_walk_finish(&w);
	return fd;

refused:
	pc_walk_finish(&w);
	if (fd >= 0)
		close(fd);
	include_error(m, diags, "include-refused", from, from_file,
			xasprintf("'%s' is not read: %s", path, refusal), not_mine);
	free(refusal);
	return -1;

unreadable:
	pc_walk_finish(&w);
	if (fd >= 0)
		close(fd);
	include_error(m, diags, "include-read", from, from_file,
			xasprintf("cannot read '%s': %s", path, unreadable_why(err)), NULL);
	return -1;
}

/*
 * Reads an include into `buf`, its real path into `real` and its author into
 * `author`.  Returns 0; 1 for an include read before (nothing to do again);
 * -1 after a diagnostic.  The include is resolved once per way of writing
 * it (and author), one component at a time through directory descriptors
 * with a bounded number of components and links, and opened once, the
 * last component without following a link, and checked through that
 * descriptor.
 */
static int read_include(struct pc_policy_state *st, const char *path, char *real,
		struct pc_buf *buf, struct author *author, struct pc_diags *diags,
		const struct pc_ynode *from, const char *from_file,
		const struct author *from_author)
{
	static const char *const special = "copy what the policy needs into a file of its own";
	struct include_memo *m;
	struct stat fst;
	const char *sp;
	int err = 0, fd = -1, r;

	pc_buf_init(buf);
	if ((sp = special_dir(path))) {
		include_error(NULL, diags, "include-refused", from, from_file,
				xasprintf("'%s' is not read: it is under %s: includes are read from "
					  "ordinary files only",
						path, sp),
				special);
		return -1;
	}
	m = memo_find(st, path, from_author);
	if (m && m->msg) {
		include_error(NULL, diags, m->code, from, from_file, xstrdup(m->msg), m->hint);
		return -1;
	}
	if (m && m->real) {
		snprintf(real, PATH_MAX, "%s", m->real);
		goto resolved;
	}
	if (!m)
		m = memo_add(st, path, from_author);
	fd = open_named(st, path, real, &fst, m, diags, from, from_file, from_author);
	if (fd < 0)
		return -1;

resolved:
	if ((r = read_before(st, path, real, diags, from, from_file)) != 0) {
		if (r != -1 && !m->real)
			m->real = xstrdup(real);
		if (fd >= 0)
			close(fd);
		return r > 0 ? 1 : -1;
	}
	if ((uintmax_t)fst.st_size > PC_YAML_MAX_BYTES) {
		err = EFBIG;
		goto unreadable;
	}
	FILE *f = fdopen(fd, "r");
	if (!f) {
		err = errno;
		goto unreadable;
	}
	fd = -1;
	if (pc_read_stream(f, PC_YAML_MAX_BYTES, buf) < 0)
		err = errno;
	fclose(f);
	if (err)
		goto unreadable;
	if (buf->len > MAX_TOTAL_BYTES - st->bytes) {
		struct pc_diag *d = pc_diag_add(diags, PC_SEV_ERROR, "include-limit", from_file,
				from->line, from->col,
				"'%s' (%zu bytes) would bring the policy and its includes past "
				"%u MiB together",
				path, buf->len, MAX_TOTAL_BYTES >> 20);
		pc_diag_hint(d, "a policy and everything it includes are read as one");
		pc_buf_finish(buf);
		return -1;
	}
	*author = author_of(&fst);
	check_owner(&fst, path, diags, from, from_file);
	st->seen = pc_grow(st->seen, st->nseen, sizeof(*st->seen));
	st->seen[st->nseen++] = xstrdup(real);
	m->real = xstrdup(real);
	return 0;

unreadable:
	if (fd >= 0)
		close(fd);
	include_error(NULL, diags, "include-read", from, from_file,
			xasprintf("cannot read '%s': %s", path, unreadable_why(err)), NULL);
	pc_buf_finish(buf);
	return -1;
}

/* Reads the policy itself into `buf`, its real path into `real`; 0 or -1. */
static int read_policy(struct pc_policy_state *st, const char *path, char *real, struct pc_buf *buf,
		struct author *author, struct pc_diags *diags)
{
	struct stat fst;

	pc_buf_init(buf);
	if (!realpath(path, real) || pc_read_file(path, PC_YAML_MAX_BYTES, buf) < 0) {
		pc_diag_add(diags, PC_SEV_ERROR, "io", path, 0, 0, "cannot read the policy: %s",
				errno == EFBIG	  ? "larger than 16 MiB"
				: errno == EINVAL ? "not a regular file"
						  : strerror(errno));
		st->io_error = true;
		pc_buf_finish(buf);
		return -1;
	}
	if (stat(real, &fst) == 0) {
		*author = author_of(&fst);
		check_owner(&fst, path, diags, NULL, NULL);
	}
	st->seen = pc_grow(st->seen, st->nseen, sizeof(*st->seen));
	st->seen[st->nseen++] = xstrdup(real);
	return 0;
}

static int load_file(struct pc_policy *p, const char *path, const char *data, size_t len,
		bool included, unsigned depth, struct pc_diags *diags, const struct pc_ynode *from,
		const char *from_file, const struct author *from_author)
{
	struct pc_policy_state *st = p->state;
	struct pc_buf buf;
	char real[PATH_MAX];
	struct author author = {AUTHOR_CALLER, 0, 0};
	int ret = -1;

	pc_buf_init(&buf);
	if (depth > MAX_INCLUDE_DEPTH) {
		pc_diag_add(diags, PC_SEV_ERROR, "include-depth", from_file, from->line, from->col,
				"includes nested deeper than %d files", MAX_INCLUDE_DEPTH);
		return -1;
	}
	if (!data && !from && !strcmp(path, "-")) {
		/* A policy on standard input: labelled <stdin>, read up to the size limit. */
		if (pc_read_stream(stdin, PC_YAML_MAX_BYTES, &buf) < 0) {
			pc_diag_add(diags, PC_SEV_ERROR, "io", "<stdin>", 0, 0,
					"cannot read the policy: %s",
					errno == EFBIG ? "larger than 16 MiB" : strerror(errno));
			st->io_error = true;
			return -1;
		}
		path = "<stdin>";
		data = buf.data;
		len = buf.len;
		snprintf(real, sizeof(real), "<stdin>");
		author.kind = AUTHOR_STDIN;
	} else if (!data) {
		int r = st->reader ? read_through(st, path, real, &buf, diags, from, from_file)
			: from ? read_include(st, path, real, &buf, &author, diags, from, from_file,
						 from_author)
			       : read_policy(st, path, real, &buf, &author, diags);
		if (r != 0)
			return r > 0 ? 0 : -1;
		data = buf.data;
		len = buf.len;
	} else {
		snprintf(real, sizeof(real), "%s", path);
	}
	st->bytes += len;
	struct pc_ydoc *doc = xcalloc(1, sizeof(*doc));
	pc_ydoc_init(doc);
	st->docs = pc_grow(st->docs, st->ndocs, sizeof(*st->docs));
	st->docs[st->ndocs++] = doc;
	size_t before = diags->nerrors;
	/* The file read is handed to the document, not copied. */
	/* A file read by its name can be read again (pol_text_release()). */
	if (data == buf.data && !st->reader && author.kind != AUTHOR_STDIN)
		doc->real = pc_arena_strndup(&doc->arena, real, strlen(real));
	if ((data == buf.data ? pc_yaml_parse_buf(doc, path, &buf, diags)
			      : pc_yaml_parse(doc, path, data, len, diags)) < 0)
		goto out;
	st->open = pc_grow(st->open, st->nopen, sizeof(*st->open));
	st->open[st->nopen++] = xstrdup(real);
	struct loader l = {p, doc, diags, depth, author};
	read_document(&l, doc->root, included);
	/* Everything read is in the policy now: the nodes go, the strings stay. */
	size_t tree = pc_ydoc_drop_tree(doc);
#ifdef __GLIBC__
	/*
	 * Their pages lie between the strings': given back, not only kept for
	 * reuse, when there are enough of them to pay for it.
	 */
	if (tree >= PC_RELEASE_STEP)
		malloc_trim(0);
#else
	(void)tree;
#endif
	free(st->open[--st->nopen]);
	ret = diags->nerrors == before ? 0 : -1;
out:
	pc_buf_finish(&buf);
	return ret;
}

/* A pc_load_status: a file that cannot be read outweighs the errors in the others. */
static int load_status(const struct pc_policy *p, const struct pc_diags *diags, size_t before)
{
	if (pc_policy_io_error(p))
		return PC_LOAD_UNREADABLE;
	return diags->nerrors == before ? PC_LOAD_OK : PC_LOAD_INVALID;
}

int pc_policy_load(struct pc_policy *p, const char *path, struct pc_diags *diags)
{
	size_t before = diags->nerrors;

	load_file(p, path, NULL, 0, false, 0, diags, NULL, NULL, NULL);
	return load_status(p, diags, before);
}

int pc_policy_load_with(struct pc_policy *p, const char *path, pc_policy_reader *reader, void *arg,
		struct pc_diags *diags)
{
	size_t before = diags->nerrors;

	p->state->reader = reader;
	p->state->reader_arg = arg;
	load_file(p, path, NULL, 0, false, 0, diags, NULL, NULL, NULL);
	return load_status(p, diags, before);
}

int pc_policy_load_mem(struct pc_policy *p, const char *label, const char *data, size_t len,
		struct pc_diags *diags)
{
	size_t before = diags->nerrors;

	load_file(p, label, data, len, false, 0, diags, NULL, NULL, NULL);
	return load_status(p, diags, before);
}

size_t pc_policy_file_count(const struct pc_policy *p)
{
	return p->state ? p->state->ndocs : 0;
}

const char *pol_text_release(struct pc_ydoc *doc, const struct pc_yrun *run, const char *from,
		const char *to, const char *at, unsigned at_line)
{
	if (!doc->real || !doc->owned)
		return from;
	if (!doc->released) {
		if (doc->wide)
			pc_ydoc_offset(doc, 1, 1); /* its lines indexed while they can be */
		pc_sha256_of(doc->text, doc->text_len, doc->sha256);
		doc->released = true;
	}
	return pc_ydoc_give_back(doc, run, from, to, at, at_line);
}

/*
 * A text given back in part, read again: kept only when the file holds what
 * was read (its digest), else its lines are not shown.  Returns whether the
 * text is whole.
 */
static bool text_back(struct pc_ydoc *doc)
{
	struct pc_buf buf;
	char hex[65];
	bool same;

	if (!doc->released)
		return true;
	if (doc->lost)
		return false; /* a file that changed is read once, not once a line shown */
	pc_buf_init(&buf);
	same = pc_read_file(doc->real, PC_YAML_MAX_BYTES, &buf) == 0 && buf.len == doc->text_len;
	if (same) {
		pc_sha256_of(buf.data, buf.len, hex);
		same = !strcmp(hex, doc->sha256);
	}
	if (same) {
		memcpy(doc->owned, buf.data, buf.len);
		doc->released = false;
		pc_ydoc_restored(doc);
	}
	doc->lost = !same;
	pc_buf_finish(&buf);
	return same;
}

void pc_policy_file_sha256(const struct pc_policy *p, size_t i, char hex[65])
{
	const struct pc_ydoc *doc = p->state->docs[i];

	if (doc->released)
		memcpy(hex, doc->sha256, 65);
	else
		pc_sha256_of(doc->text ? doc->text : "", doc->text_len, hex);
}

const char *pc_policy_file(const struct pc_policy *p, size_t i, const char **text, size_t *len)
{
	struct pc_ydoc *doc = p->state->docs[i];

	if (!text_back(doc)) {
		*text = "";
		*len = 0;
		return doc->file ? doc->file : "";
	}

	*text = doc->text ? doc->text : "";
	*len = doc->text_len;
	return doc->file ? doc->file : "";
}

int pol_list_read(struct pc_policy *p, size_t i, pc_listfile_add *add, void *arg,
		struct pc_diags *diags)
{
	struct list_src *ls = &p->state->lists[i];
	struct pc_listfile lf;
	struct stat now;
	int r;

	if (ls->failed || ls->read)
		return ls->failed ? -1 : 0;
	ls->read = true;
	pc_listfile_init(&lf, ls->path, diags, add, arg);
	if (ls->through) {
		pc_listfile_feed(&lf, ls->text.data, ls->text.len);
		r = pc_listfile_end(&lf, ls->sha256);
		pc_buf_finish(&ls->text);
	} else {
		r = pc_listfile_read_fd(&lf, ls->fd, ls->sha256);
		if (r == -2) {
			pc_diag_add(diags, PC_SEV_ERROR, "include-read", ls->loc.file, ls->loc.line,
					ls->loc.col, "cannot read '%s': %s", ls->path,
					unreadable_why(errno));
		} else if (lf.stopped) {
			/* A limit ended the reading (said): what was not read did not change. */
		} else if (fstat(ls->fd, &now) < 0 || now.st_size != ls->st.st_size ||
				now.st_mtim.tv_sec != ls->st.st_mtim.tv_sec ||
				now.st_mtim.tv_nsec != ls->st.st_mtim.tv_nsec ||
				(uint64_t)lf.bytes != (uint64_t)now.st_size) {
			struct pc_diag *d = pc_diag_add(diags, PC_SEV_ERROR, "list-read",
					ls->loc.file, ls->loc.line, ls->loc.col,
					"'%s' changed while it was read", ls->path);
			pc_diag_hint(d, "replace a list whole: write a new file, then rename it "
					"over the old one");
			r = -1;
		}
		close(ls->fd);
		ls->fd = -1;
	}
	ls->hashed = r == 0;
	ls->failed = r != 0;
	ls->addresses = lf.addresses;
	if (lf.nkept) {
		ls->kept = xmalloc(lf.nkept * sizeof(*ls->kept));
		memcpy(ls->kept, lf.kept, lf.nkept * sizeof(*ls->kept));
	}
	ls->nkept = lf.nkept;
	lf.nkept = 0;
	pc_listfile_finish(&lf);
	return r == 0 ? 0 : -1;
}

size_t pol_list_size(const struct pc_policy *p, size_t i)
{
	const struct list_src *ls = &p->state->lists[i];

	if (ls->through)
		return ls->text.len;
	return ls->fd >= 0 && ls->st.st_size > 0 ? (size_t)ls->st.st_size : 0;
}

size_t pc_policy_list_count(const struct pc_policy *p)
{
	return p->state ? p->state->nlists : 0;
}

_Static_assert(PC_LIST_MAX_FILES <= PC_WHERE_DOCS, "a list file's index fits pc_prefix.where");
_Static_assert(PC_LIST_MAX_LINES <= PC_WHERE_LINE_MASK, "a list file's line fits pc_prefix.where");
_Static_assert(PC_YAML_MAX_BYTES <= PC_WHERE_LINE_MASK + 1u,
		"a policy's offset fits pc_prefix.where");

bool pc_policy_prefix_loc(const struct pc_policy *p, const struct pc_prefix *x, struct pc_loc *out)
{
	const struct pc_policy_state *st = p->state;

	if (x->where & PC_WHERE_LINE) {
		size_t i = (x->where & ~PC_WHERE_LINE) >> PC_WHERE_FILE_SHIFT;
		const char *file =
				i < PC_WHERE_DOCS
						? (i < st->nlists ? st->lists[i].path : NULL)
						: (i - PC_WHERE_DOCS < st->ndocs ? st->docs[i - PC_WHERE_DOCS]
												   ->file
										 : NULL);
		if (!file)
			return false;
		*out = (struct pc_loc){file, x->where & PC_WHERE_LINE_MASK, x->col};
		if (x->col == 0 && i >= PC_WHERE_DOCS)
			pc_ydoc_locate(st->docs[i - PC_WHERE_DOCS], x->where & PC_WHERE_LINE_MASK,
					&out->line, &out->col);
		return true;
	}
	if (x->where == 0 || x->where > st->nwheres || !st->wheres[x->where - 1]->file)
		return false;
	*out = *st->wheres[x->where - 1];
	return true;
}

const char *pc_policy_list(const struct pc_policy *p, size_t i, char hex[65])
{
	struct list_src *ls = &p->state->lists[i];

	if (!ls->hashed && !ls->failed && !ls->read) {
		/* Not resolved: the file as it is now, hashed alone. */
		struct pc_sha256 s;
		char *block = xmalloc(1u << 16);
		off_t at = 0;
		ssize_t got;
		pc_sha256_init(&s);
		if (ls->through)
			pc_sha256_update(&s, ls->text.data, ls->text.len);
		while (!ls->through && (got = pread(ls->fd, block, 1u << 16, at)) > 0 &&
				(uint64_t)at < PC_LIST_MAX_BYTES) {
			pc_sha256_update(&s, block, (size_t)got);
			at += got;
		}
		free(block);
		pc_sha256_hex(&s, ls->sha256);
		ls->hashed = true;
	}
	if (!ls->hashed)
		hex[0] = '\0';
	else
		memcpy(hex, ls->sha256, 65);
	return ls->path;
}

bool pc_policy_io_error(const struct pc_policy *p)
{
	return p->state && p->state->io_error;
}

/* ---- printing --------------------------------------------------------- */

const char *pc_policy_source_line(
		const struct pc_policy *p, const char *file, unsigned line, size_t *len)
{
	if (!file || !p->state)
		return NULL;
	for (size_t i = 0; i < p->state->ndocs; i++)
		if (p->state->docs[i]->file && !strcmp(p->state->docs[i]->file, file)) {
			/* A line given back is read again with its file (or not shown). */
			if (pc_ydoc_line_gone(p->state->docs[i], line))
				text_back(p->state->docs[i]);
			return pc_ydoc_line(p->state->docs[i], line, len);
		}
	for (size_t i = 0; i < p->state->nlists; i++) {
		const struct list_src *ls = &p->state->lists[i];
		if (strcmp(ls->path, file))
			continue;
		for (size_t k = 0; k < ls->nkept; k++) {
			if (ls->kept[k].line == line) {
				*len = ls->kept[k].len;
				return ls->kept[k].text;
			}
		}
	}
	return NULL;
}

/*
 * A line longer than EXCERPT_WHOLE bytes is shown as EXCERPT_SIDE bytes either
 * side of the column, each cut marked with "...": one bad value on a line of
 * megabytes must not print megabytes (nor a caret line as long).
 */
#define EXCERPT_WHOLE 160
#define EXCERPT_SIDE 60

/* Moves a cut back to the start of the UTF-8 character it falls in. */
static size_t char_start(const char *s, size_t i, size_t floor)
{
	while (i > floor && ((unsigned char)s[i] & 0xc0) == 0x80)
		i--;
	return i;
}

/* The source line of a record and a caret under its column. */
static void print_source(const struct pc_diag *r, FILE *out, void *arg)
{
	const struct pc_policy *p = arg;
	size_t len;
	const char *src = r->line ? pc_policy_source_line(p, r->file, r->line, &len) : NULL;

	if (!src || !len)
		return;
	/* The column counts characters (as the YAML reader does); `at` is its byte. */
	size_t at = 0, from = 0, to = len;
	for (unsigned c = 1; c < r->col && at < len; c++) {
		size_t n = pc_utf8_seq((const unsigned char *)src + at, len - at);
		at += n ? n : 1;
	}
	if (at > len)
		at = len;
	if (len > EXCERPT_WHOLE) {
		if (at > EXCERPT_SIDE)
			from = char_start(src, at - EXCERPT_SIDE, 0);
		if (len - at > EXCERPT_SIDE)
			to = char_start(src, at + EXCERPT_SIDE, at);
	}
	char *before = xstrndup(src + from, at - from), *rest = xstrndup(src + at, to - at);
	/* The caret goes under the column, counted in what is printed before it. */
	char *shown = NULL;
	size_t width = 0;
	FILE *m = open_memstream(&shown, &width);
	fputs("  ", m);
	if (from)
		fputs("...", m);
	pc_fputs_escaped(before, m);
	fclose(m);
	fputs(shown, out);
	pc_fputs_escaped(rest, out);
	fputs(to < len ? "...\n" : "\n", out);
	/* One space per character printed: UTF-8 continuation bytes take none. */
	for (size_t i = 0; i < width; i++)
		if (((unsigned char)shown[i] & 0xc0) != 0x80)
			fputc(' ', out);
	fputs("^\n", out);
	free(shown);
	free(before);
	free(rest);
}

void pc_policy_print_diags(const struct pc_policy *p, const struct pc_diags *d, FILE *out)
{
	pc_diags_print_with(d, out, print_source, (void *)p);
}
