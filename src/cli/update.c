/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * portcullis registry update: what changes between the IANA registry in use
 * (the embedded snapshot, or --registry) and a newer one, and for each
 * policy given, which rules resolve differently and which lines of its nft
 * rendering change.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "portcullis/audit.h"
#include "portcullis/linediff.h"
#include "portcullis/nft.h"
#include "portcullis/policy.h"
#include "util.h"

/* ---- the registries ------------------------------------------------------ */

/* "kpasswd (data/...csv:946)": a change's row, or nothing when it has none. */
static void print_row_ref(FILE *out, const struct pc_record *r)
{
	if (!r->line)
		return;
	fputs(" (", out);
	pc_fputs_escaped(r->file, out);
	fprintf(out, ":%u)", r->line);
}

/*
 * "(h2.csv:15377)", "(h2.csv:946, 15377)": the rows of the ports a side lost
 * or gained, each its own; the side's first row when it did neither.
 */
static void print_rows_ref(
		FILE *out, const struct pc_record *first, const uint32_t *lines, size_t n)
{
	if (!n) {
		print_row_ref(out, first);
		return;
	}
	fputs(" (", out);
	pc_fputs_escaped(first->file, out);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s%u", i ? ", " : ":", lines[i]);
	fputc(')', out);
}

static void print_change(FILE *out, const struct pc_change *c)
{
	if (c->kind == PC_CHANGE_STATE) {
		fprintf(out, "  %-16s %s", c->old_ports, pc_port_state_name(c->old_state));
		if (c->old_row.line && *c->old_row.name)
			fprintf(out, " %s", c->old_row.name);
		print_row_ref(out, &c->old_row);
		fprintf(out, " -> %s", pc_port_state_name(c->new_state));
		if (c->new_row.line && *c->new_row.name)
			fprintf(out, " %s", c->new_row.name);
		print_row_ref(out, &c->new_row);
		fputc('\n', out);
		return;
	}
	fprintf(out, "  %-16s ", c->name);
	if (c->kind != PC_CHANGE_ADDED) {
		fputs(c->old_ports, out);
		print_rows_ref(out, &c->old_row, c->lost_lines, c->nlost_lines);
	}
	if (c->kind != PC_CHANGE_ADDED && c->kind != PC_CHANGE_REMOVED)
		fputs(" -> ", out);
	if (c->kind != PC_CHANGE_REMOVED) {
		fputs(c->new_ports, out);
		print_rows_ref(out, &c->new_row, c->gained_lines, c->ngained_lines);
	}
	fputc('\n', out);
}

static void text_changes(FILE *out, const struct pc_registry *old, const char *new_path,
		const char *new_date, const struct pc_changes *c)
{
	size_t total = 0;

	for (int k = 0; k < PC_CHANGE_KIND_COUNT; k++)
		total += c->count[k];
	fputs("registry update: ", out);
	pc_fputs_escaped(pc_registry_iana_file(old), out);
	fprintf(out, " (snapshot %s) -> ", pc_registry_iana_date(old));
	pc_fputs_escaped(new_path, out);
	fprintf(out, " (snapshot %s)\n%zu change%s\n", new_date, total, total == 1 ? "" : "s");
	for (int k = 0; k < PC_CHANGE_KIND_COUNT; k++)
		fprintf(out, "  %-16s %5zu  %s\n", pc_change_code((enum pc_change_kind)k),
				c->count[k], pc_change_what((enum pc_change_kind)k));
	for (int k = 0; k < PC_CHANGE_KIND_COUNT; k++) {
		if (!c->count[k])
			continue;
		fprintf(out, "\n%s (%zu): %s\n", pc_change_code((enum pc_change_kind)k),
				c->count[k], pc_change_what((enum pc_change_kind)k));
		for (size_t i = 0; i < c->n; i++)
			if ((int)c->v[i].kind == k)
				print_change(out, &c->v[i]);
	}
}

static void json_row_ref(struct pc_json *j, const char *key, const struct pc_record *r)
{
	pc_json_key(j, key);
	if (r->line)
		cli_json_record(j, r);
	else
		pc_json_null(j);
}

static void json_line_numbers(struct pc_json *j, const char *key, const uint32_t *v, size_t n)
{
	pc_json_key(j, key);
	pc_json_begin_array(j);
	for (size_t i = 0; i < n; i++)
		pc_json_uint(j, v[i]);
	pc_json_end_array(j);
}

