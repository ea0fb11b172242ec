/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "layer.h"
#include "portcullis/profile.h"

struct pc_registry {
	const struct pc_layer *layers[PC_LAYER_COUNT]; /* NULL when absent */
	struct pc_layer *owned[PC_LAYER_COUNT];
	char **override_specs; /* re-parsed on every addition of a batch */
	char **override_origins;
	unsigned *override_index;
	size_t noverrides;
};

void pc_records_init(struct pc_records *r)
{
	memset(r, 0, sizeof(*r));
}

void pc_records_finish(struct pc_records *r)
{
	free(r->v);
	pc_records_init(r);
}

struct pc_record *pc_records_push(struct pc_records *r)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 8;
		r->v = xreallocarray(r->v, r->cap, sizeof(*r->v));
	}
	memset(&r->v[r->n], 0, sizeof(r->v[0]));
	return &r->v[r->n++];
}

static int system_parse(const char *label, struct pc_buf *text, struct pc_layer **out,
		struct pc_diags *diags)
{
	return pc_services_parse_text(label, text, PC_SERVICES_SYSTEM, out, diags);
}

/* The layers, in precedence order: the row's index is its kind. */
static const struct pc_layer_def layer_defs[] = {
		{PC_LAYER_IANA, "iana", "iana", "the IANA registry", NULL, "description", "notes",
				PC_LAYER_F_EMBEDDED | PC_LAYER_F_SNAPSHOT, PC_IANA_MAX_BYTES,
				pc_iana_parse_text, &pc_embedded_iana},
		{PC_LAYER_PRACTICE, "practice", "practice", "the practice file", NULL,
				"description", "source", PC_LAYER_F_EMBEDDED, 0, NULL,
				&pc_embedded_practice},
		{PC_LAYER_SYSTEM, "system", "system", "the services file", "/etc/services",
				"comment", "notes", 0, PC_SERVICES_MAX_BYTES, system_parse, NULL},
		{PC_LAYER_KDC, "kdc-conf", "kdc.conf", "the KDC configuration", NULL, "relation",
				"listens on", PC_LAYER_F_CONFIG, PC_PROFILE_MAX_BYTES, NULL, NULL},
		{PC_LAYER_OVERRIDE, "override", "policy", "the definitions", NULL, "description",
				"notes", PC_LAYER_F_DEFINED, 0, NULL, NULL},
};
_Static_assert(PC_ARRAY_SIZE(layer_defs) == PC_LAYER_COUNT, "one row per layer");

const struct pc_layer_def *pc_layer_def(enum pc_layer_kind kind)
{
	return (unsigned)kind < PC_LAYER_COUNT ? &layer_defs[kind] : NULL;
}

const char *pc_layer_name(enum pc_layer_kind kind)
{
	return (unsigned)kind < PC_LAYER_COUNT ? layer_defs[kind].name : "?";
}

struct pc_registry *pc_registry_create(void)
{
	struct pc_registry *reg = xcalloc(1, sizeof(*reg));

	for (int k = 0; k < PC_LAYER_COUNT; k++)
		reg->layers[k] = layer_defs[k].embedded;
	return reg;
}

static void set_layer(struct pc_registry *reg, enum pc_layer_kind kind, struct pc_layer *l)
{
	pc_layer_destroy(reg->owned[kind]);
	reg->owned[kind] = l;
	reg->layers[kind] = l;
}

void pc_registry_put_layer(struct pc_registry *reg, enum pc_layer_kind kind, struct pc_layer *l)
{
	set_layer(reg, kind, l);
}

void pc_registry_destroy(struct pc_registry *reg)
{
	if (!reg)
		return;
	for (int i = 0; i < PC_LAYER_COUNT; i++)
		pc_layer_destroy(reg->owned[i]);
	for (size_t i = 0; i < reg->noverrides; i++) {
		free(reg->override_specs[i]);
		free(reg->override_origins[i]);
	}
	free(reg->override_specs);
	free(reg->override_origins);
	free(reg->override_index);
	free(reg);
}

bool pc_registry_has_layer(const struct pc_registry *reg, enum pc_layer_kind kind)
{
	return (unsigned)kind < PC_LAYER_COUNT && reg->layers[kind];
}

void pc_registry_remove_layer(struct pc_registry *reg, enum pc_layer_kind kind)
{
	if ((unsigned)kind < PC_LAYER_COUNT)
		set_layer(reg, kind, NULL);
}

const char *pc_registry_iana_date(const struct pc_registry *reg)
{
	return reg->layers[PC_LAYER_IANA] ? reg->layers[PC_LAYER_IANA]->date : "";
}

const char *pc_registry_layer_file(const struct pc_registry *reg, enum pc_layer_kind kind)
{
	return (unsigned)kind < PC_LAYER_COUNT && reg->layers[kind] ? reg->layers[kind]->file : "";
}

const char *pc_registry_layer_sha256(const struct pc_registry *reg, enum pc_layer_kind kind)
{
	return (unsigned)kind < PC_LAYER_COUNT && reg->layers[kind] ? reg->layers[kind]->sha256
								    : NULL;
}

const char *pc_registry_iana_file(const struct pc_registry *reg)
{
	return reg->layers[PC_LAYER_IANA] ? reg->layers[PC_LAYER_IANA]->file : "";
}

const char *pc_registry_layer_date(const struct pc_registry *reg, enum pc_layer_kind kind)
{
	return pc_registry_has_layer(reg, kind) && (layer_defs[kind].flags & PC_LAYER_F_SNAPSHOT)
			       ? reg->layers[kind]->date
			       : "";
}

static void env_error(struct pc_diags *diags, const char *path, const char *what)
{
	int err = errno;
	const char *why = err == EFBIG	  ? "file is too large"
			  : err == EINVAL ? "not a regular file"
					  : strerror(err);

	pc_diag_add(diags, PC_SEV_ERROR, "io", path, 0, 0, "cannot read %s: %s", what, why);
	errno = err;
}

/* Parses `text` (taken) into the layer `kind` replaces; a pc_load_status. */
static int load_text(struct pc_registry *reg, const struct pc_layer_def *def, const char *label,
		struct pc_buf *text, struct pc_diags *diags)
{
	struct pc_layer *l;
	int ret = def->parse(label, text, &l, diags);

	pc_buf_finish(text);
	if (ret < 0)
		return PC_LOAD_INVALID;
	set_layer(reg, def->kind, l);
	return PC_LOAD_OK;
}

/* The layer `kind` if it can be read, or NULL after saying why not. */
static const struct pc_layer_def *loadable(
		enum pc_layer_kind kind, const char *label, struct pc_diags *diags)
{
	const struct pc_layer_def *def = pc_layer_def(kind);

	if (def && def->parse)
		return def;
	pc_diag_add(diags, PC_SEV_ERROR, "io", label, 0, 0, "the %s layer is not read from a file",
			pc_layer_name(kind));
	return NULL;
}

int pc_registry_load_mem(struct pc_registry *reg, enum pc_layer_kind kind, const char *label,
		const char *data, size_t len, struct pc_diags *diags)
{
	const struct pc_layer_def *def = loadable(kind, label, diags);
	struct pc_buf text;

	if (!def)
		return PC_LOAD_INVALID;
	pc_buf_init(&text);
	pc_buf_add(&text, "", 1);
	pc_buf_add(&text, data, len);
	return load_text(reg, def, label, &text, diags);
}

int pc_registry_load(struct pc_registry *reg, enum pc_layer_kind kind, const char *path,
		struct pc_diags *diags)
{
	const struct pc_layer_def *def = loadable(kind, path, diags);
	struct pc_buf text;

	if (!def)
		return PC_LOAD_INVALID;
	if (pc_read_text(path, def->max_bytes, &text) < 0) {
		env_error(diags, path, def->what);
		return PC_LOAD_UNREADABLE;
	}
	return load_text(reg, def, path, &text, diags);
}

