/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdlib.h>
#include <string.h>

#include "portcullis/audit.h"
#include "util.h"

struct kind_def {
	const char *code, *what;
};

/* Indexed by enum pc_audit_kind. */
static const struct kind_def audit_kinds[] = {
		{"port-taken", "a name on a port IANA assigns to another service"},
		{"other-port", "a name IANA registers on other ports only"},
		{"unregistered", "a name IANA does not register at all"},
		{"protocol-extra", "a protocol IANA does not list for the name on that port"},
		{"reserved", "a port IANA marks Reserved"},
		{"unassigned", "a port IANA lists as Unassigned, or lists nothing on"},
		{"iana-alias", "IANA's name for the port is only an alias here"},
		{"historic", "a name IANA marks a historic alias of another"},
		{"contested", "a port given to a name the practice layer marks contested"},
		{"practice-port", "a name the practice layer puts on other ports"},
		{"protocol-absent",
				"a protocol IANA lists for the name on that port, left out here"},
};
_Static_assert(PC_ARRAY_SIZE(audit_kinds) == PC_AUDIT_KIND_COUNT, "one row per kind");

/* Indexed by enum pc_change_kind. */
static const struct kind_def change_kinds[] = {
		{"added", "names only the new registry has"},
		{"removed", "names only the old registry has"},
		{"moved", "names that left ports for others"},
		{"ports-added", "names that kept their ports and gained others"},
		{"ports-removed", "names that lost some of their ports"},
		{"state", "ports whose state changed"},
};
_Static_assert(PC_ARRAY_SIZE(change_kinds) == PC_CHANGE_KIND_COUNT, "one row per kind");

const char *pc_audit_code(enum pc_audit_kind kind)
{
	return (unsigned)kind < PC_AUDIT_KIND_COUNT ? audit_kinds[kind].code : "?";
}

const char *pc_audit_what(enum pc_audit_kind kind)
{
	return (unsigned)kind < PC_AUDIT_KIND_COUNT ? audit_kinds[kind].what : "?";
}

const char *pc_change_code(enum pc_change_kind kind)
{
	return (unsigned)kind < PC_CHANGE_KIND_COUNT ? change_kinds[kind].code : "?";
}

const char *pc_change_what(enum pc_change_kind kind)
{
	return (unsigned)kind < PC_CHANGE_KIND_COUNT ? change_kinds[kind].what : "?";
}

void pc_audit_init(struct pc_audit *a)
{
	memset(a, 0, sizeof(*a));
}

void pc_audit_finish(struct pc_audit *a)
{
	free(a->v);
	pc_audit_init(a);
}

static void add_entry(struct pc_audit *a, enum pc_audit_kind kind, const struct pc_record *row,
		enum pc_proto proto, const struct pc_record *other)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		a->v = xreallocarray(a->v, a->cap, sizeof(*a->v));
	}
	struct pc_audit_entry *e = &a->v[a->n++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->port_lo = row->port_lo;
	e->port_hi = row->port_hi;
	e->proto = proto;
	e->row = *row;
	if (other) {
		e->other = *other;
		e->has_other = true;
	}
}

static bool row_listed(const struct pc_records *rows, size_t from, const struct pc_record *r)
{
	for (size_t i = from; i < rows->n; i++)
		if (rows->v[i].layer == r->layer && rows->v[i].line == r->line)
			return true;
	return false;
}

/* Appends the rows of `layer` that carry a name or an alias of `r`, each once. */
static void rows_named(const struct pc_registry *reg, const struct pc_record *r,
		enum pc_layer_kind layer, struct pc_records *tmp, struct pc_records *out)
{
	size_t from = out->n;

	for (unsigned k = 0; k <= r->naliases; k++) {
		tmp->n = 0;
		pc_registry_find_name(reg, k ? r->aliases[k - 1] : r->name, tmp);
		for (size_t i = 0; i < tmp->n; i++)
			if (tmp->v[i].layer == layer && !row_listed(out, from, &tmp->v[i]))
				*pc_records_push(out) = tmp->v[i];
	}
}

