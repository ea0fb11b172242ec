/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "layer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const proto_names[PC_PROTO_COUNT] = {"", "tcp", "udp", "sctp", "dccp"};
static const char *const state_names[] = {
		"assigned", "reserved", "unassigned", "contested", "daemon"};

const char *pc_proto_name(enum pc_proto proto)
{
	return (unsigned)proto < PC_PROTO_COUNT ? proto_names[proto] : "?";
}

const char *pc_state_name(enum pc_state state)
{
	return (unsigned)state < PC_ARRAY_SIZE(state_names) ? state_names[state] : "?";
}

int pc_proto_parse(const char *s)
{
	for (int i = 1; i < PC_PROTO_COUNT; i++)
		if (pc_fold(s[0]) == proto_names[i][0] && pc_streq_fold(s, proto_names[i]))
			return i;
	return -1;
}

void pc_builder_init(struct pc_layer_builder *b, enum pc_layer_kind kind, const char *file)
{
	memset(b, 0, sizeof(*b));
	b->kind = (uint8_t)kind;
	b->file = xstrdup(file);
	pc_buf_init(&b->strs);
	pc_buf_add(&b->strs, "", 0);
	pc_buf_add(&b->strs, "", 1); /* offset 0 is "" */
}

void pc_builder_adopt(struct pc_layer_builder *b, struct pc_buf *text)
{
	pc_buf_finish(&b->strs);
	b->strs = *text;
	pc_buf_init(text);
}

int pc_read_text(const char *path, size_t max, struct pc_buf *text)
{
	pc_buf_init(text);
	pc_buf_add(text, "", 1);
	if (pc_read_file_append(path, max, text) < 0) {
		int err = errno;
		pc_buf_finish(text);
		errno = err;
		return -1;
	}
	return 0;
}

void pc_builder_grow_hash(struct pc_layer_builder *b, uint32_t i)
{
	uint32_t cap = b->cap > i ? b->cap : 2 * i + 16;

	b->name_hash = xreallocarray(b->name_hash, cap, sizeof(*b->name_hash));
	b->hash_cap = cap;
}

void pc_builder_finish(struct pc_layer_builder *b)
{
	free(b->name_hash);
	free(b->file);
	pc_buf_finish(&b->strs);
	free(b->entries);
	memset(b, 0, sizeof(*b));
}

void pc_builder_expect(struct pc_layer_builder *b, uint32_t n)
{
	if (n > b->cap) {
		b->cap = n;
		b->entries = xreallocarray(b->entries, b->cap, sizeof(*b->entries));
	}
}

struct pc_entry *pc_builder_grow(struct pc_layer_builder *b)
{
	b->cap = b->cap ? b->cap * 2 : 256;
	b->entries = xreallocarray(b->entries, b->cap, sizeof(*b->entries));
	return pc_builder_add(b);
}

uint32_t pc_builder_row(struct pc_layer_builder *b, const uint32_t col[COL_COUNT])
{
	size_t len[COL_COUNT], total = 0;

	for (int k = 0; k < COL_COUNT; k++)
		total += (len[k] = strlen(b->strs.data + col[k])) + 1;
	pc_buf_reserve(&b->strs, total); /* sources stay where they are while copying */
	size_t row = b->strs.len;
	for (int k = 0; k < COL_COUNT; k++) {
		memcpy(b->strs.data + b->strs.len, b->strs.data + col[k], len[k] + 1);
		b->strs.len += len[k] + 1;
	}
	b->strs.data[b->strs.len] = '\0';
	return (uint32_t)row;
}

uint32_t pc_builder_str(struct pc_layer_builder *b, const char *s, size_t n)
{
	if (n == 0)
		return 0;
	size_t off = pc_buf_add(&b->strs, s, n);
	pc_buf_add(&b->strs, "", 1);
	return (uint32_t)off;
}

/*
 * Sorts row indexes by first port, stably (rows with the same port stay in
 * file order): an LSD radix sort on (port << 32 | index) keys, so that the
 * passes read one compact array in order instead of the rows at random.
 */
