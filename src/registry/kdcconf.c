/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kdc-conf layer: the ports a KDC's own configuration (MIT kdc.conf, or
 * Heimdal's [kdc] section) makes krb5kdc, kadmind and ipropd listen on, as
 * rows of `kerberos`, `kpasswd`, `kerberos-adm` and `iprop`, each with the
 * file and line of the relation that set it, or the daemon's default.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "layer.h"
#include "portcullis/profile.h"

/* What a relation's value gave: ports on protocols, and listen addresses. */
struct listen {
	uint16_t ports[32];
	size_t nports;
	char addrs[32][160]; /* each port's: canonical, ", "-separated */
	bool any[32]; /* the port on every address (an item without one) */
	bool disabled; /* the value is empty: the daemon does not listen */
	bool bad;
	bool full; /* more ports than `ports` holds were listed */
};

/* One service of the layer on one protocol: the relations that set it, in precedence order. */
struct source {
	const char *service;
	enum pc_proto proto;
	const char *keys[4]; /* "realm:TAG" inside the realm, "kdcdefaults:TAG" there */
	uint16_t mit_default; /* 0: none (iprop) */
};

static const struct source mit_sources[] = {
		{"kerberos", PC_PROTO_UDP,
				{"realm:kdc_listen", "realm:kdc_ports", "kdcdefaults:kdc_listen",
						"kdcdefaults:kdc_ports"},
				88},
		{"kerberos", PC_PROTO_TCP,
				{"realm:kdc_tcp_listen", "realm:kdc_tcp_ports",
						"kdcdefaults:kdc_tcp_listen",
						"kdcdefaults:kdc_tcp_ports"},
				88},
		{"kerberos-adm", PC_PROTO_TCP, {"realm:kadmind_listen", "realm:kadmind_port"}, 749},
		{"kpasswd", PC_PROTO_UDP, {"realm:kpasswd_listen", "realm:kpasswd_port"}, 464},
		{"kpasswd", PC_PROTO_TCP, {"realm:kpasswd_listen", "realm:kpasswd_port"}, 464},
		{"iprop", PC_PROTO_TCP, {"realm:iprop_listen", "realm:iprop_port"}, 0},
};

/* The aliases a row of the layer carries: those of the practice layer. */
static const char *aliases_of(const char *service)
{
	return !strcmp(service, "kerberos") ? "kerberos5\0krb5\0" : "";
}

/* The services the layer has rows for: an index into the counts of struct kdc. */
static const char *const kdc_services[] = {"kerberos", "kerberos-adm", "kpasswd", "iprop"};
#define KDC_SERVICES PC_ARRAY_SIZE(kdc_services)

static size_t service_index(const char *service)
{
	size_t i = 0;

	while (i + 1 < KDC_SERVICES && strcmp(kdc_services[i], service))
		i++;
	return i;
}

struct kdc {
	const struct pc_kdc_source *src;
	struct pc_profile prof;
	struct pc_layer_builder b;
	struct pc_diags *diags;
	unsigned nerr;
	const char *realm; /* the realm being read; NULL: none */
	/*
	 * What the rows hold, so that each new row is checked in constant time
	 * (256 realms of 32 ports each took seconds when every row was compared
	 * with all the earlier ones): per service and protocol, how many port
	 * rows and "turned off" rows there are, and the set of port rows.
	 */
	unsigned nports[KDC_SERVICES][PC_PROTO_COUNT], noff[KDC_SERVICES][PC_PROTO_COUNT];
	uint32_t *seen; /* open addressing on row_key() + 1; 0 is empty */
	size_t seen_cap, nseen;
};

static struct pc_diag *kdc_diag(struct kdc *k, enum pc_severity sev, const char *code,
		const struct pc_profile_node *at, const char *fmt, ...) PC_PRINTF(5, 6);

static struct pc_diag *kdc_diag(struct kdc *k, enum pc_severity sev, const char *code,
		const struct pc_profile_node *at, const char *fmt, ...)
{
	va_list ap;

	if (sev == PC_SEV_ERROR)
		k->nerr++;
	va_start(ap, fmt);
	struct pc_diag *d = pc_diag_addv(k->diags, sev, code, at ? at->file : k->src->label,
			at ? at->vline : 0, at ? at->vcol : 0, fmt, ap);
	va_end(ap);
	return d;
}

