/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Diagnostics for programs: one JSON object per record (check --json,
 * explain --json), and check's reports of every policy as one JSON object
 * or one SARIF 2.1.0 log (check --sarif), the format code review tools show
 * inline.  Every string goes through the JSON writer, so no name, comment or
 * path can change the structure.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "pc-version.h"
#include "portcullis/listening.h"
#include "portcullis/policy.h"
#include "util.h"

void cli_json_diag(struct pc_json *j, const struct pc_diag *r)
{
	pc_json_begin_object(j);
	pc_json_key(j, "severity");
	pc_json_string(j, pc_severity_name(r->sev));
	pc_json_key(j, "code");
	pc_json_string_or_null(j, r->code);
	pc_json_key(j, "file");
	pc_json_string_or_null(j, r->file);
	pc_json_key(j, "line");
	if (r->file && r->line)
		pc_json_uint(j, r->line);
	else
		pc_json_null(j);
	pc_json_key(j, "column");
	if (r->file && r->line && r->col)
		pc_json_uint(j, r->col);
	else
		pc_json_null(j);
	pc_json_key(j, "message");
	pc_json_string(j, r->msg);
	pc_json_key(j, "hint");
	pc_json_string_or_null(j, r->hint);
	pc_json_key(j, "acknowledged");
	pc_json_bool(j, r->acknowledged);
	pc_json_key(j, "reason");
	pc_json_string_or_null(j, r->acknowledged ? r->reason : NULL);
	pc_json_end_object(j);
}

void cli_json_diags(struct pc_json *j, const char *key, const struct pc_diags *d)
{
	pc_json_key(j, key);
	pc_json_begin_array(j);
	for (size_t i = 0; i < d->n; i++)
		cli_json_diag(j, &d->v[i]);
	pc_json_end_array(j);
}

/* One policy given to check: what was said about it. */
struct entry {
	char *file; /* as given; "<stdin>" for "-" */
	char *policy; /* its name, or NULL when it was not read that far */
	int status;
	size_t rules; /* meaningful when status is PC_EXIT_OK */
	struct pc_diags diags;
};

struct cli_report {
	struct entry *v;
	size_t n;
	const struct pc_listeners *listening; /* check --listening; else NULL */
};

struct cli_report *cli_report_create(void)
{
	return xcalloc(1, sizeof(struct cli_report));
}

void cli_report_destroy(struct cli_report *rep)
{
	if (!rep)
		return;
	for (size_t i = 0; i < rep->n; i++) {
		free(rep->v[i].file);
		free(rep->v[i].policy);
		pc_diags_finish(&rep->v[i].diags);
	}
	free(rep->v);
	free(rep);
}

void cli_report_add(struct cli_report *rep, const char *file, const struct pc_policy *p, int status,
		struct pc_diags *d)
{
	struct entry *e;

	rep->v = pc_grow(rep->v, rep->n, sizeof(*rep->v));
	e = &rep->v[rep->n++];
	memset(e, 0, sizeof(*e));
	e->file = xstrdup(strcmp(file, "-") ? file : "<stdin>");
	e->policy = p && p->name ? xstrdup(p->name) : NULL;
	e->status = status;
	e->rules = p ? p->nrules : 0;
	pc_diags_init(&e->diags);
	pc_diags_take(&e->diags, d);
}

void cli_report_listening(struct cli_report *rep, const struct pc_listeners *l)
{
	rep->listening = l;
}

/* check --listening: every socket seen, as `listening`. */
static void json_listening(struct pc_json *j, const struct pc_listeners *l)
{
	pc_json_key(j, "listening");
	pc_json_begin_array(j);
	for (size_t i = 0; i < l->n; i++) {
		const struct pc_listener *s = &l->v[i];
		char addr[46];
		pc_listener_addr(addr, s);
		pc_json_begin_object(j);
		pc_json_key(j, "protocol");
		pc_json_string(j, pc_proto_name(s->proto));
		pc_json_key(j, "family");
		pc_json_uint(j, s->family);
		pc_json_key(j, "address");
		pc_json_string(j, addr);
		pc_json_key(j, "port");
		pc_json_uint(j, s->port);
		pc_json_key(j, "interface");
		pc_json_string_or_null(j, s->ifname[0] ? s->ifname : NULL);
		pc_json_key(j, "v6only");
		pc_json_bool(j, s->v6only);
		pc_json_key(j, "loopback");
		pc_json_bool(j, pc_listener_loopback(s));
		pc_json_key(j, "ephemeral");
		pc_json_bool(j, s->ephemeral);
		pc_json_key(j, "uid");
		pc_json_uint(j, s->uid);
		pc_json_key(j, "inode");
		pc_json_uint(j, s->inode);
		pc_json_key(j, "pid");
		if (s->pid)
			pc_json_int(j, s->pid);
		else
			pc_json_null(j);
		pc_json_key(j, "process");
		pc_json_string_or_null(j, s->pid ? s->comm : NULL);
		pc_json_end_object(j);
	}
	pc_json_end_array(j);
}