int pc_registry_load_iana_mem(struct pc_registry *reg, const char *label, const char *data,
		size_t len, struct pc_diags *diags)
{
	return pc_registry_load_mem(reg, PC_LAYER_IANA, label, data, len, diags);
}

int pc_registry_load_iana(struct pc_registry *reg, const char *path, struct pc_diags *diags)
{
	return pc_registry_load(reg, PC_LAYER_IANA, path, diags);
}

int pc_registry_load_services_mem(struct pc_registry *reg, const char *label, const char *data,
		size_t len, struct pc_diags *diags)
{
	return pc_registry_load_mem(reg, PC_LAYER_SYSTEM, label, data, len, diags);
}

int pc_registry_load_services(struct pc_registry *reg, const char *path, struct pc_diags *diags)
{
	return pc_registry_load(reg, PC_LAYER_SYSTEM, path, diags);
}

/* A port of a --define: its protocol, its range, and its place in the definition. */
struct def_port {
	uint8_t proto;
	uint16_t lo, hi;
	uint32_t pos;
};

static int def_port_cmp(const void *a, const void *b)
{
	const struct def_port *x = a, *y = b;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static void port_text(char *buf, size_t n, const struct def_port *p)
{
	snprintf(buf, n, "%u", p->lo);
	if (p->hi != p->lo)
		snprintf(buf + strlen(buf), n - strlen(buf), "-%u", p->hi);
}

/*
 * The ports a --define gave (entries `first` to the last): one that meets
 * another on the same protocol is an error, as in a policy's definition.
 * Sorted once, so a definition of many ports stays fast.
 */
static int override_overlaps(const struct pc_layer_builder *b, uint32_t first, unsigned index,
		struct pc_diags *diags, const char *origin)
{
	size_t n = b->n - first, widest = 0;
	struct def_port *v;
	int ret = 0;

	if (n < 2)
		return 0;
	v = xcalloc(n, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		const struct pc_entry *e = &b->entries[first + i];
		v[i] = (struct def_port){e->proto, e->port_lo, e->port_hi, (uint32_t)i};
	}
	qsort(v, n, sizeof(*v), def_port_cmp);
	for (size_t i = 1; i < n && ret == 0; i++) {
		if (v[i].proto != v[i - 1].proto) {
			widest = i;
			continue;
		}
		if (v[i].lo <= v[widest].hi) {
			const struct def_port *now = v[i].pos > v[widest].pos ? &v[i] : &v[widest];
			const struct def_port *had = now == &v[i] ? &v[widest] : &v[i];
			char a[16], c[16];
			port_text(a, sizeof(a), now);
			port_text(c, sizeof(c), had);
			pc_diag_add(diags, PC_SEV_ERROR, "service-port-duplicate", origin, index, 0,
					"'%s' lists %s/%s where it already lists %s/%s: each port once",
					b->strs.data + b->entries[first].row, a,
					pc_proto_name(now->proto), c, pc_proto_name(had->proto));
			ret = -1;
		}
		if (v[i].hi > v[widest].hi)
			widest = i;
	}
	free(v);
	return ret;
}

/* PORT[-PORT]/PROTO[,PROTO...], `len` bytes of `item`: one row per protocol on `row`. */
static int parse_override_item(struct pc_layer_builder *b, uint32_t row, const char *item,
		size_t len, unsigned index, struct pc_diags *diags, const char *origin)
{
	const char *slash = memchr(item, '/', len), *end = item + len;
	uint16_t lo, hi;

	if (!slash) {
		struct pc_diag *d = pc_diag_add(diags, PC_SEV_ERROR, "override-syntax", origin,
				index, 0, "bad port '%.*s': expected PORT/PROTO", (int)len, item);
		pc_diag_hint(d, "e.g. kdc=88/tcp,udp;750/udp");
		return -1;
	}
	if (pc_parse_port_range(item, (size_t)(slash - item), &lo, &hi) < 0) {
		pc_diag_add(diags, PC_SEV_ERROR, "override-port", origin, index, 0,
				"bad port '%.*s': expected a number from 1 to 65535 or a range",
				(int)(slash - item), item);
		return -1;
	}
	if (lo == 0) {
		pc_diag_add(diags, PC_SEV_ERROR, "override-port", origin, index, 0,
				PC_PORT_ZERO_MSG);
		return -1;
	}
	for (const char *p = slash + 1;;) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		size_t n = comma ? (size_t)(comma - p) : (size_t)(end - p);
		char proto[8];
		int pr = -1;

		if (n < sizeof(proto)) {
			memcpy(proto, p, n);
			proto[n] = '\0';
			pr = pc_proto_parse(proto);
		}
		if (pr < 0) {
			pc_diag_add(diags, PC_SEV_ERROR, "override-protocol", origin, index, 0,
					"unknown protocol '%.*s' (expected tcp, udp, sctp or dccp)",
					(int)n, p);
			return -1;
		}
		struct pc_entry *e = pc_builder_add(b);
		e->row = row;
		e->port_lo = lo;
		e->port_hi = hi;
		e->proto = (uint8_t)pr;
		e->flags = PC_ENTRY_F_PORT;
		e->line = index;
		if (!comma)
			break;
		p = comma + 1;
	}
	return 0;
}

/*
 * Where the definition that made row `row` of the override layer came from:
 * the spec added k-th began at row starts[k].  A --define option is named
 * whole ("--define mysvc=7001/tcp": its index is no line of any file), a
 * policy's definition by file:line.
 */
static char *override_where(
		const struct pc_registry *reg, const uint32_t *starts, size_t n, uint32_t row)
{
	size_t k = 0, hi = n; /* the last k with starts[k] <= row */

	while (hi - k > 1) {
		size_t mid = k + (hi - k) / 2;
		if (starts[mid] <= row)
			k = mid;
		else
			hi = mid;
	}
	if (!strcmp(reg->override_origins[k], "--define"))
		return xasprintf("--define %s", reg->override_specs[k]);
	return xasprintf("%s:%u", reg->override_origins[k], reg->override_index[k]);
}

/*
 * The names an override layer being built defines: open addressing on the
 * folded name's hash, each slot the index + 1 of the first row of its
 * definition (0: empty).  A definition is looked up once, not compared with
 * every row before it.
 */
struct def_names {
	uint32_t *slot;
	size_t cap, n;
};

/* The slot of the name s (n bytes): the one holding it, or the empty one it would take. */
static uint32_t *def_names_slot(const struct def_names *x, const struct pc_layer_builder *b,
		const char *s, size_t n)
{
	size_t mask = x->cap - 1, i = pc_name_hash_n(s, n) & mask;

	for (; x->slot[i]; i = (i + 1) & mask) {
		const char *other = b->strs.data + b->entries[x->slot[i] - 1].row;
		size_t k = 0;
		while (k < n && other[k] && pc_fold(other[k]) == pc_fold(s[k]))
			k++;
		if (k == n && !other[k])
			break;
	}
	return &x->slot[i];
}

/* Row `first` begins a definition that was taken: its name is had. */
static void def_names_add(struct def_names *x, const struct pc_layer_builder *b, uint32_t first)
{
	if (4 * (x->n + 1) > 3 * x->cap) { /* at most three quarters full */
		struct def_names y = {xcalloc(x->cap ? 2 * x->cap : 64, sizeof(uint32_t)),
				x->cap ? 2 * x->cap : 64, x->n};
		for (size_t i = 0; i < x->cap; i++) {
			if (!x->slot[i])
				continue;
			const char *name = b->strs.data + b->entries[x->slot[i] - 1].row;
			*def_names_slot(&y, b, name, strlen(name)) = x->slot[i];
		}
		free(x->slot);
		*x = y;
	}
	const char *name = b->strs.data + b->entries[first].row;
	*def_names_slot(x, b, name, strlen(name)) = first + 1;
	x->n++;
}

