// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The live table read back, and compared with what a policy would install
 * (show, diff, apply --dry-run).  Both sides are the canonical objects of
 * portcullis/readback.h: the kernel's through a dump, the policy's through
 * the transaction apply would send, never sent.
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "portcullis/netlink.h"
#include "portcullis/policy.h"
#include "portcullis/readback.h"
#include "util.h"

/* Dumps taken again when the ruleset changes during one, at most. */
#define READ_RETRIES 8

static int read_live(struct cli_ctx *ctx, const char *cmd, const char *table,
		struct pc_rb_table *live, const struct pc_rb_options *o)
{
	const char *what = "";
	int err = 0;

	if (pc_rb_read(table, o, live, &err, &what) == 0)
		return PC_EXIT_OK;
	if (err == EPERM || err == EACCES)
		fprintf(ctx->err,
				"%s %s: cannot %s: %s; %s needs CAP_NET_ADMIN to read the ruleset "
				"(run it as root)\n",
				ctx->prog, cmd, what, strerror(err), cmd);
	else if (err == EINTR)
		fprintf(ctx->err,
				"%s %s: cannot %s: another program changed the ruleset during "
				"each of %u reads; try again\n",
				ctx->prog, cmd, what, READ_RETRIES + 1);
	else
		fprintf(ctx->err, "%s %s: cannot %s: %s\n", ctx->prog, cmd, what, strerror(err));
	return PC_EXIT_ENV;
}

int cli_read_live(struct cli_ctx *ctx, const char *cmd, const char *table, struct pc_rb_table *live,
		pc_rb_each_fn *each, void *arg)
{
	struct pc_rb_options o = {.retries = READ_RETRIES, .each = each, .arg = arg};

	return read_live(ctx, cmd, table, live, &o);
}

static void print_obj(FILE *f, const struct pc_rb_obj *o)
{
	fputs(o->nft ? o->nft : o->text, f);
	if (o->comment)
		fprintf(f, " comment \"%s\"", o->comment);
}

void cli_print_live(void *f, const struct pc_rb_obj *o)
{
	static const char *const indent[] = {"", "\t", "\t\t", "\t", "\t\t"};

	fputs(indent[o->kind], f);
	print_obj(f, o);
	fputc('\n', f);
}

/* ---- diff ---- */

/* The policy rule a comment names ("r3 ..."): 3; 0 if none. */
static size_t comment_rule(const char *c)
{
	char *end;
	unsigned long n;

	if (!c || c[0] != 'r' || c[1] < '1' || c[1] > '9')
		return 0;
	n = strtoul(c + 1, &end, 10);
	return *end == ' ' || *end == 0 ? (size_t)n : 0;
}

/* Groups a change goes under, in the order they are printed after the policy rules. */
enum group {
	G_RULE,
	G_TABLE,
	G_CHAINS,
	G_SETS,
	G_DEFAULTS,
	G_HAND,
	G_ORDER
};

struct change {
	char op; /* '+': the policy adds it, '-': the policy removes it */
	const struct pc_rb_obj *o;
	enum group group;
	size_t rule; /* G_RULE: the policy rule, from 1 */
	size_t seq;
};

static int obj_cmp(const struct pc_rb_obj *a, const struct pc_rb_obj *b)
{
	int d;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if ((d = strcmp(a->owner, b->owner)) || (d = strcmp(a->text, b->text)))
		return d;
	if (!a->comment || !b->comment)
		return (b->comment != NULL) - (a->comment != NULL);
	return strcmp(a->comment, b->comment);
}

static int ptr_cmp(const void *a, const void *b)
{
	return obj_cmp(*(const struct pc_rb_obj *const *)a, *(const struct pc_rb_obj *const *)b);
}

static const struct pc_rb_obj **sorted(const struct pc_rb_table *t)
{
	const struct pc_rb_obj **v = xcalloc(t->n + 1, sizeof(*v));

	for (size_t i = 0; i < t->n; i++)
		v[i] = &t->objs[i];
	qsort(v, t->n, sizeof(*v), ptr_cmp);
	return v;
}

/*
 * Each named set's policy rule: that of the first rule, of live's objects
 * then want's, that looks it up (a change of a set's elements goes under
 * it).  Found once for all the changes: looked for anew for each, a table
 * of many elements all changed cost elements times objects.
 */
struct set_rule {
	const char *name; /* in a rule's `sets`, followed by a space */
	size_t len, rule;
};

