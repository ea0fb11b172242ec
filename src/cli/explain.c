/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * portcullis explain: the resolved policy as a reviewer reads it (each rule,
 * each service, its ports and the registry line they came from, the
 * networks), or, with --packet, which rule decides one packet and why.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "portcullis/nft.h"
#include "portcullis/policy.h"
#include "util.h"

static const char *const action_names[] = {"allow", "deny", "reject"};
static const char *const verdict_names[] = {"accept", "drop"};
static const char *const icmp_names[] = {"essential", "all", "none"};

static const char *dir_name(enum pc_direction d)
{
	return pc_nft_hook_name(pc_nft_hook_of(d));
}

/* FILE:LINE of a source, the file name escaped as every name is, then `end`. */
static void put_file_line(FILE *out, const char *file, unsigned line, const char *end)
{
	pc_fputs_escaped(file ? file : "?", out);
	fprintf(out, ":%u%s", line, end);
}

static void port_text(char *buf, size_t n, const struct pc_match *m)
{
	if (m->lo == m->hi)
		snprintf(buf, n, "%u/%s", m->lo, pc_proto_name(m->proto));
	else
		snprintf(buf, n, "%u-%u/%s", m->lo, m->hi, pc_proto_name(m->proto));
}

/*
 * What every registry layer says about a port the policy writes as a number
 * (one port, not a range): appends the rows to `rows`; false for a name or a
 * range, which have no such list.
 */
static bool port_layers(
		const struct pc_registry *reg, const struct pc_match *m, struct pc_records *rows)
{
	if (m->service || m->lo != m->hi)
		return false;
	pc_registry_find_port(reg, m->lo, m->proto, rows);
	return true;
}

/* A row's name, or its state when it has none (IANA's Reserved and Unassigned blocks). */
static const char *row_name(const struct pc_record *row)
{
	return *row->name ? row->name : pc_state_name(row->state);
}

/* Under a port written as a number: each layer's row for it, one a line. */
static void print_port_layers(FILE *out, const char *indent, const struct pc_registry *reg,
		const struct pc_match *m)
{
	struct pc_records rows;

	pc_records_init(&rows);
	if (port_layers(reg, m, &rows)) {
		for (int k = 0; k < PC_LAYER_COUNT; k++) {
			bool any = false;
			for (size_t i = 0; i < rows.n; i++) {
				const struct pc_record *row = &rows.v[i];
				if ((int)row->layer != k)
					continue;
				any = true;
				fprintf(out, "%s%s: ", indent, pc_layer_name(row->layer));
				pc_fputs_escaped(row_name(row), out);
				if (*row->name && *row->description) {
					fputs(" (", out);
					pc_fputs_escaped(row->description, out);
					fputc(')', out);
				}
				fputs(", ", out);
				pc_fputs_escaped(row->file, out);
				fprintf(out, ":%u", row->line);
				if (*row->unauthorized &&
						(!row->unauth_port || row->unauth_port == m->lo)) {
					fputs("; unauthorized use: ", out);
					pc_fputs_escaped(row->unauthorized, out);
				}
				fputc('\n', out);
			}
			/* A layer of files that says nothing about the port says so. */
			if (!any && pc_registry_has_layer(reg, (enum pc_layer_kind)k) &&
					!(pc_layer_def((enum pc_layer_kind)k)->flags &
							PC_LAYER_F_DEFINED))
				fprintf(out, "%s%s: no entry\n", indent,
						pc_layer_name((enum pc_layer_kind)k));
		}
	}
	pc_records_finish(&rows);
}

/* The same as JSON: "registry": an array of rows, or null for a name or a range. */
static void json_port_layers(
		struct pc_json *j, const struct pc_registry *reg, const struct pc_match *m)
{
	struct pc_records rows;

	pc_json_key(j, "registry");
	pc_records_init(&rows);
	if (!port_layers(reg, m, &rows)) {
		pc_json_null(j);
	} else {
		pc_json_begin_array(j);
		for (size_t i = 0; i < rows.n; i++) {
			const struct pc_record *row = &rows.v[i];
			pc_json_begin_object(j);
			pc_json_key(j, "layer");
			pc_json_string(j, pc_layer_name(row->layer));
			pc_json_key(j, "name");
			pc_json_string_or_null(j, *row->name ? row->name : NULL);
			pc_json_key(j, "state");
			pc_json_string(j, pc_state_name(row->state));
			pc_json_key(j, "description");
			pc_json_string(j, row->description);
			pc_json_key(j, "file");
			pc_json_string(j, row->file);
			pc_json_key(j, "line");
			pc_json_uint(j, row->line);
			pc_json_key(j, "unauthorized_use");
			pc_json_string_or_null(j,
					*row->unauthorized && (!row->unauth_port ||
									      row->unauth_port ==
											      m->lo)
							? row->unauthorized
							: NULL);
			pc_json_end_object(j);
		}
		pc_json_end_array(j);
	}
	pc_records_finish(&rows);
}

static void print_peers(FILE *out, const char *label, const struct pc_peer *peers, size_t n,
		const struct pc_addrset *set)
{
	char buf[64];

	if (n == 0) {
		fprintf(out, "        %s: anywhere (no `%s:`)\n", label, label);
		return;
	}
	fprintf(out, "        %s: ", label);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ", " : "", out);
		pc_fputs_escaped(peers[i].text, out);
	}
	fputs(" =", out);
	for (size_t i = 0; i < set->nv4 + set->nv6; i++) {
		pc_prefix_text(buf, i < set->nv4 ? &set->v4[i] : &set->v6[i - set->nv4]);
		fprintf(out, "%s %s", i ? "," : "", buf);
	}
	fputc('\n', out);
}

/* The group a rule names, said once above its members' matches (`prev`: the match before). */
static void print_group(FILE *out, const char *indent, const struct pc_match *m,
		const struct pc_match *prev)
{
	if (!m->group || (prev && prev->group && !strcmp(prev->group, m->group)))
		return;
	fputs(indent, out);
	pc_fputs_escaped(m->group, out);
	fputs(", a group of:\n", out);
}

static int cmp_match_ptr(const void *a, const void *b)
{
	const struct pc_match *x = *(const struct pc_match *const *)a;
	const struct pc_match *y = *(const struct pc_match *const *)b;
	int c = strcmp(x->service ? x->service : "", y->service ? y->service : "");

	if (c)
		return c;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	return x->lo != y->lo ? (x->lo < y->lo ? -1 : 1) : (x->hi > y->hi) - (x->hi < y->hi);
}