static bool port_ok(const char *s, size_t n, uint16_t *port)
{
	uint16_t lo, hi;

	return pc_parse_port_range(s, n, &lo, &hi) == 0 && lo == hi && lo != 0 && (*port = lo);
}

static void add_addr(struct listen *l, size_t i, const char *text)
{
	char *a = l->addrs[i];
	size_t len = strlen(a);

	for (const char *c = a; *c;) {
		size_t n = strcspn(c, ",");
		if (n == strlen(text) && !memcmp(c, text, n))
			return;
		c += n;
		c += strspn(c, ", ");
	}
	snprintf(a + len, sizeof(l->addrs[i]) - len, "%s%s", len ? ", " : "", text);
}

/* An address as written; its canonical text into `out`; false if it is none. */
static bool addr_ok(const char *s, size_t n, char out[INET6_ADDRSTRLEN])
{
	char buf[INET6_ADDRSTRLEN];
	unsigned char bytes[16];

	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, bytes) == 1)
		return inet_ntop(AF_INET, bytes, out, INET6_ADDRSTRLEN) != NULL;
	if (inet_pton(AF_INET6, buf, bytes) == 1)
		return inet_ntop(AF_INET6, bytes, out, INET6_ADDRSTRLEN) != NULL;
	return false;
}

/* The index of `port` in `l`, added if new; SIZE_MAX when `l` is full (marked so). */
static size_t add_port(struct listen *l, uint16_t port)
{
	for (size_t i = 0; i < l->nports; i++)
		if (l->ports[i] == port)
			return i;
	if (l->nports == PC_ARRAY_SIZE(l->ports)) {
		l->full = true;
		return SIZE_MAX;
	}
	l->ports[l->nports++] = port;
	return l->nports - 1;
}

static size_t colons(const char *s, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += s[i] == ':';
	return c;
}

/*
 * One item of a MIT list: PORT, ADDRESS, ADDRESS:PORT or [IPV6]:PORT; an
 * address without a port takes the default port `def`.
 */
static void mit_item(struct kdc *k, const struct pc_profile_node *at, const char *s, size_t n,
		uint16_t def, struct listen *l)
{
	char addr[INET6_ADDRSTRLEN];
	const char *port = NULL, *a = s;
	size_t pn = 0, an = n;
	uint16_t p;

	if (s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (!close)
			goto bad;
		a = s + 1;
		an = (size_t)(close - a);
		if (close + 1 < s + n) {
			if (close[1] != ':')
				goto bad;
			port = close + 2;
			pn = (size_t)(s + n - port);
		}
	} else if (colons(s, n) == 1) {
		const char *colon = memchr(s, ':', n);
		an = (size_t)(colon - s);
		port = colon + 1;
		pn = (size_t)(s + n - port);
	} else if (strspn(s, "0123456789") >= n) {
		if (!port_ok(s, n, &p))
			goto bad;
		size_t i = add_port(l, p);
		if (i != SIZE_MAX)
			l->any[i] = true;
		return;
	}
	if (!addr_ok(a, an, addr))
		goto bad;
	if (port && !port_ok(port, pn, &p))
		goto bad;
	size_t i = add_port(l, port ? p : def);
	if (i != SIZE_MAX)
		add_addr(l, i, addr);
	return;
bad:
	l->bad = true;
	struct pc_diag *d = kdc_diag(k, PC_SEV_ERROR, "kdc-conf-value", at,
			"%s: '%.*s' is not a port, an address or ADDRESS:PORT", at->name, (int)n,
			s);
	pc_diag_hint(d, "write 88, 192.0.2.10, 192.0.2.10:88 or [2001:db8::10]:88 (a port from 1 "
			"to 65535, an address in numbers: no host name)");
}

/* Heimdal's ports: numbers or the service names kerberos and kerberos-iv; `+` the default. */
static void heimdal_item(struct kdc *k, const struct pc_profile_node *at, const char *s, size_t n,
		struct listen *l)
{
	uint16_t p;