/* Appends the rows of `layer` on `port` for `proto` (rows naming none included). */
static void rows_at(const struct pc_registry *reg, uint16_t port, enum pc_proto proto,
		enum pc_layer_kind layer, struct pc_records *tmp, struct pc_records *out)
{
	tmp->n = 0;
	pc_registry_find_port(reg, port, proto, tmp);
	for (size_t i = 0; i < tmp->n; i++)
		if (tmp->v[i].layer == layer)
			*pc_records_push(out) = tmp->v[i];
}

static bool covers(const struct pc_record *r, uint16_t port)
{
	return (r->flags & PC_ENTRY_F_PORT) && r->port_lo <= port && port <= r->port_hi;
}

/* What IANA says on the row's own port and protocol. */
static void audit_port(struct pc_audit *a, const struct pc_record *r, const struct pc_records *at)
{
	const struct pc_record *named = NULL, *reserved = NULL, *unassigned = NULL, *alias = NULL;
	bool same = false, own_name = false;

	for (size_t i = 0; i < at->n; i++) {
		const struct pc_record *x = &at->v[i];
		if (!*x->name) {
			if (x->state == PC_STATE_RESERVED && !reserved)
				reserved = x;
			if (x->state == PC_STATE_UNASSIGNED && !unassigned)
				unassigned = x;
			continue;
		}
		if (!named)
			named = x;
		if (pc_record_same_service(r, x))
			same = true;
		if (pc_streq_fold(x->name, r->name))
			own_name = true;
		else if (!alias && pc_record_has_name(r, x->name))
			alias = x;
	}
	if (named && !same)
		add_entry(a, PC_AUDIT_PORT_TAKEN, r, r->proto, named);
	else if (alias && !own_name)
		add_entry(a, PC_AUDIT_ALIAS, r, r->proto, alias);
	else if (!named && reserved)
		add_entry(a, PC_AUDIT_RESERVED, r, r->proto, reserved);
	else if (!named)
		add_entry(a, PC_AUDIT_UNASSIGNED, r, r->proto, unassigned);
}

/* What IANA says about the row's names, wherever it puts them. */
static void audit_names(const struct pc_registry *reg, struct pc_audit *a,
		const struct pc_record *r, const struct pc_records *named, struct pc_records *tmp)
{
	const struct pc_record *first = NULL, *here = NULL;
	bool proto_here = false;
	uint16_t port = r->port_lo;

	if (!named->n) {
		add_entry(a, PC_AUDIT_UNREGISTERED, r, r->proto, NULL);
		return;
	}
	for (size_t i = 0; i < named->n; i++) {
		const struct pc_record *x = &named->v[i];
		if (x->flags & PC_ENTRY_F_HISTORIC)
			add_entry(a, PC_AUDIT_HISTORIC, r, r->proto, x);
		if (!(x->flags & PC_ENTRY_F_PORT))
			continue;
		if (!first)
			first = x;
		if (!covers(x, port))
			continue;
		if (!here)
			here = x;
		proto_here |= x->proto == PC_PROTO_ANY || x->proto == r->proto;
	}
	if (first && !here)
		add_entry(a, PC_AUDIT_OTHER_PORT, r, r->proto, first);
	if (here && !proto_here)
		add_entry(a, PC_AUDIT_PROTOCOL_EXTRA, r, r->proto, here);

	/* IANA's protocols for the name here that the layer leaves out.  The
	 * practice layer adds protocols, so only its `only` rows leave any out. */
	if (!here || (r->layer == PC_LAYER_PRACTICE && !(r->flags & PC_ENTRY_F_ONLY)))
		return;
	for (size_t i = 0; i < named->n; i++) {
		const struct pc_record *x = &named->v[i];
		const struct pc_record *mine = NULL;
		bool listed = false;
		if (!covers(x, port) || x->proto == PC_PROTO_ANY)
			continue;
		tmp->n = 0;
		pc_registry_find_port(reg, port, PC_PROTO_ANY, tmp);
		for (size_t k = 0; k < tmp->n && !listed; k++) {
			const struct pc_record *y = &tmp->v[k];
			if (y->layer != r->layer || !*y->name || !pc_record_same_service(y, r))
				continue;
			if (!mine)
				mine = y;
			listed = y->proto == x->proto || y->proto == PC_PROTO_ANY;
		}
		if (!listed && mine)
			add_entry(a, PC_AUDIT_PROTOCOL_ABSENT, mine, x->proto, x);
	}
}

