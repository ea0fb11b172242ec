/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The IANA CSV parser: the real snapshot, and broken inputs written by hand. */
#include "testutil.h"

#include "portcullis/registry.h"
#include "registry/layer.h"

#define HEADER                                                                                     \
	"Service Name,Port Number,Transport Protocol,Description,Assignee,Contact,"                \
	"Registration Date,Modification Date,Reference,Service Code,"                              \
	"Unauthorized Use Reported,Assignment Notes\r\n"

struct snapshot {
	struct pc_layer *layer;
	struct pc_diags diags;
};

static int load_snapshot(void **state)
{
	struct snapshot *s = calloc(1, sizeof(*s));
	struct pc_buf text;

	pc_diags_init(&s->diags);
	assert_int_equal(pc_read_text(src_path("data/service-names-port-numbers.csv"), 64u << 20,
					 &text),
			0);
	assert_int_equal(pc_iana_parse_text("snapshot.csv", &text, &s->layer, &s->diags), 0);
	pc_buf_finish(&text);
	*state = s;
	return 0;
}

static int free_snapshot(void **state)
{
	struct snapshot *s = *state;

	pc_layer_destroy(s->layer);
	pc_diags_finish(&s->diags);
	free(s);
	return 0;
}

/* Every row of the layer whose name or alias is `name`, in file order. */
static size_t rows_named(
		const struct pc_layer *l, const char *name, struct pc_record *out, size_t max)
{
	size_t n = 0;

	for (uint32_t i = 0; i < l->nentries && n < max; i++)
		if (pc_streq_fold(pc_row_col(l->strtab, &l->entries[i], COL_NAME), name))
			pc_layer_record(l, &l->entries[i], &out[n++]);
	return n;
}

static const struct pc_entry *row_at_line(const struct pc_layer *l, unsigned line)
{
	for (uint32_t i = 0; i < l->nentries; i++)
		if (l->entries[i].line == line)
			return &l->entries[i];
	return NULL;
}

static void test_snapshot_shape(void **state)
{
	struct snapshot *s = *state;

	assert_int_equal(s->layer->nentries, 14499); /* every data row, none dropped */
	assert_int_equal(s->diags.nerrors, 0);
	assert_int_equal(s->diags.nwarnings, 0);
	assert_string_equal(s->layer->date, "2026-02-13");
}

static void test_kerberos_family(void **state)
{
	struct snapshot *s = *state;
	struct pc_record r[8];

	assert_int_equal(rows_named(s->layer, "kerberos", r, 8), 2);
	assert_int_equal(r[0].port_lo, 88);
	assert_int_equal(r[0].proto, PC_PROTO_TCP);
	assert_int_equal(r[1].port_lo, 88);
	assert_int_equal(r[1].proto, PC_PROTO_UDP);
	assert_int_equal(r[0].line, 244);
	assert_string_equal(r[0].reference, "[RFC4120]");

	assert_int_equal(rows_named(s->layer, "kpasswd", r, 8), 2);
	assert_int_equal(r[0].port_lo, 464);
	assert_int_equal(r[0].proto, PC_PROTO_TCP);
	assert_int_equal(r[1].proto, PC_PROTO_UDP);

	assert_int_equal(rows_named(s->layer, "kerberos-adm", r, 8), 2);
	assert_int_equal(r[0].port_lo, 749);
	assert_int_equal(r[0].port_hi, 749);
	assert_int_equal(r[1].proto, PC_PROTO_UDP);

	assert_int_equal(rows_named(s->layer, "kerberos-iv", r, 8), 1);
	assert_int_equal(r[0].proto, PC_PROTO_UDP);

	assert_int_equal(rows_named(s->layer, "krb5_prop", r, 8), 0);
	assert_int_equal(rows_named(s->layer, "tell", r, 8), 2);
	assert_int_equal(r[0].port_lo, 754);
	assert_string_equal(r[0].description, "send");
}

static void test_reserved_range(void **state)
{
	struct snapshot *s = *state;
	const struct pc_entry *e = row_at_line(s->layer, 575);

	assert_non_null(e);
	assert_int_equal(e->port_lo, 249);
	assert_int_equal(e->port_hi, 255);
	assert_int_equal(e->proto, PC_PROTO_ANY);
	assert_int_equal(e->state, PC_STATE_RESERVED);
	assert_true(e->port_lo <= 254 && 254 <= e->port_hi);
}