/*
 * Every service the policy names, with the ports it resolved to and the
 * registry line of each: two hosts with different services files can compare
 * this table and never disagree silently.
 */
static void print_service_table(FILE *out, const struct pc_policy *p, size_t nmatch)
{
	const struct pc_match **v = xcalloc(nmatch ? nmatch : 1, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; i < p->nrules; i++)
		for (size_t k = 0; k < p->rules[i].nmatches; k++)
			if (p->rules[i].matches[k].service)
				v[n++] = &p->rules[i].matches[k];
	qsort(v, n, sizeof(*v), cmp_match_ptr);
	if (n)
		fputs("\nservices:\n", out);
	for (size_t i = 0; i < n; i++) {
		if (i && !cmp_match_ptr(&v[i], &v[i - 1]))
			continue;
		char port[32];
		port_text(port, sizeof(port), v[i]);
		fputs("  ", out);
		pc_fputs_escaped(v[i]->service, out);
		fprintf(out, "%*s %-14s %-9s ",
				(int)(strlen(v[i]->service) < 16 ? 16 - strlen(v[i]->service) : 0),
				"", port, pc_layer_name(v[i]->layer));
		put_file_line(out, v[i]->src_file, v[i]->src_line, "\n");
	}
	free(v);
}

/*
 * The findings the policy acknowledges, each where it is written, with its
 * reason and how many findings it covered: what `check` leaves unsaid.
 */
static void print_acknowledged(FILE *out, const struct pc_policy *p)
{
	if (p->nacks)
		fputs("\nacknowledged:\n", out);
	for (size_t i = 0; i < p->nacks; i++) {
		const struct pc_ack *a = &p->acks[i];
		fputs("  ", out);
		pc_fputs_escaped(a->loc.file, out);
		fprintf(out, ":%u:%u  %s, %zu %s: ", a->loc.line, a->loc.col, a->code, a->matched,
				a->matched == 1 ? "finding" : "findings");
		pc_fputs_escaped(a->reason, out);
		fputc('\n', out);
	}
}

static void json_acknowledged(struct pc_json *j, const struct pc_policy *p)
{
	pc_json_key(j, "acknowledged");
	pc_json_begin_array(j);
	for (size_t i = 0; i < p->nacks; i++) {
		const struct pc_ack *a = &p->acks[i];
		pc_json_begin_object(j);
		pc_json_key(j, "code");
		pc_json_string(j, a->code);
		pc_json_key(j, "reason");
		pc_json_string(j, a->reason);
		pc_json_key(j, "file");
		pc_json_string(j, a->loc.file);
		pc_json_key(j, "line");
		pc_json_uint(j, a->loc.line);
		pc_json_key(j, "col");
		pc_json_uint(j, a->loc.col);
		pc_json_key(j, "findings");
		pc_json_uint(j, a->matched);
		pc_json_end_object(j);
	}
	pc_json_end_array(j);
}

/* One thing a policy rule became in nft: a verdict map element, an address map element, a rule. */
struct emit_item {
	enum {
		EMIT_SEGMENT,
		EMIT_ADDR,
		EMIT_RULE,
		EMIT_INLINE
	} kind;
	const struct pc_nft_map *map; /* EMIT_SEGMENT */
	const struct pc_nft_segment *seg;
	const struct pc_nft_addr_map *amap; /* EMIT_ADDR */
	const struct pc_nft_addr_elem *elem;
	const struct pc_nft_subchain *sc; /* EMIT_RULE */
	const struct pc_nft_rule *rule;
	const struct pc_nft_chain *chain; /* EMIT_INLINE: a rule in its base chain, */
	const struct pc_nft_port_range *port; /* with one of its port ranges */
};

/*
 * What each policy rule became, found in one pass over the table (not one per
 * rule): the items of rule i are items[start[i]] to items[start[i + 1]].
 */
struct emit_index {
	size_t *start;
	struct emit_item *items;
};

/*
 * Every item with the policy rule it is for, in the order explain shows them:
 * the verdict map elements that carry a rule's verdict, then the elements of
 * the address maps, then the rules in the chains the maps jump to.  Counts
 * per rule when `items` is NULL, else puts each in place.
 */
static void emit_walk(const struct pc_nft_table *t, size_t *at, struct emit_item *items)
{
#define EMIT(owner, ...)                                                                           \
	do {                                                                                       \
		size_t o_ = (owner);                                                               \
		if (items)                                                                         \
			items[at[o_]] = (struct emit_item){__VA_ARGS__};                           \
		at[o_]++;                                                                          \
	} while (0)
	for (int k = 0; t && k < 3; k++)
		for (int p = 0; p < PC_PROTO_COUNT; p++) {
			const struct pc_nft_chain *c = &t->chains[k];
			const struct pc_nft_map *m = &c->maps[p];
			for (size_t i = 0; i < m->n; i++)
				if (m->segs[i].rule)
					EMIT(m->segs[i].rule->policy_rule, EMIT_SEGMENT, m,
							&m->segs[i], NULL, NULL, NULL, NULL, NULL,
							NULL);
			const struct pc_nft_rule *r;
			const struct pc_nft_port_range *port;
			for (size_t i = 0, q = 0;
					pc_nft_inline_next(c, (enum pc_proto)p, &i, &q, &r, &port);)
				EMIT(r->policy_rule, EMIT_INLINE, NULL, NULL, NULL, NULL, NULL, r,
						c, port);
		}
	for (size_t i = 0; t && i < t->nsubs; i++) {
		const struct pc_nft_subchain *sc = &t->subs[i];
		for (int f = 0; sc->mapped && f < 2; f++)
			for (size_t k = 0; k < sc->by_saddr[f].n; k++) {
				const struct pc_nft_addr_elem *e = &sc->by_saddr[f].elems[k];
				EMIT(e->rule->policy_rule, EMIT_ADDR, NULL, NULL, &sc->by_saddr[f],
						e, NULL, NULL, NULL, NULL);
			}
	}
	for (size_t i = 0; t && i < t->nsubs; i++) {
		const struct pc_nft_subchain *sc = &t->subs[i];
		const struct pc_nft_chain *c = &t->chains[sc->base];
		if (sc->mapped)
			continue;
		if (!sc->shared) {
			/* Each rule is its own policy rule's, and that rule is among the users. */
			for (size_t k = 0; k < sc->n; k++) {
				const struct pc_nft_rule *r = &c->rules[sc->rules[k]];
				EMIT(r->policy_rule, EMIT_RULE, NULL, NULL, NULL, NULL, sc, r, NULL,
						NULL);
			}
			continue;
		}
		for (size_t u = 0; u < sc->nusers; u++)
			for (size_t k = 0; k < sc->n; k++)
				EMIT(sc->users[u], EMIT_RULE, NULL, NULL, NULL, NULL, sc,
						&c->rules[sc->rules[k]], NULL, NULL);
	}
#undef EMIT
}