/* What the practice layer says about a services file's row. */
static void audit_practice(
		struct pc_audit *a, const struct pc_record *r, const struct pc_records *practice)
{
	const struct pc_record *first = NULL;
	bool here = false;

	for (size_t i = 0; i < practice->n; i++) {
		const struct pc_record *x = &practice->v[i];
		if (x->state == PC_STATE_CONTESTED) {
			add_entry(a, PC_AUDIT_CONTESTED, r, r->proto, x);
			continue;
		}
		if (!(x->flags & PC_ENTRY_F_PORT))
			continue;
		if (!first)
			first = x;
		here |= covers(x, r->port_lo);
	}
	if (first && !here)
		add_entry(a, PC_AUDIT_PRACTICE_PORT, r, r->proto, first);
}

static int cmp_record(const struct pc_record *x, const struct pc_record *y)
{
	if (x->layer != y->layer)
		return x->layer < y->layer ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return 0;
}

static int cmp_entry(const void *pa, const void *pb)
{
	const struct pc_audit_entry *x = pa, *y = pb;
	int c;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->port_lo != y->port_lo)
		return x->port_lo < y->port_lo ? -1 : 1;
	if (x->port_hi != y->port_hi)
		return x->port_hi < y->port_hi ? -1 : 1;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if ((c = cmp_record(&x->row, &y->row)))
		return c;
	if (x->has_other != y->has_other)
		return x->has_other ? 1 : -1;
	return x->has_other ? cmp_record(&x->other, &y->other) : 0;
}

void pc_registry_audit(const struct pc_registry *reg, struct pc_audit *out)
{
	static const enum pc_layer_kind audited[] = {PC_LAYER_PRACTICE, PC_LAYER_SYSTEM};
	struct pc_records rows, tmp, named, at, practice;
	size_t first = out->n, w;

	pc_records_init(&rows);
	pc_records_init(&tmp);
	pc_records_init(&named);
	pc_records_init(&at);
	pc_records_init(&practice);
	for (size_t k = 0; k < PC_ARRAY_SIZE(audited); k++) {
		rows.n = 0;
		pc_registry_layer_rows(reg, audited[k], &rows);
		for (size_t i = 0; i < rows.n; i++) {
			const struct pc_record *r = &rows.v[i];
			if (!*r->name || !(r->flags & PC_ENTRY_F_PORT) ||
					r->state == PC_STATE_CONTESTED)
				continue;
			named.n = at.n = practice.n = 0;
			if (pc_registry_has_layer(reg, PC_LAYER_IANA)) {
				rows_at(reg, r->port_lo, r->proto, PC_LAYER_IANA, &tmp, &at);
				audit_port(out, r, &at);
				rows_named(reg, r, PC_LAYER_IANA, &tmp, &named);
				audit_names(reg, out, r, &named, &tmp);
			}
			if (r->layer == PC_LAYER_SYSTEM) {
				rows_named(reg, r, PC_LAYER_PRACTICE, &tmp, &practice);
				audit_practice(out, r, &practice);
			}
		}
	}
	pc_records_finish(&rows);
	pc_records_finish(&tmp);
	pc_records_finish(&named);
	pc_records_finish(&at);
	pc_records_finish(&practice);

	if (out->n > first)
		qsort(out->v + first, out->n - first, sizeof(*out->v), cmp_entry);
	for (w = first; w < out->n; w++)
		out->count[out->v[w].kind]++;
	/* The same finding reached twice (a protocol absent beside two rows) counts once. */
	w = first;
	for (size_t i = first; i < out->n; i++) {
		if (i > first && !cmp_entry(&out->v[i], &out->v[w - 1])) {
			out->count[out->v[i].kind]--;
			continue;
		}
		out->v[w++] = out->v[i];
	}
	out->n = w;
}