/*
 * NAME=PORTS/PROTOS[;PORTS/PROTOS...] -> one row per port and protocol.
 * reg's first nprior specs, whose rows begin at starts[], are in b already,
 * their names in `names`.
 */
static int parse_override(struct pc_layer_builder *b, const char *spec, unsigned index,
		struct pc_diags *diags, const char *origin, const struct pc_registry *reg,
		const uint32_t *starts, size_t nprior, const struct def_names *names)
{
	const char *eq = strchr(spec, '=');
	const char *slash = eq ? strchr(eq, '/') : NULL;

	if (!eq || !slash || eq == spec) {
		struct pc_diag *d = pc_diag_add(diags, PC_SEV_ERROR, "override-syntax", origin,
				index, 0, "bad service definition '%s'", spec);
		pc_diag_hint(d, "write NAME=PORT/PROTO, e.g. kdc-metrics=9102/tcp or "
				"x=6000-6063/tcp,udp; several ports: kdc=88/tcp,udp;750/udp");
		return -1;
	}
	size_t nlen = (size_t)(eq - spec);
	if (nlen >= PC_MAX_NAME) {
		pc_diag_add(diags, PC_SEV_ERROR, "override-syntax", origin, index, 0,
				"service name longer than %d characters", PC_MAX_NAME - 1);
		return -1;
	}
	bool letter = false;
	for (size_t i = 0; i < nlen; i++) {
		unsigned char ch = (unsigned char)spec[i];
		if (!pc_name_char_ok(ch)) {
			pc_diag_add(diags, PC_SEV_ERROR, "override-syntax", origin, index, 0,
					"service name '%.*s' contains a character that is not "
					"allowed",
					(int)nlen, spec);
			return -1;
		}
		letter |= (ch | 0x20) >= 'a' && (ch | 0x20) <= 'z';
	}
	if (!letter) {
		pc_diag_add(diags, PC_SEV_ERROR, "override-syntax", origin, index, 0,
				"service name '%.*s' needs a letter", (int)nlen, spec);
		return -1;
	}
	/* One definition per name (ASCII case folded): a second one is a mistake. */
	const uint32_t *had = names->cap ? def_names_slot(names, b, spec, nlen) : NULL;
	if (had && *had) {
		char *where = override_where(reg, starts, nprior, *had - 1);
		pc_diag_add(diags, PC_SEV_ERROR, "override-duplicate", origin, index, 0,
				"'%.*s' is already defined (%s)", (int)nlen, spec, where);
		free(where);
		return -1;
	}
	uint32_t col[COL_COUNT] = {pc_builder_str(b, spec, nlen)};
	uint32_t row = pc_builder_row(b, col), first = b->n;
	for (const char *item = eq + 1;;) {
		const char *semi = strchr(item, ';');
		size_t n = semi ? (size_t)(semi - item) : strlen(item);
		if (parse_override_item(b, row, item, n, index, diags, origin) < 0)
			return -1;
		if (!semi)
			return override_overlaps(b, first, index, diags, origin);
		item = semi + 1;
	}
}

/* The override layer's specs one longer, spec taken in. */
static void override_keep(
		struct pc_registry *reg, const char *spec, const char *origin, unsigned index)
{
	size_t n = reg->noverrides + 1;

	/* Doubling at each power of two: a policy adds thousands (ASan's realloc copies). */
	if ((reg->noverrides & (reg->noverrides - 1)) == 0) {
		size_t cap = reg->noverrides ? 2 * reg->noverrides : 1;
		reg->override_specs = xreallocarray(reg->override_specs, cap, sizeof(char *));
		reg->override_origins = xreallocarray(reg->override_origins, cap, sizeof(char *));
		reg->override_index = xreallocarray(reg->override_index, cap, sizeof(unsigned));
	}
	reg->override_specs[n - 1] = xstrdup(spec);
	reg->override_origins[n - 1] = xstrdup(origin);
	reg->override_index[n - 1] = index;
	reg->noverrides = n;
}

size_t pc_registry_add_overrides(struct pc_registry *reg, size_t n, const char *const *specs,
		const char *const *origins, const unsigned *index, struct pc_diags *diags)
{
	struct pc_layer_builder b;
	struct def_names names = {0};
	size_t had = reg->noverrides, refused = 0;
	const char *file = NULL; /* the layer's: the origin of the last definition taken */

	if (n == 0)
		return 0;
	uint32_t *starts = xcalloc(had + n + 1, sizeof(*starts));
	pc_builder_init(&b, PC_LAYER_OVERRIDE, origins[n - 1]);
	/* The specs taken before: each was taken once, so each is again. */
	for (size_t i = 0; i < had; i++) {
		starts[i] = b.n;
		if (parse_override(&b, reg->override_specs[i], reg->override_index[i], &diags[0],
				    reg->override_origins[i], reg, starts, i, &names) == 0)
			def_names_add(&names, &b, starts[i]);
	}
	for (size_t k = 0; k < n; k++) {
		uint32_t rows = b.n;
		size_t strs = b.strs.len;
		starts[reg->noverrides] = rows;
		if (parse_override(&b, specs[k], index[k], &diags[k], origins[k], reg, starts,
				    reg->noverrides, &names) < 0) {
			/* What it added goes: the layer is as if it had not been given. */
			b.n = rows;
			b.strs.len = strs;
			b.strs.data[strs] = '\0';
			refused++;
			continue;
		}
		def_names_add(&names, &b, rows);
		override_keep(reg, specs[k], origins[k], index[k]);
		file = origins[k];
	}
	if (file) {
		free(b.file);
		b.file = xstrdup(file);
		set_layer(reg, PC_LAYER_OVERRIDE, pc_builder_build(&b, &diags[n - 1]));
	}
	pc_builder_finish(&b);
	free(names.slot);
	free(starts);
	return refused;
}

int pc_registry_add_override(struct pc_registry *reg, const char *spec, const char *origin,
		unsigned index, struct pc_diags *diags)
{
	return pc_registry_add_overrides(reg, 1, &spec, &origin, &index, diags) ? -1 : 0;
}

bool pc_service_name_ok(const char *s)
{
	size_t n = strlen(s);
	bool letter = false;

	if (n == 0 || n >= PC_MAX_NAME)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!pc_name_char_ok(c))
			return false;
		letter |= (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
	}
	return letter;
}

int pc_parse_port_range_public(const char *s, uint16_t *lo, uint16_t *hi)
{
	return pc_parse_port_range(s, strlen(s), lo, hi);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Appends the rows `idx` (sorted into file order, duplicates dropped). */
static void push_rows(const struct pc_layer *l, uint32_t *idx, size_t n, struct pc_records *out)
{
	qsort(idx, n, sizeof(*idx), cmp_u32);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || idx[i] != idx[i - 1])
			pc_layer_record(l, &l->entries[idx[i]], pc_records_push(out));
}

size_t pc_registry_find_name(
		const struct pc_registry *reg, const char *name, struct pc_records *out)
{
	size_t before = out->n;

	for (int k = 0; k < PC_LAYER_COUNT; k++) {
		const struct pc_layer *l = reg->layers[k];
		const struct pc_nameref *r = l ? pc_layer_find(l, name) : NULL;
		uint32_t n = 0, cap = 8;

		if (!r)
			continue;
		uint32_t *idx = xcalloc(cap, sizeof(*idx));
		for (; r; r = r->next ? &l->names[r->next - 1] : NULL) {
			if (l->entries[r->entry].state == PC_STATE_DAEMON)
				continue; /* a daemon's name is no service: a suggestion only */
			if (n == cap)
				idx = xreallocarray(idx, cap *= 2, sizeof(*idx));
			idx[n++] = r->entry;
		}
		if (n)
			push_rows(l, idx, n, out);
		free(idx);
	}
	return out->n - before;
}

static bool proto_matches(uint8_t row, enum pc_proto query)
{
	return query == PC_PROTO_ANY || row == PC_PROTO_ANY || row == query;
}