struct set_rules {
	struct set_rule *v;
	size_t mask;
};

static struct set_rule *set_rule_slot(const struct set_rules *m, const char *name, size_t len)
{
	size_t h = pc_name_hash_n(name, len) & m->mask;

	while (m->v[h].name && (m->v[h].len != len || memcmp(m->v[h].name, name, len)))
		h = (h + 1) & m->mask;
	return &m->v[h];
}

/* The sets the rules with a policy rule's comment look up, in order: entered into m (when
 * given), each the first time; returns how many uses there are. */
static size_t each_set_use(
		const struct pc_rb_table *a, const struct pc_rb_table *b, struct set_rules *m)
{
	const struct pc_rb_table *ts[2] = {a, b};
	size_t n = 0;

	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < ts[k]->n; i++) {
			const struct pc_rb_obj *o = &ts[k]->objs[i];
			size_t r = comment_rule(o->comment);
			if (o->kind != PC_RB_RULE || !o->sets || !r)
				continue;
			for (const char *p = o->sets, *e; (e = strchr(p, ' ')); p = e + 1) {
				if (e == p)
					continue;
				n++;
				if (!m)
					continue;
				struct set_rule *slot = set_rule_slot(m, p, (size_t)(e - p));
				if (!slot->name)
					*slot = (struct set_rule){p, (size_t)(e - p), r};
			}
		}
	return n;
}

static void set_rules_init(
		struct set_rules *m, const struct pc_rb_table *a, const struct pc_rb_table *b)
{
	size_t cap = 16, n = each_set_use(a, b, NULL);

	while (cap < 2 * n)
		cap *= 2;
	m->v = xcalloc(cap, sizeof(*m->v));
	m->mask = cap - 1;
	each_set_use(a, b, m);
}

/* The policy rule of the rules (of either table) that look up set `name`; 0 if none. */
static size_t set_rule(const struct set_rules *m, const char *name)
{
	const struct set_rule *slot = set_rule_slot(m, name, strlen(name));

	return slot->name ? slot->rule : 0;
}

static void classify(struct change *c, const struct set_rules *m)
{
	const struct pc_rb_obj *o = c->o;

	c->rule = comment_rule(o->comment);
	if (!c->rule && (o->kind == PC_RB_ELEM || o->kind == PC_RB_SET))
		c->rule = set_rule(m, o->owner);
	if (c->rule)
		c->group = G_RULE;
	else if (o->kind == PC_RB_TABLE)
		c->group = G_TABLE;
	else if (o->kind == PC_RB_CHAIN)
		c->group = G_CHAINS;
	else if (o->kind == PC_RB_RULE && !o->comment)
		c->group = c->op == '-' ? G_HAND : G_DEFAULTS;
	else
		c->group = G_SETS;
}