static void test_unassigned_range_with_unauthorized_use(void **state)
{
	struct snapshot *s = *state;
	const struct pc_entry *e = row_at_line(s->layer, 1544);
	struct pc_record r;

	assert_non_null(e);
	pc_layer_record(s->layer, e, &r);
	assert_int_equal(r.port_lo, 788);
	assert_int_equal(r.port_hi, 799);
	assert_int_equal(r.state, PC_STATE_UNASSIGNED);
	assert_true(r.flags & PC_ENTRY_F_UNAUTH);
	assert_string_equal(r.unauthorized, "Unauthorized Use Known on port 796");
	assert_int_equal(r.unauth_port, 796);
}

static void test_historic_alias(void **state)
{
	struct snapshot *s = *state;
	struct pc_record r[4];
	unsigned historic = 0;

	assert_int_equal(rows_named(s->layer, "acmaint_dbd", r, 4), 1);
	assert_true(r[0].flags & PC_ENTRY_F_HISTORIC);
	assert_string_equal(r[0].alias_of, "acmaint-dbd");
	assert_int_equal(r[0].port_lo, 774);
	assert_non_null(strstr(r[0].notes, "now historic"));
	assert_int_equal(rows_named(s->layer, "acmaint-dbd", r, 4), 1);
	assert_false(r[0].flags & PC_ENTRY_F_HISTORIC);
	for (uint32_t i = 0; i < s->layer->nentries; i++)
		historic += (s->layer->entries[i].flags & PC_ENTRY_F_HISTORIC) != 0;
	assert_int_equal(historic, 184); /* the rows whose notes say "alias to" */
}

static void test_named_range(void **state)
{
	struct snapshot *s = *state;
	struct pc_record r[4];

	assert_int_equal(rows_named(s->layer, "x11", r, 4), 2);
	assert_int_equal(r[0].port_lo, 6000);
	assert_int_equal(r[0].port_hi, 6063);
	assert_int_equal(r[0].proto, PC_PROTO_TCP);
	assert_int_equal(r[1].proto, PC_PROTO_UDP);
	assert_int_equal(rows_named(s->layer, "ircu", r, 4), 1);
	assert_int_equal(r[0].port_hi, 6669);
}

static void test_multiline_description(void **state)
{
	struct snapshot *s = *state;
	struct pc_record r[4];

	assert_int_equal(rows_named(s->layer, "whoispp", r, 4), 2);
	assert_string_equal(r[0].description, "whois++\nIANA assigned this well-formed service "
					      "name as a replacement for \"whois++\".");
	/* Lines count physical lines: multi-line records sit in between. */
	assert_int_equal(r[0].line, 134);
	assert_int_equal(r[1].line, 139);
	assert_int_equal(r[1].proto, PC_PROTO_UDP);
}

static void test_rows_without_port_or_protocol(void **state)
{
	struct snapshot *s = *state;
	struct pc_record r[8];
	size_t n = rows_named(s->layer, "ssh", r, 8);

	assert_int_equal(n, 4);
	assert_false(r[3].flags & PC_ENTRY_F_PORT); /* SRV-only row */
	assert_int_equal(r[2].proto, PC_PROTO_SCTP);
	assert_int_equal(rows_named(s->layer, "boe-cms", r, 8), 1);
	assert_int_equal(r[0].proto, PC_PROTO_ANY);
	assert_int_equal(r[0].port_lo, 6400);
	assert_int_equal(rows_named(s->layer, "asap-sctp", r, 8), 1);
	assert_int_equal(r[0].proto, PC_PROTO_SCTP);
}