static void json_changes(struct pc_json *j, const struct pc_registry *old, const char *new_path,
		const char *new_date, const struct pc_changes *c)
{
	size_t total = 0;

	pc_json_key(j, "old");
	pc_json_begin_object(j);
	pc_json_key(j, "file");
	pc_json_string(j, pc_registry_iana_file(old));
	pc_json_key(j, "date");
	pc_json_string_or_null(j, pc_registry_iana_date(old));
	pc_json_end_object(j);
	pc_json_key(j, "new");
	pc_json_begin_object(j);
	pc_json_key(j, "file");
	pc_json_string(j, new_path);
	pc_json_key(j, "date");
	pc_json_string_or_null(j, new_date);
	pc_json_end_object(j);
	for (int k = 0; k < PC_CHANGE_KIND_COUNT; k++)
		total += c->count[k];
	pc_json_key(j, "total");
	pc_json_uint(j, total);
	pc_json_key(j, "counts");
	pc_json_begin_object(j);
	for (int k = 0; k < PC_CHANGE_KIND_COUNT; k++) {
		pc_json_key(j, pc_change_code((enum pc_change_kind)k));
		pc_json_uint(j, c->count[k]);
	}
	pc_json_end_object(j);
	pc_json_key(j, "changes");
	pc_json_begin_array(j);
	for (size_t i = 0; i < c->n; i++) {
		const struct pc_change *ch = &c->v[i];
		bool state = ch->kind == PC_CHANGE_STATE;
		pc_json_begin_object(j);
		pc_json_key(j, "kind");
		pc_json_string(j, pc_change_code(ch->kind));
		pc_json_key(j, "name");
		pc_json_string_or_null(j, ch->name);
		pc_json_key(j, "old_ports");
		pc_json_string(j, ch->old_ports);
		pc_json_key(j, "new_ports");
		pc_json_string(j, ch->new_ports);
		pc_json_key(j, "old_state");
		pc_json_string_or_null(j, state ? pc_port_state_name(ch->old_state) : NULL);
		pc_json_key(j, "new_state");
		pc_json_string_or_null(j, state ? pc_port_state_name(ch->new_state) : NULL);
		json_row_ref(j, "old_row", &ch->old_row);
		json_row_ref(j, "new_row", &ch->new_row);
		/* The lines of the rows of the ports lost (old file) and gained (new file). */
		json_line_numbers(j, "lost_lines", ch->lost_lines, ch->nlost_lines);
		json_line_numbers(j, "gained_lines", ch->gained_lines, ch->ngained_lines);
		pc_json_end_object(j);
	}
	pc_json_end_array(j);
}

/* ---- one policy against both ------------------------------------------- */

/* One service a rule names, and the ports it resolved to on each side. */
struct named {
	struct pc_loc loc;
	const char *label; /* the name as written (a group's name for its members) */
	struct pc_buf ports[2]; /* old, new: "464/tcp, 464/udp"; data NULL: not resolved */
};

/* One side: the policy resolved and lowered, its diagnostics, its rendering. */
struct side {
	int status;
	struct pc_policy p;
	struct pc_nft_table t;
	char *diags; /* what loading it printed */
	size_t ndiags;
	char *text; /* the nft rendering (status PC_EXIT_OK) */
	size_t ntext;
};

/*
 * Loads and lowers the policy at `path` against the registry the options
 * give, with `iana` as the iana layer's file (NULL: the embedded snapshot),
 * its diagnostics kept apart, and renders it as nft text (without the
 * header, which names the registry files).
 */
static void load_side(struct cli_ctx *ctx, const char *path, const char *iana, struct side *s)
{
	FILE *err = ctx->err, *f;

	memset(s, 0, sizeof(*s));
	ctx->layer_file[PC_LAYER_IANA] = iana;
	ctx->err = open_memstream(&s->diags, &s->ndiags);
	if (!ctx->err)
		pc_oom_size(0);
	s->status = cli_lower_policy(ctx, "registry update", path, &s->p, &s->t);
	fclose(ctx->err);
	ctx->err = err;
	if (s->status != PC_EXIT_OK)
		return;
	f = open_memstream(&s->text, &s->ntext);
	if (!f)
		pc_oom_size(0);
	pc_nft_print(&s->t, NULL, 0, f);
	fclose(f);
}

static void side_finish(struct side *s)
{
	if (s->status == PC_EXIT_OK) {
		pc_nft_table_finish(&s->t);
		pc_policy_finish(&s->p);
	}
	free(s->diags);
	free(s->text);
}