static void emit_index_init(struct emit_index *x, const struct pc_nft_table *t, size_t nrules)
{
	size_t *at = xcalloc(nrules + 1, sizeof(*at));

	x->start = xcalloc(nrules + 1, sizeof(*x->start));
	emit_walk(t, at, NULL);
	for (size_t i = 0; i < nrules; i++)
		x->start[i + 1] = x->start[i] + at[i];
	x->items = xcalloc(x->start[nrules] ? x->start[nrules] : 1, sizeof(*x->items));
	memcpy(at, x->start, nrules * sizeof(*at));
	emit_walk(t, at, x->items);
	free(at);
}

static void emit_index_finish(struct emit_index *x)
{
	free(x->start);
	free(x->items);
}

/* What policy rule `rule` became in nft, each as one line of text (caller frees). */
static char **emitted(
		const struct pc_nft_table *t, const struct emit_index *x, size_t rule, size_t *n)
{
	size_t from = x->start[rule], to = x->start[rule + 1];
	char **v = xcalloc(to > from ? to - from : 1, sizeof(*v));

	*n = 0;
	for (size_t i = from; i < to; i++) {
		const struct emit_item *it = &x->items[i];
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		if (it->kind == EMIT_SEGMENT) {
			fprintf(f, "map %s: ", it->map->name);
			pc_nft_print_element(t, it->seg, f);
		} else if (it->kind == EMIT_ADDR) {
			fprintf(f, "map %s: ", it->amap->name);
			pc_nft_print_addr_element(it->elem, f);
		} else if (it->kind == EMIT_INLINE) {
			fprintf(f, "%s: ", pc_nft_hook_name(it->chain->hook));
			pc_nft_print_rule_port(it->chain, it->rule, it->port, f);
		} else {
			fprintf(f, "%s: ", it->sc->name);
			pc_nft_print_rule_as(&t->chains[it->sc->base], it->rule,
					it->sc->shared ? it->sc->comment : it->rule->comment, f);
		}
		fclose(f);
		v[(*n)++] = text;
	}
	return v;
}