void pc_changes_init(struct pc_changes *c)
{
	memset(c, 0, sizeof(*c));
}

void pc_changes_finish(struct pc_changes *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].old_ports);
		free(c->v[i].new_ports);
		free(c->v[i].lost_lines);
		free(c->v[i].gained_lines);
	}
	free(c->v);
	pc_changes_init(c);
}

const char *pc_port_state_name(unsigned state)
{
	return state == PC_STATE_UNLISTED ? "unlisted" : pc_state_name((enum pc_state)state);
}

static struct pc_change *add_change(struct pc_changes *c, enum pc_change_kind kind)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->v = xreallocarray(c->v, c->cap, sizeof(*c->v));
	}
	struct pc_change *ch = &c->v[c->n++];
	memset(ch, 0, sizeof(*ch));
	ch->kind = kind;
	ch->name = "";
	c->count[kind]++;
	return ch;
}

/* One port of one name in one registry; `row` indexes the registry's rows. */
struct name_port {
	const char *name;
	uint16_t lo, hi;
	uint8_t proto;
	uint32_t row;
};

static int cmp_name_port(const void *pa, const void *pb)
{
	const struct name_port *x = pa, *y = pb;
	int c = pc_strcasecmp(x->name, y->name);

	if (c)
		return c;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	return x->row < y->row ? -1 : x->row > y->row;
}

/* The named rows with a port of a registry's iana layer, sorted by name then port. */
static struct name_port *name_ports(
		const struct pc_registry *reg, struct pc_records *rows, size_t *n)
{
	struct name_port *v;

	pc_registry_layer_rows(reg, PC_LAYER_IANA, rows);
	v = xcalloc(rows->n + 1, sizeof(*v));
	*n = 0;
	for (size_t i = 0; i < rows->n; i++) {
		const struct pc_record *r = &rows->v[i];
		if (*r->name && (r->flags & PC_ENTRY_F_PORT))
			v[(*n)++] = (struct name_port){r->name, r->port_lo, r->port_hi,
					(uint8_t)r->proto, (uint32_t)i};
	}
	qsort(v, *n, sizeof(*v), cmp_name_port);
	return v;
}

static bool same_np_port(const struct name_port *x, const struct name_port *y)
{
	return x->lo == y->lo && x->hi == y->hi && x->proto == y->proto;
}

/* Whether the port of `p` is among v[0..n). */
static bool np_has(const struct name_port *v, size_t n, const struct name_port *p)
{
	for (size_t i = 0; i < n; i++)
		if (same_np_port(&v[i], p))
			return true;
	return false;
}

/* "464/tcp, 464/udp": the ports of v[0..n), each once. */
static char *np_text(const struct name_port *v, size_t n)
{
	struct pc_buf b;

	pc_buf_init(&b);
	pc_buf_adds(&b, "");
	for (size_t i = 0; i < n; i++) {
		if (i && same_np_port(&v[i - 1], &v[i]))
			continue;
		pc_buf_printf(&b, "%s%u", b.len ? ", " : "", v[i].lo);
		if (v[i].hi != v[i].lo)
			pc_buf_printf(&b, "-%u", v[i].hi);
		if (v[i].proto != PC_PROTO_ANY)
			pc_buf_printf(&b, "/%s", pc_proto_name((enum pc_proto)v[i].proto));
	}
	char *s = xstrdup(b.data ? b.data : "");
	pc_buf_finish(&b);
	return s;
}