static int change_cmp(const void *a, const void *b)
{
	const struct change *x = a, *y = b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	if (x->rule != y->rule)
		return x->rule < y->rule ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * The first rule of a that stands elsewhere in b, each chain's rules in
 * their order; NULL when they stand alike.  Called when both hold the same
 * rules.
 */
static const struct pc_rb_obj *moved_rule(const struct pc_rb_table *a, const struct pc_rb_table *b)
{
	size_t i = 0, j = 0;

	for (;;) {
		while (i < a->n && a->objs[i].kind != PC_RB_RULE)
			i++;
		while (j < b->n && b->objs[j].kind != PC_RB_RULE)
			j++;
		if (i == a->n || j == b->n)
			return NULL;
		if (obj_cmp(&a->objs[i++], &b->objs[j++]) != 0)
			return &a->objs[i - 1];
	}
}

static const char *const group_title[] = {
		[G_TABLE] = "the table",
		[G_CHAINS] = "chains",
		[G_SETS] = "sets and maps",
		[G_DEFAULTS] = "defaults (rules without a comment)",
		[G_HAND] = "added by hand (no portcullis comment)",
		[G_ORDER] = "order",
};

static const char *const group_key[] = {
		[G_RULE] = "rule",
		[G_TABLE] = "table",
		[G_CHAINS] = "chains",
		[G_SETS] = "sets",
		[G_DEFAULTS] = "defaults",
		[G_HAND] = "hand-added",
		[G_ORDER] = "order",
};

/* What apply would send, the last line of the text. */
static void print_preview(FILE *f, const struct cli_apply_preview *pv)
{
	if (pv->delta && !pv->objects)
		fprintf(f, "apply would send nothing: a delta of the last apply changes nothing\n");
	else if (pv->delta)
		fprintf(f,
				"apply would send a delta of the last apply: %zu objects (%zu elements "
				"added, %zu deleted; %zu sets and maps created, %zu deleted; %zu chains "
				"created, %zu deleted, %zu rebuilt; %zu policies changed)\n",
				pv->objects, pv->elems_added, pv->elems_deleted, pv->sets_created,
				pv->sets_deleted, pv->chains_created, pv->chains_deleted,
				pv->chains_rebuilt, pv->policies_changed);
	else
		fprintf(f, "apply would replace the whole table: %zu objects%s%s\n", pv->objects,
				pv->why[0] ? "; no delta: " : "", pv->why);
	if (pv->record_wrong)
		fprintf(f,
				"warning: the record of the last apply does not hold what the table "
				"holds (a delta would %s): `apply --full` replaces the table whole\n",
				pv->objects ? "change a table that is already what the policy installs"
					    : "send nothing to a table that differs");
}

static void print_text(struct cli_ctx *ctx, const char *table, const char *path,
		const struct pc_policy *p, const struct pc_rb_table *live, const struct change *ch,
		size_t n)
{
	FILE *f = ctx->out;

	if (!live->exists)
		fprintf(f, "table inet %s is not loaded: %s would create all of it\n", table, path);
	else if (!n)
		fprintf(f, "table inet %s is what %s installs\n", table, path);
	else
		fprintf(f,
				"table inet %s differs from what %s installs: %zu change%s (- live only, + "
				"%s only)\n",
				table, path, n, n == 1 ? "" : "s", path);
	for (size_t i = 0; i < n; i++) {
		const struct change *c = &ch[i];
		if (i == 0 || c->group != ch[i - 1].group || c->rule != ch[i - 1].rule) {
			if (c->group == G_RULE && c->rule <= p->nrules) {
				const struct pc_loc *l = &p->rules[c->rule - 1].loc;
				fprintf(f, "rule r%zu (%s:%u):\n", c->rule, l->file, l->line);
			} else if (c->group == G_RULE) {
				fprintf(f, "rule r%zu (not in %s):\n", c->rule, path);
			} else {
				fprintf(f, "%s:\n", group_title[c->group]);
			}
		}
		if (c->group == G_ORDER) {
			fprintf(f, "~\trule %s: ", c->o->owner);
			print_obj(f, c->o);
			fprintf(f,
					"\n\t(the first rule of chain %s that stands elsewhere than %s puts "
					"it)\n",
					c->o->owner, path);
			continue;
		}
		fprintf(f, "%c\t", c->op);
		if (c->o->kind == PC_RB_RULE || c->o->kind == PC_RB_ELEM)
			fprintf(f, "%s %s: ", pc_rb_kind_name(c->o->kind), c->o->owner);
		print_obj(f, c->o);
		fputc('\n', f);
	}
}

static void print_json(struct cli_ctx *ctx, const char *table, const char *path,
		const struct pc_rb_table *live, const struct change *ch, size_t n,
		const struct cli_apply_preview *pv)
{
	struct pc_json j;

	pc_json_init(&j, ctx->out);
	pc_json_begin_object(&j);
	pc_json_key(&j, "table");
	pc_json_string(&j, table);
	pc_json_key(&j, "policy");
	pc_json_string(&j, path);
	pc_json_key(&j, "loaded");
	pc_json_bool(&j, live->exists);
	pc_json_key(&j, "equal");
	pc_json_bool(&j, n == 0);
	pc_json_key(&j, "changes");
	pc_json_begin_array(&j);
	for (size_t i = 0; i < n; i++) {
		const struct change *c = &ch[i];
		char op[2] = {c->op, 0};
		pc_json_begin_object(&j);
		pc_json_key(&j, "op");
		pc_json_string(&j, op);
		pc_json_key(&j, "group");
		pc_json_string(&j, group_key[c->group]);
		pc_json_key(&j, "rule");
		if (c->rule)
			pc_json_uint(&j, c->rule);
		else
			pc_json_null(&j);
		if (c->o) {
			pc_json_key(&j, "kind");
			pc_json_string(&j, pc_rb_kind_name(c->o->kind));
			pc_json_key(&j, "owner");
			pc_json_string(&j, c->o->owner);
			pc_json_key(&j, "text");
			pc_json_string(&j, c->o->nft ? c->o->nft : c->o->text);
			pc_json_key(&j, "raw");
			pc_json_string(&j, c->o->text);
			pc_json_key(&j, "comment");
			pc_json_string_or_null(&j, c->o->comment);
		}
		pc_json_end_object(&j);
	}
	pc_json_end_array(&j);
	pc_json_key(&j, "apply");
	pc_json_begin_object(&j);
	pc_json_key(&j, "sends");
	pc_json_string(&j, pv->delta ? "delta" : "replace");
	pc_json_key(&j, "objects");
	pc_json_uint(&j, pv->objects);
	pc_json_key(&j, "no_delta_because");
	if (!pv->delta && pv->why[0])
		pc_json_string(&j, pv->why);
	else
		pc_json_null(&j);
	pc_json_key(&j, "record_matches_table");
	pc_json_bool(&j, !pv->record_wrong);
	pc_json_end_object(&j);
	pc_json_end_object(&j);
	pc_json_finish(&j);
}

/* The changes from live to want, grouped and ordered; returns their number. */
static size_t compare(
		const struct pc_rb_table *live, const struct pc_rb_table *want, struct change **out)
{
	const struct pc_rb_obj **a = sorted(live), **b = sorted(want);
	struct change *ch = xcalloc(live->n + want->n + 1, sizeof(*ch));
	struct set_rules m;
	size_t i = 0, j = 0, n = 0;

	set_rules_init(&m, live, want);
	while (i < live->n || j < want->n) {
		int d = i == live->n ? 1 : j == want->n ? -1 : obj_cmp(a[i], b[j]);
		if (d == 0) {
			i++, j++;
			continue;
		}
		ch[n].op = d < 0 ? '-' : '+';
		ch[n].o = d < 0 ? a[i++] : b[j++];
		ch[n].seq = n;
		classify(&ch[n], &m);
		n++;
	}
	if (n == 0 && (ch[n].o = moved_rule(live, want))) {
		ch[n].op = '~';
		ch[n].group = G_ORDER;
		n++;
	}
	qsort(ch, n, sizeof(*ch), change_cmp);
	free(m.v);
	free(a);
	free(b);
	*out = ch;
	return n;
}

int cli_diff(struct cli_ctx *ctx, const char *cmd, const char *path)
{
	const char *table = ctx->table;
	struct pc_policy p;
	struct pc_nft_table t;
	struct pc_rb_table live = {0}, want = {0};
	int ret;

	ctx->release_texts = true; /* the text is not held with the addresses it holds */
	if ((ret = cli_lower_policy(ctx, cmd, path, &p, &t)) != PC_EXIT_OK)
		return ret;

	unsigned lo = if_nametoindex("lo");
	struct pc_nl_options bo = {.seq = 1, .commit = true, .lo_ifindex = lo ? lo : 1};
	struct pc_nl_batch b;
	/* What apply would send, first: its transaction is freed before diff's is built. */
	struct cli_apply_preview pv;
	cli_apply_preview(ctx, &t, &pv);
	/* The sets' elements are read off the model, not written into the batch and read back. */
	bo.sets_empty = true;
	pc_nl_build(&t, &bo, &b);
	pc_rb_from_model_packed(&t, &b, &want);
	pc_nl_batch_finish(&b);
	pc_nft_table_finish(&t);

	/* the elements both have alike are left out of both: they make no change */
	struct pc_rb_options o = {.retries = READ_RETRIES, .against = &want};
	if ((ret = read_live(ctx, cmd, table, &live, &o)) != PC_EXIT_OK)
		goto out;
	struct change *ch;
	size_t n = compare(&live, &want, &ch);
	/* A delta is planned from the record of the last apply, trusted while the generation holds.
	 */
	pv.record_wrong = pv.delta && live.exists && (n != 0) != (pv.objects != 0);
	if (ctx->json) {
		print_json(ctx, table, path, &live, ch, n, &pv);
	} else {
		print_text(ctx, table, path, &p, &live, ch, n);
		print_preview(ctx->out, &pv);
	}
	free(ch);
	ret = n || !live.exists ? PC_EXIT_INVALID : PC_EXIT_OK;
out:
	pc_rb_finish(&live);
	pc_rb_finish(&want);
	pc_policy_finish(&p);
	return ret;
}