static void free_strings(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * Rules in the chains (base and jump chains), declared sets and verdict maps,
 * and their elements (an address written into a rule is neither).
 */
struct nft_counts {
	size_t rules, chains, sets, elements;
	size_t walk; /* the most rules one packet walks: a base chain's, then a jump chain's */
};

static void nft_counts(const struct pc_nft_table *t, struct nft_counts *n)
{
	size_t base[3] = {0, 0, 0}, longest[3] = {0, 0, 0};

	memset(n, 0, sizeof(*n));
	n->chains = 3 + t->nsubs;
	for (int k = 0; k < 3; k++) {
		const struct pc_nft_chain *c = &t->chains[k];
		for (size_t i = 0; i < c->n; i++)
			base[k] += c->rules[i].kind != PC_NFT_POLICY_RULE ? 1
				   : c->inline_rules[c->rules[i].proto]	  ? c->rules[i].dport->n
									  : 0;
		for (int p = 0; p < PC_PROTO_COUNT; p++) {
			if (!c->maps[p].n)
				continue;
			base[k]++;
			n->sets++;
			n->elements += c->maps[p].n;
		}
		n->rules += base[k];
	}
	for (size_t i = 0; i < t->nsubs; i++) {
		const struct pc_nft_subchain *sc = &t->subs[i];
		size_t walked = sc->n;
		if (sc->mapped) {
			walked = 0;
			for (int f = 0; f < 2; f++) {
				if (!sc->by_saddr[f].n)
					continue;
				walked++;
				n->sets++;
				n->elements += sc->by_saddr[f].n;
			}
		}
		n->rules += walked;
		if (walked > longest[sc->base])
			longest[sc->base] = walked;
	}
	for (int k = 0; k < 3; k++)
		if (base[k] + longest[k] > n->walk)
			n->walk = base[k] + longest[k];
	size_t *sets = &n->sets, *elements = &n->elements;
	for (size_t i = 0; i < t->nsets; i++) {
		if (t->sets[i].literal || t->sets[i].type == PC_NFT_SET_SERVICE)
			continue;
		++*sets;
		*elements += t->sets[i].n;
	}
}

static void text_explain(FILE *out, const struct pc_policy *p, const struct pc_registry *reg,
		const char *path, const struct pc_nft_table *t)
{
	const struct pc_defaults *d = &p->defaults;
	size_t nmatch = 0;
	struct emit_index emits;

	emit_index_init(&emits, t, p->nrules);

	fprintf(out, "policy %s", p->name);
	if (p->description) {
		fputs(": ", out);
		pc_fputs_escaped(p->description, out);
	}
	fputs("\nfile: ", out);
	pc_fputs_escaped(path, out);
	fputs("\nregistry:", out);
	for (int k = 0, first = 1; k < PC_LAYER_COUNT; k++) {
		if (!pc_registry_has_layer(reg, (enum pc_layer_kind)k))
			continue;
		fprintf(out, "%s %s", first ? "" : ",", pc_layer_name((enum pc_layer_kind)k));
		first = 0;
		if (pc_layer_def((enum pc_layer_kind)k)->flags & PC_LAYER_F_SNAPSHOT) {
			fputs(" (", out);
			pc_fputs_escaped(pc_registry_layer_file(reg, (enum pc_layer_kind)k), out);
			fputs(", ", out);
			pc_fputs_escaped(pc_registry_layer_date(reg, (enum pc_layer_kind)k), out);
			fputc(')', out);
		}
	}
	fprintf(out,
			"\ndefaults: input %s, forward %s, output %s; established %s, loopback %s, "
			"icmp %s\n",
			verdict_names[d->input], verdict_names[d->forward],
			verdict_names[d->output], d->established ? "accept" : "none",
			d->loopback ? "accept" : "none", icmp_names[d->icmp]);
	if (!d->neighbour_discovery)
		fputs("  neighbour discovery: drop (IPv6 finds no neighbour)\n", out);
	for (size_t i = 0; i < p->nrules; i++) {
		const struct pc_rule *r = &p->rules[i];
		fprintf(out, "\nrule %zu  ", i + 1);
		pc_fputs_escaped(r->loc.file, out);
		fprintf(out, ":%u:%u  %s %s", r->loc.line, r->loc.col, action_names[r->action],
				dir_name(r->direction));
		pc_ifaces_print(out, " on ", &r->interface);
		if (r->flags & PC_RULE_F_LIMIT)
			fprintf(out, ", at most %u/%s", r->limit_rate, r->limit_unit);
		if (r->flags & PC_RULE_F_LOG)
			fputs(", logged", out);
		if (r->flags & PC_RULE_F_COUNTER)
			fputs(", counted", out);
		fputc('\n', out);
		if (r->comment) {
			fputs("        comment: ", out);
			pc_fputs_escaped(r->comment, out);
			fputc('\n', out);
		}
		for (size_t k = 0; k < r->nmatches; k++) {
			const struct pc_match *m = &r->matches[k];
			char port[32];
			port_text(port, sizeof(port), m);
			/* A group's members stand under it, two columns in. */
			size_t w = m->group ? 14 : 16;
			print_group(out, "        ", m, k ? &r->matches[k - 1] : NULL);
			fputs(m->group ? "          " : "        ", out);
			pc_fputs_escaped(m->service ? m->service : "(port)", out);
			fprintf(out, "%*s %-14s %-9s ",
					(int)(m->service && strlen(m->service) < w
									? w - strlen(m->service)
							: m->service ? 0
								     : w - 6),
					"", port, m->service ? pc_layer_name(m->layer) : "policy");
			put_file_line(out, m->src_file, m->src_line, "\n");
			print_port_layers(out, "          ", reg, m);
		}
		nmatch += r->nmatches;
		if (r->direction != PC_DIR_OUTPUT)
			print_peers(out, "from", r->from, r->nfrom, &r->src);
		if (r->direction != PC_DIR_INPUT || r->nto) /* an input rule's: the host's own */
			print_peers(out, "to", r->to, r->nto, &r->dst);
		size_t ne;
		char **em = emitted(t, &emits, i, &ne);
		for (size_t k = 0; k < ne; k++)
			fprintf(out, "        emits %s\n", em[k]);
		free_strings(em, ne);
	}
	emit_index_finish(&emits);
	print_service_table(out, p, nmatch);
	print_acknowledged(out, p);
	struct nft_counts nc;
	nft_counts(t, &nc);
	fprintf(out,
			"\n%zu %s, %zu port %s; nft table inet %s: %zu rules in %zu chains, %zu sets "
			"and maps holding %zu elements; a packet walks at most %zu rules\n",
			p->nrules, p->nrules == 1 ? "rule" : "rules", nmatch,
			nmatch == 1 ? "match" : "matches", t->name, nc.rules, nc.chains, nc.sets,
			nc.elements, nc.walk);
}

static void json_set(
		struct pc_json *j, const char *key, const struct pc_addrset *set, size_t npeers)
{
	char buf[64];

	pc_json_key(j, key);
	pc_json_begin_object(j);
	pc_json_key(j, "any");
	pc_json_bool(j, npeers == 0 || set->any);
	for (int v6 = 0; v6 < 2; v6++) {
		pc_json_key(j, v6 ? "ipv6" : "ipv4");
		pc_json_begin_array(j);
		for (size_t i = 0; i < (v6 ? set->nv6 : set->nv4); i++) {
			pc_prefix_text(buf, v6 ? &set->v6[i] : &set->v4[i]);
			pc_json_string(j, buf);
		}
		pc_json_end_array(j);
	}
	pc_json_end_object(j);
}

/*
 * "interface": the text explain prints (null for every interface), and
 * "interfaces": {"names": [...], "not": bool} (null the same).
 */
static void json_interfaces(struct pc_json *j, const struct pc_rule *r)
{
	const struct pc_ifaces *s = &r->interface;
	char text[PC_IFACES_TEXT_MAX];

	pc_ifaces_text(text, s);
	pc_json_key(j, "interface");
	pc_json_string_or_null(j, s->n ? text : NULL);
	pc_json_key(j, "interfaces");
	if (!s->n) {
		pc_json_null(j);
		return;
	}
	pc_json_begin_object(j);
	pc_json_key(j, "names");
	pc_json_begin_array(j);
	for (size_t i = 0; i < s->n; i++)
		pc_json_string(j, s->names[i]);
	pc_json_end_array(j);
	pc_json_key(j, "not");
	pc_json_bool(j, s->negate);
	pc_json_end_object(j);
}

static void json_rule(struct pc_json *j, const struct pc_registry *reg, const struct pc_rule *r,
		size_t index, const struct pc_nft_table *t, const struct emit_index *emits)
{
	pc_json_begin_object(j);
	pc_json_key(j, "index");
	pc_json_uint(j, index + 1);
	pc_json_key(j, "file");
	pc_json_string(j, r->loc.file);
	pc_json_key(j, "line");
	pc_json_uint(j, r->loc.line);
	pc_json_key(j, "action");
	pc_json_string(j, action_names[r->action]);
	pc_json_key(j, "direction");
	pc_json_string(j, dir_name(r->direction));
	json_interfaces(j, r);
	pc_json_key(j, "comment");
	pc_json_string_or_null(j, r->comment);
	pc_json_key(j, "log");
	pc_json_bool(j, r->flags & PC_RULE_F_LOG);
	pc_json_key(j, "counter");
	pc_json_bool(j, r->flags & PC_RULE_F_COUNTER);
	pc_json_key(j, "limit");
	if (r->flags & PC_RULE_F_LIMIT) {
		char buf[48];
		snprintf(buf, sizeof(buf), "%u/%s", r->limit_rate, r->limit_unit);
		pc_json_string(j, buf);
	} else {
		pc_json_null(j);
	}
	pc_json_key(j, "matches");
	pc_json_begin_array(j);
	for (size_t k = 0; k < r->nmatches; k++) {
		const struct pc_match *m = &r->matches[k];
		pc_json_begin_object(j);
		pc_json_key(j, "service");
		pc_json_string_or_null(j, m->service);
		pc_json_key(j, "protocol");
		pc_json_string(j, pc_proto_name(m->proto));
		pc_json_key(j, "port");
		pc_json_uint(j, m->lo);
		pc_json_key(j, "port_end");
		pc_json_uint(j, m->hi);
		pc_json_key(j, "layer");
		if (m->service)
			pc_json_string(j, pc_layer_name(m->layer));
		else
			pc_json_string(j, "policy");
		pc_json_key(j, "source_file");
		pc_json_string(j, m->src_file);
		pc_json_key(j, "source_line");
		pc_json_uint(j, m->src_line);
		json_port_layers(j, reg, m);
		if (m->group) {
			pc_json_key(j, "group");
			pc_json_string(j, m->group);
		}
		pc_json_end_object(j);
	}
	pc_json_end_array(j);
	json_set(j, "from", &r->src, r->nfrom);
	json_set(j, "to", &r->dst, r->nto);
	size_t ne;
	char **em = emitted(t, emits, index, &ne);
	pc_json_key(j, "emits");
	pc_json_begin_array(j);
	for (size_t k = 0; k < ne; k++)
		pc_json_string(j, em[k]);
	pc_json_end_array(j);
	free_strings(em, ne);
	pc_json_end_object(j);
}

static void json_explain(FILE *out, const struct pc_policy *p, const struct pc_registry *reg,
		const char *path, const struct pc_nft_table *t, const struct pc_diags *diags)
{
	struct pc_json j;

	pc_json_init(&j, out);
	pc_json_begin_object(&j);
	pc_json_key(&j, "policy");
	pc_json_string(&j, p->name);
	pc_json_key(&j, "file");
	pc_json_string(&j, path);
	pc_json_key(&j, "description");
	pc_json_string_or_null(&j, p->description);
	pc_json_key(&j, "defaults");
	pc_json_begin_object(&j);
	pc_json_key(&j, "input");
	pc_json_string(&j, verdict_names[p->defaults.input]);
	pc_json_key(&j, "forward");
	pc_json_string(&j, verdict_names[p->defaults.forward]);
	pc_json_key(&j, "output");
	pc_json_string(&j, verdict_names[p->defaults.output]);
	pc_json_key(&j, "established");
	pc_json_bool(&j, p->defaults.established);
	pc_json_key(&j, "loopback");
	pc_json_bool(&j, p->defaults.loopback);
	pc_json_key(&j, "icmp");
	pc_json_string(&j, icmp_names[p->defaults.icmp]);
	pc_json_key(&j, "neighbour_discovery");
	pc_json_string(&j, p->defaults.neighbour_discovery ? "accept" : "drop");
	pc_json_end_object(&j);
	pc_json_key(&j, "rules");
	pc_json_begin_array(&j);
	struct emit_index emits;
	emit_index_init(&emits, t, p->nrules);
	for (size_t i = 0; i < p->nrules; i++)
		json_rule(&j, reg, &p->rules[i], i, t, &emits);
	emit_index_finish(&emits);
	pc_json_end_array(&j);
	struct nft_counts nc;
	nft_counts(t, &nc);
	pc_json_key(&j, "nft");
	pc_json_begin_object(&j);
	pc_json_key(&j, "table");
	pc_json_string(&j, t->name);
	pc_json_key(&j, "rules");
	pc_json_uint(&j, nc.rules);
	pc_json_key(&j, "chains");
	pc_json_uint(&j, nc.chains);
	pc_json_key(&j, "sets");
	pc_json_uint(&j, nc.sets);
	pc_json_key(&j, "elements");
	pc_json_uint(&j, nc.elements);
	pc_json_key(&j, "walk_max");
	pc_json_uint(&j, nc.walk);
	pc_json_end_object(&j);
	json_acknowledged(&j, p);
	cli_json_diags(&j, "diagnostics", diags);
	pc_json_end_object(&j);
	pc_json_finish(&j);
}

/*
 * explain --json of a policy with errors (or one that cannot be read): what
 * check --json says of it, the file, the policy's name, the status and every
 * diagnostic.
 */
static void json_failed(FILE *out, const struct pc_policy *p, const char *path, int status,
		const struct pc_diags *diags)
{
	struct pc_json j;

	pc_json_init(&j, out);
	pc_json_begin_object(&j);
	pc_json_key(&j, "policy");
	pc_json_string_or_null(&j, p->name);
	pc_json_key(&j, "file");
	pc_json_string(&j, strcmp(path, "-") ? path : "<stdin>");
	pc_json_key(&j, "status");
	pc_json_int(&j, status);
	cli_json_diags(&j, "diagnostics", diags);
	pc_json_end_object(&j);
	pc_json_finish(&j);
}

/* The rules a packet's answer passed over for want of what `what` is about. */
static void passed_over(FILE *out, size_t n, const char *what, const char *how)
{
	if (n)
		fprintf(out,
				"  (%zu earlier %s on %s, passed over: give the packet's, '%s', to "
				"see whether %s first)\n",
				n, n == 1 ? "rule matches" : "rules match", what, how,
				n == 1 ? "it decides" : "one decides");
}

/*
 * What keeps an accepted packet from being of use (its replies dropped, or
 * IPv6 without neighbour discovery): with --json, "unusable" is null or
 * {code, reply_chain, reason}; as text, the verdict says "accept, but
 * unusable" and a line of its own says why.
 */
static enum pc_unusable unusable_of(const struct pc_policy *p, const struct pc_packet *pkt,
		const struct pc_decision *dec, enum pc_direction *reply)
{
	return pc_decision_unusable(p, pkt, dec, reply);
}

static void explain_unusable(struct cli_ctx *ctx, const struct pc_policy *p,
		const struct pc_packet *pkt, const struct pc_decision *dec, struct pc_json *j)
{
	enum pc_direction reply;
	enum pc_unusable why = unusable_of(p, pkt, dec, &reply);
	char text[256];

	if (why != PC_USABLE)
		pc_unusable_text(p, why, reply, text, sizeof(text));
	if (j) {
		pc_json_key(j, "unusable");
		if (why == PC_USABLE) {
			pc_json_null(j);
			return;
		}
		pc_json_begin_object(j);
		pc_json_key(j, "code");
		pc_json_string(j, pc_unusable_code(why));
		pc_json_key(j, "reply_chain");
		if (why != PC_UNUSABLE_ND)
			pc_json_string(j, dir_name(reply));
		else
			pc_json_null(j);
		pc_json_key(j, "reason");
		pc_json_string(j, text);
		pc_json_end_object(j);
	} else if (why != PC_USABLE) {
		fputs("  but ", ctx->out);
		pc_fputs_escaped(text, ctx->out);
		fprintf(ctx->out, " [%s]\n", pc_unusable_code(why));
	}
}

/*
 * The prefix of a rule's sources (or destinations) that holds the packet's
 * address, and where it is written: in the policy, or in a list file
 * ("lists/bad.txt:12").  NULL when the rule names no peers there.
 */
static const struct pc_prefix *peer_found(const struct pc_addrset *set, size_t npeers,
		const struct pc_packet *pkt, bool given, const uint8_t *addr)
{
	if (!set || npeers == 0 || !given || set->any)
		return NULL;
	return pc_addrset_find(set, pkt->family, addr);
}

static void print_peer_found(FILE *out, const struct pc_policy *p, const char *label,
		const struct pc_addrset *set, size_t npeers, const struct pc_packet *pkt,
		bool given, const uint8_t *addr)
{
	const struct pc_prefix *x = peer_found(set, npeers, pkt, given, addr);
	char buf[PC_ADDR_TEXT_MAX + 4];
	struct pc_loc at;

	if (!x || !pc_policy_prefix_loc(p, x, &at))
		return;
	pc_prefix_text(buf, x);
	fprintf(out, "    %s %s, written at ", label, buf);
	pc_fputs_escaped(at.file, out);
	fprintf(out, ":%u\n", at.line);
}

static void json_peer_found(struct pc_json *j, const struct pc_policy *p, const char *key,
		const struct pc_addrset *set, size_t npeers, const struct pc_packet *pkt,
		bool given, const uint8_t *addr)
{
	const struct pc_prefix *x = peer_found(set, npeers, pkt, given, addr);
	char buf[PC_ADDR_TEXT_MAX + 4];
	struct pc_loc at;

	pc_json_key(j, key);
	if (!x) {
		pc_json_null(j);
		return;
	}
	pc_prefix_text(buf, x);
	pc_json_begin_object(j);
	pc_json_key(j, "prefix");
	pc_json_string(j, buf);
	bool known = pc_policy_prefix_loc(p, x, &at);
	pc_json_key(j, "file");
	if (known)
		pc_json_string(j, at.file);
	else
		pc_json_null(j);
	pc_json_key(j, "line");
	pc_json_uint(j, known ? at.line : 0);
	pc_json_end_object(j);
}

/*
 * What answering packets keeps from one to the next: the table, the rules
 * indexed by their sources when there may be many packets, and (--json)
 * what each rule emits, made when a packet first needs it.
 */
struct answers {
	const struct pc_nft_table *t;
	struct pc_eval_index *ix;
	struct emit_index emits;
	bool emits_made;
};

/* One packet's answer: as text, or as an object written into `j` (non-NULL with --json). */
static void explain_packet(struct cli_ctx *ctx, const struct pc_policy *p,
		const struct pc_packet *pkt, const char *spec, struct answers *a, struct pc_json *j)
{
	const struct pc_nft_table *t = a->t;
	struct pc_decision dec;
	enum pc_direction reply;

	if (a->ix)
		pc_eval_index_evaluate(a->ix, pkt, &dec);
	else
		pc_policy_evaluate(p, pkt, &dec);
	const struct pc_rule *r = dec.by_rule ? &p->rules[dec.rule] : NULL;
	const struct pc_match *m = r ? &r->matches[dec.match] : NULL;
	if (j) {
		pc_json_begin_object(j);
		pc_json_key(j, "packet");
		pc_json_string(j, spec);
		pc_json_key(j, "direction");
		pc_json_string(j, dir_name(pkt->direction));
		pc_json_key(j, "port");
		pc_json_uint(j, pkt->port);
		pc_json_key(j, "verdict");
		pc_json_string(j, r && r->action == PC_ACTION_REJECT ? "reject"
								     : verdict_names[dec.verdict]);
		/* What decided: a rule, `loopback: accept`, or the direction's default. */
		pc_json_key(j, "by");
		pc_json_string(j, r ? "rule" : dec.by_loopback ? "loopback" : "default");
		pc_json_key(j, "rule");
		if (r) {
			if (!a->emits_made)
				emit_index_init(&a->emits, t, p->nrules);
			a->emits_made = true;
			json_rule(j, ctx->reg, r, dec.rule, t, &a->emits);
		} else {
			pc_json_null(j);
		}
		json_peer_found(j, p, "source_prefix", r ? &r->src : NULL, r ? r->nfrom : 0, pkt,
				pkt->has_src, pkt->src);
		json_peer_found(j, p, "destination_prefix", r ? &r->dst : NULL, r ? r->nto : 0, pkt,
				pkt->has_dst, pkt->dst);
		pc_json_key(j, "skipped_interface_rules");
		pc_json_uint(j, dec.skipped_interface);
		pc_json_key(j, "skipped_destination_rules");
		pc_json_uint(j, dec.skipped_destination);
		explain_unusable(ctx, p, pkt, &dec, j);
		pc_json_end_object(j);
		return;
	}
	fprintf(ctx->out, "%s (%s", spec, dir_name(pkt->direction));
	if (pkt->service[0]) /* the port the name gave */
		fprintf(ctx->out, ", %s %u", pc_proto_name(pkt->proto), pkt->port);
	fprintf(ctx->out, "): %s%s\n",
			r && r->action == PC_ACTION_REJECT ? "reject" : verdict_names[dec.verdict],
			!unusable_of(p, pkt, &dec, &reply) ? ""
			: dec.verdict == PC_VERDICT_ACCEPT ? ", but unusable"
							   : ", but its answer is dropped");
	if (r) {
		char port[32];
		port_text(port, sizeof(port), m);
		fprintf(ctx->out, "  by rule %zu at ", dec.rule + 1);
		pc_fputs_escaped(r->loc.file, ctx->out);
		fprintf(ctx->out, ":%u:%u: %s ", r->loc.line, r->loc.col, action_names[r->action]);
		if (m->group) {
			pc_fputs_escaped(m->group, ctx->out);
			fputs(": ", ctx->out);
		}
		if (m->service) {
			pc_fputs_escaped(m->service, ctx->out);
			fputc(' ', ctx->out);
		}
		fprintf(ctx->out, "%s (%s ", port, m->service ? pc_layer_name(m->layer) : "policy");
		put_file_line(ctx->out, m->src_file, m->src_line, ")\n");
		print_port_layers(ctx->out, "    ", ctx->reg, m);
		print_peer_found(ctx->out, p, "from", &r->src, r->nfrom, pkt, pkt->has_src,
				pkt->src);
		print_peer_found(ctx->out, p, "to", &r->dst, r->nto, pkt, pkt->has_dst, pkt->dst);
		if (r->flags & PC_RULE_F_LIMIT)
			fprintf(ctx->out,
					"  (up to %u/%s; beyond that rate, later rules and the default "
					"decide)\n",
					r->limit_rate, r->limit_unit);
	} else if (dec.by_loopback) {
		fputs("  by loopback: accept (defaults.loopback): a packet on lo is accepted "
		      "before any rule\n",
				ctx->out);
	} else {
		fprintf(ctx->out, "  no rule matches; the %s default is %s\n",
				dir_name(pkt->direction), verdict_names[dec.verdict]);
	}
	passed_over(ctx->out, dec.skipped_interface, "an interface",
			pkt->direction == PC_DIR_OUTPUT ? "out IFACE" : "in IFACE");
	passed_over(ctx->out, dec.skipped_destination, "a destination address",
			"SOURCE -> DESTINATION PORT");
	explain_unusable(ctx, p, pkt, &dec, NULL);
}

/*
 * A packet's service name through the policy's registry; a group the policy
 * defines names several services, never the one port of a packet (and it
 * replaces a registry service of its name, as it does in the rules).
 */
static int packet_resolve(struct cli_ctx *ctx, const struct pc_policy *p, struct pc_packet *pkt,
		struct pc_packet_error *e)
{
	for (size_t i = 0; pkt->service[0] && i < p->nservices; i++) {
		const struct pc_service_def *s = &p->services[i];
		if (!s->members || pc_strcasecmp(s->name, pkt->service))
			continue;
		memset(e, 0, sizeof(*e));
		e->col = pkt->service_col;
		snprintf(e->msg, sizeof(e->msg),
				"'%s' is a group of services (%s:%u): a packet goes to one port; "
				"name one of its members or give the port",
				pkt->service, s->loc.file, s->loc.line);
		return -1;
	}
	return pc_packet_resolve(ctx->reg, pkt, e);
}

/* The longest line of a file of packets (a packet itself is at most 255 characters). */
#define PACKET_LINE_MAX 1024
/* How much of a bad line is read and dropped before the rest of its file is given up
 * (/dev/zero has no line end). */
#define PACKET_DROP_MAX (1024 * 1024)

/* A bad line of a file of packets: where, the line with a caret, and in JSON an entry. */
static void bad_packet_line(struct cli_ctx *ctx, const char *label, unsigned long line,
		const char *text, const struct pc_packet_error *e, struct pc_json *j)
{
	pc_fputs_escaped(label, ctx->err);
	fprintf(ctx->err, ":%lu:%u: error: ", line, e->col);
	pc_fputs_escaped(e->msg, ctx->err);
	fputs("\n  ", ctx->err);
	pc_fputs_escaped(text, ctx->err);
	fprintf(ctx->err, "\n  %*s^\n", (int)(e->col - 1), "");
	if (!j)
		return;
	pc_json_begin_object(j);
	pc_json_key(j, "packet");
	pc_json_string(j, text);
	pc_json_key(j, "line");
	pc_json_uint(j, line);
	pc_json_key(j, "column");
	pc_json_uint(j, e->col);
	pc_json_key(j, "error");
	pc_json_string(j, e->msg);
	pc_json_end_object(j);
}

/*
 * Reads one line into buf (at most PACKET_LINE_MAX - 1 bytes, without its
 * end): 1, 0 at the end of the file, -1 for a line too long or holding a
 * NUL byte (the rest of it is read and dropped), or -2 when more than
 * PACKET_DROP_MAX bytes of it would have to be dropped.  Memory and time
 * stay bounded.
 */
static int read_packet_line(FILE *f, char *buf, size_t *len)
{
	size_t dropped = 0;
	bool bad = false;
	int c;

	*len = 0;
	while ((c = getc(f)) != EOF && c != '\n') {
		if (c == '\0' || *len == PACKET_LINE_MAX - 1) {
			bad = true;
			if (++dropped > PACKET_DROP_MAX)
				break;
		} else {
			buf[(*len)++] = (char)c;
		}
	}
	buf[*len] = '\0';
	if (dropped > PACKET_DROP_MAX)
		return -2;
	if (c == EOF && *len == 0 && !bad)
		return 0;
	return bad ? -1 : 1;
}

/*
 * Answers the packets of a file, one a line, in order, as they are read:
 * blank lines and `#` comments are skipped, a bad line is reported at
 * FILE:LINE:COL and the others still answered.  Returns PC_EXIT_OK,
 * PC_EXIT_INVALID when a line was refused, PC_EXIT_ENV when the file could
 * not be read to its end.  `path` "-" is standard input.
 */
static int explain_packet_file(struct cli_ctx *ctx, const struct pc_policy *p, struct answers *a,
		const char *path, struct pc_json *j)
{
	bool std = !strcmp(path, "-");
	const char *label = std ? "<stdin>" : path;
	FILE *f = std ? stdin : fopen(path, "r");
	char buf[PACKET_LINE_MAX];
	unsigned long line = 0;
	size_t len;
	int got, ret = PC_EXIT_OK;

	if (!f) {
		fprintf(ctx->err, "%s explain: cannot read --packets ", ctx->prog);
		pc_fputs_escaped(path, ctx->err);
		fprintf(ctx->err, ": %s\n", strerror(errno));
		return PC_EXIT_ENV;
	}
	while ((got = read_packet_line(f, buf, &len)) != 0) {
		struct pc_packet pkt;
		struct pc_packet_error e;
		line++;
		if (got < 0) {
			e.col = 1;
			snprintf(e.msg, sizeof(e.msg),
					"a line of at most %d bytes, without NUL, was expected%s",
					PACKET_LINE_MAX - 1,
					got == -2 ? " (over 1 MiB of it: the rest of the file is not read)"
						  : "");
			bad_packet_line(ctx, label, line, buf, &e, j);
			ret = PC_EXIT_INVALID;
			if (got == -2)
				break;
			continue;
		}
		char *hash = strchr(buf, '#');
		if (hash)
			*hash = '\0';
		len = strlen(buf);
		while (len && strchr(" \t\r", buf[len - 1]))
			buf[--len] = '\0';
		size_t lead = strspn(buf, " \t");
		if (!buf[lead])
			continue;
		if (pc_packet_parse(buf, &pkt, &e) < 0 || packet_resolve(ctx, p, &pkt, &e) < 0) {
			bad_packet_line(ctx, label, line, buf, &e, j);
			ret = PC_EXIT_INVALID;
			continue;
		}
		explain_packet(ctx, p, &pkt, buf + lead, a, j);
	}
	if (ferror(f)) {
		int err = errno;
		fprintf(ctx->err, "%s explain: cannot read --packets ", ctx->prog);
		pc_fputs_escaped(label, ctx->err);
		fprintf(ctx->err, " after line %lu: %s\n", line, strerror(err));
		ret = PC_EXIT_ENV;
	}
	if (!std)
		fclose(f);
	return ret;
}

/*
 * Answers every --packet in the order given, then the lines of each
 * --packets file in turn: one after another as text; with --json one object,
 * or an array of them when there are several or a file of them.  Returns
 * the worst status of the files (PC_EXIT_ENV before PC_EXIT_INVALID).
 */
static int explain_packets(struct cli_ctx *ctx, const struct pc_policy *p,
		const struct pc_packet *pkts, const struct pc_nft_table *t)
{
	struct pc_json j;
	bool array = ctx->packets.n > 1 || ctx->packet_files.n;
	struct answers a = {.t = t};
	int ret = PC_EXIT_OK;

	/* Many packets each walking every rule cost packets times rules: past one, indexed. */
	if (array)
		a.ix = pc_eval_index_create(p);

	if (ctx->json) {
		pc_json_init(&j, ctx->out);
		if (array)
			pc_json_begin_array(&j);
	}
	for (size_t i = 0; i < ctx->packets.n; i++)
		explain_packet(ctx, p, &pkts[i], ctx->packets.v[i], &a, ctx->json ? &j : NULL);
	for (size_t i = 0; i < ctx->packet_files.n; i++) {
		int r = explain_packet_file(
				ctx, p, &a, ctx->packet_files.v[i], ctx->json ? &j : NULL);
		if (r != PC_EXIT_OK && ret != PC_EXIT_ENV)
			ret = r;
	}
	if (ctx->json) {
		if (array)
			pc_json_end_array(&j);
		pc_json_finish(&j);
	}
	if (a.emits_made)
		emit_index_finish(&a.emits);
	pc_eval_index_destroy(a.ix);
	return ret;
}

/* A --packet refused: the text, the column and the message, and examples. */
static void bad_packet(struct cli_ctx *ctx, const char *text, const struct pc_packet_error *e)
{
	fprintf(ctx->err, "%s explain: bad --packet '", ctx->prog);
	pc_fputs_escaped(text, ctx->err);
	fprintf(ctx->err, "' at column %u: ", e->col);
	pc_fputs_escaped(e->msg, ctx->err);
	fputs("\n  e.g. --packet 'tcp 192.0.2.11 -> 754', 'tcp 198.51.100.7 -> 192.0.2.10 kerberos "
	      "in eth0' or 'udp -> 2001:db8::1 88'\n",
			ctx->err);
}

/* The service names of the --packet options, through the policy's registry. */
static int resolve_packets(struct cli_ctx *ctx, const struct pc_policy *p, struct pc_packet *pkts)
{
	struct pc_packet_error err;

	for (size_t i = 0; i < ctx->packets.n; i++) {
		if (packet_resolve(ctx, p, &pkts[i], &err) == 0)
			continue;
		bad_packet(ctx, ctx->packets.v[i], &err);
		return PC_EXIT_INVALID;
	}
	return PC_EXIT_OK;
}

int cmd_explain(struct cli_ctx *ctx, int argc, char **argv)
{
	struct pc_policy p;
	struct pc_packet *pkts;
	struct pc_packet_error err;
	int ret;

	if (argc != 1) {
		fprintf(ctx->err,
				"%s explain: name one policy file, e.g. '%s explain "
				"policies/kdc-primary.yaml'\n",
				ctx->prog, ctx->prog);
		return PC_EXIT_USAGE;
	}
	pkts = xcalloc(ctx->packets.n + 1, sizeof(*pkts));
	for (size_t i = 0; i < ctx->packets.n; i++) {
		if (pc_packet_parse(ctx->packets.v[i], &pkts[i], &err) == 0)
			continue;
		bad_packet(ctx, ctx->packets.v[i], &err);
		free(pkts);
		return PC_EXIT_USAGE;
	}
	/* The policy in JSON carries its diagnostics (a packet's answer does not). */
	struct pc_diags collected;
	pc_diags_init(&collected);
	if (ctx->json && !ctx->packets.n && !ctx->packet_files.n)
		ctx->collect = &collected;
	ret = cli_load_policy(ctx, argv[0], &p, NULL);
	if (ret == PC_EXIT_OK)
		ret = resolve_packets(ctx, &p, pkts);
	else if (ctx->collect)
		json_failed(ctx->out, &p, argv[0], ret, &collected);
	if (ret == PC_EXIT_OK) {
		struct pc_nft_table t;
		struct pc_diags d;
		pc_diags_init(&d);
		/* What will be emitted comes from the same model `render` prints. */
		if (pc_nft_lower(&p, ctx->table, &t, &d) < 0) {
			ret = PC_EXIT_INVALID;
			if (ctx->collect) {
				pc_diags_take(&collected, &d);
				json_failed(ctx->out, &p, argv[0], ret, &collected);
			} else {
				pc_policy_print_diags(&p, &d, ctx->err);
			}
		} else if (ctx->packets.n || ctx->packet_files.n) {
			ret = explain_packets(ctx, &p, pkts, &t);
		} else if (ctx->json) {
			pc_diags_take(&collected, &d);
			json_explain(ctx->out, &p, ctx->reg, argv[0], &t, &collected);
		} else {
			text_explain(ctx->out, &p, ctx->reg, argv[0], &t);
		}
		pc_nft_table_finish(&t);
		pc_diags_finish(&d);
	}
	ctx->collect = NULL;
	pc_diags_finish(&collected);
	pc_policy_finish(&p);
	free(pkts);
	return ret;
}