/*
 * Rows of layer `k` whose ports overlap lo..hi for `proto`.  Ranges are found
 * from the last that starts at or before `hi`, walking back while the reach
 * says an earlier one may still cover `lo`: a lookup costs what it finds.
 */
static void layer_rows_overlapping(const struct pc_registry *reg, enum pc_layer_kind k, uint16_t lo,
		uint16_t hi, enum pc_proto proto, struct pc_records *out)
{
	const struct pc_layer *l = reg->layers[k];
	const uint16_t *reach = l->reach;
	uint32_t a = 0, b = l->nports, n = 0, cap = 16;
	uint32_t *idx = xcalloc(cap, sizeof(*idx));

	while (a < b) {
		uint32_t mid = a + (b - a) / 2;
		if (l->port_keys[mid] < lo)
			a = mid + 1;
		else
			b = mid;
	}
	for (; a < l->nports && l->port_keys[a] <= hi; a++) {
		const struct pc_entry *e = &l->entries[l->ports[a]];
		if (!proto_matches(e->proto, proto))
			continue;
		if (n == cap)
			idx = xreallocarray(idx, cap *= 2, sizeof(*idx));
		idx[n++] = l->ports[a];
	}
	a = 0;
	b = l->nranges;
	while (a < b) { /* the first range that starts after hi */
		uint32_t mid = a + (b - a) / 2;
		if (l->range_keys[mid] <= hi)
			a = mid + 1;
		else
			b = mid;
	}
	for (uint32_t r = a; r-- > 0 && reach[r] >= lo;) {
		const struct pc_entry *e = &l->entries[l->ranges[r]];
		if (e->port_hi < lo || !proto_matches(e->proto, proto))
			continue;
		if (n == cap)
			idx = xreallocarray(idx, cap *= 2, sizeof(*idx));
		idx[n++] = l->ranges[r];
	}
	push_rows(l, idx, n, out);
	free(idx);
}

size_t pc_registry_find_port(const struct pc_registry *reg, uint16_t port, enum pc_proto proto,
		struct pc_records *out)
{
	size_t before = out->n;

	for (int k = 0; k < PC_LAYER_COUNT; k++)
		if (reg->layers[k])
			layer_rows_overlapping(reg, (enum pc_layer_kind)k, port, port, proto, out);
	return out->n - before;
}

struct suggestion {
	const char *name;
	unsigned dist;
};

static int cmp_suggestion(const void *a, const void *b)
{
	const struct suggestion *x = a, *y = b;

	if (x->dist != y->dist)
		return x->dist < y->dist ? -1 : 1;
	return pc_strcasecmp(x->name, y->name);
}

/* The name a layer gives `name` (its own spelling), or NULL if no layer has it. */
static const char *registry_name(const struct pc_registry *reg, const char *name)
{
	for (int k = PC_LAYER_COUNT - 1; k >= 0; k--) {
		const struct pc_layer *l = reg->layers[k];
		const struct pc_nameref *r = l ? pc_layer_find(l, name) : NULL;
		if (r && l->entries[r->entry].state != PC_STATE_DAEMON)
			return pc_layer_str(l, r->name);
	}
	return NULL;
}

/*
 * The services a `daemon` row of the practice layer says `name` serves
 * (`kadmind`: kerberos-adm, kpasswd), those some layer knows, in the row's
 * order, into out[stored..max).
 */
static size_t daemon_services(const struct pc_registry *reg, const char *name, const char **out,
		size_t stored, size_t max)
{
	const struct pc_layer *l = reg->layers[PC_LAYER_PRACTICE];
	const struct pc_nameref *r = l ? pc_layer_find(l, name) : NULL;

	for (; r && stored < max; r = r->next ? &l->names[r->next - 1] : NULL) {
		const struct pc_entry *e = &l->entries[r->entry];
		if (e->state != PC_STATE_DAEMON)
			continue;
		const char *p = pc_layer_str(l, e->extra);
		while (*p && stored < max) {
			char one[PC_MAX_NAME];
			size_t n = strcspn(p, ",");
			if (n < sizeof(one)) {
				memcpy(one, p, n);
				one[n] = '\0';
				const char *known = registry_name(reg, one);
				if (known)
					out[stored++] = known;
			}
			p += n + (p[n] == ',');
		}
	}
	return stored;
}

size_t pc_registry_suggest(
		const struct pc_registry *reg, const char *name, const char **out, size_t max)
{
	size_t len, n = 0, cap = 0, stored = daemon_services(reg, name, out, 0, max);
	uint64_t set = pc_name_char_set(name, &len);
	unsigned limit = len <= 3 ? 1 : len <= 6 ? 2 : 3;
	struct suggestion *v = NULL;

	if (stored)
		return stored; /* a daemon's name: the services it serves, nothing near */

	for (int k = 0; k < PC_LAYER_COUNT; k++) {
		const struct pc_layer *l = reg->layers[k];
		if (!l)
			continue;
		for (uint32_t i = 0; i < l->nslots; i++) {
			if (!l->slots[i])
				continue;
			uint32_t r = l->slots[i] - 1;
			size_t clen = l->name_lens[r];
			if (clen == PC_NAME_LEN_DAEMON)
				continue; /* not a service: never suggested */
			if (clen == PC_NAME_LEN_LONG)
				clen = strlen(l->name_text + l->name_offs[r]);
			/*
			 * Most names are too far by length or letters alone: their
			 * text is not read, nor a table filled.
			 */
			if ((clen > len ? clen - len : len - clen) > limit ||
					(unsigned)__builtin_popcountll(set ^ l->name_sets[r]) >
							2 * limit)
				continue;
			const char *cand = l->name_text + l->name_offs[r];
			unsigned d = pc_edit_distance(name, cand, limit);
			if (d > limit || d == 0)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				v = xreallocarray(v, cap, sizeof(*v));
			}
			v[n++] = (struct suggestion){cand, d};
		}
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_suggestion);
	for (size_t i = 0; i < n && stored < max; i++)
		if (i == 0 || !pc_streq_fold(v[i].name, v[i - 1].name))
			out[stored++] = v[i].name;
	free(v);
	return stored;
}

int pc_port_query_parse(const char *s, uint16_t *lo, uint16_t *hi, enum pc_proto *proto)
{
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);

	if (n == 0 || strspn(s, "0123456789-") != n)
		return -1;
	if (pc_parse_port_range(s, n, lo, hi) < 0)
		return -2;
	*proto = PC_PROTO_ANY;
	if (slash) {
		int pr = pc_proto_parse(slash + 1);
		if (pr < 0)
			return -2;
		*proto = (enum pc_proto)pr;
	}
	return 0;
}

/* ---- resolution ------------------------------------------------------- */

void pc_resolution_init(struct pc_resolution *res)
{
	memset(res, 0, sizeof(*res));
	pc_records_init(&res->rows);
	pc_diags_init(&res->findings);
}

void pc_resolution_finish(struct pc_resolution *res)
{
	free(res->ports);
	free(res->known);
	pc_records_finish(&res->rows);
	pc_diags_finish(&res->findings);
	pc_resolution_init(res);
}

static bool record_has_name(const struct pc_record *r, const char *name)
{
	if (!*name)
		return false;
	if (pc_streq_fold(r->name, name) || pc_streq_fold(r->alias_of, name))
		return true;
	for (unsigned i = 0; i < r->naliases; i++)
		if (pc_streq_fold(r->aliases[i], name))
			return true;
	return false;
}

/* Two rows name the same service when their names, aliases or canonical names meet. */
static bool same_service(const struct pc_record *a, const struct pc_record *b)
{
	if (record_has_name(b, a->name) || record_has_name(b, a->alias_of))
		return true;
	for (unsigned i = 0; i < a->naliases; i++)
		if (record_has_name(b, a->aliases[i]))
			return true;
	return false;
}