static void sort_ports(uint32_t *rows, uint32_t n, const struct pc_entry *entries)
{
	uint32_t i = 1;

	while (i < n && entries[rows[i]].port_lo >= entries[rows[i - 1]].port_lo)
		i++;
	if (i >= n)
		return; /* already in order, as in the IANA file */

	uint64_t *key = xcalloc(n, sizeof(*key));
	uint64_t *tmp = xcalloc(n, sizeof(*tmp));

	for (i = 0; i < n; i++)
		key[i] = (uint64_t)entries[rows[i]].port_lo << 32 | rows[i];
	for (int shift = 32; shift < 48; shift += 8) {
		uint32_t count[257] = {0};
		for (i = 0; i < n; i++)
			count[((key[i] >> shift) & 0xff) + 1]++;
		for (int b = 1; b <= 256; b++)
			count[b] += count[b - 1];
		for (i = 0; i < n; i++)
			tmp[count[(key[i] >> shift) & 0xff]++] = key[i];
		uint64_t *t = key;
		key = tmp;
		tmp = t;
	}
	for (i = 0; i < n; i++)
		rows[i] = (uint32_t)key[i];
	free(key);
	free(tmp);
}

static uint32_t pow2_at_least(uint64_t n)
{
	uint32_t p = 16;

	while (p < n)
		p *= 2;
	return p;
}

const struct pc_nameref *pc_layer_find(const struct pc_layer *l, const char *name)
{
	uint32_t mask = l->nslots - 1;

	if (!l->nslots)
		return NULL;
	uint32_t hash = pc_name_hash(name);

	for (uint32_t i = hash & mask;; i = (i + 1) & mask) {
		uint32_t s = l->slots[i];
		if (!s)
			return NULL;
		if (l->names[s - 1].hash == hash &&
				pc_streq_fold(l->strtab + l->names[s - 1].name, name))
			return &l->names[s - 1];
	}
}

/*
 * Duplicate rows (same name, port and protocol) are found on the name's
 * chain, newest first.  A duplicate is never added to a chain, so a file that
 * repeats one line 100 000 times keeps a chain of one; the walk is bounded so
 * that 100 000 distinct rows of one name stay linear too (a duplicate further
 * back than that is then kept, which is harmless).
 */
#define DUP_WALK 64

static bool dup_check(const struct pc_layer_builder *b, const struct pc_nameref *names,
		uint32_t head, uint32_t idx, uint32_t *first)
{
	const struct pc_entry *e = &b->entries[idx];

	for (unsigned steps = 0; head && steps < DUP_WALK; steps++) {
		const struct pc_nameref *r = &names[head - 1];
		const struct pc_entry *o = &b->entries[r->entry];
		if (r->name == o->row && o->port_lo == e->port_lo && o->port_hi == e->port_hi &&
				o->proto == e->proto && (o->flags & PC_ENTRY_F_PORT)) {
			*first = r->entry;
			return true;
		}
		head = r->next;
	}
	return false;
}

/* The keys a port lookup searches (see struct pc_layer). */
static void port_index(struct pc_layer *l)
{
	uint16_t *pk = xcalloc(l->nports ? l->nports : 1, sizeof(*pk));
	uint16_t *rk = xcalloc(l->nranges ? l->nranges : 1, sizeof(*rk));
	uint16_t *reach = xcalloc(l->nranges ? l->nranges : 1, sizeof(*reach)), top = 0;

	for (uint32_t i = 0; i < l->nports; i++)
		pk[i] = l->entries[l->ports[i]].port_lo;
	for (uint32_t r = 0; r < l->nranges; r++) {
		const struct pc_entry *e = &l->entries[l->ranges[r]];

		rk[r] = e->port_lo;
		reach[r] = top = e->port_hi > top ? e->port_hi : top;
	}
	l->port_keys = pk;
	l->range_keys = rk;
	l->reach = reach;

	uint64_t *sets = xcalloc(l->nnames ? l->nnames : 1, sizeof(*sets));
	uint8_t *lens = xcalloc(l->nnames ? l->nnames : 1, sizeof(*lens));
	for (uint32_t i = 0; i < l->nnames; i++) {
		size_t n;

		sets[i] = pc_name_char_set(l->strtab + l->names[i].name, &n);
		lens[i] = l->entries[l->names[i].entry].state == PC_STATE_DAEMON
					  ? PC_NAME_LEN_DAEMON
			  : n < PC_NAME_LEN_LONG ? (uint8_t)n
						 : PC_NAME_LEN_LONG;
	}
	l->name_sets = sets;
	l->name_lens = lens;

	struct pc_buf text;
	uint32_t *offs = xcalloc(l->nnames ? l->nnames : 1, sizeof(*offs));
	pc_buf_init(&text);
	for (uint32_t i = 0; i < l->nnames; i++) {
		const char *name = l->strtab + l->names[i].name;

		offs[i] = (uint32_t)pc_buf_add(&text, name, strlen(name) + 1);
	}
	pc_buf_add(&text, "", 1); /* never empty */
	l->name_text_len = (uint32_t)text.len;
	l->name_text = text.data;
	l->name_offs = offs;
}