static bool same_loc(const struct pc_loc *a, const struct pc_loc *b)
{
	return a->line == b->line && a->col == b->col && !strcmp(a->file, b->file);
}

/*
 * The named entry of v[0..n) at `loc`: looked for at *hint first (the two
 * sides list a rule's services in the same order, so this is a walk), then
 * everywhere; a new one when there is none.
 */
static struct named *named_at(struct named **v, size_t *n, size_t *hint, const struct pc_match *m)
{
	for (size_t k = *hint; k < *n; k++)
		if (same_loc(&(*v)[k].loc, &m->loc))
			return &(*v)[*hint = k];
	for (size_t k = 0; k < *hint && k < *n; k++)
		if (same_loc(&(*v)[k].loc, &m->loc))
			return &(*v)[*hint = k];
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	struct named *x = &(*v)[ *hint = (*n)++];
	memset(x, 0, sizeof(*x));
	x->loc = m->loc;
	x->label = m->group ? m->group : m->service ? m->service : "port";
	return x;
}

/* Adds the rule's matches, as port lists per service named, to v (side 0 old, 1 new). */
static void collect(const struct pc_rule *r, int side, struct named **v, size_t *n)
{
	size_t hint = 0;

	for (size_t i = 0; i < r->nmatches; i++) {
		const struct pc_match *m = &r->matches[i];
		struct pc_buf *b = &named_at(v, n, &hint, m)->ports[side];
		if (!b->data)
			pc_buf_adds(b, "");
		pc_buf_printf(b, "%s%u", b->len ? ", " : "", m->lo);
		if (m->hi != m->lo)
			pc_buf_printf(b, "-%u", m->hi);
		pc_buf_printf(b, "/%s", pc_proto_name(m->proto));
	}
}

static bool same_ports(const struct named *x)
{
	const struct pc_buf *a = &x->ports[0], *b = &x->ports[1];

	return a->data && b->data && a->len == b->len && !memcmp(a->data, b->data, a->len);
}

/* The services of rule `i` that resolve differently (appended to v), with their ports. */
static size_t rule_changes(const struct pc_rule *a, const struct pc_rule *b, struct named **v)
{
	size_t n = 0, w = 0;

	collect(a, 0, v, &n);
	collect(b, 1, v, &n);
	for (size_t k = 0; k < n; k++) {
		struct named *x = &(*v)[k];
		if (same_ports(x)) {
			pc_buf_finish(&x->ports[0]);
			pc_buf_finish(&x->ports[1]);
			continue;
		}
		(*v)[w++] = *x;
	}
	return w;
}

/* One line of a rendering. */
/* What one policy does under each registry. */
struct verdict {
	const char *path;
	struct side old, new;
	struct named *rules; /* the services that resolve differently */
	size_t *rule_of; /* their rules' indexes */
	size_t nrules, rules_cap;
	struct pc_line *la, *lb; /* the two nft renderings, by lines */
	unsigned char *del, *ins; /* the lines only the old one, only the new one holds */
	size_t na, nb, removed, added;
	bool affected;
};

static void judge(struct cli_ctx *ctx, const char *path, const char *old_iana, const char *new_iana,
		struct verdict *v)
{
	memset(v, 0, sizeof(*v));
	v->path = path;
	load_side(ctx, path, old_iana, &v->old);
	load_side(ctx, path, new_iana, &v->new);
	ctx->layer_file[PC_LAYER_IANA] = old_iana;
	if (v->old.status != PC_EXIT_OK || v->new.status != PC_EXIT_OK) {
		v->affected = true;
		return;
	}
	for (size_t i = 0; i < v->old.p.nrules && i < v->new.p.nrules; i++) {
		struct named *x = NULL;
		size_t n = rule_changes(&v->old.p.rules[i], &v->new.p.rules[i], &x);
		if (v->rules_cap < v->nrules + n + 1) {
			/* Doubled, not grown by each rule's count: copied a few times in all. */
			v->rules_cap = 2 * (v->nrules + n + 1);
			v->rules = xreallocarray(v->rules, v->rules_cap, sizeof(*v->rules));
			v->rule_of = xreallocarray(v->rule_of, v->rules_cap, sizeof(*v->rule_of));
		}
		for (size_t k = 0; k < n; k++) {
			v->rule_of[v->nrules] = i;
			v->rules[v->nrules++] = x[k];
		}
		free(x);
	}
	v->affected = v->nrules > 0;
	v->la = pc_lines_split(v->old.text, v->old.text ? strlen(v->old.text) : 0, &v->na);
	v->lb = pc_lines_split(v->new.text, v->new.text ? strlen(v->new.text) : 0, &v->nb);
	v->del = xcalloc(v->na + 1, 1);
	v->ins = xcalloc(v->nb + 1, 1);
	pc_linediff_marks(v->la, v->na, v->lb, v->nb, v->del, v->ins);
	for (size_t i = 0; i < v->na; i++)
		v->removed += v->del[i];
	for (size_t i = 0; i < v->nb; i++)
		v->added += v->ins[i];
}