static void format_port(char *buf, size_t n, uint16_t lo, uint16_t hi, enum pc_proto proto)
{
	int w = lo == hi ? snprintf(buf, n, "%u", lo) : snprintf(buf, n, "%u-%u", lo, hi);

	if (proto != PC_PROTO_ANY && w > 0 && (size_t)w < n)
		snprintf(buf + w, n - (size_t)w, "/%s", pc_proto_name(proto));
}

/* Ports a name has before add_port() stops scanning them and hashes them. */
#define PORTS_SCANNED 32

static uint64_t port_key(uint16_t lo, uint16_t hi, enum pc_proto proto)
{
	return (uint64_t)lo | (uint64_t)hi << 16 | (uint64_t)proto << 32;
}

/* The slot of `key` in res->known: where it is, or the empty one it would go in. */
static uint64_t *known_slot(uint64_t *v, size_t cap, uint64_t key)
{
	size_t mask = cap - 1, i = (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 32) & mask;

	while (v[i] && v[i] != key + 1)
		i = (i + 1) & mask;
	return &v[i];
}

/*
 * Whether res has a port of key, else records it as had: a scan of the
 * ports while they are few, a hash of them after (a definition may list
 * thousands; a scan each would be quadratic in them).
 */
static bool port_known(struct pc_resolution *res, uint64_t key)
{
	if (res->nports < PORTS_SCANNED) {
		for (size_t i = 0; i < res->nports; i++)
			if (port_key(res->ports[i].lo, res->ports[i].hi, res->ports[i].proto) ==
					key)
				return true;
		return false;
	}
	if (4 * (res->nports + 1) > 3 * res->nknown) { /* at most three quarters full */
		size_t cap = res->nknown ? 2 * res->nknown : 4 * PORTS_SCANNED;
		uint64_t *v = xcalloc(cap, sizeof(*v));
		for (size_t i = 0; i < res->nports; i++) {
			const struct pc_port *p = &res->ports[i];
			uint64_t k = port_key(p->lo, p->hi, p->proto);
			*known_slot(v, cap, k) = k + 1;
		}
		free(res->known);
		res->known = v;
		res->nknown = cap;
	}
	uint64_t *slot = known_slot(res->known, res->nknown, key);
	if (*slot)
		return true;
	*slot = key + 1;
	return false;
}

static void add_port(struct pc_resolution *res, const struct pc_record *r)
{
	if (port_known(res, port_key(r->port_lo, r->port_hi, r->proto)))
		return; /* a higher layer already gave it */
	if (res->nports == res->cap) {
		res->cap = res->cap ? res->cap * 2 : 4;
		res->ports = xreallocarray(res->ports, res->cap, sizeof(*res->ports));
	}
	res->ports[res->nports++] = (struct pc_port){r->port_lo, r->port_hi, r->proto, *r, NULL};
}

static int cmp_port(const void *a, const void *b)
{
	const struct pc_port *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->hi < y->hi ? -1 : x->hi > y->hi;
}

/* The first line of a description, cut short, for messages. */
static void short_desc(char *buf, size_t n, const char *desc)
{
	size_t len = strcspn(desc, "\r\n");

	if (len >= n) {
		len = n - 4;
		while (len && ((unsigned char)desc[len] & 0xc0) == 0x80)
			len--;
		snprintf(buf, n, "%.*s...", (int)len, desc);
	} else {
		snprintf(buf, n, "%.*s", (int)len, desc);
	}
}

/* One finding per (code, text), listing every port/protocol it applies to. */
struct finding_acc {
	const char *code;
	enum pc_severity sev;
	char key[192];
	char ports[256];
	const struct pc_record *at;
	char head[160];
	char tail[256];
};

struct findings {
	struct finding_acc v[32];
	size_t n;
};

static void acc_add(struct findings *f, const char *code, enum pc_severity sev,
		const struct pc_record *at, const char *head, const char *port, const char *tail)
{
	char key[192];

	snprintf(key, sizeof(key), "%s|%s|%s", code, head, tail);
	for (size_t i = 0; i < f->n; i++) {
		if (!strcmp(f->v[i].key, key)) {
			size_t l = strlen(f->v[i].ports);
			if (!strstr(f->v[i].ports, port))
				snprintf(f->v[i].ports + l, sizeof(f->v[i].ports) - l, ", %s",
						port);
			return;
		}
	}
	if (f->n == PC_ARRAY_SIZE(f->v))
		return;
	struct finding_acc *a = &f->v[f->n++];
	a->code = code;
	a->sev = sev;
	a->at = at;
	snprintf(a->key, sizeof(a->key), "%s", key);
	snprintf(a->ports, sizeof(a->ports), "%s", port);
	snprintf(a->head, sizeof(a->head), "%s", head);
	snprintf(a->tail, sizeof(a->tail), "%s", tail);
}

static void acc_flush(struct findings *f, struct pc_diags *out)
{
	for (size_t i = 0; i < f->n; i++) {
		struct finding_acc *a = &f->v[i];
		pc_diag_add(out, a->sev, a->code, a->at->file, a->at->line, 0, "%s%s%s", a->head,
				a->ports, a->tail);
	}
	f->n = 0;
}

/* Whether the port and protocol of `r` are among the first `n` of `v`. */
static bool port_listed(const struct pc_port *v, size_t n, const struct pc_record *r)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].lo == r->port_lo && v[i].hi == r->port_hi && v[i].proto == r->proto)
			return true;
	return false;
}

/* Appends the port of `r` to the list in `buf` (length *len), once. */
static void list_port(char *buf, size_t n, size_t *len, const struct pc_record *r)
{
	char p[32];

	format_port(p, sizeof(p), r->port_lo, r->port_hi, r->proto);
	if (!strstr(buf, p) && *len + strlen(p) + 3 < n)
		*len += (size_t)snprintf(buf + *len, n - *len, "%s%s", *len ? ", " : "", p);
}

/* The first `decided` ports of `res`, as "88/tcp, 88/udp". */
static void decided_ports(const struct pc_resolution *res, size_t decided, char *buf, size_t n)
{
	buf[0] = '\0';
	for (size_t i = 0, pl = 0; i < decided; i++) {
		char p[32];
		format_port(p, sizeof(p), res->ports[i].lo, res->ports[i].hi, res->ports[i].proto);
		pl += (size_t)snprintf(buf + pl, n - pl, "%s%s", pl ? ", " : "", p);
		if (pl >= n)
			break;
	}
}

/*
 * Whether the layers below the definitions give `name` exactly the ports
 * of `res` (a definition that does is an alias of that service in effect).
 */
static bool same_ports_as(
		const struct pc_registry *reg, const struct pc_resolution *res, const char *name)
{
	struct pc_records rows;
	size_t matched = 0;
	bool same = true;

	pc_records_init(&rows);
	pc_registry_find_name(reg, name, &rows);
	for (size_t i = 0; i < rows.n && same; i++) {
		const struct pc_record *r = &rows.v[i];
		if (!(r->flags & PC_ENTRY_F_PORT) ||
				(pc_layer_def(r->layer)->flags & PC_LAYER_F_DEFINED))
			continue;
		same = port_listed(res->ports, res->nports, r);
		matched++;
	}
	/* And every port of the definition is one of those rows'. */
	for (size_t i = 0; i < res->nports && same; i++) {
		const struct pc_port *p = &res->ports[i];
		same = false;
		for (size_t k = 0; k < rows.n && !same; k++) {
			const struct pc_record *r = &rows.v[k];
			same = (r->flags & PC_ENTRY_F_PORT) &&
			       !(pc_layer_def(r->layer)->flags & PC_LAYER_F_DEFINED) &&
			       r->port_lo == p->lo && r->port_hi == p->hi && r->proto == p->proto;
		}
	}
	pc_records_finish(&rows);
	return same && matched;
}

/*
 * The service a definition is an alias of in effect: the one service IANA
 * assigns its ports to, when the layers below give that service exactly
 * those ports; NULL when none is, or when IANA names several services there.
 */