	if (n == 1 && s[0] == '+')
		add_port(l, 88);
	else if (n == 8 && !memcmp(s, "kerberos", 8))
		add_port(l, 88);
	else if (n == 11 && !memcmp(s, "kerberos-iv", 11))
		add_port(l, 750);
	else if (port_ok(s, n, &p))
		add_port(l, p);
	else {
		l->bad = true;
		struct pc_diag *d = kdc_diag(k, PC_SEV_ERROR, "kdc-conf-value", at,
				"ports: '%.*s' is not a port", (int)n, s);
		pc_diag_hint(d, "write port numbers (88 8888), 'kerberos', 'kerberos-iv' or '+'");
	}
}

/* A list separated by commas and blanks, each item through mit_item() or heimdal_item(). */
static void read_list(struct kdc *k, const struct pc_profile_node *at, uint16_t def, bool heimdal,
		struct listen *l)
{
	const char *s = at->value;
	bool any = false;

	while (*s) {
		size_t skip = strspn(s, ", \t");
		s += skip;
		size_t n = strcspn(s, ", \t");
		if (!n)
			break;
		any = true;
		if (heimdal)
			heimdal_item(k, at, s, n, l);
		else
			mit_item(k, at, s, n, def, l);
		s += n;
	}
	l->disabled = !any;
	if (l->full) {
		l->bad = true;
		struct pc_diag *d = kdc_diag(k, PC_SEV_ERROR, "kdc-conf-value", at,
				"%s: more than %zu different ports in one relation", at->name,
				PC_ARRAY_SIZE(l->ports));
		pc_diag_hint(d,
				"list the ports the daemon listens on, at most %zu (a range is not "
				"written here)",
				PC_ARRAY_SIZE(l->ports));
	}
}

/* The first node of `section` (or the current realm's subsection) named `tag`. */
static const struct pc_profile_node *lookup(struct kdc *k, const char *key)
{
	const struct pc_profile_node *n = NULL;
	const char *colon = strchr(key, ':');
	const char *tag = colon + 1;

	if (!strncmp(key, "realm:", 6)) {
		if (!k->realm)
			return NULL;
		const char *path[] = {"realms", k->realm, tag};
		pc_profile_find(&k->prof, path, 3, &n, 1);
	} else {
		char section[32];
		snprintf(section, sizeof(section), "%.*s", (int)(colon - key), key);
		const char *path[] = {section, tag};
		pc_profile_find(&k->prof, path, 2, &n, 1);
	}
	return n && n->value ? n : NULL;
}

static bool row_is(const struct kdc *k, const struct pc_entry *e, const char *service,
		enum pc_proto proto)
{
	return e->proto == proto && !strcmp(k->b.strs.data + e->row, service);
}

/* Another realm listens where one turned the service off: the port stands. */
static void drop_disabled(struct kdc *k, const char *service, enum pc_proto proto)
{
	uint32_t w = 0;

	if (!k->noff[service_index(service)][proto])
		return;
	k->noff[service_index(service)][proto] = 0;
	for (uint32_t e = 0; e < k->b.n; e++)
		if (!row_is(k, &k->b.entries[e], service, proto) ||
				!(k->b.entries[e].flags & PC_ENTRY_F_DISABLED))
			k->b.entries[w++] = k->b.entries[e];
	k->b.n = w;
}

/* A port row's key in the set of rows: service, protocol and port. */
static uint32_t row_key(size_t service, enum pc_proto proto, uint16_t port)
{
	return (uint32_t)service << 20 | (uint32_t)proto << 16 | port;
}

/* Whether the row of `key` is there; added when not. */
static bool seen_add(struct kdc *k, uint32_t key)
{
	if (2 * (k->nseen + 1) > k->seen_cap) {
		size_t cap = k->seen_cap ? 2 * k->seen_cap : 64;
		uint32_t *v = xcalloc(cap, sizeof(*v));
		for (size_t i = 0; i < k->seen_cap; i++) {
			if (!k->seen[i])
				continue;
			size_t j = (k->seen[i] * 2654435761u) & (cap - 1);
			while (v[j])
				j = (j + 1) & (cap - 1);
			v[j] = k->seen[i];
		}
		free(k->seen);
		k->seen = v;
		k->seen_cap = cap;
	}
	size_t j = ((key + 1) * 2654435761u) & (k->seen_cap - 1);
	while (k->seen[j]) {
		if (k->seen[j] == key + 1)
			return true;
		j = (j + 1) & (k->seen_cap - 1);
	}
	k->seen[j] = key + 1;
	k->nseen++;
	return false;
}