static void test_embedded_matches_runtime_parse(void **state)
{
	struct snapshot *s = *state;
	const struct pc_layer *e = &pc_embedded_iana;

	/* The build-time table is the run-time parse, byte for byte. */
	assert_int_equal(e->nentries, s->layer->nentries);
	assert_int_equal(e->strtab_len, s->layer->strtab_len);
	assert_memory_equal(e->strtab, s->layer->strtab, e->strtab_len);
	assert_memory_equal(e->entries, s->layer->entries, e->nentries * sizeof(*e->entries));
	assert_int_equal(e->nnames, s->layer->nnames);
	assert_memory_equal(e->names, s->layer->names, e->nnames * sizeof(*e->names));
	assert_memory_equal(e->slots, s->layer->slots, e->nslots * sizeof(*e->slots));
	assert_string_equal(e->date, s->layer->date);
	assert_string_equal(e->file, "data/service-names-port-numbers.csv");
}

/* ---- broken inputs ---------------------------------------------------- */

static int parse(const char *text, size_t len, struct pc_diags *d, struct pc_layer **l)
{
	pc_diags_init(d);
	return pc_iana_parse("t.csv", text, len, l, d);
}

#define PARSE_FAILS(text, d)                                                                       \
	do {                                                                                       \
		struct pc_layer *l_ = NULL;                                                        \
		assert_int_equal(parse((text), sizeof(text) - 1, (d), &l_), -1);                   \
		assert_null(l_);                                                                   \
		assert_true((d)->nerrors > 0);                                                     \
		for (size_t i_ = 0; i_ < (d)->n; i_++)                                             \
			assert_string_equal((d)->v[i_].file, "t.csv");                             \
	} while (0)

static void test_unterminated_quote(void **state)
{
	struct pc_diags d;

	(void)state;
	PARSE_FAILS(HEADER "foo,1,tcp,\"open\r\nbar,2,tcp,,,,,,,,,\r\n", &d);
	assert_diag_at(&d, "csv-unterminated", 4, 1);
	assert_non_null(strstr(d.v[0].msg, "opened at line 2, column 11"));
	pc_diags_finish(&d);

	PARSE_FAILS(HEADER "foo,1,tcp,\"", &d); /* at the very end of the file */
	assert_diag_at(&d, "csv-unterminated", 2, 12);
	pc_diags_finish(&d);
}

static void test_wrong_column_count(void **state)
{
	struct pc_diags d;

	(void)state;
	PARSE_FAILS(HEADER "foo,1,tcp,,,,,,,,\r\nbar,2,tcp,,,,,,,,,,\r\nok,3,tcp,,,,,,,,,\r\n", &d);
	assert_int_equal(count_diag(&d, "csv-columns"), 2);
	assert_int_equal(d.v[0].line, 2);
	assert_non_null(strstr(d.v[0].msg, "found 11"));
	assert_int_equal(d.v[1].line, 3);
	assert_non_null(strstr(d.v[1].msg, "found 13"));
	pc_diags_finish(&d);
}

static void test_ten_thousand_columns(void **state)
{
	struct pc_buf b;
	struct pc_diags d;
	struct pc_layer *l;

	(void)state;
	pc_buf_init(&b);
	pc_buf_adds(&b, HEADER "x,1,tcp");
	for (int i = 0; i < 10000; i++)
		pc_buf_adds(&b, ",");
	pc_buf_adds(&b, "\r\n");
	assert_int_equal(parse(b.data, b.len, &d, &l), -1);
	assert_diag_at(&d, "csv-columns", 2, 1);
	assert_non_null(strstr(d.v[0].msg, "found 10003"));
	pc_diags_finish(&d);
	pc_buf_finish(&b);
}

static void test_bad_ports(void **state)
{
	struct pc_diags d;

	(void)state;
	PARSE_FAILS(HEADER "a,abc,tcp,,,,,,,,,\r\n"
			   "b,70000,tcp,,,,,,,,,\r\n"
			   "c,10-,udp,,,,,,,,,\r\n"
			   "d,-5,udp,,,,,,,,,\r\n"
			   "e,20-10,udp,,,,,,,,,\r\n"
			   "f,022,tcp,,,,,,,,,\r\n"
			   "g,99999999999999999999,tcp,,,,,,,,,\r\n"
			   "h,65536,tcp,,,,,,,,,\r\n"
			   "i,65535,tcp,,,,,,,,,\r\n",
			&d);
	assert_int_equal(count_diag(&d, "csv-port"), 8);
	for (size_t i = 0; i < 8; i++) {
		assert_int_equal(d.v[i].line, i + 2);
		assert_int_equal(d.v[i].col, 3);
	}
	assert_non_null(strstr(d.v[1].msg, "'70000'"));
	pc_diags_finish(&d);
}