static const char *definition_alias(
		const struct pc_registry *reg, const struct pc_resolution *res, const char *query)
{
	const struct pc_layer *iana = reg->layers[PC_LAYER_IANA];
	const char *alias = NULL;
	struct pc_records rows;
	bool one = true;

	if (!iana || !res->nports ||
			!(pc_layer_def(res->ports[0].src.layer)->flags & PC_LAYER_F_DEFINED))
		return NULL;
	pc_records_init(&rows);
	for (size_t i = 0; i < res->nports && one; i++) {
		const struct pc_port *p = &res->ports[i];
		rows.n = 0;
		layer_rows_overlapping(reg, PC_LAYER_IANA, p->lo, p->hi, p->proto, &rows);
		for (size_t k = 0; k < rows.n && one; k++) {
			const struct pc_record *r = &rows.v[k];
			if (!*r->name)
				continue;
			if (record_has_name(r, query))
				one = false; /* IANA has the name itself there */
			else if (!alias)
				alias = r->name;
			else
				one = pc_streq_fold(alias, r->name);
		}
	}
	pc_records_finish(&rows);
	return one && alias && same_ports_as(reg, res, alias) ? alias : NULL;
}

/* Says once that the definition of `query` is an alias of `name` in effect. */
static void note_alias(struct pc_resolution *res, const struct pc_port *p, const char *query,
		const char *name)
{
	char ports[256], msg[512];

	decided_ports(res, res->nports, ports, sizeof(ports));
	snprintf(msg, sizeof(msg),
			"%s: the definition (%s) gives exactly the ports of '%s': an alias of it, "
			"no conflict",
			query, ports, name);
	for (size_t i = 0; i < res->findings.n; i++)
		if (!strcmp(res->findings.v[i].msg, msg))
			return;
	pc_diag_add(&res->findings, PC_SEV_NOTE, "definition-alias", p->src.file, p->src.line, 0,
			"%s", msg);
}

/*
 * The rows of `rows` in order of protocol and port range (then as listed), so
 * that the names IANA gives one port are side by side: finding them is a walk
 * over that port's own rows, not over every row (a definition of a wide range
 * overlaps thousands).
 */
struct port_groups {
	const struct pc_record **v;
	size_t *at; /* rows->v[i] is v[at[i]] */
	size_t *first, *end; /* of the group of v[k] */
};

static bool same_port(const struct pc_record *x, const struct pc_record *y)
{
	return x->proto == y->proto && x->port_lo == y->port_lo && x->port_hi == y->port_hi;
}

static int cmp_row_port(const void *a, const void *b)
{
	const struct pc_record *x = *(const struct pc_record *const *)a;
	const struct pc_record *y = *(const struct pc_record *const *)b;

	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->port_lo != y->port_lo)
		return x->port_lo < y->port_lo ? -1 : 1;
	if (x->port_hi != y->port_hi)
		return x->port_hi < y->port_hi ? -1 : 1;
	return x < y ? -1 : x > y; /* as listed: rows->v is in the layer's order */
}

static void port_groups_make(struct port_groups *g, const struct pc_records *rows)
{
	size_t n = rows->n;

	g->v = xcalloc(n + 1, sizeof(*g->v));
	g->at = xcalloc(n + 1, sizeof(*g->at));
	g->first = xcalloc(n + 1, sizeof(*g->first));
	g->end = xcalloc(n + 1, sizeof(*g->end));
	for (size_t i = 0; i < n; i++)
		g->v[i] = &rows->v[i];
	qsort(g->v, n, sizeof(*g->v), cmp_row_port);
	for (size_t k = 0; k < n; k++) {
		g->at[(size_t)(g->v[k] - rows->v)] = k;
		g->first[k] = k && same_port(g->v[k - 1], g->v[k]) ? g->first[k - 1] : k;
	}
	for (size_t k = n; k-- > 0;)
		g->end[k] = k + 1 < n && g->first[k + 1] == g->first[k] ? g->end[k + 1] : k + 1;
}

static void port_groups_finish(struct port_groups *g)
{
	free(g->v);
	free(g->at);
	free(g->first);
	free(g->end);
}

/*
 * ` to "loadav", "kerberos-iv" (kerberos version iv)`: every name IANA gives
 * the port and protocol of sorted row `at` (of `g`), in registry order, each
 * with its description.  Beside an IANA answer (`src`), its own names are
 * left out: they are the answer.
 */
static void iana_names(char *buf, size_t n, const struct port_groups *g, size_t at,
		const struct pc_record *src, const char *query)
{
	size_t len = 0;
	char desc[80];

	snprintf(buf, n, " to ");
	for (size_t k = g->first[at]; k < g->end[at]; k++) {
		const struct pc_record *o = g->v[k];
		if (!*o->name)
			continue;
		if (src->layer == PC_LAYER_IANA && (o->line == src->line || same_service(o, src) ||
								   record_has_name(o, query)))
			continue;
		len = strlen(buf);
		short_desc(desc, sizeof(desc), o->description);
		snprintf(buf + len, n - len, "%s\"%s\"%s%s%s", len > 4 ? ", " : "", o->name,
				*desc ? " (" : "", desc, *desc ? ")" : "");
	}
}

/* What IANA says about the ports a name resolved to. */
static void iana_checks(const struct pc_registry *reg, struct pc_resolution *res, const char *query)
{
	const struct pc_layer *iana = reg->layers[PC_LAYER_IANA];
	struct findings acc = {.n = 0};
	struct pc_records rows;
	char head[160], tail[256], port[32], desc[80];

	if (!iana)
		return;
	const char *alias = definition_alias(reg, res, query);
	pc_records_init(&rows);
	for (size_t i = 0; i < res->nports; i++) {
		struct pc_port *p = &res->ports[i];
		bool other = p->src.layer != PC_LAYER_IANA;
		struct port_groups g;
		rows.n = 0;
		layer_rows_overlapping(reg, PC_LAYER_IANA, p->lo, p->hi, p->proto, &rows);
		port_groups_make(&g, &rows);
		for (size_t k = 0; k < rows.n; k++) {
			const struct pc_record *r = &rows.v[k];
			enum pc_proto pr = p->proto != PC_PROTO_ANY ? p->proto : r->proto;
			uint16_t lo = r->port_lo > p->lo ? r->port_lo : p->lo;
			uint16_t hi = r->port_hi < p->hi ? r->port_hi : p->hi;

			bool itself = r->line == p->src.line && p->src.layer == PC_LAYER_IANA;

			format_port(port, sizeof(port), lo, hi, pr);
			short_desc(desc, sizeof(desc), r->description);
			if (itself) {
				/* The deciding row: a reservation of its own (stun-behaviors), and
				 * its unauthorized-use note below. */
				if (r->state == PC_STATE_RESERVED) {
					snprintf(head, sizeof(head), "%s resolves to ", query);
					snprintf(tail, sizeof(tail),
							", which IANA reserves: \"%s\"", desc);
					acc_add(&acc, "port-reserved", PC_SEV_WARNING, &p->src,
							head, port, tail);
				}
			} else if (*r->name && !same_service(r, &p->src) &&
					!record_has_name(r, query)) {
				if (p->src.layer == PC_LAYER_IANA)
					snprintf(head, sizeof(head), "IANA also assigns ");
				else
					snprintf(head, sizeof(head),
							"%s resolves to %s from the %s layer; IANA "
							"assigns ",
							query, port, pc_layer_name(p->src.layer));
				iana_names(tail, sizeof(tail), &g, g.at[k], &p->src, query);
				if (other && !p->iana)
					p->iana = r->name;
				if (alias && pc_streq_fold(alias, r->name))
					note_alias(res, p, query, alias);
				else
					acc_add(&acc, "registry-conflict", PC_SEV_WARNING, &p->src,
							head, port, tail);
			} else if (!*r->name && r->state == PC_STATE_RESERVED) {
				snprintf(head, sizeof(head), "%s resolves to ", query);
				acc_add(&acc, "port-reserved", PC_SEV_WARNING, &p->src, head, port,
						", which IANA lists as Reserved");
				if (other && !p->iana)
					p->iana = "Reserved";
			} else if (!*r->name && r->state == PC_STATE_UNASSIGNED) {
				snprintf(head, sizeof(head), "%s resolves to ", query);
				acc_add(&acc, "port-unassigned", PC_SEV_WARNING, &p->src, head,
						port, ", which IANA lists as Unassigned");
				if (other && !p->iana)
					p->iana = "Unassigned";
			}
			if ((r->flags & PC_ENTRY_F_UNAUTH)) {
				/* A note on a range may name the one port it is about. */
				uint16_t up = r->unauth_port;
				if (up && (up < p->lo || up > p->hi))
					continue;
				if (up)
					format_port(port, sizeof(port), up, up, pr);
				snprintf(tail, sizeof(tail), ": \"%s\"", r->unauthorized);
				acc_add(&acc, "unauthorized-use", PC_SEV_WARNING, &p->src,
						"IANA reports unauthorized use of ", port, tail);
			}
		}
		port_groups_finish(&g);
	}
	pc_records_finish(&rows);
	acc_flush(&acc, &res->findings);
}