/* The first row (in file order) of v[0..n). */
static const struct pc_record *np_first(
		const struct name_port *v, size_t n, const struct pc_records *rows)
{
	uint32_t row = v[0].row;

	for (size_t i = 1; i < n; i++)
		if (v[i].row < row)
			row = v[i].row;
	return &rows->v[row];
}

static int cmp_u32(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	return a < b ? -1 : a > b;
}

/*
 * The lines of the rows of v[0..n) whose port `other` (of nother) does not
 * have, in order, each once; the count in *count.
 */
static uint32_t *np_lines(const struct name_port *v, size_t n, const struct pc_records *rows,
		const struct name_port *other, size_t nother, size_t *count)
{
	uint32_t *lines = xcalloc(n + 1, sizeof(*lines));
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (!np_has(other, nother, &v[i]))
			lines[k++] = rows->v[v[i].row].line;
	if (k)
		qsort(lines, k, sizeof(*lines), cmp_u32);
	*count = 0;
	for (size_t i = 0; i < k; i++)
		if (!*count || lines[*count - 1] != lines[i])
			lines[(*count)++] = lines[i];
	return lines;
}

/* The changes of one name: a group of old rows (no is 0 when none) and of new ones. */
static void compare_name(struct pc_changes *c, const struct name_port *o, size_t no,
		const struct pc_records *orows, const struct name_port *nw, size_t nn,
		const struct pc_records *nrows)
{
	bool lost = false, gained = false;
	enum pc_change_kind kind;

	for (size_t i = 0; i < no && !lost; i++)
		lost = !np_has(nw, nn, &o[i]);
	for (size_t i = 0; i < nn && !gained; i++)
		gained = !np_has(o, no, &nw[i]);
	if (!no)
		kind = PC_CHANGE_ADDED;
	else if (!nn)
		kind = PC_CHANGE_REMOVED;
	else if (lost && gained)
		kind = PC_CHANGE_MOVED;
	else if (gained)
		kind = PC_CHANGE_PORTS_ADDED;
	else if (lost)
		kind = PC_CHANGE_PORTS_REMOVED;
	else
		return;
	struct pc_change *ch = add_change(c, kind);
	ch->name = nn ? nw[0].name : o[0].name;
	ch->old_ports = np_text(o, no);
	ch->new_ports = np_text(nw, nn);
	if (no)
		ch->old_row = *np_first(o, no, orows);
	if (nn)
		ch->new_row = *np_first(nw, nn, nrows);
	ch->lost_lines = np_lines(o, no, orows, nw, nn, &ch->nlost_lines);
	ch->gained_lines = np_lines(nw, nn, nrows, o, no, &ch->ngained_lines);
}

/* The rank of a state where rows overlap: a name wins over a reservation, and so on. */
static unsigned state_rank(unsigned s)
{
	return s == PC_STATE_ASSIGNED ? 3 : s == PC_STATE_RESERVED ? 2 : s == PC_STATE_UNASSIGNED;
}

static unsigned row_state(const struct pc_record *r)
{
	if (*r->name)
		return r->state == PC_STATE_RESERVED ? PC_STATE_RESERVED : PC_STATE_ASSIGNED;
	return r->state;
}

#define NPROTO (PC_PROTO_COUNT - 1)

/* The state of every port of every protocol (tcp first) in a registry's rows. */
static uint8_t *port_states(const struct pc_records *rows)
{
	uint8_t *st = xcalloc((size_t)NPROTO << 16, 1);

	memset(st, PC_STATE_UNLISTED, (size_t)NPROTO << 16);
	for (size_t i = 0; i < rows->n; i++) {
		const struct pc_record *r = &rows->v[i];
		unsigned s = row_state(r);
		if (!(r->flags & PC_ENTRY_F_PORT) || r->state == PC_STATE_CONTESTED)
			continue;
		for (int pr = PC_PROTO_TCP; pr < PC_PROTO_COUNT; pr++) {
			if (r->proto != PC_PROTO_ANY && (int)r->proto != pr)
				continue;
			uint8_t *v = st + ((size_t)(pr - 1) << 16);
			for (uint32_t p = r->port_lo; p <= r->port_hi; p++)
				if (state_rank(s) > state_rank(v[p]))
					v[p] = (uint8_t)s;
		}
	}
	return st;
}