static void verdict_finish(struct verdict *v)
{
	for (size_t i = 0; i < v->nrules; i++) {
		pc_buf_finish(&v->rules[i].ports[0]);
		pc_buf_finish(&v->rules[i].ports[1]);
	}
	free(v->rules);
	free(v->rule_of);
	free(v->la);
	free(v->lb);
	free(v->del);
	free(v->ins);
	side_finish(&v->old);
	side_finish(&v->new);
}

/* Which side failed, and how, in words. */
static const char *failure(const struct verdict *v)
{
	if (v->old.status == PC_EXIT_ENV)
		return "it cannot be read";
	if (v->old.status != PC_EXIT_OK)
		return "it does not resolve against the old registry either";
	return "it no longer resolves";
}

static void print_ports(FILE *out, const char *ports)
{
	fputs(ports ? ports : "nothing", out);
}

static void text_verdict(struct cli_ctx *ctx, const struct verdict *v)
{
	FILE *out = ctx->out;

	fputs("\npolicy ", out);
	pc_fputs_escaped(v->path, out);
	if (v->old.status != PC_EXIT_OK || v->new.status != PC_EXIT_OK) {
		fprintf(out, ": affected: %s (its diagnostics are on standard error)\n",
				failure(v));
		return;
	}
	if (v->affected)
		fprintf(out, ": affected: %zu service%s of its rules resolve%s differently",
				v->nrules, v->nrules == 1 ? "" : "s", v->nrules == 1 ? "s" : "");
	else
		fputs(": not affected: every rule resolves as before", out);
	fprintf(out, "; %zu rendered line%s change%s\n", v->removed + v->added,
			v->removed + v->added == 1 ? "" : "s",
			v->removed + v->added == 1 ? "s" : "");
	for (size_t i = 0; i < v->nrules; i++) {
		const struct named *x = &v->rules[i];
		fprintf(out, "  r%zu ", v->rule_of[i] + 1);
		pc_fputs_escaped(x->label, out);
		fputs(": ", out);
		print_ports(out, x->ports[0].data);
		fputs(" -> ", out);
		print_ports(out, x->ports[1].data);
		fputs(" at ", out);
		pc_fputs_escaped(x->loc.file, out);
		fprintf(out, ":%u:%u\n", x->loc.line, x->loc.col);
	}
	if (!v->removed && !v->added)
		return;
	pc_linediff(v->la, v->na, v->lb, v->nb, "nft with the old registry",
			"nft with the new registry", 1, out);
}

/* The lines of `v` that `mark` sets, without their newlines. */
static void json_lines(struct pc_json *j, const char *key, const struct pc_line *v,
		const unsigned char *mark, size_t n)
{
	pc_json_key(j, key);
	pc_json_begin_array(j);
	for (size_t i = 0; i < n; i++) {
		if (!mark[i])
			continue;
		size_t len = v[i].len;
		if (len && v[i].s[len - 1] == '\n')
			len--;
		char *s = xstrndup(v[i].s, len);
		pc_json_string(j, s);
		free(s);
	}
	pc_json_end_array(j);
}

static void json_verdict(struct pc_json *j, const struct verdict *v)
{
	bool failed = v->old.status != PC_EXIT_OK || v->new.status != PC_EXIT_OK;

	pc_json_begin_object(j);
	pc_json_key(j, "policy");
	pc_json_string(j, v->path);
	pc_json_key(j, "affected");
	pc_json_bool(j, v->affected);
	pc_json_key(j, "resolves");
	pc_json_bool(j, !failed);
	pc_json_key(j, "diagnostics");
	pc_json_string_or_null(
			j, failed ? (v->new.status != PC_EXIT_OK ? v->new.diags : v->old.diags)
				  : NULL);
	pc_json_key(j, "rules");
	pc_json_begin_array(j);
	for (size_t i = 0; i < v->nrules; i++) {
		const struct named *x = &v->rules[i];
		pc_json_begin_object(j);
		pc_json_key(j, "rule");
		pc_json_uint(j, v->rule_of[i] + 1);
		pc_json_key(j, "service");
		pc_json_string(j, x->label);
		pc_json_key(j, "file");
		pc_json_string(j, x->loc.file);
		pc_json_key(j, "line");
		pc_json_uint(j, x->loc.line);
		pc_json_key(j, "col");
		pc_json_uint(j, x->loc.col);
		pc_json_key(j, "old_ports");
		pc_json_string_or_null(j, x->ports[0].data);
		pc_json_key(j, "new_ports");
		pc_json_string_or_null(j, x->ports[1].data);
		pc_json_end_object(j);
	}
	pc_json_end_array(j);
	json_lines(j, "removed_lines", v->la, v->del, v->na);
	json_lines(j, "added_lines", v->lb, v->ins, v->nb);
	pc_json_end_object(j);
}