static bool ranges_contain(const struct pc_port *v, size_t n, uint16_t lo, uint16_t hi)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].lo == lo && v[i].hi == hi)
			return true;
	return false;
}

/*
 * The practice row that says the daemon serves r's port over its own
 * protocols only (`only`), when r, a row of a layer below practice, adds a
 * protocol the practice rows of the name do not list there; else NULL.
 */
static const struct pc_record *practice_only(
		const struct pc_resolution *res, const struct pc_record *r)
{
	const struct pc_record *only = NULL;

	if (r->layer >= PC_LAYER_PRACTICE)
		return NULL;
	for (size_t i = 0; i < res->rows.n; i++) {
		const struct pc_record *x = &res->rows.v[i];
		if (x->layer != PC_LAYER_PRACTICE || !(x->flags & PC_ENTRY_F_PORT) ||
				x->port_lo != r->port_lo || x->port_hi != r->port_hi)
			continue;
		if (x->proto == r->proto)
			return NULL;
		if (x->flags & PC_ENTRY_F_ONLY)
			only = x;
	}
	return only;
}

/* Says which protocols of `layer` an `only` row of the practice layer left out, and why. */
static void note_practice_only(struct pc_resolution *res, const char *name,
		const struct pc_record *only, const char *left, enum pc_layer_kind layer)
{
	char kept[256] = "";
	size_t kl = 0;

	for (size_t i = 0; i < res->rows.n; i++) {
		const struct pc_record *x = &res->rows.v[i];
		if (x->layer == PC_LAYER_PRACTICE && (x->flags & PC_ENTRY_F_PORT) &&
				x->port_lo == only->port_lo && x->port_hi == only->port_hi)
			list_port(kept, sizeof(kept), &kl, x);
	}
	pc_diag_add(&res->findings, PC_SEV_NOTE, "practice-only", only->file, only->line, 0,
			"%s: the %s layer's %s is left out: the daemon serves %s only (the source: "
			"%s:%u, `portcullis lookup %s`)",
			name, pc_layer_name(layer), left, kept, only->file, only->line, name);
}

/* A daemon's configuration that turns the name off on a protocol: what the rule opens there. */
static void disabled_checks(struct pc_resolution *res, const char *name)
{
	for (size_t i = 0; i < res->rows.n; i++) {
		const struct pc_record *r = &res->rows.v[i];
		char ports[256] = "";
		size_t pl = 0;

		if (!(r->flags & PC_ENTRY_F_DISABLED))
			continue;
		for (size_t k = 0; k < res->nports; k++) {
			const struct pc_port *p = &res->ports[k];
			char one[32];
			if (p->proto != r->proto)
				continue;
			format_port(one, sizeof(one), p->lo, p->hi, p->proto);
			pl += (size_t)snprintf(ports + pl, sizeof(ports) - pl, "%s%s",
					pl ? ", " : "", one);
			if (pl >= sizeof(ports))
				break;
		}
		struct pc_diag *d = pc_diag_add(&res->findings, PC_SEV_WARNING, "kdc-conf-disabled",
				r->file, r->line, 0,
				"'%s' over %s is turned off by the KDC configuration (%s)%s%s%s",
				name, pc_proto_name(r->proto), r->description,
				*ports ? ": the rule opens " : "", ports,
				*ports ? " where nothing listens" : "");
		pc_diag_hint(d, "leave '%s' out of the rule, or set the port in the configuration",
				name);
	}
}