/* The first iana row of `reg` on port/proto that gives it `state`; false when none. */
static bool state_row(const struct pc_registry *reg, uint16_t port, enum pc_proto proto,
		unsigned state, struct pc_record *out)
{
	struct pc_records rows;
	bool found = false;

	pc_records_init(&rows);
	pc_registry_find_port(reg, port, proto, &rows);
	for (size_t i = 0; i < rows.n && !found; i++)
		if (rows.v[i].layer == PC_LAYER_IANA && row_state(&rows.v[i]) == state) {
			*out = rows.v[i];
			found = true;
		}
	pc_records_finish(&rows);
	return found;
}

static void compare_states(struct pc_changes *c, const struct pc_registry *old,
		const struct pc_registry *new, const struct pc_records *orows,
		const struct pc_records *nrows)
{
	uint8_t *so = port_states(orows), *sn = port_states(nrows);

	for (int pr = PC_PROTO_TCP; pr < PC_PROTO_COUNT; pr++) {
		const uint8_t *a = so + ((size_t)(pr - 1) << 16),
			      *b = sn + ((size_t)(pr - 1) << 16);
		for (uint32_t p = 0; p < 65536;) {
			if (a[p] == b[p]) {
				p++;
				continue;
			}
			uint32_t end = p;
			while (end + 1 < 65536 && a[end + 1] == a[p] && b[end + 1] == b[p])
				end++;
			struct pc_change *ch = add_change(c, PC_CHANGE_STATE);
			ch->lo = (uint16_t)p;
			ch->hi = (uint16_t)end;
			ch->proto = (enum pc_proto)pr;
			ch->old_state = a[p];
			ch->new_state = b[p];
			struct name_port np = {"", ch->lo, ch->hi, (uint8_t)pr, 0};
			ch->old_ports = np_text(&np, 1);
			ch->new_ports = xstrdup(ch->old_ports);
			state_row(old, ch->lo, ch->proto, a[p], &ch->old_row);
			state_row(new, ch->lo, ch->proto, b[p], &ch->new_row);
			p = end + 1;
		}
	}
	free(so);
	free(sn);
}

static int cmp_change(const void *pa, const void *pb)
{
	const struct pc_change *x = pa, *y = pb;
	int c;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if ((c = pc_strcasecmp(x->name, y->name)) || (c = strcmp(x->name, y->name)))
		return c;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->proto < y->proto ? -1 : x->proto > y->proto;
}

void pc_registry_compare(const struct pc_registry *old, const struct pc_registry *new,
		struct pc_changes *out)
{
	struct pc_records orows, nrows;
	size_t no, nn, i = 0, j = 0, first = out->n;

	pc_records_init(&orows);
	pc_records_init(&nrows);
	struct name_port *o = name_ports(old, &orows, &no);
	struct name_port *nw = name_ports(new, &nrows, &nn);
	while (i < no || j < nn) {
		int c = i == no ? 1 : j == nn ? -1 : pc_strcasecmp(o[i].name, nw[j].name);
		size_t ie = i, je = j;
		if (c <= 0)
			while (ie < no && !pc_strcasecmp(o[ie].name, o[i].name))
				ie++;
		if (c >= 0)
			while (je < nn && !pc_strcasecmp(nw[je].name, nw[j].name))
				je++;
		compare_name(out, o + i, ie - i, &orows, nw + j, je - j, &nrows);
		i = ie;
		j = je;
	}
	compare_states(out, old, new, &orows, &nrows);
	if (out->n > first)
		qsort(out->v + first, out->n - first, sizeof(*out->v), cmp_change);
	free(o);
	free(nw);
	pc_records_finish(&orows);
	pc_records_finish(&nrows);
}