static const char *result_name(int status)
{
	switch (status) {
	case PC_EXIT_OK:
		return "ok";
	case PC_EXIT_INVALID:
		return "invalid";
	case PC_EXIT_USAGE:
		return "usage";
	default:
		return "unreadable";
	}
}

static void print_json(const struct cli_report *rep, int status, FILE *out)
{
	struct pc_json j;

	pc_json_init(&j, out);
	pc_json_begin_object(&j);
	pc_json_key(&j, "status");
	pc_json_int(&j, status);
	pc_json_key(&j, "policies");
	pc_json_begin_array(&j);
	for (size_t i = 0; i < rep->n; i++) {
		const struct entry *e = &rep->v[i];
		size_t notes = 0;
		for (size_t k = 0; k < e->diags.n; k++)
			notes += e->diags.v[k].sev == PC_SEV_NOTE && !e->diags.v[k].acknowledged;
		pc_json_begin_object(&j);
		pc_json_key(&j, "file");
		pc_json_string(&j, e->file);
		pc_json_key(&j, "policy");
		pc_json_string_or_null(&j, e->policy);
		pc_json_key(&j, "result");
		pc_json_string(&j, result_name(e->status));
		pc_json_key(&j, "status");
		pc_json_int(&j, e->status);
		pc_json_key(&j, "rules");
		if (e->status == PC_EXIT_OK)
			pc_json_uint(&j, e->rules);
		else
			pc_json_null(&j);
		pc_json_key(&j, "errors");
		pc_json_uint(&j, e->diags.nerrors);
		pc_json_key(&j, "warnings");
		pc_json_uint(&j, e->diags.nwarnings);
		pc_json_key(&j, "notes");
		pc_json_uint(&j, notes);
		pc_json_key(&j, "acknowledged");
		pc_json_uint(&j, e->diags.nacknowledged);
		pc_json_key(&j, "not_shown");
		pc_json_uint(&j, e->diags.dropped);
		cli_json_diags(&j, "diagnostics", &e->diags);
		pc_json_end_object(&j);
	}
	pc_json_end_array(&j);
	if (rep->listening)
		json_listening(&j, rep->listening);
	pc_json_end_object(&j);
	pc_json_finish(&j);
}

/*
 * A path as a URI reference: relative as given (SARIF viewers resolve it
 * against the repository), or file:// for an absolute one.  Every byte but
 * the unreserved characters and '/' is percent-encoded, ':' too, so that no
 * relative path reads as a scheme.
 */
static char *path_uri(const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	struct pc_buf b;

	pc_buf_init(&b);
	if (path[0] == '/')
		pc_buf_adds(&b, "file://");
	for (const unsigned char *s = (const unsigned char *)path; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
				(*s >= '0' && *s <= '9') || strchr("-._~/", *s)) {
			pc_buf_add(&b, s, 1);
		} else {
			char esc[3] = {'%', hex[*s >> 4], hex[*s & 15]};
			pc_buf_add(&b, esc, 3);
		}
	}
	return b.data;
}

/* The index of `code` among the codes used (sorted as pc_diag_codes), or -1. */
static long rule_index(const bool *used, const char *code)
{
	long k = 0;

	for (size_t i = 0; code && i < pc_diag_ncodes; i++) {
		if (!strcmp(pc_diag_codes[i], code))
			return used[i] ? k : -1;
		k += used[i];
	}
	return -1;
}