/* Appends the rows of one service on one protocol. */
static void add_rows(struct kdc *k, const char *service, enum pc_proto proto,
		const struct pc_profile_node *at, const struct listen *l, const char *deflabel)
{
	char where[160] = "";

	if (at && at->parent && at->parent->parent)
		snprintf(where, sizeof(where), " ([%s] %s)", at->parent->parent->name,
				at->parent->name);
	else if (at && at->parent)
		snprintf(where, sizeof(where), " ([%s])", at->parent->name);
	else if (k->realm)
		snprintf(where, sizeof(where), " (realm %s)", k->realm);
	size_t svc = service_index(service);
	for (size_t i = 0; i < (l->disabled ? 1 : l->nports); i++) {
		/* The same port from another realm, or another relation: once. */
		if (l->disabled ? k->noff[svc][proto] > 0
				: seen_add(k, row_key(svc, proto, l->ports[i])))
			continue;
		if (!l->disabled)
			drop_disabled(k, service, proto);
		else if (k->nports[svc][proto])
			continue; /* another realm listens: the union has that port */
		if (l->disabled)
			k->noff[svc][proto]++;
		else
			k->nports[svc][proto]++;
		uint32_t col[COL_COUNT] = {0};
		char desc[512];
		col[COL_NAME] = pc_builder_str(&k->b, service, strlen(service));
		if (at)
			snprintf(desc, sizeof(desc), "%s = %s%s", at->name,
					l->disabled ? "\"\"" : at->value, where);
		else
			snprintf(desc, sizeof(desc), "%s: nothing set%s", deflabel, where);
		col[COL_DESC] = pc_builder_str(&k->b, desc, strlen(desc));
		const char *addrs = l->disabled || l->any[i] ? "" : l->addrs[i];
		col[COL_NOTES] = pc_builder_str(&k->b, addrs, strlen(addrs));
		const char *file = at ? at->file : deflabel;
		col[COL_REFERENCE] = pc_builder_str(&k->b, file, strlen(file));
		const char *al = aliases_of(service);
		uint32_t aliases = 0;
		uint8_t naliases = 0;
		for (const char *a = al; *a; a += strlen(a) + 1) {
			uint32_t off = pc_builder_str(&k->b, a, strlen(a));
			if (!naliases)
				aliases = off;
			naliases++;
		}
		uint32_t row = pc_builder_row(&k->b, col);
		struct pc_entry *e = pc_builder_add(&k->b);
		e->row = row;
		e->aliases = aliases;
		e->naliases = naliases;
		e->line = at ? at->vline : 0;
		e->proto = (uint8_t)proto;
		if (l->disabled) {
			e->flags = PC_ENTRY_F_DISABLED;
		} else {
			e->flags = PC_ENTRY_F_PORT;
			e->port_lo = e->port_hi = l->ports[i];
		}
	}
}

static bool truthy(const char *v)
{
	static const char *const yes[] = {"y", "yes", "true", "t", "1", "on"};

	for (size_t i = 0; i < PC_ARRAY_SIZE(yes); i++)
		if (pc_streq_fold(v, yes[i]))
			return true;
	return false;
}

/* The rows of one realm (or none: [kdcdefaults] and the defaults only). */
static void mit_realm(struct kdc *k)
{
	for (size_t i = 0; i < PC_ARRAY_SIZE(mit_sources); i++) {
		const struct source *s = &mit_sources[i];
		const struct pc_profile_node *at = NULL;
		struct listen l;

		memset(&l, 0, sizeof(l));
		if (!strcmp(s->service, "iprop")) {
			const struct pc_profile_node *en = lookup(k, "realm:iprop_enable");
			if (!en || !truthy(en->value))
				continue;
		}
		for (size_t j = 0; j < PC_ARRAY_SIZE(s->keys) && s->keys[j] && !at; j++)
			at = lookup(k, s->keys[j]);
		if (at) {
			read_list(k, at, s->mit_default, false, &l);
			if (l.bad)
				continue;
		} else if (s->mit_default) {
			add_port(&l, s->mit_default);
		} else {
			const struct pc_profile_node *en = lookup(k, "realm:iprop_enable");
			struct pc_diag *d = kdc_diag(k, PC_SEV_WARNING, "kdc-conf-iprop", en,
					"iprop_enable is true but neither iprop_port nor iprop_listen "
					"is set%s%s: MIT has no default iprop port",
					k->realm ? " for " : "", k->realm ? k->realm : "");
			pc_diag_hint(d, "set iprop_port (Heimdal's ipropd uses 2121), so that a "
					"rule can allow it");
			continue;
		}
		add_rows(k, s->service, s->proto, at, &l, "MIT default");
	}
}