/* Duplicate rows are reported a few at a time. */
#define DUP_REPORTED 5

struct pc_layer *pc_builder_build(struct pc_layer_builder *b, struct pc_diags *diags)
{
	struct pc_layer *l = xcalloc(1, sizeof(*l));
	struct pc_nameref *names;
	uint32_t *slots, *ports, *ranges;
	uint32_t nnames = 0, nports = 0, nranges = 0, ndup = 0, dup_first_line = 0;
	uint32_t nslots, mask;
	bool *dup = xcalloc(b->n ? b->n : 1, sizeof(*dup));
	const char *strtab = b->strs.data;

	for (uint32_t i = 0; i < b->n; i++)
		nnames += (strtab[b->entries[i].row] != '\0') + b->entries[i].naliases;
	nslots = pow2_at_least((uint64_t)nnames * 2);
	mask = nslots - 1;
	names = xcalloc(nnames ? nnames : 1, sizeof(*names));
	slots = xcalloc(nslots, sizeof(*slots));

	nnames = 0;
	for (uint32_t i = 0; i < b->n; i++) {
		const struct pc_entry *e = &b->entries[i];
		uint32_t off = e->aliases;

		for (int k = -1; k < (int)e->naliases; k++) {
			uint32_t name = k < 0 ? e->row : off;
			if (k >= 0)
				off += (uint32_t)strlen(strtab + off) + 1;
			if (!strtab[name])
				continue;
			uint32_t hash = k < 0 && b->name_hash ? b->name_hash[i]
							      : pc_name_hash(strtab + name);
			uint32_t h = hash & mask;
			while (slots[h] &&
					(names[slots[h] - 1].hash != hash ||
							!pc_streq_fold(strtab + names[slots[h] - 1].name,
									strtab + name)))
				h = (h + 1) & mask;
			uint32_t first;
			if (k < 0 && (e->flags & PC_ENTRY_F_PORT) &&
					dup_check(b, names, slots[h], i, &first)) {
				dup[i] = true;
				if (++ndup <= DUP_REPORTED)
					pc_diag_add(diags, PC_SEV_WARNING, "duplicate-row", b->file,
							e->line, 1,
							"duplicate row for '%s' (first at line %u); "
							"ignored",
							strtab + name, b->entries[first].line);
				else if (!dup_first_line)
					dup_first_line = e->line;
				break; /* the whole row, aliases too */
			}
			/* Chains are newest first; lookups put rows back in file order. */
			names[nnames] = (struct pc_nameref){name, i, slots[h], hash};
			slots[h] = ++nnames;
		}
	}
	if (ndup > DUP_REPORTED)
		pc_diag_add(diags, PC_SEV_WARNING, "duplicate-row", b->file, dup_first_line, 1,
				"%u more duplicate rows ignored", ndup - DUP_REPORTED);

	ports = xcalloc(b->n ? b->n : 1, sizeof(*ports));
	ranges = xcalloc(b->n ? b->n : 1, sizeof(*ranges));
	for (uint32_t i = 0; i < b->n; i++) {
		const struct pc_entry *e = &b->entries[i];

		if (!(e->flags & PC_ENTRY_F_PORT) || dup[i])
			continue;
		if (e->port_lo == e->port_hi)
			ports[nports++] = i;
		else
			ranges[nranges++] = i;
	}
	sort_ports(ports, nports, b->entries);
	sort_ports(ranges, nranges, b->entries);
	free(dup);