enum pc_resolve_status pc_registry_resolve(
		const struct pc_registry *reg, const char *name, struct pc_resolution *res)
{
	const struct pc_record *contested = NULL, *decider = NULL;
	char ports[256];

	pc_registry_find_name(reg, name, &res->rows);
	if (res->rows.n == 0)
		return res->status = PC_RESOLVE_UNKNOWN;

	for (size_t i = res->rows.n; i-- > 0;) {
		const struct pc_record *r = &res->rows.v[i];
		if (r->state == PC_STATE_CONTESTED)
			contested = r;
		if ((r->flags & PC_ENTRY_F_PORT) &&
				(!decider || r->layer > decider->layer ||
						(r->layer == decider->layer &&
								i < (size_t)(decider -
										    res->rows.v))))
			decider = r;
	}
	if (contested && (!decider || decider->layer != PC_LAYER_OVERRIDE)) {
		struct pc_diag *d = pc_diag_add(&res->findings, PC_SEV_ERROR, "contested",
				contested->file, contested->line, 0,
				"'%s' is contested: it names different ports in different places "
				"(%s)",
				name, contested->notes);
		pc_diag_hint(d, "use one of: %s", contested->instead);
		res->layer = contested->layer;
		res->canonical = contested->name;
		return res->status = PC_RESOLVE_CONTESTED;
	}
	if (!decider) {
		res->canonical = res->rows.v[0].name;
		res->layer = res->rows.v[0].layer;
		pc_diag_add(&res->findings, PC_SEV_ERROR, "no-port", res->rows.v[0].file,
				res->rows.v[0].line, 0,
				"'%s' is registered without a port (a DNS SRV name only)", name);
		return res->status = PC_RESOLVE_NO_PORT;
	}
	res->layer = decider->layer;
	res->canonical = decider->name;

	/* The deciding layer fixes the ports; every layer may add protocols on them. */
	for (size_t i = 0; i < res->rows.n; i++) {
		const struct pc_record *r = &res->rows.v[i];
		if (r->layer == decider->layer && (r->flags & PC_ENTRY_F_PORT))
			add_port(res, r);
	}
	size_t decided = res->nports;
	/*
	 * A definition is the final word for its name: the layers below add
	 * nothing.  So is a daemon's own configuration (the kdc-conf layer).
	 */
	bool config = (pc_layer_def(decider->layer)->flags & PC_LAYER_F_CONFIG) != 0;
	bool defined = config || (pc_layer_def(decider->layer)->flags & PC_LAYER_F_DEFINED);
	for (int k = PC_LAYER_COUNT - 1; k >= 0; k--) {
		char other[256] = "", replaced[256] = "", left[256] = "";
		size_t ol = 0, rl = 0, ll = 0;
		bool differs = false;
		const struct pc_record *first = NULL, *only = NULL;

		if (k == (int)decider->layer)
			continue;
		for (size_t i = 0; i < res->rows.n; i++) {
			const struct pc_record *r = &res->rows.v[i];
			if ((int)r->layer != k || !(r->flags & PC_ENTRY_F_PORT))
				continue;
			if (ranges_contain(res->ports, decided, r->port_lo, r->port_hi)) {
				const struct pc_record *o = defined ? NULL : practice_only(res, r);
				if (o) {
					list_port(left, sizeof(left), &ll, r);
					only = o;
					continue;
				}
				if (!defined) {
					add_port(res, r);
					continue;
				}
				differs |= !port_listed(res->ports, decided, r);
				list_port(replaced, sizeof(replaced), &rl, r);
				continue;
			}
			char p[32];
			format_port(p, sizeof(p), r->port_lo, r->port_hi, r->proto);
			if (!strstr(other, p) && ol + strlen(p) + 3 < sizeof(other))
				ol += (size_t)snprintf(other + ol, sizeof(other) - ol, "%s%s",
						ol ? ", " : "", p);
			if (!first)
				first = r;
		}
		if (first && decider->layer == PC_LAYER_PRACTICE && k == PC_LAYER_IANA &&
				(decider->flags & PC_ENTRY_F_CLAIM)) {
			/* A `claim` row of the practice layer vouches for the name people
			 * use (cifs: 445, where IANA's cifs is 3020): it decides, and IANA's
			 * meaning is said.  Without `claim` (IANA moved a name the practice
			 * layer lists) the layers disagree: a name-conflict. */
			char desc[128];
			decided_ports(res, decided, ports, sizeof(ports));
			short_desc(desc, sizeof(desc), first->description);
			struct pc_diag *d = pc_diag_add(&res->findings, PC_SEV_WARNING,
					"registry-conflict", decider->file, decider->line, 0,
					"%s resolves to %s from the practice layer; IANA gives the "
					"name %s to %s (\"%s\", %s:%u)",
					name, ports, name, other, desc, first->file, first->line);
			pc_diag_hint(d,
					"the practice row names its source; `portcullis lookup %s` "
					"shows both",
					name);
		} else if (first) {
			decided_ports(res, decided, ports, sizeof(ports));
			/* A configuration setting other ports than the registry is its purpose. */
			pc_diag_add(&res->findings, config ? PC_SEV_NOTE : PC_SEV_WARNING,
					"name-conflict", first->file, first->line, 0,
					"'%s' is %s in the %s layer but %s in the %s layer (%s:%u)",
					name, ports, pc_layer_name(decider->layer), other,
					pc_layer_name((enum pc_layer_kind)k), first->file,
					first->line);
		}
		if (only)
			note_practice_only(res, name, only, left, (enum pc_layer_kind)k);
		if (differs) {
			decided_ports(res, decided, ports, sizeof(ports));
			pc_diag_add(&res->findings, PC_SEV_NOTE, "definition-replaces",
					decider->file, decider->line, 0,
					"%s: %s (%s) replaces what the %s layer says (%s)", name,
					config ? "the daemon's configuration" : "the definition",
					ports, pc_layer_name((enum pc_layer_kind)k), replaced);
		}
	}
	if (res->nports > 1)
		qsort(res->ports, res->nports, sizeof(*res->ports), cmp_port);

	/* Several ports in the deciding layer: the user must pin one, unless a definition did. */
	for (size_t i = 1; i < res->nports && !defined; i++) {
		if (res->ports[i].lo == res->ports[0].lo && res->ports[i].hi == res->ports[0].hi)
			continue;
		size_t pl = 0;
		ports[0] = '\0';
		for (size_t j = 0; j < res->nports; j++) {
			char p[32];
			format_port(p, sizeof(p), res->ports[j].lo, res->ports[j].hi, PC_PROTO_ANY);
			if (strstr(ports, p))
				continue;
			pl += (size_t)snprintf(
					ports + pl, sizeof(ports) - pl, "%s%s", pl ? ", " : "", p);
			if (pl >= sizeof(ports))
				break;
		}
		struct pc_diag *d = pc_diag_add(&res->findings, PC_SEV_ERROR, "multi-port",
				decider->file, decider->line, 0,
				"'%s' is registered on several ports (%s) in the %s layer", name,
				ports, pc_layer_name(decider->layer));
		pc_diag_hint(d, "pin one: write the port number, or define the service yourself");
		res->status = PC_RESOLVE_AMBIGUOUS;
		break;
	}

	for (size_t i = 0; i < res->rows.n; i++) {
		const struct pc_record *r = &res->rows.v[i];
		if (!(r->flags & PC_ENTRY_F_HISTORIC) || !pc_streq_fold(r->name, name))
			continue;
		struct pc_diag *d = pc_diag_add(&res->findings, PC_SEV_WARNING, "historic-alias",
				r->file, r->line, 0,
				"'%s' is a historic alias of '%s' in the %s layer", r->name,
				r->alias_of, pc_layer_name(r->layer));
		pc_diag_hint(d, "use '%s'", r->alias_of);
		break;
	}
	disabled_checks(res, name);
	iana_checks(reg, res, name);
	return res->status;
}

void pc_registry_port_findings(const struct pc_registry *reg, uint16_t port, enum pc_proto proto,
		struct pc_diags *findings)
{
	unsigned unauth_any_line = 0;

	for (int pr = PC_PROTO_TCP; pr < PC_PROTO_COUNT; pr++) {
		struct pc_records rows;
		char buf[32], names[512] = "";
		size_t nl = 0, groups = 0;
		unsigned layers =
				0; /* of the services told apart: one layer alone is no conflict */
		const struct pc_record *first = NULL;

		if (proto != PC_PROTO_ANY && pr != (int)proto)
			continue;
		pc_records_init(&rows);
		pc_registry_find_port(reg, port, (enum pc_proto)pr, &rows);
		format_port(buf, sizeof(buf), port, port, (enum pc_proto)pr);
		for (size_t i = 0; i < rows.n; i++) {
			const struct pc_record *r = &rows.v[i];
			bool seen = false;

			if (!*r->name || r->state == PC_STATE_CONTESTED)
				continue;
			for (size_t j = 0; j < i && !seen; j++)
				seen = *rows.v[j].name && rows.v[j].state != PC_STATE_CONTESTED &&
				       same_service(&rows.v[j], r);
			if (!seen && ++groups == 1)
				first = r;
			if (!seen)
				layers |= 1u << r->layer;
			if (nl < sizeof(names))
				nl += (size_t)snprintf(names + nl, sizeof(names) - nl,
						"%s%s \"%s\"", nl ? ", " : "",
						pc_layer_name(r->layer), r->name);
		}
		if (groups > 1 && (layers & (layers - 1)))
			pc_diag_add(findings, PC_SEV_WARNING, "port-conflict", first->file,
					first->line, 0,
					"%s means different services in different places: %s", buf,
					names);
		for (size_t i = 0; i < rows.n; i++) {
			const struct pc_record *r = &rows.v[i];
			if (!(r->flags & PC_ENTRY_F_UNAUTH) || r->layer != PC_LAYER_IANA)
				continue;
			if (r->unauth_port && r->unauth_port != port)
				continue;
			/* A row without a protocol is reported once, not once per protocol. */
			if (r->proto == PC_PROTO_ANY && unauth_any_line == r->line)
				continue;
			if (r->proto == PC_PROTO_ANY) {
				unauth_any_line = r->line;
				format_port(buf, sizeof(buf), port, port, PC_PROTO_ANY);
			}
			pc_diag_add(findings, PC_SEV_WARNING, "unauthorized-use", r->file, r->line,
					0, "IANA reports unauthorized use of %s: \"%s\"", buf,
					r->unauthorized);
			break;
		}
		pc_records_finish(&rows);
	}
}

size_t pc_registry_layer_rows(
		const struct pc_registry *reg, enum pc_layer_kind kind, struct pc_records *out)
{
	const struct pc_layer *l = (unsigned)kind < PC_LAYER_COUNT ? reg->layers[kind] : NULL;

	if (!l)
		return 0;
	for (uint32_t i = 0; i < l->nentries; i++)
		pc_layer_record(l, &l->entries[i], pc_records_push(out));
	return l->nentries;
}

bool pc_record_has_name(const struct pc_record *r, const char *name)
{
	return record_has_name(r, name);
}

bool pc_record_same_service(const struct pc_record *a, const struct pc_record *b)
{
	return same_service(a, b);
}