/* Says on standard error why a policy does not resolve: what loading it printed. */
static void report_failure(struct cli_ctx *ctx, const struct verdict *v)
{
	const struct side *s = v->old.status != PC_EXIT_OK ? &v->old : &v->new;

	fprintf(ctx->err, "%s registry update: ", ctx->prog);
	pc_fputs_escaped(v->path, ctx->err);
	fprintf(ctx->err, ": %s:\n", failure(v));
	fwrite(s->diags, 1, s->ndiags, ctx->err);
}

/* The new registry, read on its own: a file that cannot be read or has errors is exit 3. */
static struct pc_registry *open_new(struct cli_ctx *ctx, const char *path)
{
	struct pc_registry *reg = pc_registry_create();
	struct pc_diags d;

	pc_diags_init(&d);
	d.max = 100;
	int st = pc_registry_load_iana(reg, path, &d);
	pc_diags_print(&d, ctx->err);
	pc_diags_finish(&d);
	if (st == PC_LOAD_OK)
		return reg;
	pc_registry_destroy(reg);
	return NULL;
}

int cmd_registry_update(struct cli_ctx *ctx, int argc, char **argv)
{
	const char *old_iana = ctx->layer_file[PC_LAYER_IANA];
	struct pc_registry *new;
	struct pc_changes c;
	struct pc_json j;
	bool affected = false;
	int ret;

	if (argc < 1) {
		fprintf(ctx->err,
				"%s registry update: name the new registry file, e.g. '%s registry "
				"update service-names-port-numbers.csv policies/kdc-primary.yaml'\n",
				ctx->prog, ctx->prog);
		return PC_EXIT_USAGE;
	}
	if (!cli_table_name_ok(ctx, "registry update", ctx->table))
		return PC_EXIT_USAGE;
	/* A registry file that cannot be used is this command's environment: 1 means affected. */
	ret = cli_open_registry(ctx);
	if (ret != PC_EXIT_OK)
		return ret == PC_EXIT_INVALID ? PC_EXIT_ENV : ret;
	if (!(new = open_new(ctx, argv[0])))
		return PC_EXIT_ENV;

	pc_changes_init(&c);
	pc_registry_compare(ctx->reg, new, &c);
	if (ctx->json) {
		pc_json_init(&j, ctx->out);
		pc_json_begin_object(&j);
		json_changes(&j, ctx->reg, argv[0], pc_registry_iana_date(new), &c);
		pc_json_key(&j, "policies");
		pc_json_begin_array(&j);
	} else {
		text_changes(ctx->out, ctx->reg, argv[0], pc_registry_iana_date(new), &c);
	}
	/* Each policy reopens the registry (cli_lower_policy): the changes point into this one. */
	pc_changes_finish(&c);
	pc_registry_destroy(new);

	for (int i = 1; i < argc; i++) {
		struct verdict v;
		judge(ctx, argv[i], old_iana, argv[0], &v);
		if (v.old.status != PC_EXIT_OK || v.new.status != PC_EXIT_OK)
			report_failure(ctx, &v);
		if (v.old.status == PC_EXIT_ENV || v.new.status == PC_EXIT_ENV)
			ret = PC_EXIT_ENV;
		affected |= v.affected;
		if (ctx->json)
			json_verdict(&j, &v);
		else
			text_verdict(ctx, &v);
		verdict_finish(&v);
	}
	if (ctx->json) {
		pc_json_end_array(&j);
		pc_json_key(&j, "affected");
		pc_json_bool(&j, affected);
		pc_json_end_object(&j);
		pc_json_finish(&j);
	}
	if (ret != PC_EXIT_OK)
		return ret;
	return affected ? PC_EXIT_INVALID : PC_EXIT_OK;
}