static void heimdal(struct kdc *k)
{
	const char *ports_path[] = {"kdc", "ports"};
	const char *addrs_path[] = {"kdc", "addresses"};
	const struct pc_profile_node *ports = NULL, *addrs = NULL;
	struct listen l;

	memset(&l, 0, sizeof(l));
	pc_profile_find(&k->prof, ports_path, 2, &ports, 1);
	pc_profile_find(&k->prof, addrs_path, 2, &addrs, 1);
	if (ports && ports->value) {
		read_list(k, ports, 88, true, &l);
		if (l.bad)
			return;
	} else {
		ports = NULL;
		add_port(&l, 88);
	}
	if (addrs && addrs->value) {
		const char *s = addrs->value;
		while (*s) {
			char addr[INET6_ADDRSTRLEN];
			s += strspn(s, ", \t");
			size_t n = strcspn(s, ", \t");
			if (!n)
				break;
			if (!addr_ok(s, n, addr)) {
				struct pc_diag *d = kdc_diag(k, PC_SEV_ERROR, "kdc-conf-value",
						addrs, "addresses: '%.*s' is not an address",
						(int)n, s);
				pc_diag_hint(d, "write addresses in numbers, e.g. 192.0.2.10 "
						"2001:db8::10");
				return;
			}
			for (size_t i = 0; i < l.nports; i++)
				add_addr(&l, i, addr);
			s += n;
		}
	}
	add_rows(k, "kerberos", PC_PROTO_UDP, ports, &l, "Heimdal default");
	add_rows(k, "kerberos", PC_PROTO_TCP, ports, &l, "Heimdal default");
	/*
	 * kadmind, kpasswdd and ipropd-master take their ports from their command
	 * lines, not from kdc.conf: the layers below answer for them.
	 */
}

/* Realms read at most: each costs a pass over the layer's rows. */
#define KDC_MAX_REALMS 256

/*
 * The realms of [realms], each once, in order, into `out` (KDC_MAX_REALMS
 * room); returns how many there are, KDC_MAX_REALMS + 1 when there are more.
 */
static size_t realm_names(struct kdc *k, const char **out)
{
	const char *path[] = {"realms"};
	size_t nsec = pc_profile_find(&k->prof, path, 1, NULL, 0), n = 0;
	const struct pc_profile_node **secs = xcalloc(nsec + 1, sizeof(*secs));

	pc_profile_find(&k->prof, path, 1, secs, nsec);
	for (size_t i = 0; i < nsec && n <= KDC_MAX_REALMS; i++) {
		for (const struct pc_profile_node *r = secs[i]->first; r && n <= KDC_MAX_REALMS;
				r = r->next) {
			bool seen = false;
			if (r->value)
				continue;
			for (size_t j = 0; j < n && !seen; j++)
				seen = !strcmp(out[j], r->name);
			if (seen)
				continue;
			if (n < KDC_MAX_REALMS)
				out[n] = r->name;
			n++;
		}
	}
	free(secs);
	return n;
}