/*
 * A service on port 0 (alone or starting a range) is refused as --define
 * and the policy refuse it, at its port field; the snapshot's own unnamed
 * port 0 rows (Reserved) stay, for lookup.
 */
static void test_port_zero(void **state)
{
	struct pc_diags d;
	struct pc_layer *l = NULL;

	(void)state;
	PARSE_FAILS(HEADER "ok,7,tcp,,,,,,,,,\r\n"
			   "zero,0,tcp,,,,,,,,,\r\n"
			   "\"quoted\",0-5,udp,,,,,,,,,\r\n",
			&d);
	assert_int_equal(count_diag(&d, "port-zero"), 2);
	assert_diag_at(&d, "port-zero", 3, 6);
	assert_string_equal(
			d.v[0].msg, "port 0 is reserved and cannot be matched (service 'zero')");
	assert_int_equal(d.v[1].line, 4);
	assert_int_equal(d.v[1].col, 10);
	pc_diags_finish(&d);

	static const char reserved[] = HEADER ",0,tcp,Reserved,,,,,,,,\r\n";
	assert_int_equal(parse(reserved, sizeof(reserved) - 1, &d, &l), 0);
	assert_int_equal(l->nentries, 1);
	assert_int_equal(l->entries[0].port_lo, 0);
	assert_int_equal(d.n, 0);
	pc_layer_destroy(l);
	pc_diags_finish(&d);
}

static void test_stray_cr_never_merges_records(void **state)
{
	struct pc_diags d;

	(void)state;
	PARSE_FAILS(HEADER "foo,1,tcp,a\rb,,,,,,,,\r\nbar,2,tcp,,,,,,,,,\r\n", &d);
	assert_diag_at(&d, "csv-stray-cr", 2, 12);
	assert_int_equal(d.nerrors, 1); /* the next record is read on its own */
	pc_diags_finish(&d);

	/* Old Mac line ends: one error, not one merged record. */
	PARSE_FAILS(HEADER "foo,1,tcp,,,,,,,,,\rbar,2,tcp,,,,,,,,,\r", &d);
	assert_diag_at(&d, "csv-stray-cr", 2, 19);
	pc_diags_finish(&d);
}

static void test_nul_byte(void **state)
{
	struct pc_diags d;

	(void)state;
	PARSE_FAILS(HEADER "foo,1,tcp,a\0b,,,,,,,,\r\n", &d);
	assert_diag_at(&d, "csv-nul", 2, 12);
	pc_diags_finish(&d);
	PARSE_FAILS(HEADER "foo,1,tcp,\"a\0b\",,,,,,,,\r\n", &d);
	assert_diag_at(&d, "csv-nul", 2, 13);
	pc_diags_finish(&d);
}

static void test_encoding(void **state)
{
	struct pc_diags d;
	struct pc_layer *l;

	(void)state;
	PARSE_FAILS(HEADER "foo,1,tcp,caf\xff,,,,,,,,\r\n", &d);
	assert_diag_at(&d, "csv-encoding", 2, 14);
	pc_diags_finish(&d);
	PARSE_FAILS(HEADER "foo,1,tcp,\"x\n\xed\xa0\x80\",,,,,,,,\r\n", &d);
	assert_diag_at(&d, "csv-encoding", 3, 1);
	pc_diags_finish(&d);

	/* Valid non-ASCII passes; a UTF-8 BOM is skipped. */
	static const char ok[] = "\xef\xbb\xbf" HEADER "foo,1,tcp,caf\xc3\xa9,,,,,,,,\r\n";
	assert_int_equal(parse(ok, sizeof(ok) - 1, &d, &l), 0);
	assert_string_equal(pc_row_col(l->strtab, &l->entries[0], COL_DESC), "caf\xc3\xa9");
	pc_layer_destroy(l);
	pc_diags_finish(&d);
}