static void sarif_result(struct pc_json *j, const struct pc_diag *r, long rule)
{
	static const char *const levels[] = {[PC_SEV_NOTE] = "note",
			[PC_SEV_WARNING] = "warning",
			[PC_SEV_ERROR] = "error"};

	pc_json_begin_object(j);
	if (rule >= 0) {
		pc_json_key(j, "ruleId");
		pc_json_string(j, r->code);
		pc_json_key(j, "ruleIndex");
		pc_json_int(j, rule);
	}
	pc_json_key(j, "level");
	pc_json_string(j, levels[r->sev]);
	pc_json_key(j, "message");
	pc_json_begin_object(j);
	pc_json_key(j, "text");
	char *text = r->hint ? xasprintf("%s\nhint: %s", r->msg, r->hint) : xstrdup(r->msg);
	pc_json_string(j, text);
	free(text);
	pc_json_end_object(j);
	if (r->file) {
		char *uri = path_uri(r->file);
		pc_json_key(j, "locations");
		pc_json_begin_array(j);
		pc_json_begin_object(j);
		pc_json_key(j, "physicalLocation");
		pc_json_begin_object(j);
		pc_json_key(j, "artifactLocation");
		pc_json_begin_object(j);
		pc_json_key(j, "uri");
		pc_json_string(j, uri);
		pc_json_end_object(j);
		if (r->line) {
			pc_json_key(j, "region");
			pc_json_begin_object(j);
			pc_json_key(j, "startLine");
			pc_json_uint(j, r->line);
			if (r->col) {
				pc_json_key(j, "startColumn");
				pc_json_uint(j, r->col);
			}
			pc_json_end_object(j);
		}
		pc_json_end_object(j);
		pc_json_end_object(j);
		pc_json_end_array(j);
		free(uri);
	}
	if (r->acknowledged) {
		/* Acknowledged in the policy itself: a suppression in source. */
		pc_json_key(j, "suppressions");
		pc_json_begin_array(j);
		pc_json_begin_object(j);
		pc_json_key(j, "kind");
		pc_json_string(j, "inSource");
		if (r->reason) {
			pc_json_key(j, "justification");
			pc_json_string(j, r->reason);
		}
		pc_json_end_object(j);
		pc_json_end_array(j);
	}
	pc_json_end_object(j);
}

static void print_sarif(const struct cli_report *rep, int status, FILE *out)
{
	bool *used = xcalloc(pc_diag_ncodes + 1, sizeof(*used));
	struct pc_json j;

	for (size_t i = 0; i < rep->n; i++)
		for (size_t k = 0; k < rep->v[i].diags.n; k++)
			for (size_t c = 0; rep->v[i].diags.v[k].code && c < pc_diag_ncodes; c++)
				used[c] |= !strcmp(pc_diag_codes[c], rep->v[i].diags.v[k].code);
	pc_json_init(&j, out);
	pc_json_begin_object(&j);
	pc_json_key(&j, "$schema");
	pc_json_string(&j, "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
			   "sarif-schema-2.1.0.json");
	pc_json_key(&j, "version");
	pc_json_string(&j, "2.1.0");
	pc_json_key(&j, "runs");
	pc_json_begin_array(&j);
	pc_json_begin_object(&j);
	pc_json_key(&j, "tool");
	pc_json_begin_object(&j);
	pc_json_key(&j, "driver");
	pc_json_begin_object(&j);
	pc_json_key(&j, "name");
	pc_json_string(&j, "portcullis");
	pc_json_key(&j, "version");
	pc_json_string(&j, PC_VERSION);
	pc_json_key(&j, "rules");
	pc_json_begin_array(&j);
	for (size_t c = 0; c < pc_diag_ncodes; c++) {
		if (!used[c])
			continue;
		pc_json_begin_object(&j);
		pc_json_key(&j, "id");
		pc_json_string(&j, pc_diag_codes[c]);
		pc_json_key(&j, "shortDescription");
		pc_json_begin_object(&j);
		pc_json_key(&j, "text");
		pc_json_string(&j, pc_diag_code_texts[c].text);
		pc_json_end_object(&j);
		pc_json_end_object(&j);
	}
	pc_json_end_array(&j);
	pc_json_end_object(&j);
	pc_json_end_object(&j);
	pc_json_key(&j, "invocations");
	pc_json_begin_array(&j);
	pc_json_begin_object(&j);
	pc_json_key(&j, "executionSuccessful");
	pc_json_bool(&j, status == PC_EXIT_OK || status == PC_EXIT_INVALID);
	pc_json_key(&j, "exitCode");
	pc_json_int(&j, status);
	pc_json_end_object(&j);
	pc_json_end_array(&j);
	pc_json_key(&j, "columnKind");
	pc_json_string(&j, "unicodeCodePoints");
	pc_json_key(&j, "results");
	pc_json_begin_array(&j);
	for (size_t i = 0; i < rep->n; i++)
		for (size_t k = 0; k < rep->v[i].diags.n; k++)
			sarif_result(&j, &rep->v[i].diags.v[k],
					rule_index(used, rep->v[i].diags.v[k].code));
	pc_json_end_array(&j);
	pc_json_end_object(&j);
	pc_json_end_array(&j);
	pc_json_end_object(&j);
	pc_json_finish(&j);
	free(used);
}

void cli_report_print(const struct cli_report *rep, bool sarif, int status, FILE *out)
{
	if (sarif)
		print_sarif(rep, status, out);
	else
		print_json(rep, status, out);
}