	l->kind = b->kind;
	l->owned = true;
	l->file = b->file;
	l->date = b->strs.data; /* "" unless the parser sets one */
	l->strtab_len = (uint32_t)b->strs.len;
	l->strtab = b->strs.data;
	l->entries = b->entries;
	l->nentries = b->n;
	l->names = names;
	l->nnames = nnames;
	l->slots = slots;
	l->nslots = nslots;
	l->ports = ports;
	l->nports = nports;
	l->ranges = ranges;
	l->nranges = nranges;
	port_index(l);
	b->file = NULL;
	b->entries = NULL;
	b->n = b->cap = 0;
	pc_buf_init(&b->strs);
	return l;
}

void pc_layer_destroy(struct pc_layer *l)
{
	if (!l || !l->owned)
		return;
	free((void *)l->file);
	free((void *)l->sha256); /* NULL but for the kdc-conf layer's */
	free((void *)l->strtab);
	free((void *)l->entries);
	free((void *)l->names);
	free((void *)l->slots);
	free((void *)l->ports);
	free((void *)l->ranges);
	free((void *)l->port_keys);
	free((void *)l->range_keys);
	free((void *)l->reach);
	free((void *)l->name_sets);
	free((void *)l->name_lens);
	free((void *)l->name_text);
	free((void *)l->name_offs);
	free(l);
}

void pc_layer_record(const struct pc_layer *l, const struct pc_entry *e, struct pc_record *r)
{
	uint32_t off = e->aliases;

	memset(r, 0, sizeof(*r));
	r->layer = (enum pc_layer_kind)l->kind;
	r->file = l->file;
	r->line = e->line;
	const char *col[COL_COUNT];
	const char *p = l->strtab + e->row;
	for (int k = 0; k < COL_COUNT; k++) {
		col[k] = p;
		p += strlen(p) + 1;
	}
	r->name = col[COL_NAME];
	r->naliases = e->naliases;
	for (unsigned k = 0; k < e->naliases && k < PC_MAX_ALIASES; k++) {
		r->aliases[k] = pc_layer_str(l, off);
		off += (uint32_t)strlen(r->aliases[k]) + 1;
	}
	r->port_lo = e->port_lo;
	r->port_hi = e->port_hi;
	r->proto = (enum pc_proto)e->proto;
	r->state = (enum pc_state)e->state;
	r->flags = e->flags;
	r->description = col[COL_DESC];
	r->assignee = col[COL_ASSIGNEE];
	r->contact = col[COL_CONTACT];
	r->registered = col[COL_REGISTERED];
	r->modified = col[COL_MODIFIED];
	r->reference = col[COL_REFERENCE];
	r->service_code = col[COL_SERVICE_CODE];
	r->unauthorized = col[COL_UNAUTH];
	r->unauth_port = e->unauth_port;
	r->notes = col[COL_NOTES];
	/* The kdc-conf layer's rows name their own file: the profile or an include. */
	if (l->kind == PC_LAYER_KDC && *r->reference) {
		r->file = r->reference;
		r->reference = "";
	}
	bool instead = e->state == PC_STATE_CONTESTED || e->state == PC_STATE_DAEMON;
	r->alias_of = instead ? "" : pc_layer_str(l, e->extra);
	r->instead = instead ? pc_layer_str(l, e->extra) : "";
}

int pc_parse_port_range(const char *s, size_t n, uint16_t *lo, uint16_t *hi)
{
	unsigned long v[2] = {0, 0};
	size_t i = 0;
	int k = 0;

	for (;;) {
		size_t start = i;

		while (i < n && s[i] >= '0' && s[i] <= '9') {
			v[k] = v[k] * 10 + (unsigned long)(s[i] - '0');
			if (v[k] > 65535)
				return -1;
			i++;
		}
		if (i == start || (s[start] == '0' && i - start > 1))
			return -1;
		if (i == n)
			break;
		if (k == 1 || s[i] != '-')
			return -1;
		k = 1;
		i++;
	}
	if (k == 0)
		v[1] = v[0];
	if (v[1] < v[0])
		return -1;
	*lo = (uint16_t)v[0];
	*hi = (uint16_t)v[1];
	return 0;
}