static void test_bad_names_and_protocols(void **state)
{
	struct pc_diags d;

	(void)state;
	PARSE_FAILS(HEADER "a b,1,tcp,,,,,,,,,\r\n"
			   "x;drop,2,tcp,,,,,,,,,\r\n"
			   "ok,3,tcpx,,,,,,,,,\r\n"
			   "ok,4,TCP,,,,,,,,,\r\n"
			   ",,,,,,,,,,,\r\n",
			&d);
	assert_int_equal(count_diag(&d, "csv-name"), 2);
	assert_int_equal(d.v[0].col, 2);
	assert_int_equal(d.v[1].col, 2);
	assert_int_equal(count_diag(&d, "csv-protocol"), 2);
	assert_diag_at(&d, "csv-empty-row", 6, 1);
	pc_diags_finish(&d);
}

static void test_empty_and_headers(void **state)
{
	struct pc_diags d;

	(void)state;
	PARSE_FAILS("", &d);
	assert_diag_at(&d, "csv-empty", 1, 1);
	pc_diags_finish(&d);
	PARSE_FAILS(HEADER, &d);
	assert_diag_at(&d, "csv-empty", 2, 1);
	pc_diags_finish(&d);
	PARSE_FAILS("Name,Port\r\nfoo,1\r\n", &d);
	assert_diag_at(&d, "csv-header", 1, 1);
	assert_non_null(d.v[0].hint);
	pc_diags_finish(&d);
	/* A renamed column is as wrong as a missing one. */
	PARSE_FAILS("Service,Port Number,Transport Protocol,Description,Assignee,Contact,"
		    "Registration Date,Modification Date,Reference,Service Code,"
		    "Unauthorized Use Reported,Assignment Notes\r\nfoo,1,tcp,,,,,,,,,\r\n",
			&d);
	assert_diag_at(&d, "csv-header", 1, 1);
	pc_diags_finish(&d);
}

static void test_reordered_columns_found_by_name(void **state)
{
	static const char text[] =
			"Port Number,Service Name,Transport Protocol,Description,Assignee,Contact,"
			"Registration Date,Modification Date,Reference,Service Code,"
			"Unauthorized Use Reported,Assignment Notes\r\n88,kerberos,udp,Kerberos,,,,,,,,\r\n";
	struct pc_diags d;
	struct pc_layer *l;

	(void)state;
	assert_int_equal(parse(text, sizeof(text) - 1, &d, &l), 0);
	assert_string_equal(pc_row_col(l->strtab, &l->entries[0], COL_NAME), "kerberos");
	assert_int_equal(l->entries[0].port_lo, 88);
	pc_layer_destroy(l);
	pc_diags_finish(&d);
}

static void test_quotes_and_line_ends(void **state)
{
	/* LF-only files parse like CRLF ones; "" is a quote; the last line may lack an end. */
	static const char lf[] = "Service Name,Port Number,Transport Protocol,Description,Assignee,"
				 "Contact,Registration Date,Modification Date,Reference,Service "
				 "Code,Unauthorized Use Reported,Assignment Notes\n"
				 "foo,1,tcp,\"say \"\"hi\"\"\nthere\",,,,,,,,\"This entry is an "
				 "alias to \"\"bar\"\".\"\n"
				 "bar,1,tcp,,,,,2020-01-02,,,,";
	struct pc_diags d;
	struct pc_layer *l;

	(void)state;
	assert_int_equal(parse(lf, sizeof(lf) - 1, &d, &l), 0);
	assert_int_equal(l->nentries, 2);
	assert_string_equal(pc_row_col(l->strtab, &l->entries[0], COL_DESC), "say \"hi\"\nthere");
	assert_string_equal(pc_layer_str(l, l->entries[0].extra), "bar");
	assert_int_equal(l->entries[1].line, 4);
	assert_string_equal(l->date, "2020-01-02");
	pc_layer_destroy(l);
	pc_diags_finish(&d);
}

static void test_text_after_closing_quote(void **state)
{
	struct pc_diags d;

	(void)state;
	PARSE_FAILS(HEADER "foo,1,tcp,\"a\"b,,,,,,,,\r\n", &d);
	assert_diag_at(&d, "csv-quote", 2, 14);
	pc_diags_finish(&d);
	PARSE_FAILS(HEADER "foo,1,tcp,a\"b,,,,,,,,\r\n", &d);
	assert_diag_at(&d, "csv-quote", 2, 12);
	pc_diags_finish(&d);
}