static void mit(struct kdc *k)
{
	const char *realms[KDC_MAX_REALMS];
	size_t n = realm_names(k, realms);

	if (n > KDC_MAX_REALMS) {
		struct pc_diag *d = kdc_diag(k, PC_SEV_ERROR, "profile-limit", NULL,
				"more than %d realms in [realms]", KDC_MAX_REALMS);
		pc_diag_hint(d, "the layer is not made of a part of them: split the "
				"configuration");
		return;
	}
	if (k->src->realm) {
		bool found = false;
		for (size_t i = 0; i < n && !found; i++)
			found = !strcmp(realms[i], k->src->realm);
		if (!found) {
			struct pc_buf b;
			pc_buf_init(&b);
			for (size_t i = 0; i < n; i++)
				pc_buf_printf(&b, "%s%s", i ? ", " : "", realms[i]);
			struct pc_diag *d = kdc_diag(k, PC_SEV_ERROR, "kdc-conf-realm", NULL,
					"the realm '%s' is not in [realms]", k->src->realm);
			pc_diag_hint(d, n ? "the realms there: %s" : "[realms] names no realm%s",
					b.data ? b.data : "");
			pc_buf_finish(&b);
			return;
		}
		k->realm = k->src->realm;
		mit_realm(k);
		return;
	}
	if (n > 1) {
		struct pc_buf b;
		pc_buf_init(&b);
		for (size_t i = 0; i < n; i++)
			pc_buf_printf(&b, "%s%s", i ? ", " : "", realms[i]);
		struct pc_diag *d = kdc_diag(k, PC_SEV_NOTE, "kdc-conf-realms", NULL,
				"%zu realms (%s): the ports of every one are taken together", n,
				b.data);
		pc_diag_hint(d, "name one with `realm:` (lookup: --realm) to take its ports only");
		pc_buf_finish(&b);
	}
	if (!n)
		mit_realm(k);
	for (size_t i = 0; i < n; i++) {
		k->realm = realms[i];
		mit_realm(k);
	}
}

/* A note for each Kerberos IV port (750) the configuration opens. */
static void kerberos4_notes(struct kdc *k)
{
	for (uint32_t i = 0; i < k->b.n; i++) {
		const struct pc_entry *e = &k->b.entries[i];
		if (!(e->flags & PC_ENTRY_F_PORT) || e->port_lo != 750)
			continue;
		const char *file = pc_row_col(k->b.strs.data, e, COL_REFERENCE);
		struct pc_diag *d = pc_diag_add(k->diags, PC_SEV_NOTE, "kdc-conf-kerberos4", file,
				e->line, 0,
				"%s listens on 750/%s, the Kerberos IV (kerberos4, krb524) "
				"compatibility port",
				k->b.strs.data + e->row, pc_proto_name((enum pc_proto)e->proto));
		pc_diag_hint(d, "MIT krb5 1.18 and later have no Kerberos IV support: drop 750 from "
				"the ports unless an old client needs it");
		return;
	}
}

static int build(struct pc_registry *reg, struct kdc *k, int st);

int pc_registry_load_kdc(
		struct pc_registry *reg, const struct pc_kdc_source *src, struct pc_diags *diags)
{
	struct kdc k = {.src = src, .diags = diags};

	pc_profile_init(&k.prof);
	return build(reg, &k, pc_profile_load(&k.prof, src->path, src->label, diags));
}

int pc_registry_load_kdc_mem(struct pc_registry *reg, const struct pc_kdc_source *src,
		const char *data, size_t len, struct pc_diags *diags)
{
	struct kdc k = {.src = src, .diags = diags};

	pc_profile_init(&k.prof);
	return build(reg, &k, pc_profile_load_mem(&k.prof, src->label, data, len, diags));
}

/* The layer from the profile read (`st`: how the reading went). */
static int build(struct pc_registry *reg, struct kdc *kp, int st)
{
	struct kdc k = *kp;

	if (st != PC_LOAD_OK) {
		pc_profile_finish(&k.prof);
		return st;
	}
	const struct pc_kdc_source *src = k.src;
	pc_builder_init(&k.b, PC_LAYER_KDC, src->label);
	if (src->flavor == PC_KDC_HEIMDAL) {
		if (src->realm)
			kdc_diag(&k, PC_SEV_NOTE, "kdc-conf-realms", NULL,
					"Heimdal's [kdc] ports serve every realm: the realm '%s' "
					"changes nothing",
					src->realm);
		heimdal(&k);
	} else {
		mit(&k);
	}
	kerberos4_notes(&k);
	free(k.seen);
	if (k.nerr) {
		pc_builder_finish(&k.b);
		pc_profile_finish(&k.prof);
		return PC_LOAD_INVALID;
	}
	struct pc_layer *l = pc_builder_build(&k.b, k.diags);
	char hex[65];
	pc_sha256_hex(&k.prof.digest, hex);
	l->sha256 = xstrdup(hex); /* of the files read, for a rendering's header */
	pc_registry_put_layer(reg, PC_LAYER_KDC, l);
	pc_builder_finish(&k.b);
	pc_profile_finish(&k.prof);
	return PC_LOAD_OK;
}