static void test_truncated_snapshot(void **state)
{
	struct pc_buf text;
	struct pc_diags d;
	struct pc_layer *l;

	(void)state;
	assert_int_equal(pc_read_file(src_path("data/service-names-port-numbers.csv"), 64u << 20,
					 &text),
			0);
	/* Cut inside the multi-line quoted description of whoispp (line 134). */
	const char *cut = strstr(text.data, "whoispp,63,tcp,\"whois++");
	assert_non_null(cut);
	size_t len = (size_t)(cut - text.data) + 20;
	assert_int_equal(parse(text.data, len, &d, &l), -1);
	assert_diag_at(&d, "csv-unterminated", 134, 0);
	pc_diags_finish(&d);
	/* Cut after a field: the last record is short. */
	cut = strstr(text.data, "tell,754,tcp,");
	len = (size_t)(cut - text.data) + 13;
	assert_int_equal(parse(text.data, len, &d, &l), -1);
	assert_diag_at(&d, "csv-columns", 1491, 1);
	pc_diags_finish(&d);
	pc_buf_finish(&text);
}

static void test_error_cap(void **state)
{
	struct pc_buf b;
	struct pc_diags d;
	struct pc_layer *l;

	(void)state;
	pc_buf_init(&b);
	pc_buf_adds(&b, HEADER);
	for (int i = 0; i < 1000; i++)
		pc_buf_adds(&b, "x,bad,tcp,,,,,,,,,\r\n");
	assert_int_equal(parse(b.data, b.len, &d, &l), -1);
	assert_non_null(find_diag(&d, "csv-too-many-errors"));
	assert_true(d.n <= 60);
	pc_diags_finish(&d);
	pc_buf_finish(&b);
}

static void test_duplicate_rows_warn(void **state)
{
	static const char text[] = HEADER "foo,1,tcp,,,,,,,,,\r\nfoo,1,tcp,,,,,,,,,\r\n"
					  "FOO,1,udp,,,,,,,,,\r\n";
	struct pc_diags d;
	struct pc_layer *l;

	(void)state;
	assert_int_equal(parse(text, sizeof(text) - 1, &d, &l), 0);
	assert_diag_at(&d, "duplicate-row", 3, 1);
	assert_non_null(strstr(d.v[0].msg, "first at line 2"));
	assert_int_equal(l->nports, 2); /* tcp once, udp once */
	pc_layer_destroy(l);
	pc_diags_finish(&d);
}

int main(void)
{
	const struct CMUnitTest snapshot[] = {
			cmocka_unit_test(test_snapshot_shape),
			cmocka_unit_test(test_kerberos_family),
			cmocka_unit_test(test_reserved_range),
			cmocka_unit_test(test_unassigned_range_with_unauthorized_use),
			cmocka_unit_test(test_historic_alias),
			cmocka_unit_test(test_named_range),
			cmocka_unit_test(test_multiline_description),
			cmocka_unit_test(test_rows_without_port_or_protocol),
			cmocka_unit_test(test_embedded_matches_runtime_parse),
	};
	const struct CMUnitTest broken[] = {
			cmocka_unit_test(test_unterminated_quote),
			cmocka_unit_test(test_wrong_column_count),
			cmocka_unit_test(test_ten_thousand_columns),
			cmocka_unit_test(test_bad_ports),
			cmocka_unit_test(test_port_zero),
			cmocka_unit_test(test_stray_cr_never_merges_records),
			cmocka_unit_test(test_nul_byte),
			cmocka_unit_test(test_encoding),
			cmocka_unit_test(test_bad_names_and_protocols),
			cmocka_unit_test(test_empty_and_headers),
			cmocka_unit_test(test_reordered_columns_found_by_name),
			cmocka_unit_test(test_quotes_and_line_ends),
			cmocka_unit_test(test_text_after_closing_quote),
			cmocka_unit_test(test_truncated_snapshot),
			cmocka_unit_test(test_error_cap),
			cmocka_unit_test(test_duplicate_rows_warn),
	};
	int failed = cmocka_run_group_tests_name(
			"iana_csv snapshot", snapshot, load_snapshot, free_snapshot);

	return failed + cmocka_run_group_tests_name("iana_csv broken", broken, NULL, NULL);
}
